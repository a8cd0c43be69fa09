/**
 * A sustained ping flood from a peer that never reads (issue 12, item 2). Every Ping asks for a Pong
 * (§5.5.2); a peer that does not read them used to make the server queue Pongs without bound (0.4 →
 * 20 MiB of `bufferedAmount` in 15 s on one connection). Now Pongs that cannot be handed to the socket
 * are coalesced into the answer to the most recent Ping (§5.5.3), and the server stops reading from a
 * peer whose outgoing bytes are over the high-water mark, so TCP holds the rest of the flood.
 * (test/hostile/floods.test.ts covers a single burst and checks the last Ping is the one answered.)
 */
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from '../../src/index.ts';
import { type Listening, nextConnection, rawHandshake } from '../integration/helpers.ts';
import { closeServer, echoServer, expectHealthy, sleep } from './support.ts';

let listening: Listening | undefined;
afterEach(async () => {
  await closeServer(listening);
  listening = undefined;
});

const KIB = 1024;
const FLOOD_MS = 3000;

/** 512 masked frames with 125-byte payloads (mask key 0): 2 + 4 + 125 = 131 bytes each. */
function batchOf(firstByte: number): Buffer {
  const frameSize = 131;
  const count = 512;
  const out = Buffer.alloc(frameSize * count, 0x70);
  for (let i = 0; i < count; i++) {
    const at = i * frameSize;
    out[at] = firstByte;
    out[at + 1] = 0x80 | 125;
    out.writeUInt32BE(0, at + 2); // mask key
  }
  return out;
}

/** Writes Pings as fast as the socket takes them until `until`, never reading. */
async function flood(socket: Socket, until: number, batch: Buffer): Promise<number> {
  let written = 0;
  while (Date.now() < until && !socket.destroyed) {
    written += batch.length;
    if (socket.write(batch)) continue;
    // Backpressure: wait for drain, but never past the deadline (the server may have stopped reading).
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.max(1, until - Date.now()));
      function done() {
        clearTimeout(timer);
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      }
      socket.once('drain', done);
      socket.once('close', done);
    });
  }
  return written;
}

describe('sustained ping flood from a peer that never reads', () => {
  it('125-byte Pings for 3 s: the server-side bufferedAmount stays under 256 KiB', async () => {
    listening = await echoServer();
    const accepted = nextConnection(listening.server);
    const peer = await rawHandshake(listening.port);
    const ws: WebSocket = await accepted;
    let pings = 0;
    ws.on('ping', () => pings++);
    peer.socket.pause(); // never reads: the kernel buffers fill with Pongs, then the server's
    let maxBuffered = 0;
    const sampler = setInterval(() => {
      maxBuffered = Math.max(maxBuffered, ws.bufferedAmount);
    }, 5);
    let written = 0;
    try {
      written = await flood(peer.socket, Date.now() + FLOOD_MS, batchOf(0x89)); // FIN + Ping
      await sleep(200); // let the server handle what it already read
      maxBuffered = Math.max(maxBuffered, ws.bufferedAmount);
    } finally {
      clearInterval(sampler);
    }
    // The flood was real: far more Pongs were asked for than the bound could hold.
    expect(pings * 131).toBeGreaterThan(4 * 256 * KIB);
    expect(written).toBeGreaterThan(0);
    // Before the fix: several MiB after 3 s, growing for as long as the flood lasted.
    expect(maxBuffered).toBeLessThan(256 * KIB);
    expect(ws.readyState).toBe(1);
    await expectHealthy(listening);
    peer.destroy();
  }, 30_000);

  it('125-byte messages for 3 s to an echo server: reading stops, bufferedAmount stays near the 1 MiB high-water mark', async () => {
    // The echo handler ignores send()'s false (as naive handlers do); the server stops reading instead.
    listening = await echoServer();
    const accepted = nextConnection(listening.server);
    const peer = await rawHandshake(listening.port);
    const ws: WebSocket = await accepted;
    let messages = 0;
    ws.on('message', () => messages++);
    peer.socket.pause();
    let maxBuffered = 0;
    const sampler = setInterval(() => {
      maxBuffered = Math.max(maxBuffered, ws.bufferedAmount);
    }, 5);
    try {
      await flood(peer.socket, Date.now() + FLOOD_MS, batchOf(0x82)); // FIN + Binary
      await sleep(200);
      maxBuffered = Math.max(maxBuffered, ws.bufferedAmount);
    } finally {
      clearInterval(sampler);
    }
    expect(messages).toBeGreaterThan(0);
    // 1 MiB high-water mark + the echoes of one received chunk (≤ 64 KiB); before the fix it grew
    // for as long as the flood lasted.
    expect(maxBuffered).toBeLessThan(2 * 1024 * KIB);
    expect(ws.readyState).toBe(1);
    expect(ws.isPaused).toBe(true);
    // Once the peer reads, the server drains and reads again: everything sent is echoed.
    peer.socket.resume();
    const until = Date.now() + 20_000;
    let echoed = 0;
    while (echoed < messages && Date.now() < until) {
      const frame = await peer.readFrame(5000).catch(() => null);
      if (frame === null) break;
      if (frame.opcode === 0x2) echoed++;
    }
    expect(echoed).toBe(messages);
    await expectHealthy(listening);
    peer.destroy();
  }, 40_000);
});
