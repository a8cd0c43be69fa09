/**
 * Collects the payload of a message as it arrives, in fragments (RFC 6455 §5.4) and chunks.
 *
 * Large pieces are kept as views of the received buffers (no copy until the message is joined).
 * Small pieces are copied into a buffer that doubles as it fills: a peer sending a message in
 * 1-byte fragments (legal, §5.4) must cost about one byte of memory per byte of payload, not a view
 * object per byte, or `maxPayload` would bound the payload but not the memory it takes.
 */
import { Buffer } from 'node:buffer';

/** Pieces at least this large are kept as views; smaller ones are copied. */
const VIEW_THRESHOLD = 4096;
const FIRST_COPY_CAPACITY = 1024;
const EMPTY = new Uint8Array(0);

/**
 * A message that arrived whole in one piece, as it is handed out: a view of the received bytes
 * when large, or when the chunk it came in is small, else a copy. A copy comes from Node's Buffer
 * pool, so a kept copy can keep a whole pool slab alive (`Buffer.poolSize`: 8 KiB before Node 24,
 * 64 KiB from it): a view of a chunk no larger than that keeps no more alive, and saves the copy.
 * Only a small message in a larger chunk is copied (a 64 KiB read before Node 24, a TLS or HTTP/2
 * chunk cut from a larger buffer). A socket's chunk is an ArrayBuffer of exactly the bytes read.
 */
export function wholeMessagePayload(data: Uint8Array): Uint8Array {
  const length = data.length;
  if (length >= VIEW_THRESHOLD || data.buffer.byteLength <= Buffer.poolSize) return data;
  if (length === 0) return EMPTY;
  const copy = Buffer.allocUnsafe(length);
  copy.set(data);
  return copy;
}

export class MessageBuffer {
  /** The pieces in order; the last one may be `#spare`, a copy buffer only partly filled. */
  readonly #pieces: Uint8Array[] = [];
  #spare: Uint8Array | null = null;
  #spareUsed = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  append(data: Uint8Array): void {
    const length = data.length;
    if (length === 0) return;
    this.#size += length;
    if (length >= VIEW_THRESHOLD) {
      this.#sealSpare();
      this.#pieces.push(data);
      return;
    }
    let spare = this.#spare;
    if (spare === null || spare.length - this.#spareUsed < length) {
      this.#sealSpare();
      const capacity = Math.max(FIRST_COPY_CAPACITY, length, (spare?.length ?? 0) * 2);
      spare = Buffer.allocUnsafe(capacity);
      this.#spare = spare;
      this.#spareUsed = 0;
    }
    spare.set(data, this.#spareUsed);
    this.#spareUsed += length;
  }

  /**
   * The whole payload. A single piece is returned as is (no copy); `Buffer.allocUnsafe` skips
   * zero-filling memory that is overwritten at once.
   */
  join(): Uint8Array {
    this.#sealSpare();
    const pieces = this.#pieces;
    if (pieces.length === 0) return EMPTY;
    if (pieces.length === 1) return pieces[0]!;
    const out = Buffer.allocUnsafe(this.#size);
    let at = 0;
    for (const piece of pieces) {
      out.set(piece, at);
      at += piece.length;
    }
    return out;
  }

  /** Moves the filled part of the copy buffer into the list of pieces. */
  #sealSpare(): void {
    if (this.#spare === null) return;
    if (this.#spareUsed > 0) this.#pieces.push(this.#spare.subarray(0, this.#spareUsed));
    this.#spare = null;
    this.#spareUsed = 0;
  }
}
