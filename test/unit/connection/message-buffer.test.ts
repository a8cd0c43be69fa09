import { describe, expect, it } from 'vitest';
import { MessageBuffer, wholeMessagePayload } from '../../../src/connection/message-buffer.ts';
import { seededRandom } from '../../helpers/bytes.ts';

describe('MessageBuffer (RFC 6455 §5.4 reassembly)', () => {
  it('keeps order across small copied pieces and large viewed pieces', () => {
    const random = seededRandom(99);
    const buffer = new MessageBuffer();
    const expected: number[] = [];
    for (let i = 0; i < 300; i++) {
      const size = random() < 0.1 ? 4096 + Math.floor(random() * 5000) : Math.floor(random() * 40);
      const piece = Uint8Array.from({ length: size }, () => Math.floor(random() * 256));
      buffer.append(piece);
      expected.push(...piece);
    }
    expect(buffer.size).toBe(expected.length);
    expect(Array.from(buffer.join())).toEqual(expected);
  });

  it('returns a single large piece without copying it', () => {
    const buffer = new MessageBuffer();
    const piece = new Uint8Array(10_000);
    buffer.append(piece);
    expect(buffer.join()).toBe(piece);
  });

  it('copies small pieces, so the caller may reuse their memory', () => {
    const buffer = new MessageBuffer();
    const piece = Uint8Array.of(1, 2, 3);
    buffer.append(piece);
    piece.fill(0);
    expect(Array.from(buffer.join())).toEqual([1, 2, 3]);
  });
});

describe('a message that arrives whole, in one frame and one piece', () => {
  it('is handed out as a copy when small in a large chunk: it does not keep the chunk alive', () => {
    // Its own memory, as a socket's chunk from a fast sender: four pool slabs (Buffer.poolSize is
    // 8 KiB before Node 24, 64 KiB from it, and a slab may be a little larger than that).
    const chunk = Buffer.alloc(Buffer.poolSize * 4);
    chunk.write('0123456789');
    const payload = wholeMessagePayload(chunk.subarray(2, 6));
    expect(payload.buffer).not.toBe(chunk.buffer);
    expect(payload.buffer.byteLength).toBeLessThan(chunk.buffer.byteLength);
    chunk.fill(0);
    expect(Buffer.from(payload).toString()).toBe('2345');
  });

  it('is copied out of a chunk even one byte larger than a pool slab', () => {
    const chunk = Buffer.alloc(Buffer.poolSize + 1);
    expect(wholeMessagePayload(chunk.subarray(2, 6)).buffer).not.toBe(chunk.buffer);
  });

  it('is handed out as a view when its chunk is small (a copy could keep a pool slab as large)', () => {
    const chunk = Buffer.alloc(Buffer.poolSize); // a socket's chunk: an ArrayBuffer of exactly the bytes read
    const view = chunk.subarray(2, 6);
    expect(wholeMessagePayload(view)).toBe(view);
  });

  it('keeps nothing alive when empty', () => {
    const view = Buffer.alloc(Buffer.poolSize + 1).subarray(3, 3);
    expect(wholeMessagePayload(view).buffer.byteLength).toBe(0);
  });

  it('is handed out as a view when large (no copy)', () => {
    const chunk = Buffer.alloc(20_000, 7);
    const view = chunk.subarray(100, 10_100);
    expect(wholeMessagePayload(view)).toBe(view);
  });
});
