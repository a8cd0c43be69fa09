/**
 * §5.5 Control Frames: at most 125 bytes, never fragmented; §5.5.1 Close (the frame; the closing
 * handshake is in s7-closing.test.ts), §5.5.2 Ping, §5.5.3 Pong.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, InvalidArgumentError, InvalidStateError } from '../../../src/errors.ts';
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
  PONG,
  ROLES,
  receive,
  TEXT,
} from './harness.ts';

const MAX_CONTROL = new Uint8Array(125).fill(0x63);

describe('§5.5 Control Frames', () => {
  describe('"All control frames MUST have a payload length of 125 bytes or less"', () => {
    for (const opcode of [PING, PONG, CLOSE]) {
      const name = { [PING]: 'Ping', [PONG]: 'Pong', [CLOSE]: 'Close' }[opcode];
      it.each(ROLES)(`%s fails (1002) on a ${name} with a 126-byte payload`, (role) => {
        const conn = connection(role);
        const payload =
          opcode === CLOSE
            ? new Uint8Array(126).fill(0x61).fill(0x03, 0, 1).fill(0xe8, 1, 2)
            : new Uint8Array(126);
        expectFailedWithClose(
          conn,
          receive(conn, fromPeer(role, opcode, payload)),
          1002,
          ErrorCode.ControlFrameTooLong,
        );
      });
    }

    it.each(ROLES)(
      '%s fails (1002) on a control frame whose length uses the 16-bit form, whatever its value',
      (role) => {
        const conn = connection(role);
        expectFailedWithClose(
          conn,
          receive(conn, fromPeer(role, PING, 'x', { lengthBits: 16 })),
          1002,
          ErrorCode.ControlFrameTooLong,
        );
      },
    );

    it.each(ROLES)(
      '%s fails on the header of an oversized control frame, before its payload arrives',
      (role) => {
        const conn = connection(role);
        const header = fromPeer(role, PING, new Uint8Array(200)).slice(0, 4);
        expectFailedWithClose(conn, receive(conn, header), 1002, ErrorCode.ControlFrameTooLong);
      },
    );

    it.each(ROLES)(
      '%s receives a Ping with exactly 125 bytes and answers it with the same 125 bytes',
      (role) => {
        const conn = connection(role);
        expectEvents(receive(conn, fromPeer(role, PING, MAX_CONTROL)), [{ type: 'ping', data: MAX_CONTROL }]);
        expectSent(conn, fromSelf(role, PONG, MAX_CONTROL));
      },
    );

    it.each(ROLES)('%s sends a Ping and a Pong of exactly 125 bytes', (role) => {
      const conn = connection(role);
      conn.ping(MAX_CONTROL);
      conn.pong(MAX_CONTROL);
      expectSent(conn, fromSelf(role, PING, MAX_CONTROL), fromSelf(role, PONG, MAX_CONTROL));
    });

    it.each(ROLES)('%s refuses to send a 126-byte Ping (InvalidArgumentError), sending nothing', (role) => {
      const conn = connection(role);
      expect(() => conn.ping(new Uint8Array(126))).toThrow(InvalidArgumentError);
      expectNothingSent(conn);
      expect(conn.state).toBe('open');
    });

    it.each(ROLES)('%s refuses to send a 126-byte Pong (InvalidArgumentError)', (role) => {
      const conn = connection(role);
      expect(() => conn.pong(new Uint8Array(126))).toThrow(InvalidArgumentError);
      expectNothingSent(conn);
    });

    it.each(ROLES)('%s refuses a close reason over 123 bytes (125 minus the 2-byte code)', (role) => {
      const conn = connection(role);
      expect(() => conn.close(1000, 'r'.repeat(124))).toThrow(InvalidArgumentError);
      expectNothingSent(conn);
      conn.close(1000, 'r'.repeat(123));
      expectSent(conn, fromSelf(role, CLOSE, closeBody(1000, 'r'.repeat(123))));
    });
  });

  describe('"All control frames ... MUST NOT be fragmented"', () => {
    for (const opcode of [PING, PONG, CLOSE]) {
      const name = { [PING]: 'Ping', [PONG]: 'Pong', [CLOSE]: 'Close' }[opcode];
      it.each(ROLES)(`%s fails (1002) on a ${name} without FIN`, (role) => {
        const conn = connection(role);
        expectFailedWithClose(
          conn,
          receive(conn, fromPeer(role, opcode, '', { fin: false })),
          1002,
          ErrorCode.FragmentedControlFrame,
        );
      });
    }

    it.each(ROLES)('%s fails on a fragmented Ping in the middle of a fragmented message', (role) => {
      const conn = connection(role);
      const events = receive(
        conn,
        fromPeer(role, TEXT, 'a', { fin: false }),
        fromPeer(role, PING, 'p', { fin: false }),
      );
      expectFailedWithClose(conn, events, 1002, ErrorCode.FragmentedControlFrame);
    });

    it.each(ROLES)('%s sends every control frame with FIN set', (role) => {
      const conn = connection(role);
      conn.ping();
      conn.pong();
      conn.close();
      for (const chunk of conn.takeOutgoing()) expect(chunk[0]! & 0x80).toBe(0x80);
    });
  });

  describe('§5.5.1 Close: "The Close frame MAY contain a body ... If there is a body, the first two bytes ... MUST be a 2-byte unsigned integer (in network byte order)"', () => {
    it.each(ROLES)(
      '%s sends its code in network byte order (1000 = 03 e8) followed by the UTF-8 reason',
      (role) => {
        const conn = connection(role);
        conn.close(1000, 'bye');
        expectSent(conn, fromSelf(role, CLOSE, [0x03, 0xe8, 0x62, 0x79, 0x65]));
      },
    );

    it.each(ROLES)('%s sends a Close without a body when no code is given', (role) => {
      const conn = connection(role);
      conn.close();
      expectSent(conn, fromSelf(role, CLOSE, []));
    });

    it.each(ROLES)(
      '%s reads the code in network byte order (4000 = 0f a0) and the reason as UTF-8',
      (role) => {
        const conn = connection(role);
        const events = receive(conn, fromPeer(role, CLOSE, [0x0f, 0xa0, ...bytesOf('é')]));
        expectEvents(events, [{ type: 'close', code: 4000, reason: 'é' }]);
      },
    );

    it.each(ROLES)('%s fails (1002) on a Close body of 1 byte (a code needs 2)', (role) => {
      const conn = connection(role);
      expectFailedWithClose(
        conn,
        receive(conn, fromPeer(role, CLOSE, [0x03])),
        1002,
        ErrorCode.InvalidClosePayload,
      );
    });

    it.each(ROLES)(
      '%s refuses a reason without a code (InvalidArgumentError): the reason follows the code',
      (role) => {
        const conn = connection(role);
        expect(() => conn.close(undefined, 'why')).toThrow(InvalidArgumentError);
        expectNothingSent(conn);
      },
    );

    it.each(ROLES)(
      '%s: "After sending a Close frame, the endpoint MUST NOT send any more data frames" (InvalidStateError)',
      (role) => {
        const conn = connection(role);
        conn.close(1000);
        conn.takeOutgoing();
        expect(() => conn.send(bytesOf('late'), false)).toThrow(InvalidStateError);
        expect(() => conn.send(Uint8Array.of(1), true)).toThrow(InvalidStateError);
        expectNothingSent(conn);
      },
    );

    it.each(ROLES)(
      '%s also refuses Ping and Pong after its Close (policy: nothing useful can come of them)',
      (role) => {
        const conn = connection(role);
        conn.close(1000);
        expect(() => conn.ping()).toThrow(InvalidStateError);
        expect(() => conn.pong()).toThrow(InvalidStateError);
      },
    );

    it.each(ROLES)('%s refuses to finish a fragmented message after its Close', (role) => {
      const conn = connection(role);
      conn.send(bytesOf('part'), false, false);
      conn.close(1001);
      expect(() => conn.send(bytesOf('rest'), false, true)).toThrow(InvalidStateError);
    });
  });

  describe('§5.5.2 Ping: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in response, unless it already received a Close frame"', () => {
    it.each(ROLES)('%s answers a Ping with a Pong carrying "identical Application data"', (role) => {
      const conn = connection(role);
      expectEvents(receive(conn, fromPeer(role, PING, 'are you there?')), [
        { type: 'ping', data: bytesOf('are you there?') },
      ]);
      expectSent(conn, fromSelf(role, PONG, 'are you there?'));
    });

    it.each(ROLES)('%s answers an empty Ping with an empty Pong', (role) => {
      const conn = connection(role);
      receive(conn, fromPeer(role, PING));
      expectSent(conn, fromSelf(role, PONG));
    });

    it.each(ROLES)('%s answers binary Ping data byte for byte (it need not be UTF-8)', (role) => {
      const conn = connection(role);
      receive(conn, fromPeer(role, PING, [0xff, 0x00, 0xfe]));
      expectSent(conn, fromSelf(role, PONG, [0xff, 0x00, 0xfe]));
    });

    it.each(ROLES)('%s answers each of several Pings, in order', (role) => {
      const conn = connection(role);
      receive(conn, fromPeer(role, PING, '1'), fromPeer(role, PING, '2'), fromPeer(role, PING, '3'));
      expectSent(conn, fromSelf(role, PONG, '1'), fromSelf(role, PONG, '2'), fromSelf(role, PONG, '3'));
    });

    it.each(ROLES)(
      '%s does not answer a Ping that follows a Close it received (nothing after the Close is read)',
      (role) => {
        const conn = connection(role);
        receive(conn, fromPeer(role, CLOSE, closeBody(1000)));
        conn.takeOutgoing();
        expectEvents(receive(conn, fromPeer(role, PING, 'late')), []);
        expectNothingSent(conn);
      },
    );

    it.each(ROLES)('%s reports but does not answer a Ping received after it sent Close (policy)', (role) => {
      const conn = connection(role);
      conn.close(1000);
      conn.takeOutgoing();
      expectEvents(receive(conn, fromPeer(role, PING, 'p')), [{ type: 'ping', data: bytesOf('p') }]);
      expectNothingSent(conn);
    });

    it.each(ROLES)(
      '%s with autoPong: false reports the Ping and leaves the answer to the application',
      (role) => {
        const conn = connection(role, { autoPong: false });
        expectEvents(receive(conn, fromPeer(role, PING, 'p')), [{ type: 'ping', data: bytesOf('p') }]);
        expectNothingSent(conn);
        conn.pong(bytesOf('p'));
        expectSent(conn, fromSelf(role, PONG, 'p'));
      },
    );

    it.each(ROLES)('%s sends a Ping with application data', (role) => {
      const conn = connection(role);
      conn.ping(bytesOf('hb-1'));
      expectSent(conn, fromSelf(role, PING, 'hb-1'));
    });

    it.each(ROLES)(
      '%s answers a Ping that arrives between the frames of its own unfinished message',
      (role) => {
        const conn = connection(role);
        conn.send(bytesOf('a'), false, false);
        receive(conn, fromPeer(role, PING, 'p'));
        conn.send(bytesOf('b'), false, true);
        expectSent(
          conn,
          fromSelf(role, TEXT, 'a', { fin: false }),
          fromSelf(role, PONG, 'p'),
          fromSelf(role, 0, 'b'),
        );
      },
    );
  });

  describe('§5.5.3 Pong', () => {
    it.each(ROLES)('%s reports a Pong and sends nothing back', (role) => {
      const conn = connection(role);
      expectEvents(receive(conn, fromPeer(role, PONG, 'p')), [{ type: 'pong', data: bytesOf('p') }]);
      expectNothingSent(conn);
    });

    it.each(ROLES)(
      '%s: "A Pong frame MAY be sent unsolicited. This serves as a unidirectional heartbeat."',
      (role) => {
        const conn = connection(role);
        conn.pong(bytesOf('beat'));
        expectSent(conn, fromSelf(role, PONG, 'beat'));
      },
    );

    it.each(ROLES)(
      '%s accepts an unsolicited Pong ("A response to an unsolicited Pong frame is not expected")',
      (role) => {
        const conn = connection(role);
        expectEvents(receive(conn, fromPeer(role, PONG), fromPeer(role, TEXT, 'after')), [
          { type: 'pong', data: new Uint8Array(0) },
          message('after'),
        ]);
        expectNothingSent(conn);
      },
    );

    it.each(ROLES)(
      '%s: "the endpoint MAY elect to send a Pong frame for only the most recently processed Ping frame" — past 16 unsent Pongs, the last is replaced',
      (role) => {
        const conn = connection(role);
        const pings = Array.from({ length: 40 }, (_, i) => fromPeer(role, PING, `${i}`));
        receive(conn, ...pings);
        const expected = [
          ...Array.from({ length: 15 }, (_, i) => fromSelf(role, PONG, `${i}`)),
          fromSelf(role, PONG, '39'),
        ];
        expectSent(conn, ...expected);
      },
    );

    it.each(ROLES)('%s answers every Ping again once the transport took the queued Pongs', (role) => {
      const conn = connection(role);
      receive(conn, ...Array.from({ length: 20 }, () => fromPeer(role, PING, 'a')));
      conn.takeOutgoing();
      receive(conn, fromPeer(role, PING, 'b'), fromPeer(role, PING, 'c'));
      expectSent(conn, fromSelf(role, PONG, 'b'), fromSelf(role, PONG, 'c'));
    });

    it.each(ROLES)(
      '%s keeps data frames queued among Pongs when it replaces one (only the Pong is replaced)',
      (role) => {
        const conn = connection(role);
        receive(conn, ...Array.from({ length: 16 }, (_, i) => fromPeer(role, PING, `${i}`)));
        conn.send(Uint8Array.of(7), true);
        receive(conn, fromPeer(role, PING, 'last'));
        const expected = [
          ...Array.from({ length: 15 }, (_, i) => fromSelf(role, PONG, `${i}`)),
          fromSelf(role, PONG, 'last'),
          fromSelf(role, BINARY, [7]),
        ];
        expectSent(conn, ...expected);
      },
    );
  });
});
