/**
 * The frames a Connection sends, encoded and queued for the transport in order: which opcode and
 * flags each frame carries (§5.2, §5.4, RFC 7692 §6.1), its masking (RFC 6455 §5.3), and the one rule about
 * the queue that is not just "append": a flood of Pings must not grow it without bound (§5.5.3).
 * Whether a frame may be sent at all (the closing handshake) is the Connection's to decide.
 */
import { InvalidStateError } from '../errors.ts';
import { encodeFrame, encodeFrameAsOne } from '../frame/encoder.ts';
import { Opcode } from '../frame/opcode.ts';

/**
 * §5.5.3 "If an endpoint receives a Ping frame and has not yet sent Pong frame(s) in response to
 * previous Ping frame(s), the endpoint MAY elect to send a Pong frame for only the most recently
 * processed Ping frame." Beyond this many unsent Pongs we do exactly that, so a ping flood cannot
 * grow our outgoing buffer without bound. "Unsent" means not yet taken by {@link FrameWriter.take}:
 * the wrapper leaves frames here while its socket cannot take more (the peer does not read), so
 * however long the flood lasts, at most this many Pongs wait. (Not 1: a burst of a few Pings from a
 * peer that does read, as Autobahn 2.10 sends, still gets one Pong each.)
 */
export const MAX_UNSENT_PONGS = 16;

/**
 * Unmasked payloads up to this size are copied behind their header into one buffer; larger ones are
 * queued as they are, after their header (no copy of a large payload).
 */
const SMALL_FRAME_BYTES = 1024;

/** Encodes frames and keeps them until the transport takes them. */
export class FrameWriter {
  /** §5.3: a client masks every frame with a fresh key; a server has none. */
  readonly #generateMaskKey: (() => Uint8Array) | undefined;
  readonly #perMessageDeflate: boolean;
  /** True while an outgoing fragmented message is unfinished (§5.4). */
  #sendingFragments = false;
  /**
   * Frames waiting to be taken; null when none, so that an idle connection holds no array and a
   * message's first frame starts a one-slot array rather than an empty one grown to 17 slots.
   */
  #chunks: Uint8Array[] | null = null;
  #bytes = 0;
  #unsentPongs = 0;
  #lastPongIndex = -1;

  constructor(generateMaskKey: (() => Uint8Array) | undefined, perMessageDeflate: boolean) {
    this.#generateMaskKey = generateMaskKey;
    this.#perMessageDeflate = perMessageDeflate;
  }

  /** Bytes queued and not yet taken. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Queues a data frame: a whole message, or one fragment of it when `fin` is false (§5.4).
   * @throws {InvalidStateError} for `compressed` without permessage-deflate.
   */
  data(data: Uint8Array, binary: boolean, fin: boolean, compressed: boolean): void {
    // RFC 7692 §6: RSV1 means "compressed" only once the extension was negotiated; without it the
    // peer must fail the connection (§5.2: "If a nonzero value is received and none of the negotiated
    // extensions defines the meaning of such a nonzero value, the receiving endpoint MUST _Fail_").
    if (compressed && !this.#perMessageDeflate) {
      throw new InvalidStateError(
        'cannot send a compressed message: permessage-deflate was not negotiated (RFC 7692 §6)',
      );
    }
    // §5.4: the first fragment carries the message's opcode, the others are Continuation frames.
    const first = !this.#sendingFragments;
    const opcode = first ? (binary ? Opcode.Binary : Opcode.Text) : Opcode.Continuation;
    this.#sendingFragments = !fin;
    // RFC 7692 §6.1: RSV1 marks a compressed message, on its first frame only.
    const rsv1 = compressed && first;
    const maskKey = this.#generateMaskKey?.();
    if (maskKey === undefined && data.length <= SMALL_FRAME_BYTES) {
      // The hot path of a server: a small frame is built as one buffer, header and payload together.
      // Copying a few bytes costs less than a second chunk (and the join of the two at write time).
      this.append(encodeFrameAsOne(opcode, data, { fin, rsv1 }));
      return;
    }
    this.appendAll(encodeFrame(opcode, data, { fin, rsv1, maskKey }));
  }

  /** Queues a control frame (Ping, Pong, Close); the caller checked its payload (§5.5). */
  control(opcode: Opcode, payload: Uint8Array): void {
    this.appendAll(encodeFrame(opcode, payload, { maskKey: this.#generateMaskKey?.() }));
  }

  /**
   * Queues frames encoded elsewhere, unless a fragmented message of ours is in progress (§5.4: they
   * would land between its fragments).
   * @returns false when nothing was queued.
   */
  encoded(chunks: readonly Uint8Array[]): boolean {
    if (this.#sendingFragments) return false;
    this.appendAll(chunks);
    return true;
  }

  /**
   * Queues the automatic Pong answering a Ping (one array, header and payload together), or, past
   * {@link MAX_UNSENT_PONGS} unsent ones, puts it in place of the last one (§5.5.3).
   */
  autoPong(payload: Uint8Array): void {
    const pong = encodeFrameAsOne(Opcode.Pong, payload, { maskKey: this.#generateMaskKey?.() });
    if (this.#unsentPongs >= MAX_UNSENT_PONGS && this.#lastPongIndex >= 0) {
      const [old] = this.#chunks!.splice(this.#lastPongIndex, 1, pong);
      this.#bytes += pong.length - (old?.length ?? 0);
      return;
    }
    this.append(pong);
    this.#unsentPongs++;
    this.#lastPongIndex = this.#chunks!.length - 1;
  }

  /** Takes everything queued, in order, so the transport can write it with one `writev`. */
  take(): Uint8Array[] {
    const out = this.#chunks ?? [];
    this.#chunks = null;
    this.#bytes = 0;
    this.#unsentPongs = 0;
    this.#lastPongIndex = -1;
    return out;
  }

  private appendAll(chunks: readonly Uint8Array[]): void {
    for (const chunk of chunks) this.append(chunk);
  }

  private append(chunk: Uint8Array): void {
    if (this.#chunks === null) this.#chunks = [chunk];
    else this.#chunks.push(chunk);
    this.#bytes += chunk.length;
  }
}
