/**
 * §5.4 Fragmentation: a message as a first frame with FIN clear and an opcode, Continuation frames,
 * and a final frame with FIN set; control frames may come in between; messages never interleave.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import {
  BINARY,
  bytesOf,
  CONTINUATION,
  connection,
  expectEvents,
  expectFailedWithClose,
  expectSent,
  fromPeer,
  fromSelf,
  message,
  PING,
  PONG,
  ROLES,
  receive,
  TEXT,
} from './harness.ts';

const PILE = bytesOf('😀');

describe('§5.4 Fragmentation', () => {
  describe('"An unfragmented message consists of a single frame with the FIN bit set and an opcode other than 0"', () => {
    it.each(ROLES)('%s sends an unfragmented message as one frame', (role) => {
      const conn = connection(role);
      conn.send(bytesOf('whole'), false);
      expectSent(conn, fromSelf(role, TEXT, 'whole'));
    });
  });

  describe('"A fragmented message consists of a single frame with the FIN bit clear and an opcode other than 0, followed by zero or more frames with the FIN bit clear and the opcode set to 0, and terminated by a single frame with the FIN bit set and an opcode of 0"', () => {
    it.each(ROLES)(
      '%s sends a fragmented text message: Text (FIN 0), Continuation (FIN 0), Continuation (FIN 1)',
      (role) => {
        const conn = connection(role);
        conn.send(bytesOf('He'), false, false);
        conn.send(bytesOf('ll'), false, false);
        conn.send(bytesOf('o'), false, true);
        expectSent(
          conn,
          fromSelf(role, TEXT, 'He', { fin: false }),
          fromSelf(role, CONTINUATION, 'll', { fin: false }),
          fromSelf(role, CONTINUATION, 'o', { fin: true }),
        );
      },
    );

    it.each(ROLES)(
      "%s sends a fragmented binary message; later fragments keep the first one's type",
      (role) => {
        const conn = connection(role);
        conn.send(Uint8Array.of(1), true, false);
        conn.send(Uint8Array.of(2), false, true); // the binary flag of a continuation is ignored
        expectSent(conn, fromSelf(role, BINARY, [1], { fin: false }), fromSelf(role, CONTINUATION, [2]));
      },
    );

    it.each(ROLES)('%s sends a message as two fragments, the second empty', (role) => {
      const conn = connection(role);
      conn.send(bytesOf('all'), false, false);
      conn.send(new Uint8Array(0), false, true);
      expectSent(conn, fromSelf(role, TEXT, 'all', { fin: false }), fromSelf(role, CONTINUATION, ''));
    });

    it.each(ROLES)('%s receives a text message in three fragments as one message', (role) => {
      const conn = connection(role);
      const events = receive(
        conn,
        fromPeer(role, TEXT, 'He', { fin: false }),
        fromPeer(role, CONTINUATION, 'll', { fin: false }),
        fromPeer(role, CONTINUATION, 'o'),
      );
      expectEvents(events, [message('Hello')]);
    });

    it.each(ROLES)('%s receives a binary message in fragments as one binary message', (role) => {
      const conn = connection(role);
      const events = receive(
        conn,
        fromPeer(role, BINARY, [1, 2], { fin: false }),
        fromPeer(role, CONTINUATION, [3]),
      );
      expectEvents(events, [message([1, 2, 3], true)]);
    });

    it.each(ROLES)('%s receives fragments that are empty (zero-length first, middle and last)', (role) => {
      const conn = connection(role);
      const events = receive(
        conn,
        fromPeer(role, TEXT, '', { fin: false }),
        fromPeer(role, CONTINUATION, 'x', { fin: false }),
        fromPeer(role, CONTINUATION, '', { fin: false }),
        fromPeer(role, CONTINUATION, ''),
      );
      expectEvents(events, [message('x')]);
    });

    it.each(ROLES)('%s receives a message in 100 one-byte fragments', (role) => {
      const conn = connection(role);
      const text = 'f'.repeat(100);
      const frames = Array.from(text, (char, i) =>
        fromPeer(role, i === 0 ? TEXT : CONTINUATION, char, { fin: i === 99 }),
      );
      expectEvents(receive(conn, ...frames), [message(text)]);
    });

    it.each(ROLES)('%s: §5.6 a character may be split between fragments ("😀" as 2 + 2 bytes)', (role) => {
      const conn = connection(role);
      const events = receive(
        conn,
        fromPeer(role, TEXT, PILE.slice(0, 2), { fin: false }),
        fromPeer(role, CONTINUATION, PILE.slice(2)),
      );
      expectEvents(events, [message('😀')]);
    });
  });

  describe('"Control frames MAY be injected in the middle of a fragmented message"', () => {
    it.each(ROLES)('%s receives a Ping between fragments, answers it, then completes the message', (role) => {
      const conn = connection(role);
      const events = receive(
        conn,
        fromPeer(role, TEXT, 'frag', { fin: false }),
        fromPeer(role, PING, 'in-between'),
        fromPeer(role, CONTINUATION, 'ment'),
      );
      expectEvents(events, [{ type: 'ping', data: bytesOf('in-between') }, message('fragment')]);
      expectSent(conn, fromSelf(role, PONG, 'in-between'));
    });

    it.each(ROLES)('%s receives a Pong between fragments', (role) => {
      const conn = connection(role);
      const events = receive(
        conn,
        fromPeer(role, BINARY, [1], { fin: false }),
        fromPeer(role, PONG, 'p'),
        fromPeer(role, CONTINUATION, [2]),
      );
      expectEvents(events, [{ type: 'pong', data: bytesOf('p') }, message([1, 2], true)]);
    });

    it.each(ROLES)('%s may send a Ping while its own fragmented message is unfinished', (role) => {
      const conn = connection(role);
      conn.send(bytesOf('a'), false, false);
      conn.ping(bytesOf('p'));
      conn.send(bytesOf('b'), false, true);
      expectSent(
        conn,
        fromSelf(role, TEXT, 'a', { fin: false }),
        fromSelf(role, PING, 'p'),
        fromSelf(role, CONTINUATION, 'b'),
      );
    });
  });

  describe('"The fragments of one message MUST NOT be interleaved between the fragments of another message"', () => {
    it.each(ROLES)('%s fails (1002) on a new Text frame inside a fragmented message', (role) => {
      const conn = connection(role);
      const events = receive(conn, fromPeer(role, TEXT, 'a', { fin: false }), fromPeer(role, TEXT, 'b'));
      expectFailedWithClose(conn, events, 1002, ErrorCode.ExpectedContinuation);
    });

    it.each(ROLES)('%s fails (1002) on a Binary frame inside a fragmented text message', (role) => {
      const conn = connection(role);
      const events = receive(
        conn,
        fromPeer(role, TEXT, 'a', { fin: false }),
        fromPeer(role, BINARY, [1], { fin: false }),
      );
      expectFailedWithClose(conn, events, 1002, ErrorCode.ExpectedContinuation);
    });
  });

  describe('a Continuation frame continues a message that was started (§5.4: "followed by zero or more frames ... opcode set to 0")', () => {
    it.each(ROLES)('%s fails (1002) on a Continuation frame with no message to continue', (role) => {
      const conn = connection(role);
      expectFailedWithClose(
        conn,
        receive(conn, fromPeer(role, CONTINUATION, 'x')),
        1002,
        ErrorCode.UnexpectedContinuation,
      );
    });

    it.each(ROLES)('%s fails (1002) on a Continuation frame after a message was completed', (role) => {
      const conn = connection(role);
      const events = receive(conn, fromPeer(role, TEXT, 'done'), fromPeer(role, CONTINUATION, 'more'));
      expectEvents(expectFailedWithClose(conn, events, 1002, ErrorCode.UnexpectedContinuation), [
        message('done'),
      ]);
    });

    it.each(ROLES)('%s fails on a Continuation frame without FIN and no message', (role) => {
      const conn = connection(role);
      expectFailedWithClose(
        conn,
        receive(conn, fromPeer(role, CONTINUATION, '', { fin: false })),
        1002,
        ErrorCode.UnexpectedContinuation,
      );
    });
  });

  describe('"A receiver MUST be prepared to accept arbitrarily fragmented messages" — and the limit still holds', () => {
    it.each(ROLES)(
      '%s fails (1009) when the fragments together exceed maxPayload, each being under it',
      (role) => {
        const conn = connection(role, { maxPayload: 10 });
        const events = receive(
          conn,
          fromPeer(role, BINARY, new Uint8Array(6), { fin: false }),
          fromPeer(role, CONTINUATION, new Uint8Array(6)),
        );
        expectFailedWithClose(conn, events, 1009, ErrorCode.MessageTooBig);
      },
    );

    it.each(ROLES)('%s accepts fragments adding up to exactly maxPayload', (role) => {
      const conn = connection(role, { maxPayload: 10 });
      const events = receive(
        conn,
        fromPeer(role, BINARY, new Uint8Array(6), { fin: false }),
        fromPeer(role, CONTINUATION, new Uint8Array(4)),
      );
      expectEvents(events, [message(new Uint8Array(10), true)]);
    });
  });

  describe('after a fragmented message, the next one starts afresh', () => {
    it.each(ROLES)('%s receives a fragmented message, then a whole one of the other type', (role) => {
      const conn = connection(role);
      const events = receive(
        conn,
        fromPeer(role, TEXT, 'a', { fin: false }),
        fromPeer(role, CONTINUATION, 'b'),
        fromPeer(role, BINARY, [9]),
      );
      expectEvents(events, [message('ab'), message([9], true)]);
    });

    it.each(ROLES)('%s sends a new message with its own opcode after finishing a fragmented one', (role) => {
      const conn = connection(role);
      conn.send(bytesOf('a'), false, false);
      conn.send(bytesOf('b'), false, true);
      conn.send(Uint8Array.of(1), true);
      expectSent(
        conn,
        fromSelf(role, TEXT, 'a', { fin: false }),
        fromSelf(role, CONTINUATION, 'b'),
        fromSelf(role, BINARY, [1]),
      );
    });
  });

  it('the harness: fragments are frames of their own', () => {
    expect(fromPeer('client', CONTINUATION, 'x', { fin: false })[0]).toBe(0x00);
  });
});
