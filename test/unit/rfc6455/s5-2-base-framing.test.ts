/**
 * §5.2 Base Framing Protocol: FIN, RSV1–3, opcode, payload length (7, 7+16, 7+64 bits), as sent and
 * as received, by a client and by a server. (The MASK bit and masking key are §5.3's.)
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import {
  BINARY,
  bytesOf,
  chunkings,
  connection,
  expectEvents,
  expectFailedWithClose,
  expectSent,
  fromPeer,
  fromSelf,
  message,
  PING,
  ROLES,
  receive,
  sentHex,
  TEXT,
  toHex,
} from './harness.ts';

describe('§5.2 Base Framing Protocol', () => {
  describe('FIN: "Indicates that this is the final fragment in a message"', () => {
    it.each(ROLES)('%s sends a whole message as one frame with FIN set', (role) => {
      const conn = connection(role);
      conn.send(bytesOf('Hi'), false);
      expectSent(conn, fromSelf(role, TEXT, 'Hi', { fin: true }));
    });

    it.each(ROLES)('%s receives a frame with FIN set as a whole message', (role) => {
      const conn = connection(role);
      expectEvents(receive(conn, fromPeer(role, TEXT, 'Hi')), [message('Hi')]);
    });

    it.each(ROLES)('%s delivers nothing for a frame without FIN until the message ends', (role) => {
      const conn = connection(role);
      expectEvents(receive(conn, fromPeer(role, TEXT, 'Hi', { fin: false })), []);
    });
  });

  describe('RSV1, RSV2, RSV3: "MUST be 0 unless an extension is negotiated that defines meanings"', () => {
    it.each(ROLES)('%s sends RSV bits 0 when no extension was negotiated', (role) => {
      const conn = connection(role);
      conn.send(bytesOf('x'), true);
      conn.ping();
      const [first] = conn.takeOutgoing().map((chunk) => chunk[0]!);
      expect(first! & 0x70).toBe(0);
    });

    for (const [name, rsv] of [
      ['RSV1', 4],
      ['RSV2', 2],
      ['RSV3', 1],
      ['all three', 7],
    ] as const) {
      it.each(ROLES)(
        `%s fails the connection (1002) on ${name} set without an extension: "the receiving endpoint MUST _Fail the WebSocket Connection_"`,
        (role) => {
          const conn = connection(role);
          const events = receive(conn, fromPeer(role, TEXT, 'x', { rsv }));
          expectFailedWithClose(conn, events, 1002, ErrorCode.UnexpectedRsvBit);
        },
      );
    }

    it.each(ROLES)('%s fails on RSV2 on a control frame too', (role) => {
      const conn = connection(role);
      expectFailedWithClose(
        conn,
        receive(conn, fromPeer(role, PING, '', { rsv: 2 })),
        1002,
        ErrorCode.UnexpectedRsvBit,
      );
    });

    it.each(ROLES)('%s fails on RSV1 even with permessage-deflate when RSV2 is also set', (role) => {
      const conn = connection(role, { perMessageDeflate: true });
      expectFailedWithClose(
        conn,
        receive(conn, fromPeer(role, TEXT, 'x', { rsv: 6 })),
        1002,
        ErrorCode.UnexpectedRsvBit,
      );
    });
  });

  describe('Opcode: "If an unknown opcode is received, the receiving endpoint MUST _Fail the WebSocket Connection_"', () => {
    // §5.2: %x3-7 "are reserved for further non-control frames", %xB-F "for further control frames".
    const reserved = [0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf];
    for (const opcode of reserved) {
      it.each(ROLES)(`%s fails (1002) on reserved opcode 0x${opcode.toString(16)}`, (role) => {
        const conn = connection(role);
        expectFailedWithClose(
          conn,
          receive(conn, fromPeer(role, opcode, 'x')),
          1002,
          ErrorCode.InvalidOpcode,
        );
      });
    }

    it.each(ROLES)('%s delivers what came before a frame with a reserved opcode, then fails', (role) => {
      const conn = connection(role);
      const events = receive(conn, fromPeer(role, TEXT, 'ok'), fromPeer(role, 0x3, 'x'));
      expectEvents(expectFailedWithClose(conn, events, 1002, ErrorCode.InvalidOpcode), [message('ok')]);
    });

    it.each(ROLES)('%s uses %%x1 for text and %%x2 for binary', (role) => {
      const conn = connection(role);
      conn.send(bytesOf('t'), false);
      conn.send(bytesOf('b'), true);
      expectSent(conn, fromSelf(role, TEXT, 't'), fromSelf(role, BINARY, 'b'));
    });
  });

  describe('Payload length: "7 bits, 7+16 bits, or 7+64 bits"', () => {
    // "if 0-125, that is the payload length. If 126, the following 2 bytes interpreted as a 16-bit
    // unsigned integer are the payload length. If 127, the following 8 bytes interpreted as a 64-bit
    // unsigned integer (the most significant bit MUST be 0) are the payload length."
    const boundaries: [number, string][] = [
      [0, '00'],
      [1, '01'],
      [125, '7d'],
      [126, '7e007e'],
      [127, '7e007f'],
      [65535, '7effff'],
      [65536, '7f0000000000010000'],
    ];

    for (const [length, lengthHex] of boundaries) {
      it(`server sends a ${length}-byte payload with the length encoded as ${lengthHex}`, () => {
        const conn = connection('server');
        conn.send(new Uint8Array(length), true);
        expect(sentHex(conn).slice(0, 2 + lengthHex.length)).toBe(`82${lengthHex}`);
      });

      it(`client sends a ${length}-byte payload with the length encoded as ${lengthHex} (MASK bit set)`, () => {
        const conn = connection('client');
        conn.send(new Uint8Array(length), true);
        const maskedLength =
          (Number.parseInt(lengthHex.slice(0, 2), 16) | 0x80).toString(16) + lengthHex.slice(2);
        expect(sentHex(conn).slice(0, 2 + lengthHex.length)).toBe(`82${maskedLength}`);
      });

      it.each(ROLES)(`%s receives a ${length}-byte payload`, (role) => {
        const conn = connection(role);
        const payload = Uint8Array.from({ length }, (_, i) => i & 0xff);
        expectEvents(receive(conn, fromPeer(role, BINARY, payload)), [message(payload, true)]);
      });
    }

    it.each(ROLES)(
      '%s: "the minimal number of bytes MUST be used to encode the length" in what it sends',
      (role) => {
        const conn = connection(role);
        conn.send(new Uint8Array(125), true);
        conn.send(new Uint8Array(65535), true);
        expectSent(
          conn,
          fromSelf(role, BINARY, new Uint8Array(125)),
          fromSelf(role, BINARY, new Uint8Array(65535)),
        );
      },
    );

    it.each(ROLES)(
      '%s accepts a length encoded longer than needed (policy: lenient, as ws and browsers)',
      (role) => {
        const conn = connection(role);
        const events = receive(
          conn,
          fromPeer(role, TEXT, 'abc', { lengthBits: 16 }),
          fromPeer(role, TEXT, 'de', { lengthBits: 64 }),
        );
        expectEvents(events, [message('abc'), message('de')]);
      },
    );

    it.each(ROLES)('%s fails (1002) when the most significant bit of a 64-bit length is set', (role) => {
      const conn = connection(role);
      const masked = role === 'server';
      const header = Uint8Array.of(0x82, (masked ? 0x80 : 0) | 127, 0x80, 0, 0, 0, 0, 0, 0, 1);
      expectFailedWithClose(conn, receive(conn, header), 1002, ErrorCode.InvalidPayloadLength);
    });

    it.each(ROLES)(
      '%s fails on a set 64-bit MSB as soon as that byte arrives, before the rest of the header',
      (role) => {
        const conn = connection(role);
        const masked = role === 'server';
        expectFailedWithClose(
          conn,
          receive(conn, Uint8Array.of(0x82, (masked ? 0x80 : 0) | 127, 0xff)),
          1002,
          ErrorCode.InvalidPayloadLength,
        );
      },
    );
  });

  describe('a frame may arrive in any number of pieces (the header and payload are a byte stream)', () => {
    for (const role of ROLES) {
      it(`${role} decodes a text frame cut at every byte offset`, () => {
        const bytes = fromPeer(role, TEXT, 'Hello, world');
        for (const chunks of chunkings(bytes)) {
          const conn = connection(role);
          expectEvents(receive(conn, ...chunks), [message('Hello, world')]);
        }
      });

      it(`${role} decodes a 16-bit-length frame cut at every byte offset of its header`, () => {
        const payload = new Uint8Array(300).fill(0x61);
        const bytes = fromPeer(role, BINARY, payload);
        for (let at = 0; at <= 10; at++) {
          const conn = connection(role);
          expectEvents(receive(conn, bytes.slice(0, at), bytes.slice(at)), [message(payload, true)]);
        }
      });

      it(`${role} decodes several frames arriving in one chunk, in order`, () => {
        const conn = connection(role);
        const chunk = Uint8Array.from([
          ...fromPeer(role, TEXT, 'a'),
          ...fromPeer(role, BINARY, [1]),
          ...fromPeer(role, TEXT, 'c'),
        ]);
        expectEvents(receive(conn, chunk), [message('a'), message([1], true), message('c')]);
      });
    }

    it('the harness frame encoder agrees with §5.7 (sanity)', () => {
      expect(toHex(fromPeer('client', TEXT, 'Hello'))).toBe('810548656c6c6f');
    });
  });
});
