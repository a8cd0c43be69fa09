/**
 * §5.6 Data Frames: text ("The "Payload data" is text data encoded as UTF-8", §8.1 has the failure
 * rule: s8-utf8.test.ts) and binary ("arbitrary binary data whose interpretation is solely up to the
 * application layer"), empty and large, sent and received by both ends.
 */
import { describe, expect, it } from 'vitest';
import {
  BINARY,
  bytesOf,
  connection,
  expectEvents,
  expectSent,
  fromPeer,
  fromSelf,
  message,
  ROLES,
  receive,
  TEXT,
} from './harness.ts';

const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);

describe('§5.6 Data Frames', () => {
  describe('Text: "The "Payload data" is text data encoded as UTF-8"', () => {
    it.each(ROLES)('%s sends text with opcode %%x1 and the UTF-8 bytes as given', (role) => {
      const conn = connection(role);
      conn.send(bytesOf('héllo wörld ✓ 😀'), false);
      expectSent(conn, fromSelf(role, TEXT, 'héllo wörld ✓ 😀'));
    });

    it.each(ROLES)('%s receives text as a message with binary: false', (role) => {
      const conn = connection(role);
      expectEvents(receive(conn, fromPeer(role, TEXT, 'héllo 😀')), [message('héllo 😀', false)]);
    });

    it.each(ROLES)('%s receives an empty text message', (role) => {
      const conn = connection(role);
      expectEvents(receive(conn, fromPeer(role, TEXT, '')), [message('', false)]);
    });

    it.each(ROLES)(
      '%s sends an empty text message as a 2-byte frame (plus the mask key from a client)',
      (role) => {
        const conn = connection(role);
        conn.send(new Uint8Array(0), false);
        expectSent(conn, fromSelf(role, TEXT, ''));
      },
    );

    it.each(ROLES)('%s receives a NUL character in text (U+0000 is valid UTF-8)', (role) => {
      const conn = connection(role);
      expectEvents(receive(conn, fromPeer(role, TEXT, [0x61, 0x00, 0x62])), [
        message([0x61, 0x00, 0x62], false),
      ]);
    });
  });

  describe('Binary: "arbitrary binary data whose interpretation is solely up to the application layer"', () => {
    it.each(ROLES)('%s sends every byte value unchanged with opcode %%x2', (role) => {
      const conn = connection(role);
      conn.send(ALL_BYTES, true);
      expectSent(conn, fromSelf(role, BINARY, ALL_BYTES));
    });

    it.each(ROLES)('%s receives every byte value, including sequences that are not UTF-8', (role) => {
      const conn = connection(role);
      expectEvents(receive(conn, fromPeer(role, BINARY, ALL_BYTES)), [message(ALL_BYTES, true)]);
    });

    it.each(ROLES)('%s receives an empty binary message', (role) => {
      const conn = connection(role);
      expectEvents(receive(conn, fromPeer(role, BINARY, [])), [message([], true)]);
    });

    it.each(ROLES)('%s receives a 200 KiB binary message in one frame', (role) => {
      const conn = connection(role);
      const data = Uint8Array.from({ length: 200 * 1024 }, (_, i) => (i * 31) & 0xff);
      expectEvents(receive(conn, fromPeer(role, BINARY, data)), [message(data, true)]);
    });
  });

  describe('messages keep their order and their type', () => {
    it.each(ROLES)('%s receives text, binary, text in order, each with its own type', (role) => {
      const conn = connection(role);
      const events = receive(
        conn,
        fromPeer(role, TEXT, 'one'),
        fromPeer(role, BINARY, [2]),
        fromPeer(role, TEXT, 'three'),
      );
      expectEvents(events, [message('one'), message([2], true), message('three')]);
    });

    it.each(ROLES)(
      '%s sends messages in the order they were queued, leaving together on takeOutgoing',
      (role) => {
        const conn = connection(role);
        conn.send(bytesOf('one'), false);
        conn.send(Uint8Array.of(2), true);
        conn.send(bytesOf('three'), false);
        expectSent(
          conn,
          fromSelf(role, TEXT, 'one'),
          fromSelf(role, BINARY, [2]),
          fromSelf(role, TEXT, 'three'),
        );
      },
    );

    it.each(ROLES)(
      '%s hands out one event per next() call: a later frame is decoded only when asked for',
      (role) => {
        const conn = connection(role);
        conn.push(Uint8Array.from([...fromPeer(role, TEXT, 'a'), ...fromPeer(role, 0x3, 'bad')]));
        expectEvents([conn.next()!], [message('a')]);
        // The bad frame has not been looked at yet: the connection is still open, nothing was sent.
        expect(conn.state).toBe('open');
        expect(conn.takeOutgoing()).toEqual([]);
        expect(conn.next()?.type).toBe('fail');
        expect(conn.state).toBe('closed');
      },
    );
  });
});
