/**
 * The bytes a Connection has queued for the transport, in order, and the one rule about them that is
 * not just "append": a flood of Pings must not grow the queue without bound (§5.5.3).
 */

/**
 * §5.5.3 "If an endpoint receives a Ping frame and has not yet sent Pong frame(s) in response to
 * previous Ping frame(s), the endpoint MAY elect to send a Pong frame for only the most recently
 * processed Ping frame." Beyond this many unsent Pongs we do exactly that, so a ping flood cannot
 * grow our outgoing buffer without bound. "Unsent" means not yet taken by {@link OutgoingQueue.take}:
 * the wrapper leaves frames here while its socket cannot take more (the peer does not read), so
 * however long the flood lasts, at most this many Pongs wait. (Not 1: a burst of a few Pings from a
 * peer that does read, as Autobahn 2.10 sends, still gets one Pong each.)
 */
export const MAX_UNSENT_PONGS = 16;

/** Frames waiting for the transport. */
export class OutgoingQueue {
  #chunks: Uint8Array[] = [];
  #bytes = 0;
  #unsentPongs = 0;
  #lastPongIndex = -1;

  /** Bytes queued and not yet taken. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Appends the chunks of one or more frames. */
  push(chunks: readonly Uint8Array[]): void {
    for (const chunk of chunks) {
      this.#chunks.push(chunk);
      this.#bytes += chunk.length;
    }
  }

  /**
   * Appends an automatic Pong (one array, header and payload together), or, past
   * {@link MAX_UNSENT_PONGS} unsent ones, puts it in place of the last one (§5.5.3).
   */
  pushPong(pong: Uint8Array): void {
    if (this.#unsentPongs >= MAX_UNSENT_PONGS && this.#lastPongIndex >= 0) {
      const [old] = this.#chunks.splice(this.#lastPongIndex, 1, pong);
      this.#bytes += pong.length - (old?.length ?? 0);
      return;
    }
    this.#chunks.push(pong);
    this.#bytes += pong.length;
    this.#unsentPongs++;
    this.#lastPongIndex = this.#chunks.length - 1;
  }

  /** Takes everything queued, in order, so the transport can write it with one `writev`. */
  take(): Uint8Array[] {
    const out = this.#chunks;
    this.#chunks = [];
    this.#bytes = 0;
    this.#unsentPongs = 0;
    this.#lastPongIndex = -1;
    return out;
  }
}
