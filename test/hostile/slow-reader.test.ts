/**
 * A peer that never reads while the server sends: `send()` reports backpressure (returns false once
 * `bufferedAmount` is over the high-water mark), `bufferedAmount` accounts for exactly what is queued
 * (no hidden copies beyond what was sent), and 'drain' fires once the peer reads again.
 * (`server.broadcast()` with `maxBufferedAmount`/`slowReaderPolicy` is covered in
 * test/integration/deployment-server.test.ts: slow readers dropped, or closed with 1013.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from '../../src/index.ts';
import { type Listening, nextConnection, rawHandshake } from '../integration/helpers.ts';
import { closeServer, echoServer, expectHealthy, sleep } from './support.ts';

let listening: Listening | undefined;
afterEach(async () => {
  await closeServer(listening);
  listening = undefined;
});

describe('slow reader', () => {
  it('send() returns false, bufferedAmount ≤ what was sent, and drain fires when the peer resumes', async () => {
    listening = await echoServer();
    const accepted = nextConnection(listening.server);
    const peer = await rawHandshake(listening.port);
    const ws: WebSocket = await accepted;
    peer.socket.pause();
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const frameOverhead = 4; // 2 bytes + 16-bit extended length: a 64 KiB frame is 65540 bytes on the wire
    let sent = 0;
    let falseReturned = 0;
    let buffered = 0;
    // Send until the kernel's socket buffers are full too (they absorb the first MiBs) and the bytes
    // stay queued in the process: bufferedAmount over 1 MiB after the socket had time to write.
    for (let i = 0; i < 4096; i++) {
      if (!ws.send(chunk)) falseReturned++;
      sent += chunk.length + frameOverhead;
      if (i % 16 !== 15) continue;
      await sleep(5);
      buffered = ws.bufferedAmount;
      if (buffered >= 2 * 1024 * 1024) break;
    }
    expect(falseReturned).toBeGreaterThan(0);
    expect(buffered).toBeGreaterThanOrEqual(2 * 1024 * 1024);
    // What is queued is at most what was sent (most of it sits in the kernel): nothing counted twice.
    expect(buffered).toBeLessThanOrEqual(sent);
    expect(ws.send(chunk)).toBe(false); // still over the high-water mark
    sent += chunk.length + frameOverhead;
    const drained = new Promise<void>((resolve) => ws.once('drain', () => resolve()));
    peer.socket.resume();
    await Promise.race([
      drained,
      sleep(20_000).then(() => {
        throw new Error('no drain');
      }),
    ]);
    expect(ws.bufferedAmount).toBeLessThan(1024 * 1024);
    peer.destroy();
    await expectHealthy(listening);
  }, 40_000);
});
