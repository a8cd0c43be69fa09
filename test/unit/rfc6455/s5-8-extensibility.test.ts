/**
 * §5.8 Extensibility: "The protocol is designed to allow for extensions ... reserved opcodes ... and
 * the three reserved bits": only a negotiated extension gives them meaning (§9). Here, what the core
 * does with and without the one extension it knows, permessage-deflate (its own rules:
 * test/unit/rfc7692/).
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, InvalidStateError } from '../../../src/errors.ts';
import {
  bytesOf,
  connection,
  expectEvents,
  expectFailedWithClose,
  expectNothingSent,
  expectSent,
  fromPeer,
  fromSelf,
  message,
  ROLES,
  receive,
  TEXT,
} from './harness.ts';

describe('§5.8 Extensibility', () => {
  describe('"Extension data" and the RSV bits belong to negotiated extensions only', () => {
    it.each(ROLES)('%s without extensions fails (1002) on RSV1', (role) => {
      const conn = connection(role);
      expectFailedWithClose(
        conn,
        receive(conn, fromPeer(role, TEXT, 'x', { rsv: 4 })),
        1002,
        ErrorCode.UnexpectedRsvBit,
      );
    });

    it.each(ROLES)('%s with permessage-deflate accepts RSV1 on the first frame of a message', (role) => {
      const conn = connection(role, { perMessageDeflate: true });
      expectEvents(receive(conn, fromPeer(role, TEXT, 'deflated', { rsv: 4 })), [
        message('deflated', false, true),
      ]);
    });

    it.each(ROLES)(
      '%s with permessage-deflate still fails on RSV2 and RSV3, which it gives no meaning',
      (role) => {
        for (const rsv of [2, 1]) {
          const conn = connection(role, { perMessageDeflate: true });
          expectFailedWithClose(
            conn,
            receive(conn, fromPeer(role, TEXT, 'x', { rsv })),
            1002,
            ErrorCode.UnexpectedRsvBit,
          );
        }
      },
    );

    it.each(ROLES)('%s with permessage-deflate still accepts uncompressed messages (RSV1 clear)', (role) => {
      const conn = connection(role, { perMessageDeflate: true });
      expectEvents(receive(conn, fromPeer(role, TEXT, 'plain')), [message('plain')]);
    });

    it.each(ROLES)(
      '%s never sets RSV1 without the extension: send(…, compressed) is refused (InvalidStateError)',
      (role) => {
        const conn = connection(role);
        expect(() => conn.send(bytesOf('x'), false, true, true)).toThrow(InvalidStateError);
        expectNothingSent(conn);
      },
    );

    it.each(ROLES)('%s with the extension sets RSV1 on a compressed message', (role) => {
      const conn = connection(role, { perMessageDeflate: true });
      conn.send(bytesOf('x'), false, true, true);
      expectSent(conn, fromSelf(role, TEXT, 'x', { rsv: 4 }));
    });
  });

  describe('"Reserved opcodes" stay reserved: no extension here defines one', () => {
    it.each(ROLES)('%s with permessage-deflate still fails (1002) on opcode 0x3', (role) => {
      const conn = connection(role, { perMessageDeflate: true });
      expectFailedWithClose(conn, receive(conn, fromPeer(role, 0x3)), 1002, ErrorCode.InvalidOpcode);
    });
  });
});
