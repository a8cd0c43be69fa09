/**
 * §6 Sending and Receiving Data: §6.1 (what an endpoint MUST do to send a message) and §6.2 (how the
 * frames received become "_A WebSocket Message Has Been Received_").
 */
import { describe, expect, it } from 'vitest';
import { InvalidStateError } from '../../../src/errors.ts';
import {
  BINARY,
  bytesOf,
  CLOSE,
  CONTINUATION,
  closeBody,
  connection,
  expectEvents,
  expectNothingSent,
  expectSent,
  fromPeer,
  fromSelf,
  message,
  ROLES,
  receive,
  TEXT,
} from './harness.ts';

describe('§6 Sending and Receiving Data', () => {
  describe('§6.1 Sending Data', () => {
    it.each(ROLES)(
      '%s: "The endpoint MUST ensure the WebSocket connection is in the OPEN state" — sending after its Close throws',
      (role) => {
        const conn = connection(role);
        conn.close(1000);
        expect(() => conn.send(bytesOf('x'), false)).toThrow(InvalidStateError);
      },
    );

    it.each(ROLES)('%s refuses to send once the connection was failed', (role) => {
      const conn = connection(role);
      receive(conn, fromPeer(role, 0x3));
      expect(() => conn.send(bytesOf('x'), false)).toThrow(InvalidStateError);
    });

    it.each(ROLES)(
      "%s refuses to send once it answered the peer's Close (the connection is CLOSED)",
      (role) => {
        const conn = connection(role);
        receive(conn, fromPeer(role, CLOSE, closeBody(1000)));
        conn.takeOutgoing();
        expect(() => conn.send(bytesOf('x'), true)).toThrow(InvalidStateError);
        expectNothingSent(conn);
      },
    );

    it.each(ROLES)(
      '%s: "The opcode (frame-opcode) of the first frame containing the data MUST be set to the appropriate value"',
      (role) => {
        const conn = connection(role);
        conn.send(bytesOf('t'), false, false);
        conn.send(bytesOf('u'), false, true);
        conn.send(Uint8Array.of(1), true, false);
        conn.send(Uint8Array.of(2), true, true);
        expectSent(
          conn,
          fromSelf(role, TEXT, 't', { fin: false }),
          fromSelf(role, CONTINUATION, 'u'),
          fromSelf(role, BINARY, [1], { fin: false }),
          fromSelf(role, CONTINUATION, [2]),
        );
      },
    );

    it.each(ROLES)(
      '%s: "The FIN bit (frame-fin) of the last frame containing the data MUST be set to 1"',
      (role) => {
        const conn = connection(role);
        conn.send(bytesOf('a'), false, false);
        conn.send(bytesOf('b'), false, false);
        conn.send(bytesOf('c'), false, true);
        expectSent(
          conn,
          fromSelf(role, TEXT, 'a', { fin: false }),
          fromSelf(role, CONTINUATION, 'b', { fin: false }),
          fromSelf(role, CONTINUATION, 'c', { fin: true }),
        );
      },
    );

    it('client: "If the data is being sent by the client, the frame(s) MUST be masked"', () => {
      const conn = connection('client');
      conn.send(bytesOf('a'), false, false);
      conn.send(bytesOf('b'), false, true);
      for (const chunk of conn.takeOutgoing()) expect(chunk[1]! & 0x80).toBe(0x80);
    });

    it.each(ROLES)(
      '%s queues bytes until the transport takes them, counting them in outgoingBytes',
      (role) => {
        const conn = connection(role);
        conn.send(new Uint8Array(10), true);
        const frameLength = role === 'client' ? 2 + 4 + 10 : 2 + 10;
        expect(conn.outgoingBytes).toBe(frameLength);
        expect(conn.takeOutgoing().reduce((sum, chunk) => sum + chunk.length, 0)).toBe(frameLength);
        expect(conn.outgoingBytes).toBe(0);
      },
    );
  });

  describe('§6.2 Receiving Data', () => {
    it.each(ROLES)(
      '%s: "If the frame comprises an unfragmented message ... _A WebSocket Message Has Been Received_ with type /type/ and data /data/"',
      (role) => {
        const conn = connection(role);
        expectEvents(receive(conn, fromPeer(role, BINARY, [1, 2, 3])), [message([1, 2, 3], true)]);
      },
    );

    it.each(ROLES)(
      '%s: "the "Application data" of the subsequent data frames is concatenated to form /data/"',
      (role) => {
        const conn = connection(role);
        const events = receive(
          conn,
          fromPeer(role, TEXT, 'con', { fin: false }),
          fromPeer(role, CONTINUATION, 'cat', { fin: false }),
          fromPeer(role, CONTINUATION, 'enated'),
        );
        expectEvents(events, [message('concatenated')]);
      },
    );

    it('server: "Server MUST remove masking for data frames received from a client"', () => {
      const conn = connection('server');
      expectEvents(receive(conn, fromPeer('server', TEXT, 'unmasked for you')), [
        message('unmasked for you'),
      ]);
    });

    it.each(ROLES)(
      '%s delivers a message only when its last fragment arrived ("When the last fragment is received as indicated by the FIN bit")',
      (role) => {
        const conn = connection(role);
        expectEvents(receive(conn, fromPeer(role, TEXT, 'a', { fin: false })), []);
        expectEvents(receive(conn, fromPeer(role, CONTINUATION, 'b', { fin: false })), []);
        expectEvents(receive(conn, fromPeer(role, CONTINUATION, 'c')), [message('abc')]);
      },
    );

    it.each(ROLES)('%s push()+next() and receive() give the same events', (role) => {
      const bytes = Uint8Array.from([...fromPeer(role, TEXT, 'one'), ...fromPeer(role, BINARY, [2])]);
      const viaReceive = connection(role);
      const viaNext = connection(role);
      // (a copy each: a server unmasks received bytes in place)
      viaNext.push(bytes.slice());
      const events = [];
      for (let event = viaNext.next(); event !== null; event = viaNext.next()) events.push(event);
      expectEvents(events, receive(viaReceive, bytes.slice()));
    });

    it.each(ROLES)('%s counts bytes of an incomplete header in bufferedIncoming', (role) => {
      const conn = connection(role);
      receive(conn, fromPeer(role, TEXT, 'hello').slice(0, 1));
      expect(conn.bufferedIncoming).toBe(1);
    });
  });
});
