/**
 * Incremental frame decoder, RFC 6455 §5.2.
 *
 * Bytes go in with `push(chunk)` in whatever pieces TCP delivers; `next()` returns the next piece of
 * a frame (a {@link FramePart}) or null when more bytes are needed. Everything the header tells is
 * validated as soon as its bits are there, before any payload is buffered: a peer cannot make us
 * allocate for a frame we are going to refuse.
 *
 * Data frame payloads are handed out as they arrive (unmasked, zero-copy views of the received
 * chunks), so that a text message can be UTF-8-checked chunk by chunk and a large message is never
 * copied by the decoder. Control frame payloads (at most 125 bytes) are handed out whole.
 */
import { ErrorCode, ProtocolError } from '../errors.ts';
import { ByteQueue } from './byte-queue.ts';
import { CloseCode } from './close-code.ts';
import { type FrameHeader, MAX_CONTROL_PAYLOAD_LENGTH, RsvBit } from './frame.ts';
import { applyMask } from './mask.ts';
import { isControlOpcode, isKnownOpcode } from './opcode.ts';
import { protocolError } from './protocol-error.ts';

/** A piece of one frame's payload, in order. */
export interface FramePart {
  readonly header: FrameHeader;
  /** Unmasked payload bytes (may be empty for an empty frame). */
  readonly data: Uint8Array;
  /** Position of `data[0]` within the frame's payload. */
  readonly offset: number;
  /** True for the part that ends the frame. */
  readonly last: boolean;
}

export interface FrameDecoderOptions {
  /**
   * §5.1: a server "MUST close the connection upon receiving a frame that is not masked", and a
   * client "MUST close a connection if it detects a masked frame". True on the server side.
   */
  readonly expectMasked: boolean;
  /** Largest payload accepted in one frame; a larger announced length fails with 1009 at once. */
  readonly maxPayload: number;
}

const EMPTY = new Uint8Array(0);

/**
 * Decodes a stream of bytes into frames. Throws {@link ProtocolError} on the first violation.
 *
 * The decoder is its own input queue: it extends {@link ByteQueue} rather than holding one, so that
 * the bytes and the decoding state of a connection are one object. On a server with thousands of
 * connections every object a message touches is a cache miss (bench/results/targets.md).
 */
export class FrameDecoder extends ByteQueue {
  readonly #expectMasked: boolean;
  #maxPayload: number;
  /** RSV bits that negotiated extensions give a meaning to (§5.2); all others must be 0. */
  #allowedRsv = 0;
  /**
   * The decoder's state, in two fields rather than an object per frame: the frame whose payload is
   * being read (null between frames), and how much of its payload was handed out.
   */
  #frame: FrameHeader | null = null;
  #received = 0;
  /** Set by the first violation: nothing more is decoded. */
  #failed = false;

  constructor(options: FrameDecoderOptions) {
    super();
    this.#expectMasked = options.expectMasked;
    this.#maxPayload = options.maxPayload;
  }

  /**
   * Lets an extension claim RSV bits, as a mask of {@link RsvBit} values. §5.8: "Reserved bits can be
   * allocated for frame-by-frame needs" by extensions; until one is negotiated they must be 0.
   */
  set allowedRsv(bits: number) {
    this.#allowedRsv = bits;
  }

  set maxPayload(value: number) {
    this.#maxPayload = value;
  }

  /** Bytes received but not yet returned by `next()`. */
  get bufferedLength(): number {
    return this.length;
  }

  /**
   * The next piece of a frame, or null when more bytes are needed.
   * @throws {ProtocolError} when the bytes violate RFC 6455; the decoder then stays failed.
   */
  next(): FramePart | null {
    try {
      return this.nextPart();
    } catch (error) {
      this.#failed = true;
      throw error;
    }
  }

  private nextPart(): FramePart | null {
    if (this.#failed) return null;
    const inProgress = this.#frame;
    if (inProgress !== null) return this.readPayload(inProgress, this.#received);
    const frame = this.readHeader();
    if (frame === null) return null;
    if (frame.payloadLength === 0) return { header: frame, data: EMPTY, offset: 0, last: true };
    const part = this.readPayload(frame, 0);
    // Only a frame whose payload is not all here becomes the frame in progress. Most frames arrive
    // whole, and for them the new header is never stored in this long-lived object: such a store is
    // an old-to-new pointer, which costs a write barrier now and a visit at the next scavenge.
    if (part === null || !part.last) this.#frame = frame;
    return part;
  }

  private readHeader(): FrameHeader | null {
    if (this.length < 2) return null;
    const byte0 = this.peekByte(0);
    const byte1 = this.peekByte(1);
    const fin = (byte0 & 0x80) !== 0;
    const opcode = byte0 & 0x0f;
    const masked = (byte1 & 0x80) !== 0;
    const shortLength = byte1 & 0x7f;

    // §5.2: "If a nonzero value is received and none of the negotiated extensions defines the
    // meaning of such a nonzero value, the receiving endpoint MUST _Fail the WebSocket Connection_."
    if ((byte0 & 0x70 & ~this.#allowedRsv) !== 0) {
      throw protocolError(ErrorCode.UnexpectedRsvBit, 'RSV bits set without a negotiated extension');
    }
    // §5.2: "If an unknown opcode is received, the receiving endpoint MUST _Fail the WebSocket Connection_."
    if (!isKnownOpcode(opcode)) {
      throw protocolError(ErrorCode.InvalidOpcode, `reserved opcode 0x${opcode.toString(16)}`);
    }
    if (isControlOpcode(opcode)) {
      // §5.5: "All control frames MUST have a payload length of 125 bytes or less and MUST NOT be fragmented."
      if (!fin) throw protocolError(ErrorCode.FragmentedControlFrame, 'fragmented control frame');
      if (shortLength > MAX_CONTROL_PAYLOAD_LENGTH) {
        throw protocolError(ErrorCode.ControlFrameTooLong, 'control frame payload longer than 125 bytes');
      }
    }
    // §5.1: clients mask every frame, servers mask none.
    if (masked !== this.#expectMasked) {
      throw this.#expectMasked
        ? protocolError(ErrorCode.MaskExpected, 'a client frame was not masked')
        : protocolError(ErrorCode.MaskUnexpected, 'a server frame was masked');
    }

    // §5.2 "Payload length: 7 bits, 7+16 bits, or 7+64 bits."
    const lengthBytes = shortLength === 126 ? 2 : shortLength === 127 ? 8 : 0;
    const headerLength = 2 + lengthBytes + (masked ? 4 : 0);
    if (this.length < headerLength) {
      if (lengthBytes === 8 && this.length >= 3 && (this.peekByte(2) & 0x80) !== 0) {
        throw msbError();
      }
      return null;
    }
    // The header is complete: read it in place (no view of its bytes: one object less per frame)
    // and consume it, so that a frame refused below leaves nothing buffered.
    let payloadLength = shortLength;
    let high = 0;
    if (lengthBytes === 2) {
      payloadLength = (this.peekByte(2) << 8) | this.peekByte(3);
    } else if (lengthBytes === 8) {
      high = peekUint32(this, 2);
      // Lengths above 2^53 cannot be represented exactly; they are far over any maxPayload anyway.
      payloadLength = high > 0x1fffff ? Number.POSITIVE_INFINITY : high * 0x100000000 + peekUint32(this, 6);
    }
    // §5.2 "Masking-key: 0 or 4 bytes", the last of the header; kept as a number (mask.ts).
    const maskKey = masked ? peekUint32(this, headerLength - 4) : undefined;
    this.skip(headerLength);
    // §5.2: "the most significant bit MUST be 0".
    if (high >= 0x80000000) throw msbError();
    // §10.4: implementations "MUST protect themselves against exceeding those limits": refused from
    // the header, before a byte of the payload is buffered. §10.7: "Incoming data MUST always be
    // validated by both clients and servers"; each check here fails with the close code of §7.4.1.
    if (payloadLength > this.#maxPayload) {
      throw new ProtocolError(
        ErrorCode.MessageTooBig,
        CloseCode.MessageTooBig,
        `frame payload of ${payloadLength} bytes exceeds maxPayload (${this.#maxPayload})`,
      );
    }
    return {
      fin,
      rsv1: (byte0 & RsvBit.rsv1) !== 0,
      rsv2: (byte0 & RsvBit.rsv2) !== 0,
      rsv3: (byte0 & RsvBit.rsv3) !== 0,
      opcode,
      masked,
      payloadLength,
      maskKey,
    };
  }

  /** The next piece of the payload of `header`, of which `received` bytes were handed out already. */
  private readPayload(header: FrameHeader, received: number): FramePart | null {
    const remaining = header.payloadLength - received;
    let data: Uint8Array | null;
    if (isControlOpcode(header.opcode)) {
      data = this.read(remaining); // whole, at most 125 bytes
    } else {
      data = this.length === 0 ? null : this.readSome(remaining);
    }
    if (data === null) {
      this.#received = received;
      return null;
    }
    if (header.maskKey !== undefined) applyMask(data, header.maskKey, received);
    this.#received = received + data.length;
    const last = this.#received === header.payloadLength;
    if (last) this.#frame = null;
    return { header, data, offset: received, last };
  }
}

/** The big-endian 32-bit number at `at` in the queue, without consuming it (§5.2: network byte order). */
function peekUint32(queue: ByteQueue, at: number): number {
  return (
    ((queue.peekByte(at) << 24) |
      (queue.peekByte(at + 1) << 16) |
      (queue.peekByte(at + 2) << 8) |
      queue.peekByte(at + 3)) >>>
    0
  );
}

function msbError(): ProtocolError {
  return protocolError(
    ErrorCode.InvalidPayloadLength,
    'the most significant bit of a 64-bit payload length is set',
  );
}
