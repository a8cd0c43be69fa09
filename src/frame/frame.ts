import type { Opcode } from './opcode.ts';

/**
 * The fields of a frame header, RFC 6455 §5.2:
 *
 *      0                   1                   2                   3
 *      0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *     +-+-+-+-+-------+-+-------------+-------------------------------+
 *     |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
 *     |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
 *     |N|V|V|V|       |S|             |   (if payload len==126/127)   |
 *     | |1|2|3|       |K|             |                               |
 *     +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
 *     |     Extended payload length continued, if payload len == 127  |
 *     + - - - - - - - - - - - - - - - +-------------------------------+
 *     |                               |Masking-key, if MASK set to 1  |
 *     +-------------------------------+-------------------------------+
 *     | Masking-key (continued)       |          Payload Data         |
 *     +-------------------------------- - - - - - - - - - - - - - - - +
 */
export interface FrameHeader {
  /** "Indicates that this is the final fragment in a message." */
  readonly fin: boolean;
  /** Reserved bits: "MUST be 0 unless an extension is negotiated that defines meanings". */
  readonly rsv1: boolean;
  readonly rsv2: boolean;
  readonly rsv3: boolean;
  readonly opcode: Opcode;
  /** "Defines whether the 'Payload data' is masked." */
  readonly masked: boolean;
  readonly payloadLength: number;
  /**
   * The 4-byte masking key, present exactly when `masked`: as one number, its bytes in network order
   * (see `maskKeyNumber` in mask.ts), so that a header needs no array of its own.
   */
  readonly maskKey: number | undefined;
}

/** Bit values of the RSV bits in the first header byte, used as a mask of allowed bits. */
export const RsvBit = { rsv1: 0x40, rsv2: 0x20, rsv3: 0x10 } as const;

/** Largest payload length encodable in the 7-bit field; 126 and 127 announce extended lengths. */
export const MAX_SHORT_PAYLOAD_LENGTH = 125;
/** Largest payload length encodable in the 16-bit extended field. */
export const MAX_16BIT_PAYLOAD_LENGTH = 0xffff;
/** §5.5: "All control frames MUST have a payload length of 125 bytes or less". */
export const MAX_CONTROL_PAYLOAD_LENGTH = 125;
