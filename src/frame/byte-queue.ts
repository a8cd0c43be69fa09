/**
 * A queue of received chunks that hands out bytes without copying when it can.
 *
 * TCP delivers a byte stream in arbitrary pieces, so a frame header can be split across chunks and a
 * chunk can hold many frames. The decoder asks for exactly the bytes it needs; `read(n)` returns null
 * until `n` bytes are there, and returns a view into the first chunk whenever the bytes lie in it.
 */
export class ByteQueue {
  /** The chunk being read; most of the time the only one, so the common case needs no array. */
  #first: Uint8Array | null = null;
  /** Chunks queued behind `#first`, only while there are some. */
  #rest: Uint8Array[] | null = null;
  /** Read position inside `#first`. */
  #offset = 0;
  #length = 0;

  /** Bytes available to read. */
  get length(): number {
    return this.#length;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.#first === null) this.#first = chunk;
    else if (this.#rest === null) this.#rest = [chunk];
    else this.#rest.push(chunk);
    this.#length += chunk.length;
  }

  /** The byte at `index` (relative to the read position) without consuming it; requires index < length. */
  peekByte(index: number): number {
    let position = this.#offset + index;
    let chunk = this.#first!;
    let next = 0;
    while (position >= chunk.length) {
      position -= chunk.length;
      chunk = this.#rest![next++]!;
    }
    return chunk[position]!;
  }

  /**
   * Consumes exactly `n` bytes, or returns null (consuming nothing) when fewer are queued.
   * The result is a view of received memory when the bytes lie in one chunk, otherwise a copy.
   */
  read(n: number): Uint8Array | null {
    if (n > this.#length) return null;
    return this.take(n);
  }

  /** Consumes up to `max` bytes from the first chunk only: a zero-copy view, never empty unless the queue is. */
  readSome(max: number): Uint8Array {
    const first = this.#first;
    if (first === null || max === 0) return new Uint8Array(0);
    return this.take(Math.min(max, first.length - this.#offset));
  }

  /** Drops `n` bytes (n <= length). */
  skip(n: number): void {
    this.take(n, false);
  }

  private take(n: number, keep = true): Uint8Array {
    this.#length -= n;
    const first = this.#first!;
    const available = first.length - this.#offset;
    if (n <= available) {
      const view = keep ? first.subarray(this.#offset, this.#offset + n) : first;
      this.advance(first, n);
      return view;
    }
    // The bytes span chunks: gather them into one buffer.
    const out = keep ? new Uint8Array(n) : first;
    let written = 0;
    while (written < n) {
      const chunk = this.#first!;
      const count = Math.min(n - written, chunk.length - this.#offset);
      if (keep) out.set(chunk.subarray(this.#offset, this.#offset + count), written);
      written += count;
      this.advance(chunk, count);
    }
    return out;
  }

  private advance(chunk: Uint8Array, count: number): void {
    this.#offset += count;
    if (this.#offset < chunk.length) return;
    this.#offset = 0;
    const rest = this.#rest;
    if (rest === null) {
      this.#first = null;
      return;
    }
    this.#first = rest.shift()!;
    if (rest.length === 0) this.#rest = null; // no array kept once the queue is back to one chunk
  }
}
