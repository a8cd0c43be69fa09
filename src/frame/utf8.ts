/**
 * Streaming UTF-8 validation for text messages and close reasons.
 *
 * RFC 6455 §8.1: "When an endpoint is to interpret a byte stream as UTF-8 but finds that the byte
 * stream is not, in fact, a valid UTF-8 stream, that endpoint MUST _Fail the WebSocket Connection_."
 * §5.6 lets a text message be split across frames at any byte, even inside a character, so the
 * validator keeps state between chunks; it reports an error in the chunk where the bad byte arrives
 * ("fail fast", which Autobahn 6.4.x checks), not at the end of the message.
 *
 * Well-formed sequences are those of RFC 3629 §4 (no overlongs, no surrogates, nothing above U+10FFFF):
 *
 *   first byte  second byte  then
 *   00..7F
 *   C2..DF      80..BF
 *   E0          A0..BF       80..BF
 *   E1..EC      80..BF       80..BF
 *   ED          80..9F       80..BF
 *   EE..EF      80..BF       80..BF
 *   F0          90..BF       80..BF 80..BF
 *   F1..F3      80..BF       80..BF 80..BF
 *   F4          80..8F       80..BF 80..BF
 */
import { isUtf8 } from 'node:buffer';

/** Validates UTF-8 across any chunking of the input. */
export class Utf8Validator {
  /** Continuation bytes still expected for the current character (0 when between characters). */
  #pending = 0;
  /** Allowed range of the next continuation byte (narrower than 80..BF right after some lead bytes). */
  #lower = 0x80;
  #upper = 0xbf;

  /** True when the input so far ends on a character boundary. */
  get atBoundary(): boolean {
    return this.#pending === 0;
  }

  /**
   * Feeds the next chunk.
   * @returns false as soon as the input cannot be the prefix of valid UTF-8.
   */
  write(bytes: Uint8Array): boolean {
    let i = 0;
    const length = bytes.length;
    // Finish a character split across chunks byte by byte.
    while (this.#pending > 0 && i < length) {
      if (!this.acceptContinuation(bytes[i]!)) return false;
      i++;
    }
    if (i === length) return true;
    // Between characters: let the native validator check the complete characters in one pass and
    // keep only an unfinished last character for the byte-wise state machine.
    const tailStart = startOfIncompleteTail(bytes, i);
    if (tailStart > i && !isUtf8(i === 0 && tailStart === length ? bytes : bytes.subarray(i, tailStart))) {
      return false;
    }
    for (let j = tailStart; j < length; j++) {
      if (!this.acceptByte(bytes[j]!)) return false;
    }
    return true;
  }

  /**
   * Feeds the last chunk (possibly empty).
   * @returns whether the whole input was valid UTF-8 ending on a character boundary.
   */
  end(bytes?: Uint8Array): boolean {
    const ok = (bytes === undefined || this.write(bytes)) && this.#pending === 0;
    this.reset();
    return ok;
  }

  reset(): void {
    this.#pending = 0;
    this.#lower = 0x80;
    this.#upper = 0xbf;
  }

  private acceptByte(byte: number): boolean {
    if (this.#pending > 0) return this.acceptContinuation(byte);
    if (byte <= 0x7f) return true;
    if (byte >= 0xc2 && byte <= 0xdf) return this.expect(1, 0x80, 0xbf);
    if (byte === 0xe0) return this.expect(2, 0xa0, 0xbf);
    if (byte === 0xed) return this.expect(2, 0x80, 0x9f);
    if (byte >= 0xe1 && byte <= 0xef) return this.expect(2, 0x80, 0xbf);
    if (byte === 0xf0) return this.expect(3, 0x90, 0xbf);
    if (byte >= 0xf1 && byte <= 0xf3) return this.expect(3, 0x80, 0xbf);
    if (byte === 0xf4) return this.expect(3, 0x80, 0x8f);
    return false; // 80..C1 (stray continuation or overlong lead) and F5..FF never start a character.
  }

  private acceptContinuation(byte: number): boolean {
    if (byte < this.#lower || byte > this.#upper) return false;
    this.#pending--;
    this.#lower = 0x80;
    this.#upper = 0xbf;
    return true;
  }

  private expect(pending: number, lower: number, upper: number): boolean {
    this.#pending = pending;
    this.#lower = lower;
    this.#upper = upper;
    return true;
  }
}

/**
 * Index where an unfinished multi-byte character at the end of `bytes` starts (or `bytes.length`
 * when the last character is complete). Looks at most 3 bytes back.
 */
function startOfIncompleteTail(bytes: Uint8Array, from: number): number {
  const length = bytes.length;
  const stop = Math.max(from, length - 3);
  for (let i = length - 1; i >= stop; i--) {
    const byte = bytes[i]!;
    if (byte < 0x80) return length; // ASCII: the last character is complete.
    if (byte >= 0xc0) {
      // A lead byte: complete if the bytes after it are as many as it announces.
      const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
      return length - i >= needed ? length : i;
    }
  }
  return length;
}

/** Whether `bytes` is, as a whole, valid UTF-8 (RFC 3629). */
export function isValidUtf8(bytes: Uint8Array): boolean {
  return isUtf8(bytes);
}
