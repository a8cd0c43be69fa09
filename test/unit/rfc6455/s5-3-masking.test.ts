/**
 * §5.1 and §5.3 Client-to-Server Masking: who masks, who must refuse what, and how the XOR works
 * (`j = i MOD 4`, `transformed-octet-i = original-octet-i XOR masking-key-octet-j`).
 */
import { describe, expect, it } from 'vitest';
import { Connection } from '../../../src/connection/connection.ts';
import { ErrorCode } from '../../../src/errors.ts';
import {
  BINARY,
  bytesOf,
  CLOSE,
  chunkings,
  closeBody,
  connection,
  expectEvents,
  expectFailedWithClose,
  expectSent,
  frame,
  message,
  PING,
  PONG,
  receive,
  sentHex,
  TEXT,
} from './harness.ts';

describe('§5.1 / §5.3 Client-to-Server Masking', () => {
  describe('§5.1: "a client MUST mask all frames that it sends to the server"', () => {
    it('client masks a text frame with the key it was given (MASK bit, key, masked payload)', () => {
      const conn = connection('client');
      conn.send(bytesOf('Hello'), false);
      expect(sentHex(conn)).toBe('818537fa213d7f9f4d5158');
    });

    it('client masks binary, Ping, Pong and Close frames too', () => {
      const key = Uint8Array.of(1, 2, 3, 4);
      const conn = connection('client', { generateMaskKey: () => key });
      conn.send(Uint8Array.of(0, 0, 0, 0, 0), true);
      conn.ping(bytesOf('p'));
      conn.pong(bytesOf('q'));
      conn.close(1000);
      expectSent(
        conn,
        frame(BINARY, [0, 0, 0, 0, 0], { mask: key }),
        frame(PING, 'p', { mask: key }),
        frame(PONG, 'q', { mask: key }),
        frame(CLOSE, closeBody(1000), { mask: key }),
      );
    });

    it('client masks an empty payload: the MASK bit and the key are still there', () => {
      const conn = connection('client');
      conn.ping();
      expect(sentHex(conn)).toBe('898037fa213d');
    });

    it('client masks the Pong it sends automatically in answer to a Ping', () => {
      const conn = connection('client');
      receive(conn, frame(PING, 'hb'));
      expectSent(conn, frame(PONG, 'hb', { mask: Uint8Array.of(0x37, 0xfa, 0x21, 0x3d) }));
    });

    it('§5.3 "The masking key needs to be unpredictable": a client takes a fresh key for each frame', () => {
      let n = 0;
      const conn = connection('client', { generateMaskKey: () => Uint8Array.of(n, n, n, n++) });
      conn.send(bytesOf('a'), false);
      conn.send(bytesOf('a'), false);
      expectSent(
        conn,
        frame(TEXT, 'a', { mask: Uint8Array.of(0, 0, 0, 0) }),
        frame(TEXT, 'a', { mask: Uint8Array.of(1, 1, 1, 1) }),
      );
      expect(n).toBe(2);
    });

    it('a client Connection cannot be made without a source of mask keys', () => {
      expect(() => new Connection({ role: 'client', maxPayload: 100 })).toThrow(/generateMaskKey/);
    });

    it("client leaves the caller's bytes unmasked (the masked copy is its own)", () => {
      const conn = connection('client');
      const data = bytesOf('Hello');
      conn.send(data, false);
      conn.takeOutgoing();
      expect(new TextDecoder().decode(data)).toBe('Hello');
    });
  });

  describe('§5.1: "A server MUST NOT mask any frames that it sends to the client"', () => {
    it('server sends text unmasked', () => {
      const conn = connection('server');
      conn.send(bytesOf('Hello'), false);
      expect(sentHex(conn)).toBe('810548656c6c6f');
    });

    it('server sends Ping, Pong, Close and its automatic Pong unmasked', () => {
      const conn = connection('server');
      conn.ping(bytesOf('p'));
      conn.pong(bytesOf('q'));
      receive(conn, frame(PING, 'r', { mask: Uint8Array.of(9, 9, 9, 9) }));
      conn.close(1001);
      expectSent(conn, frame(PING, 'p'), frame(PONG, 'q'), frame(PONG, 'r'), frame(CLOSE, closeBody(1001)));
    });

    it('server given a masking-key source still sends unmasked', () => {
      const conn = new Connection({
        role: 'server',
        maxPayload: 1 << 20,
        generateMaskKey: () => Uint8Array.of(1, 2, 3, 4),
      });
      conn.send(bytesOf('Hello'), false);
      conn.ping(bytesOf('p'));
      expect(sentHex(conn)).toBe(`810548656c6c6f${'8901' + '70'}`);
    });
  });

  describe('§5.1: "The server MUST close the connection upon receiving a frame that is not masked"', () => {
    it('server fails (1002) on an unmasked text frame', () => {
      const conn = connection('server');
      expectFailedWithClose(conn, receive(conn, frame(TEXT, 'Hello')), 1002, ErrorCode.MaskExpected);
    });

    it('server fails (1002) on an unmasked control frame', () => {
      const conn = connection('server');
      expectFailedWithClose(conn, receive(conn, frame(PING)), 1002, ErrorCode.MaskExpected);
    });

    it('server fails on an unmasked frame in the middle of a masked fragmented message', () => {
      const conn = connection('server');
      const mask = Uint8Array.of(1, 2, 3, 4);
      const events = receive(conn, frame(TEXT, 'a', { fin: false, mask }), frame(0, 'b'));
      expectFailedWithClose(conn, events, 1002, ErrorCode.MaskExpected);
    });

    it('server fails on the header alone, before any payload arrives', () => {
      const conn = connection('server');
      expectFailedWithClose(conn, receive(conn, Uint8Array.of(0x82, 0x7e)), 1002, ErrorCode.MaskExpected);
    });
  });

  describe('§5.1: "A client MUST close a connection if it detects a masked frame"', () => {
    it('client fails (1002) on a masked text frame', () => {
      const conn = connection('client');
      const events = receive(conn, frame(TEXT, 'Hello', { mask: Uint8Array.of(0x37, 0xfa, 0x21, 0x3d) }));
      expectFailedWithClose(conn, events, 1002, ErrorCode.MaskUnexpected);
    });

    it('client fails (1002) on a masked Close frame', () => {
      const conn = connection('client');
      const events = receive(conn, frame(CLOSE, closeBody(1000), { mask: Uint8Array.of(1, 1, 1, 1) }));
      expectFailedWithClose(conn, events, 1002, ErrorCode.MaskUnexpected);
    });
  });

  describe('§5.3: "octet i of the transformed data is the XOR of octet i of the original data with octet at index i modulo 4 of the masking key"', () => {
    it('server unmasks the §5.7 masked "Hello"', () => {
      const conn = connection('server');
      expectEvents(
        receive(conn, Uint8Array.of(0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58)),
        [message('Hello')],
      );
    });

    it('server unmasks a payload whose length is not a multiple of 4, cut at every offset', () => {
      const payload = Uint8Array.from({ length: 23 }, (_, i) => (i * 37) & 0xff);
      const bytes = frame(BINARY, payload, { mask: Uint8Array.of(0xde, 0xad, 0xbe, 0xef) });
      for (const chunks of chunkings(bytes)) {
        const conn = connection('server');
        expectEvents(receive(conn, ...chunks), [message(payload, true)]);
      }
    });

    it('server unmasks each fragment with its own key', () => {
      const conn = connection('server');
      const events = receive(
        conn,
        frame(TEXT, 'Hel', { fin: false, mask: Uint8Array.of(1, 2, 3, 4) }),
        frame(0, 'lo', { mask: Uint8Array.of(5, 6, 7, 8) }),
      );
      expectEvents(events, [message('Hello')]);
    });

    it('server unmasks a large payload (the word-at-a-time path) exactly', () => {
      const payload = Uint8Array.from({ length: 70_001 }, (_, i) => (i * 7 + (i >> 8)) & 0xff);
      const conn = connection('server');
      expectEvents(receive(conn, frame(BINARY, payload, { mask: Uint8Array.of(0x11, 0x22, 0x33, 0x44) })), [
        message(payload, true),
      ]);
    });

    it('a masking key of zeros leaves the payload as is (the key is still sent)', () => {
      const conn = connection('client', { generateMaskKey: () => new Uint8Array(4) });
      conn.send(bytesOf('Hi'), false);
      expect(sentHex(conn)).toBe('81820000000048' + '69');
    });
  });
});
