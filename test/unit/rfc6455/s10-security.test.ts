/**
 * §10 Security Considerations, as far as the core is concerned: §10.3 attacks on infrastructure
 * (masking), §10.4 implementation-specific limits, §10.7 handling of invalid data.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import { seededRandom } from '../../helpers/bytes.ts';
import {
  BINARY,
  bytesOf,
  CONTINUATION,
  connection,
  expectEvents,
  expectFailedWithClose,
  fromPeer,
  message,
  ROLES,
  receive,
  sentHex,
  TEXT,
  toHex,
} from './harness.ts';

describe('§10 Security Considerations', () => {
  describe('§10.3 Attacks On Infrastructure (Masking): "clients mask all frames ... with a new masking key per frame"', () => {
    it('client: the bytes on the wire are not the bytes the application chose (a cache-poisoning payload is masked)', () => {
      const conn = connection('client');
      const attack = bytesOf('GET /evil HTTP/1.1\r\nHost: victim\r\n\r\n');
      conn.send(attack, true);
      const wire = sentHex(conn);
      expect(wire).not.toContain(toHex(attack));
    });

    it('client asks its injected source for a new key for every frame, control frames included', () => {
      let calls = 0;
      const conn = connection('client', {
        generateMaskKey: () => {
          calls++;
          return Uint8Array.of(calls, 0x5a, 0xa5, calls);
        },
      });
      conn.send(bytesOf('a'), false);
      conn.send(bytesOf('b'), false, false);
      conn.send(bytesOf('c'), false, true);
      conn.ping();
      conn.close(1000);
      expect(calls).toBe(5);
    });

    it('server sends its payload as is: masking protects intermediaries from what clients send (§5.1)', () => {
      const conn = connection('server');
      conn.send(bytesOf('a'), false);
      expect(sentHex(conn)).toBe('810161');
    });
  });

  describe('§10.4 Implementation-Specific Limits: "MUST protect themselves against exceeding those limits"', () => {
    it.each(ROLES)(
      '%s fails (1009) on a frame announcing more than maxPayload, from the header alone',
      (role) => {
        const conn = connection(role, { maxPayload: 1000 });
        const header = fromPeer(role, BINARY, new Uint8Array(1001)).slice(0, role === 'server' ? 8 : 4);
        expectFailedWithClose(conn, receive(conn, header), 1009, ErrorCode.MessageTooBig);
        expect(conn.bufferedIncoming).toBe(0);
      },
    );

    it.each(ROLES)(
      '%s fails (1009) on a 64-bit length of 2^53 and more without trying to buffer it',
      (role) => {
        const conn = connection(role);
        const masked = role === 'server';
        const header = Uint8Array.of(
          0x82,
          (masked ? 0x80 : 0) | 127,
          0x7f,
          0xff,
          0xff,
          0xff,
          0xff,
          0xff,
          0xff,
          0xff,
          ...(masked ? [1, 2, 3, 4] : []),
        );
        expectFailedWithClose(conn, receive(conn, header), 1009, ErrorCode.MessageTooBig);
      },
    );

    it.each(ROLES)(
      '%s fails (1009) on a message whose fragments add up to more than maxPayload ("total message size after reassembly")',
      (role) => {
        const conn = connection(role, { maxPayload: 100 });
        const fragments = Array.from({ length: 11 }, (_, i) =>
          fromPeer(role, i === 0 ? TEXT : CONTINUATION, 'x'.repeat(10), { fin: i === 10 }),
        );
        expectFailedWithClose(conn, receive(conn, ...fragments), 1009, ErrorCode.MessageTooBig);
      },
    );

    it.each(ROLES)('%s accepts a message of exactly maxPayload', (role) => {
      const conn = connection(role, { maxPayload: 100 });
      expectEvents(receive(conn, fromPeer(role, BINARY, new Uint8Array(100))), [
        message(new Uint8Array(100), true),
      ]);
    });

    it.each(ROLES)('%s with maxPayload 0 accepts only empty messages', (role) => {
      const conn = connection(role, { maxPayload: 0 });
      expectEvents(receive(conn, fromPeer(role, TEXT, '')), [message('')]);
      expectFailedWithClose(conn, receive(conn, fromPeer(role, TEXT, 'x')), 1009, ErrorCode.MessageTooBig);
    });

    it.each(ROLES)("%s holds at most one incomplete frame header's worth of bytes while waiting", (role) => {
      const conn = connection(role);
      const frame = fromPeer(role, BINARY, new Uint8Array(100_000));
      receive(conn, frame.slice(0, 50_000));
      // The payload already received was handed on (to the message buffer), not kept in the decoder.
      expect(conn.bufferedIncoming).toBeLessThan(14);
    });
  });

  describe('§10.7 Handling of Invalid Data: "Incoming data MUST always be validated by both clients and servers"', () => {
    it.each(ROLES)('%s turns any garbage into events, never an exception (seeded random bytes)', (role) => {
      const random = seededRandom(6455);
      for (let run = 0; run < 300; run++) {
        const conn = connection(role, { maxPayload: 4096 });
        const length = 1 + Math.floor(random() * 64);
        const bytes = Uint8Array.from({ length }, () => Math.floor(random() * 256));
        const events = receive(conn, bytes);
        for (const event of events.slice(0, -1)) expect(event.type).not.toBe('fail');
        if (events.at(-1)?.type === 'fail') {
          expect(conn.state).toBe('closed');
          expect(conn.takeOutgoing().length).toBeGreaterThan(0);
        }
      }
    });

    it.each(ROLES)('%s validates a frame that follows valid ones in the same chunk', (role) => {
      const conn = connection(role);
      const chunk = Uint8Array.from([...fromPeer(role, TEXT, 'ok'), 0x83, 0x00]);
      const events = receive(conn, chunk);
      expectEvents(expectFailedWithClose(conn, events, 1002, ErrorCode.InvalidOpcode), [message('ok')]);
    });

    it.each(ROLES)(
      '%s: "the endpoint MAY drop the TCP connection" — after a failure it asks for the transport to be closed',
      (role) => {
        const conn = connection(role);
        receive(conn, fromPeer(role, 0x7));
        expect(conn.transportShouldClose).toBe(true);
      },
    );
  });
});
