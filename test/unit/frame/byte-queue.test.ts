import { describe, expect, it } from 'vitest';
import { ByteQueue } from '../../../src/frame/byte-queue.ts';

const bytes = (...values: number[]) => Uint8Array.from(values);

describe('ByteQueue (the decoder input: TCP delivers frames in arbitrary pieces)', () => {
  it('reads across chunks, peeks without consuming, and gives views inside one chunk', () => {
    const queue = new ByteQueue();
    const first = bytes(1, 2, 3);
    queue.push(first);
    queue.push(bytes());
    queue.push(bytes(4, 5));
    queue.push(bytes(6));
    expect(queue.length).toBe(6);
    expect(queue.peekByte(4)).toBe(5);
    const view = queue.read(2)!;
    expect(view.buffer).toBe(first.buffer); // no copy within a chunk
    expect(Array.from(view)).toEqual([1, 2]);
    expect(Array.from(queue.read(3)!)).toEqual([3, 4, 5]); // spans chunks: a copy
    expect(queue.read(2)).toBeNull(); // nothing consumed
    expect(Array.from(queue.readSome(10))).toEqual([6]);
    expect(queue.length).toBe(0);
    expect(queue.readSome(10).length).toBe(0);
  });

  it('skips across chunks and keeps reading after it is empty again', () => {
    const queue = new ByteQueue();
    queue.push(bytes(1, 2));
    queue.push(bytes(3, 4, 5));
    queue.skip(3);
    expect(Array.from(queue.readSome(5))).toEqual([4, 5]);
    queue.push(bytes(9));
    expect(queue.peekByte(0)).toBe(9);
    expect(Array.from(queue.read(1)!)).toEqual([9]);
  });
});
