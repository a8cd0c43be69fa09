/**
 * §5.7 Examples: the six byte vectors of the RFC, each sent by the side that sends it in the RFC
 * (exact bytes out) and received by the other (events out), every vector also cut at every offset.
 */
import { describe, expect, it } from 'vitest';
import {
  bytes,
  bytesOf,
  chunkings,
  connection,
  expectEvents,
  hex,
  message,
  receive,
  sentHex,
  toHex,
} from './harness.ts';

/** "A single-frame unmasked text message": `0x81 0x05 0x48 0x65 0x6c 0x6c 0x6f` (contains "Hello"). */
const UNMASKED_HELLO = '81 05 48 65 6c 6c 6f';
/** "A single-frame masked text message": `0x81 0x85 0x37 0xfa 0x21 0x3d 0x7f 0x9f 0x4d 0x51 0x58`. */
const MASKED_HELLO = '81 85 37 fa 21 3d 7f 9f 4d 51 58';
/** "A fragmented unmasked text message": `0x01 0x03 0x48 0x65 0x6c` ("Hel") and `0x80 0x02 0x6c 0x6f` ("lo"). */
const FRAGMENTED_HEL = '01 03 48 65 6c';
const FRAGMENTED_LO = '80 02 6c 6f';
/** "Unmasked Ping request": `0x89 0x05 0x48 0x65 0x6c 0x6c 0x6f` (body "Hello"). */
const UNMASKED_PING = '89 05 48 65 6c 6c 6f';
/** "masked Ping response" (a Pong): `0x8a 0x85 0x37 0xfa 0x21 0x3d 0x7f 0x9f 0x4d 0x51 0x58`. */
const MASKED_PONG = '8a 85 37 fa 21 3d 7f 9f 4d 51 58';
/** "256 bytes binary message in a single unmasked frame": `0x82 0x7E 0x0100 [256 bytes of binary data]`. */
const BINARY_256_HEADER = '82 7e 01 00';
/** "64KiB binary message in a single unmasked frame": `0x82 0x7F 0x0000000000010000 [65536 bytes]`. */
const BINARY_64K_HEADER = '82 7f 00 00 00 00 00 01 00 00';

const plain = (text: string) => text.replace(/\s+/g, '');
const data256 = Uint8Array.from({ length: 256 }, (_, i) => i);
const data64k = Uint8Array.from({ length: 65536 }, (_, i) => (i * 13) & 0xff);

describe('§5.7 Examples', () => {
  describe('"A single-frame unmasked text message"', () => {
    it('server sends "Hello" as 81 05 48 65 6c 6c 6f', () => {
      const conn = connection('server');
      conn.send(bytesOf('Hello'), false);
      expect(sentHex(conn)).toBe(plain(UNMASKED_HELLO));
    });

    it('client receives it as the text message "Hello", cut at every offset', () => {
      for (const chunks of chunkings(bytes(UNMASKED_HELLO))) {
        expectEvents(receive(connection('client'), ...chunks), [message('Hello')]);
      }
    });

    it('server refuses it: a client frame must be masked (§5.1)', () => {
      const events = receive(connection('server'), bytes(UNMASKED_HELLO));
      expect(events.map((event) => event.type)).toEqual(['fail']);
    });
  });

  describe('"A single-frame masked text message"', () => {
    it('client sends "Hello" with mask 37 fa 21 3d as 81 85 37 fa 21 3d 7f 9f 4d 51 58', () => {
      const conn = connection('client');
      conn.send(bytesOf('Hello'), false);
      expect(sentHex(conn)).toBe(plain(MASKED_HELLO));
    });

    it('server receives it as the text message "Hello", cut at every offset', () => {
      for (const chunks of chunkings(bytes(MASKED_HELLO))) {
        expectEvents(receive(connection('server'), ...chunks), [message('Hello')]);
      }
    });

    it('client refuses it: a server frame must not be masked (§5.1)', () => {
      const events = receive(connection('client'), bytes(MASKED_HELLO));
      expect(events.map((event) => event.type)).toEqual(['fail']);
    });
  });

  describe('"A fragmented unmasked text message"', () => {
    it('server sends "Hel" + "lo" as 01 03 48 65 6c, 80 02 6c 6f', () => {
      const conn = connection('server');
      conn.send(bytesOf('Hel'), false, false);
      expect(sentHex(conn)).toBe(plain(FRAGMENTED_HEL));
      conn.send(bytesOf('lo'), false, true);
      expect(sentHex(conn)).toBe(plain(FRAGMENTED_LO));
    });

    it('client receives it as one message "Hello", cut at every offset', () => {
      const both = hex(FRAGMENTED_HEL + FRAGMENTED_LO);
      for (const chunks of chunkings(both)) {
        expectEvents(receive(connection('client'), ...chunks), [message('Hello')]);
      }
    });

    it('client delivers nothing after the first fragment alone', () => {
      expectEvents(receive(connection('client'), bytes(FRAGMENTED_HEL)), []);
    });
  });

  describe('"Unmasked Ping request and masked Ping response"', () => {
    it('server sends the Ping as 89 05 48 65 6c 6c 6f', () => {
      const conn = connection('server');
      conn.ping(bytesOf('Hello'));
      expect(sentHex(conn)).toBe(plain(UNMASKED_PING));
    });

    it('client answers it with exactly 8a 85 37 fa 21 3d 7f 9f 4d 51 58', () => {
      const conn = connection('client');
      expectEvents(receive(conn, bytes(UNMASKED_PING)), [{ type: 'ping', data: bytesOf('Hello') }]);
      expect(sentHex(conn)).toBe(plain(MASKED_PONG));
    });

    it('client answers it the same way when the Ping arrives one byte at a time', () => {
      const conn = connection('client');
      receive(conn, ...Array.from(bytes(UNMASKED_PING), (byte) => Uint8Array.of(byte)));
      expect(sentHex(conn)).toBe(plain(MASKED_PONG));
    });

    it('server receives the masked Pong as a pong event with "Hello"', () => {
      const conn = connection('server');
      expectEvents(receive(conn, bytes(MASKED_PONG)), [{ type: 'pong', data: bytesOf('Hello') }]);
      expect(sentHex(conn)).toBe('');
    });
  });

  describe('"256 bytes binary message in a single unmasked frame"', () => {
    it('server sends it with the header 82 7e 01 00', () => {
      const conn = connection('server');
      conn.send(data256, true);
      expect(sentHex(conn)).toBe(plain(BINARY_256_HEADER) + toHex(data256));
    });

    it('client receives it as a 256-byte binary message, the header cut at every offset', () => {
      const frame = hex(BINARY_256_HEADER + toHex(data256));
      for (let at = 0; at <= 6; at++) {
        expectEvents(receive(connection('client'), frame.slice(0, at), frame.slice(at)), [
          message(data256, true),
        ]);
      }
    });
  });

  describe('"64KiB binary message in a single unmasked frame"', () => {
    it('server sends it with the header 82 7f 00 00 00 00 00 01 00 00', () => {
      const conn = connection('server');
      conn.send(data64k, true);
      expect(sentHex(conn)).toBe(plain(BINARY_64K_HEADER) + toHex(data64k));
    });

    it('client receives it as a 65536-byte binary message, the header cut at every offset', () => {
      const frame = hex(BINARY_64K_HEADER + toHex(data64k));
      for (let at = 0; at <= 12; at++) {
        expectEvents(receive(connection('client'), frame.slice(0, at), frame.slice(at)), [
          message(data64k, true),
        ]);
      }
    });

    it('client receives it in 1000-byte chunks', () => {
      const frame = hex(BINARY_64K_HEADER + toHex(data64k));
      const chunks = Array.from({ length: Math.ceil(frame.length / 1000) }, (_, i) =>
        frame.slice(i * 1000, (i + 1) * 1000),
      );
      expectEvents(receive(connection('client'), ...chunks), [message(data64k, true)]);
    });
  });
});
