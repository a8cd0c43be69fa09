/**
 * §8.1 Handling Errors in UTF-8-Encoded Data: "When an endpoint is to interpret a byte stream as UTF-8
 * but finds that the byte stream is not, in fact, a valid UTF-8 stream, that endpoint MUST _Fail the
 * WebSocket Connection_" — in text messages and in close reasons, as soon as the bad byte arrives.
 */
import { describe, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import {
  BINARY,
  CLOSE,
  CONTINUATION,
  connection,
  expectEvents,
  expectFailedWithClose,
  fromPeer,
  message,
  ROLES,
  receive,
  TEXT,
} from './harness.ts';

/** Byte sequences that are not UTF-8 (RFC 3629 §4), with what is wrong with them. */
const INVALID: [string, number[]][] = [
  ['a byte that never appears (0xff)', [0xff]],
  ['a lone continuation byte', [0x80]],
  ['an overlong "/" (c0 af)', [0xc0, 0xaf]],
  ['an overlong NUL (e0 80 80)', [0xe0, 0x80, 0x80]],
  ['a UTF-16 surrogate (ed a0 80, U+D800)', [0xed, 0xa0, 0x80]],
  ['a code point above U+10FFFF (f4 90 80 80)', [0xf4, 0x90, 0x80, 0x80]],
  ['a 5-byte form (f8 88 80 80 80)', [0xf8, 0x88, 0x80, 0x80, 0x80]],
  ['a lead byte followed by ASCII (c3 41)', [0xc3, 0x41]],
];

/** Edge cases that are valid. */
const VALID: [string, number[]][] = [
  ['U+0000', [0x00]],
  ['U+007F', [0x7f]],
  ['U+0080 (c2 80)', [0xc2, 0x80]],
  ['U+07FF (df bf)', [0xdf, 0xbf]],
  ['U+0800 (e0 a0 80)', [0xe0, 0xa0, 0x80]],
  ['U+D7FF, just below the surrogates (ed 9f bf)', [0xed, 0x9f, 0xbf]],
  ['U+E000, just above the surrogates (ee 80 80)', [0xee, 0x80, 0x80]],
  ['U+FFFF (ef bf bf)', [0xef, 0xbf, 0xbf]],
  ['U+10000 (f0 90 80 80)', [0xf0, 0x90, 0x80, 0x80]],
  ['U+10FFFF, the last code point (f4 8f bf bf)', [0xf4, 0x8f, 0xbf, 0xbf]],
];

describe('§8.1 Handling Errors in UTF-8-Encoded Data', () => {
  describe('text messages: "that endpoint MUST _Fail the WebSocket Connection_" (1007, §7.4.1)', () => {
    for (const [name, bytes] of INVALID) {
      it.each(ROLES)(`%s fails (1007) on ${name}`, (role) => {
        const conn = connection(role);
        const payload = [0x61, ...bytes, 0x62];
        expectFailedWithClose(
          conn,
          receive(conn, fromPeer(role, TEXT, payload)),
          1007,
          ErrorCode.InvalidUtf8,
        );
      });
    }

    for (const [name, bytes] of VALID) {
      it.each(ROLES)(`%s accepts ${name}`, (role) => {
        const conn = connection(role);
        expectEvents(receive(conn, fromPeer(role, TEXT, bytes)), [message(bytes)]);
      });
    }

    it.each(ROLES)(
      '%s fails on a character cut short at the end of the message (ce with no continuation)',
      (role) => {
        const conn = connection(role);
        expectFailedWithClose(
          conn,
          receive(conn, fromPeer(role, TEXT, [0x61, 0xce])),
          1007,
          ErrorCode.InvalidUtf8,
        );
      },
    );

    it.each(ROLES)('%s fails on a character cut short at the end of the last fragment', (role) => {
      const conn = connection(role);
      const events = receive(
        conn,
        fromPeer(role, TEXT, [0x61], { fin: false }),
        fromPeer(role, CONTINUATION, [0xf0, 0x9f, 0x98]),
      );
      expectFailedWithClose(conn, events, 1007, ErrorCode.InvalidUtf8);
    });

    it.each(ROLES)('%s accepts a character split across fragments, one byte per fragment', (role) => {
      const conn = connection(role);
      const bytes = [0xf0, 0x9f, 0x98, 0x80];
      const events = receive(
        conn,
        ...bytes.map((byte, i) => fromPeer(role, i === 0 ? TEXT : CONTINUATION, [byte], { fin: i === 3 })),
      );
      expectEvents(events, [message('😀')]);
    });

    it.each(ROLES)('%s does not check binary messages: any bytes are delivered', (role) => {
      const conn = connection(role);
      expectEvents(receive(conn, fromPeer(role, BINARY, [0xff, 0xc0, 0xaf])), [
        message([0xff, 0xc0, 0xaf], true),
      ]);
    });
  });

  describe('fail fast: the failure comes with the fragment (or chunk) holding the bad byte, not at the end of the message', () => {
    it.each(ROLES)('%s fails on the first fragment of a message that is not finished yet', (role) => {
      const conn = connection(role);
      const events = receive(conn, fromPeer(role, TEXT, [0x61, 0xff], { fin: false }));
      expectFailedWithClose(conn, events, 1007, ErrorCode.InvalidUtf8);
    });

    it.each(ROLES)('%s fails within a frame whose payload has not all arrived', (role) => {
      const conn = connection(role);
      const frame = fromPeer(role, TEXT, [0x61, 0x62, 0xff, ...new Array(100).fill(0x61)]);
      const headerLength = role === 'server' ? 6 : 2;
      const events = receive(conn, frame.slice(0, headerLength + 3));
      expectFailedWithClose(conn, events, 1007, ErrorCode.InvalidUtf8);
    });

    it.each(ROLES)(
      '%s fails on a sequence that can no longer become valid (ed a0: a surrogate) before it is complete',
      (role) => {
        const conn = connection(role);
        const events = receive(conn, fromPeer(role, TEXT, [0xed, 0xa0], { fin: false }));
        expectFailedWithClose(conn, events, 1007, ErrorCode.InvalidUtf8);
      },
    );

    it.each(ROLES)(
      '%s waits when a fragment ends inside a character that may still be valid (f0 9f)',
      (role) => {
        const conn = connection(role);
        expectEvents(receive(conn, fromPeer(role, TEXT, [0xf0, 0x9f], { fin: false })), []);
      },
    );
  });

  describe('close reasons: §5.5.1 "the body MAY contain UTF-8-encoded data" — and §8.1 applies', () => {
    for (const [name, bytes] of INVALID) {
      it.each(ROLES)(`%s fails (1007) on a close reason with ${name}`, (role) => {
        const conn = connection(role);
        const events = receive(conn, fromPeer(role, CLOSE, [0x03, 0xe8, ...bytes]));
        expectFailedWithClose(conn, events, 1007, ErrorCode.InvalidUtf8);
      });
    }

    it.each(ROLES)('%s accepts a close reason of multi-byte characters', (role) => {
      const conn = connection(role);
      expectEvents(receive(conn, fromPeer(role, CLOSE, [0x03, 0xe8, 0xf4, 0x8f, 0xbf, 0xbf])), [
        { type: 'close', code: 1000, reason: '\u{10ffff}' },
      ]);
    });
  });
});
