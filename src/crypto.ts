/**
 * The randomness and hashing the pure core needs, bound to node:crypto. The core takes them as
 * parameters so that tests can inject fixed values.
 */
import { Buffer } from 'node:buffer';
import { hash, randomFillSync } from 'node:crypto';

/**
 * SHA-1 of a string (UTF-8), for `Sec-WebSocket-Accept` (§1.3, §4.2.2; checked by the client, §4.1).
 * @throws Never.
 */
export function sha1(input: string): Uint8Array {
  // The one-shot `hash()` (Node 20.12+) skips the Hash object: about 1.05 against 1.55 µs.
  return hash('sha1', input, 'buffer');
}

/**
 * `n` random bytes from the system's secure source, e.g. the nonce of `Sec-WebSocket-Key` (§4.1 item 7).
 * @throws Never.
 */
export function randomBytes(n: number): Uint8Array {
  return randomFillSync(Buffer.allocUnsafe(n));
}

/**
 * Masking keys for client frames. §5.3: "The masking key needs to be unpredictable; thus, the
 * masking key MUST be derived from a strong source of entropy"; §10.3 says why: a key the page's
 * script could predict would let it shape the bytes a proxy sees (cache poisoning). Drawing 4 bytes at a time from the
 * system is slow, so keys come from a pool refilled by one system call per 2,048 frames.
 * @throws Never.
 */
const POOL_SIZE = 8192;
let pool = Buffer.allocUnsafe(0);
let poolOffset = POOL_SIZE;

export function generateMaskKey(): Uint8Array {
  if (poolOffset + 4 > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafe(POOL_SIZE));
    poolOffset = 0;
  }
  // A view: the encoder copies the key into the frame header before the pool is ever refilled.
  const key = pool.subarray(poolOffset, poolOffset + 4);
  poolOffset += 4;
  return key;
}
