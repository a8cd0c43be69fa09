/**
 * §7 Closing the Connection: §7.1.1–§7.1.7 (the closing handshake, its close code and reason, failing
 * the connection) and §7.4 status codes, on both sides. (§7.2's lost transports, and its §7.2.3
 * reconnect backoff, are the shells': test/integration/.)
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, InvalidArgumentError, ProtocolError } from '../../../src/errors.ts';
import {
  BINARY,
  bytesOf,
  CLOSE,
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
  ROLES,
  receive,
  TEXT,
} from './harness.ts';

describe('§7 Closing the Connection', () => {
  describe('§7.1.1 Close the WebSocket Connection: "the server SHOULD close the underlying TCP connection first"', () => {
    it.each(ROLES)(
      '%s asks for the transport to be closed only once the closing handshake is complete',
      (role) => {
        const conn = connection(role);
        expect(conn.transportShouldClose).toBe(false);
        conn.close(1000);
        expect(conn.transportShouldClose).toBe(false);
        receive(conn, fromPeer(role, CLOSE, closeBody(1000)));
        expect(conn.transportShouldClose).toBe(true);
      },
    );

    it.each(ROLES)("%s asks for the transport to be closed once it answered the peer's Close", (role) => {
      const conn = connection(role);
      receive(conn, fromPeer(role, CLOSE, closeBody(1000)));
      expect(conn.transportShouldClose).toBe(true);
    });
  });

  describe('§7.1.2 Start the WebSocket Closing Handshake: "an endpoint MUST send a Close control frame"', () => {
    it.each(ROLES)('%s sends Close with the code and reason given, and enters CLOSING', (role) => {
      const conn = connection(role);
      conn.close(1000, 'done');
      expectSent(conn, fromSelf(role, CLOSE, closeBody(1000, 'done')));
      expect(conn.state).toBe('closing');
      expect(conn.closeSent).toBe(true);
      expect(conn.closeReceived).toBe(false);
    });

    it.each(ROLES)(
      '%s: "once an endpoint has both sent and received a Close control frame ... it SHOULD close the ... connection" (CLOSED)',
      (role) => {
        const conn = connection(role);
        conn.close(4000, 'bye');
        conn.takeOutgoing();
        const events = receive(conn, fromPeer(role, CLOSE, closeBody(4000, 'bye')));
        expectEvents(events, [{ type: 'close', code: 4000, reason: 'bye' }]);
        expect(conn.state).toBe('closed');
        expectNothingSent(conn); // the handshake is complete: no second Close
      },
    );

    it.each(ROLES)('%s sends only one Close: a second close() does nothing', (role) => {
      const conn = connection(role);
      conn.close(1000);
      conn.close(1001, 'again');
      expectSent(conn, fromSelf(role, CLOSE, closeBody(1000)));
    });

    it.each(ROLES)(
      '%s still receives data after sending Close: the peer may finish what it was sending',
      (role) => {
        const conn = connection(role);
        conn.close(1000);
        conn.takeOutgoing();
        const events = receive(conn, fromPeer(role, TEXT, 'in flight'), fromPeer(role, BINARY, [1]));
        expectEvents(events, [message('in flight'), message([1], true)]);
        expect(conn.state).toBe('closing');
      },
    );
  });

  describe('§7.1.3 The WebSocket Closing Handshake is Started: "Upon either sending or receiving a Close control frame"', () => {
    it.each(ROLES)('%s answers a Close it receives, echoing the code and the reason (§5.5.1)', (role) => {
      const conn = connection(role);
      const events = receive(conn, fromPeer(role, CLOSE, closeBody(1001, 'going away')));
      expectEvents(events, [{ type: 'close', code: 1001, reason: 'going away' }]);
      expectSent(conn, fromSelf(role, CLOSE, closeBody(1001, 'going away')));
      expect(conn.closeReceived).toBe(true);
      expect(conn.closeSent).toBe(true);
      expect(conn.state).toBe('closed');
    });

    it.each(ROLES)('%s answers a Close without a body with a Close without a body', (role) => {
      const conn = connection(role);
      expectEvents(receive(conn, fromPeer(role, CLOSE)), [{ type: 'close', code: 1005, reason: '' }]);
      expectSent(conn, fromSelf(role, CLOSE));
    });

    it.each(ROLES)("%s reads nothing after the peer's Close (data, Ping, another Close)", (role) => {
      const conn = connection(role);
      const events = receive(
        conn,
        fromPeer(role, CLOSE, closeBody(1000)),
        fromPeer(role, TEXT, 'late'),
        fromPeer(role, PING, 'late'),
        fromPeer(role, CLOSE, closeBody(1002)),
      );
      expectEvents(events, [{ type: 'close', code: 1000, reason: '' }]);
      expectSent(conn, fromSelf(role, CLOSE, closeBody(1000)));
    });

    it.each(ROLES)("%s ignores garbage after the peer's Close (it is never decoded)", (role) => {
      const conn = connection(role);
      const events = receive(conn, fromPeer(role, CLOSE, closeBody(1000)), Uint8Array.of(0xff, 0xff, 0xff));
      expectEvents(events, [{ type: 'close', code: 1000, reason: '' }]);
      expect(conn.state).toBe('closed');
    });

    it.each(ROLES)(
      '%s: both ends closing at once — each sent Close, each received one, nobody answers',
      (role) => {
        const conn = connection(role);
        conn.close(1000, 'mine');
        expectSent(conn, fromSelf(role, CLOSE, closeBody(1000, 'mine')));
        expectEvents(receive(conn, fromPeer(role, CLOSE, closeBody(1001, 'theirs'))), [
          { type: 'close', code: 1001, reason: 'theirs' },
        ]);
        expectNothingSent(conn);
        expect(conn.state).toBe('closed');
      },
    );

    it.each(ROLES)(
      "%s answers the peer's Close even while its own fragmented message is unfinished",
      (role) => {
        const conn = connection(role);
        conn.send(bytesOf('half'), false, false);
        conn.takeOutgoing();
        receive(conn, fromPeer(role, CLOSE, closeBody(1000)));
        expectSent(conn, fromSelf(role, CLOSE, closeBody(1000)));
      },
    );

    it.each(ROLES)("%s delivers the messages before the peer's Close, then the Close", (role) => {
      const conn = connection(role);
      const events = receive(
        conn,
        fromPeer(role, TEXT, 'a'),
        fromPeer(role, TEXT, 'b'),
        fromPeer(role, CLOSE, closeBody(1000)),
      );
      expectEvents(events, [message('a'), message('b'), { type: 'close', code: 1000, reason: '' }]);
    });
  });

  describe('§5.5.1 "the endpoint MAY delay sending a Close frame until its current message is sent" (reserved sends)', () => {
    it.each(ROLES)(
      "%s holds its answer to the peer's Close behind a reserved send, then sends it after the message",
      (role) => {
        const conn = connection(role);
        conn.reserveSend();
        expectEvents(receive(conn, fromPeer(role, CLOSE, closeBody(1000, 'bye'))), [
          { type: 'close', code: 1000, reason: 'bye' },
        ]);
        expectNothingSent(conn);
        expect(conn.state).toBe('closing');
        conn.send(bytesOf('last words'), false);
        expect(conn.releaseSend()).toBe(true);
        expectSent(conn, fromSelf(role, TEXT, 'last words'), fromSelf(role, CLOSE, closeBody(1000, 'bye')));
        expect(conn.state).toBe('closed');
      },
    );

    it.each(ROLES)('%s holds its own close() behind reserved sends, in order', (role) => {
      const conn = connection(role);
      conn.reserveSend();
      conn.reserveSend();
      conn.close(1000);
      expect(conn.state).toBe('closing');
      expectNothingSent(conn);
      conn.send(bytesOf('one'), false);
      expect(conn.releaseSend()).toBe(false);
      conn.send(bytesOf('two'), false);
      expect(conn.releaseSend()).toBe(true);
      expectSent(
        conn,
        fromSelf(role, TEXT, 'one'),
        fromSelf(role, TEXT, 'two'),
        fromSelf(role, CLOSE, closeBody(1000)),
      );
    });

    it.each(ROLES)('%s refuses a new reservation once a Close waits', (role) => {
      const conn = connection(role);
      conn.reserveSend();
      conn.close(1000);
      expect(() => conn.reserveSend()).toThrow();
    });

    it.each(ROLES)(
      "%s drops the reservations when it fails the connection: the failure's Close goes at once",
      (role) => {
        const conn = connection(role);
        conn.reserveSend();
        const events = receive(conn, fromPeer(role, 0x3));
        expectFailedWithClose(conn, events, 1002, ErrorCode.InvalidOpcode);
        expect(conn.releaseSend()).toBe(false);
        expectNothingSent(conn);
      },
    );
  });

  describe('§7.1.5 The WebSocket Connection Close Code', () => {
    it.each(ROLES)('%s reports the status code of the Close it received', (role) => {
      const conn = connection(role);
      expectEvents(receive(conn, fromPeer(role, CLOSE, closeBody(3000))), [
        { type: 'close', code: 3000, reason: '' },
      ]);
    });

    it.each(ROLES)(
      '%s: "If this Close control frame contains no status code, _The WebSocket Connection Close Code_ is considered to be 1005"',
      (role) => {
        const conn = connection(role);
        expectEvents(receive(conn, fromPeer(role, CLOSE)), [{ type: 'close', code: 1005, reason: '' }]);
      },
    );

    it.each(ROLES)(
      '%s reports the peer\'s code, not its own, when both closed (the code of "the first Close control frame received")',
      (role) => {
        const conn = connection(role);
        conn.close(1000);
        expectEvents(receive(conn, fromPeer(role, CLOSE, closeBody(4001))), [
          { type: 'close', code: 4001, reason: '' },
        ]);
      },
    );
  });

  describe('§7.1.6 The WebSocket Connection Close Reason: "the UTF-8-encoded data following the status code"', () => {
    it.each(ROLES)('%s reports the reason as text', (role) => {
      const conn = connection(role);
      expectEvents(receive(conn, fromPeer(role, CLOSE, closeBody(1000, 'ça va 😀'))), [
        { type: 'close', code: 1000, reason: 'ça va 😀' },
      ]);
    });

    it.each(ROLES)('%s: "If there is no such data ... the empty string"', (role) => {
      const conn = connection(role);
      expectEvents(receive(conn, fromPeer(role, CLOSE, closeBody(1000))), [
        { type: 'close', code: 1000, reason: '' },
      ]);
    });

    it.each(ROLES)('%s accepts a reason of 123 bytes, the most a Close can carry', (role) => {
      const conn = connection(role);
      const reason = 'z'.repeat(123);
      expectEvents(receive(conn, fromPeer(role, CLOSE, closeBody(1000, reason))), [
        { type: 'close', code: 1000, reason },
      ]);
    });

    it.each(ROLES)(
      '%s sends a multi-byte UTF-8 reason counted in bytes, not characters (41 × 3 bytes = 123)',
      (role) => {
        const conn = connection(role);
        conn.close(1000, '€'.repeat(41));
        expectSent(conn, fromSelf(role, CLOSE, closeBody(1000, '€'.repeat(41))));
        expect(() => connection(role).close(1000, '€'.repeat(42))).toThrow(InvalidArgumentError);
      },
    );
  });

  describe('§7.1.7 Fail the WebSocket Connection: "the endpoint MUST ... send a Close frame with an appropriate status code"', () => {
    it.each(ROLES)("%s sends Close with the failure's code and no reason, and is CLOSED at once", (role) => {
      const conn = connection(role);
      expectFailedWithClose(conn, receive(conn, fromPeer(role, 0xb)), 1002, ErrorCode.InvalidOpcode);
    });

    it.each(ROLES)(
      '%s: "MUST NOT continue to attempt to process data (including a responding Close frame) from the remote endpoint"',
      (role) => {
        const conn = connection(role);
        receive(conn, fromPeer(role, 0xb));
        conn.takeOutgoing();
        expectEvents(
          receive(conn, fromPeer(role, TEXT, 'ignored'), fromPeer(role, CLOSE, closeBody(1000))),
          [],
        );
        expectNothingSent(conn);
      },
    );

    it.each(ROLES)('%s sends no second Close when it fails after having sent its Close', (role) => {
      const conn = connection(role);
      conn.close(1000);
      conn.takeOutgoing();
      const events = receive(conn, fromPeer(role, 0x4));
      expect(events.map((event) => event.type)).toEqual(['fail']);
      expectNothingSent(conn);
      expect(conn.state).toBe('closed');
    });

    it.each(ROLES)(
      '%s fails on behalf of the shell with fail(error) (e.g. bad compressed data, 1007)',
      (role) => {
        const conn = connection(role);
        const error = new ProtocolError(ErrorCode.InvalidCompressedData, 1007, 'bad deflate data');
        expectFailedWithClose(conn, conn.fail(error), 1007, ErrorCode.InvalidCompressedData);
        expect(conn.fail(error)).toEqual([]); // once only
      },
    );

    it.each(ROLES)('%s discards a half-received message when it fails', (role) => {
      const conn = connection(role);
      const events = receive(conn, fromPeer(role, TEXT, 'half', { fin: false }), fromPeer(role, 0x5));
      expect(events.map((event) => event.type)).toEqual(['fail']);
    });
  });

  describe('§7.4 Status Codes', () => {
    // §7.4.1 defines 1000–1003 and 1007–1011; 1012–1014 are registered (§11.7); §7.4.2: 3000–3999
    // "registered with IANA", 4000–4999 "reserved for private use".
    const receivable = [
      1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999,
    ];
    // 1004 "Reserved"; 1005, 1006, 1015 "MUST NOT be set as a status code in a Close control frame";
    // 0–999 "not used"; 1016–2999 reserved for future revisions of the protocol; 5000+ undefined.
    const forbidden = [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535];

    for (const code of receivable) {
      it.each(ROLES)(`%s accepts and echoes ${code}`, (role) => {
        const conn = connection(role);
        expectEvents(receive(conn, fromPeer(role, CLOSE, closeBody(code))), [
          { type: 'close', code, reason: '' },
        ]);
        expectSent(conn, fromSelf(role, CLOSE, closeBody(code)));
      });
    }

    for (const code of forbidden) {
      it.each(ROLES)(`%s fails (1002) on ${code} received in a Close frame`, (role) => {
        const conn = connection(role);
        expectFailedWithClose(
          conn,
          receive(conn, fromPeer(role, CLOSE, closeBody(code))),
          1002,
          ErrorCode.InvalidCloseCode,
        );
      });
    }

    for (const code of [1004, 1005, 1006, 1015, 999, 2999, 5000]) {
      it.each(ROLES)(`%s refuses to send ${code} (InvalidArgumentError), sending nothing`, (role) => {
        const conn = connection(role);
        expect(() => conn.close(code)).toThrow(InvalidArgumentError);
        expectNothingSent(conn);
        expect(conn.state).toBe('open');
      });
    }

    it.each(ROLES)('%s refuses a close code that is not an integer', (role) => {
      expect(() => connection(role).close(1000.5)).toThrow(InvalidArgumentError);
    });

    it.each(ROLES)('%s sends 1000 "normal closure", 1001 "going away", 1011 and 3000–4999', (role) => {
      for (const code of [1000, 1001, 1011, 3000, 4999]) {
        const conn = connection(role);
        conn.close(code);
        expectSent(conn, fromSelf(role, CLOSE, closeBody(code)));
      }
    });

    it.each(ROLES)(
      '%s closes with 1002 "protocol error", 1007 "data ... not consistent with the type", 1009 "too big"',
      (role) => {
        const protocol = connection(role);
        expectFailedWithClose(protocol, receive(protocol, fromPeer(role, 0x3)), 1002);
        const inconsistent = connection(role);
        expectFailedWithClose(inconsistent, receive(inconsistent, fromPeer(role, TEXT, [0xff])), 1007);
        const big = connection(role, { maxPayload: 4 });
        expectFailedWithClose(big, receive(big, fromPeer(role, BINARY, new Uint8Array(5))), 1009);
      },
    );
  });
});
