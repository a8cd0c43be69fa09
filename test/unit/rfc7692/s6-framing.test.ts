/**
 * RFC 7692 §6 in the core (socket-free): the "Per-Message Compressed" bit (RSV1) as sent and received,
 * and the awaiting-transform state (RFC 7692 §6.2: the core hands a compressed message out, decodes
 * nothing more until the shell gives it back inflated, then validates it). zlib is the shell's; here
 * the "compressed" bytes are opaque.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, InvalidStateError, ProtocolError } from '../../../src/errors.ts';
import {
  BINARY,
  bytesOf,
  CLOSE,
  CONTINUATION,
  closeBody,
  connection,
  expectEvents,
  expectFailedWithClose,
  expectNothingSent,
  expectSent,
  fromPeer,
  fromSelf,
  message,
  PING,
  PONG,
  ROLES,
  receive,
  TEXT,
} from '../rfc6455/harness.ts';

const RSV1 = 4;
const deflating = (role: 'client' | 'server', maxPayload = 1 << 20) =>
  connection(role, { perMessageDeflate: true, maxPayload });

describe('RFC 7692 §6 Framing (permessage-deflate in the core)', () => {
  describe('RFC 7692 §6: "the "Per-Message Compressed" bit ... RSV1 ... of the first frame of the message"', () => {
    it.each(ROLES)('%s sets RSV1 on the first frame of a compressed message', (role) => {
      const conn = deflating(role);
      conn.send(bytesOf('deflated'), true, true, true);
      expectSent(conn, fromSelf(role, BINARY, 'deflated', { rsv: RSV1 }));
    });

    it.each(ROLES)(
      '%s: RFC 7692 §6.1 "MUST NOT set the "Per-Message Compressed" bit of ... non-first fragments"',
      (role) => {
        const conn = deflating(role);
        conn.send(bytesOf('de'), false, false, true);
        conn.send(bytesOf('fl'), false, false, true);
        conn.send(bytesOf('ated'), false, true, true);
        expectSent(
          conn,
          fromSelf(role, TEXT, 'de', { fin: false, rsv: RSV1 }),
          fromSelf(role, CONTINUATION, 'fl', { fin: false }),
          fromSelf(role, CONTINUATION, 'ated'),
        );
      },
    );

    it.each(ROLES)(
      '%s: RFC 7692 §6.1 "MUST NOT set the "Per-Message Compressed" bit of control frames"',
      (role) => {
        const conn = deflating(role);
        conn.ping(bytesOf('p'));
        conn.pong(bytesOf('q'));
        conn.close(1000);
        expectSent(
          conn,
          fromSelf(role, PING, 'p'),
          fromSelf(role, PONG, 'q'),
          fromSelf(role, CLOSE, closeBody(1000)),
        );
      },
    );

    it.each(ROLES)('%s sends uncompressed messages without RSV1 (compression is per message)', (role) => {
      const conn = deflating(role);
      conn.send(bytesOf('plain'), false);
      expectSent(conn, fromSelf(role, TEXT, 'plain'));
    });

    it.each(ROLES)(
      '%s without the extension refuses a compressed send: RSV1 would make the peer fail (§5.2)',
      (role) => {
        const conn = connection(role);
        expect(() => conn.send(bytesOf('x'), true, true, true)).toThrow(InvalidStateError);
        expectNothingSent(conn);
      },
    );

    for (const [name, opcode] of [
      ['Ping', PING],
      ['Pong', PONG],
      ['Close', CLOSE],
    ] as const) {
      it.each(ROLES)(
        `%s fails (1002) on RSV1 on a ${name}: RFC 7692 §6.1 "MUST NOT set ... of control frames"`,
        (role) => {
          const conn = deflating(role);
          const payload = opcode === CLOSE ? closeBody(1000) : bytesOf('x');
          expectFailedWithClose(
            conn,
            receive(conn, fromPeer(role, opcode, payload, { rsv: RSV1 })),
            1002,
            ErrorCode.UnexpectedRsvBit,
          );
        },
      );
    }

    it.each(ROLES)(
      '%s fails (1002) on RSV1 on a continuation frame: "MUST NOT set ... of non-first fragments"',
      (role) => {
        const conn = deflating(role);
        const events = receive(
          conn,
          fromPeer(role, TEXT, 'a', { fin: false }),
          fromPeer(role, CONTINUATION, 'b', { rsv: RSV1 }),
        );
        expectFailedWithClose(conn, events, 1002, ErrorCode.UnexpectedRsvBit);
      },
    );

    it.each(ROLES)('%s fails (1002) on RSV1 on the continuation of a compressed message too', (role) => {
      const conn = deflating(role);
      const events = receive(
        conn,
        fromPeer(role, TEXT, 'a', { fin: false, rsv: RSV1 }),
        fromPeer(role, CONTINUATION, 'b', { rsv: RSV1 }),
      );
      expectFailedWithClose(conn, events, 1002, ErrorCode.UnexpectedRsvBit);
    });
  });

  describe('RFC 7692 §6.2 Decompression: the compressed message is handed out, and nothing is decoded until it comes back', () => {
    it.each(ROLES)(
      '%s hands out a compressed message (RSV1 on its first frame) as compressed, fragments joined',
      (role) => {
        const conn = deflating(role);
        const events = receive(
          conn,
          fromPeer(role, TEXT, 'abc', { fin: false, rsv: RSV1 }),
          fromPeer(role, CONTINUATION, 'def'),
        );
        expectEvents(events, [message('abcdef', false, true)]);
        expect(conn.awaitingTransform).toBe(true);
      },
    );

    it.each(ROLES)('%s decodes nothing after it until completeMessage(), then goes on in order', (role) => {
      const conn = deflating(role);
      const events = receive(
        conn,
        fromPeer(role, TEXT, 'z', { rsv: RSV1 }),
        fromPeer(role, TEXT, 'second'),
        fromPeer(role, PING, 'p'),
      );
      expectEvents(events, [message('z', false, true)]);
      expectNothingSent(conn); // the Ping was not read yet, so not answered yet
      expectEvents(conn.completeMessage(bytesOf('first')), [message('first')]);
      expect(conn.awaitingTransform).toBe(false);
      expectEvents(receive(conn, new Uint8Array(0)), [
        message('second'),
        { type: 'ping', data: bytesOf('p') },
      ]);
      expectSent(conn, fromSelf(role, PONG, 'p'));
    });

    it.each(ROLES)(
      '%s sees a Close that follows a compressed message only once the message was given back',
      (role) => {
        const conn = deflating(role);
        expectEvents(
          receive(conn, fromPeer(role, BINARY, 'z', { rsv: RSV1 }), fromPeer(role, CLOSE, closeBody(1000))),
          [message('z', true, true)],
        );
        expectNothingSent(conn);
        expect(conn.closeReceived).toBe(false);
        expectEvents(conn.completeMessage(Uint8Array.of(1, 2)), [message([1, 2], true)]);
        expectEvents(receive(conn, new Uint8Array(0)), [{ type: 'close', code: 1000, reason: '' }]);
        expectSent(conn, fromSelf(role, CLOSE, closeBody(1000)));
      },
    );

    it.each(ROLES)('%s validates inflated text: §8.1 applies to what it inflates to (1007)', (role) => {
      const conn = deflating(role);
      receive(conn, fromPeer(role, TEXT, 'z', { rsv: RSV1 }));
      expectFailedWithClose(
        conn,
        conn.completeMessage(Uint8Array.of(0x61, 0xff)),
        1007,
        ErrorCode.InvalidUtf8,
      );
    });

    it.each(ROLES)('%s does not validate inflated binary', (role) => {
      const conn = deflating(role);
      receive(conn, fromPeer(role, BINARY, 'z', { rsv: RSV1 }));
      expectEvents(conn.completeMessage(Uint8Array.of(0xff)), [message([0xff], true)]);
    });

    it.each(ROLES)(
      '%s does not check compressed text as UTF-8 before inflating (DEFLATE data is not text)',
      (role) => {
        const conn = deflating(role);
        expectEvents(receive(conn, fromPeer(role, TEXT, [0xff, 0xfe], { rsv: RSV1 })), [
          message([0xff, 0xfe], false, true),
        ]);
      },
    );

    it.each(ROLES)('%s fails (1009) when a message inflates past maxPayload (§10.4)', (role) => {
      const conn = deflating(role, 10);
      receive(conn, fromPeer(role, BINARY, 'z', { rsv: RSV1 }));
      expectFailedWithClose(conn, conn.completeMessage(new Uint8Array(11)), 1009, ErrorCode.MessageTooBig);
    });

    it.each(ROLES)("%s fails with the shell's error when inflating fails (fail(), e.g. 1007)", (role) => {
      const conn = deflating(role);
      receive(conn, fromPeer(role, BINARY, 'z', { rsv: RSV1 }));
      const events = conn.fail(
        new ProtocolError(ErrorCode.InvalidCompressedData, 1007, 'invalid deflate data'),
      );
      expectFailedWithClose(conn, events, 1007, ErrorCode.InvalidCompressedData);
      expect(conn.awaitingTransform).toBe(false);
    });

    it.each(ROLES)(
      '%s refuses completeMessage() when no compressed message is awaiting (InvalidStateError)',
      (role) => {
        const conn = deflating(role);
        expect(() => conn.completeMessage(bytesOf('x'))).toThrow(InvalidStateError);
      },
    );

    it.each(ROLES)('%s applies maxPayload to the compressed bytes as they arrive, too', (role) => {
      const conn = deflating(role, 4);
      expectFailedWithClose(
        conn,
        receive(conn, fromPeer(role, BINARY, new Uint8Array(5), { rsv: RSV1 })),
        1009,
        ErrorCode.MessageTooBig,
      );
    });

    it.each(ROLES)('%s: messages compressed and not, interleaved, come out in order', (role) => {
      const conn = deflating(role);
      const events: unknown[] = [];
      const push = (evts: ReturnType<typeof receive>) => {
        for (const event of evts)
          events.push(
            event.type === 'message'
              ? `${event.compressed ? 'c:' : ''}${new TextDecoder().decode(event.data)}`
              : event.type,
          );
      };
      push(
        receive(
          conn,
          fromPeer(role, TEXT, '1'),
          fromPeer(role, TEXT, 'Z2', { rsv: RSV1 }),
          fromPeer(role, TEXT, '3'),
          fromPeer(role, TEXT, 'Z4', { rsv: RSV1 }),
        ),
      );
      push(conn.completeMessage(bytesOf('2')));
      push(receive(conn, new Uint8Array(0)));
      push(conn.completeMessage(bytesOf('4')));
      push(receive(conn, new Uint8Array(0)));
      expect(events).toEqual(['1', 'c:Z2', '2', '3', 'c:Z4', '4']);
    });
  });
});
