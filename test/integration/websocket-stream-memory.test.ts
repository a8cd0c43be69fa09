/**
 * `WebSocketStream` backpressure, measured: 1 GiB through a loopback connection in bounded memory,
 * asserted from `process.memoryUsage()` (both ends live in this process, so the bound covers both).
 *
 * - A slow consumer: the server sends 1 GiB as 1024 messages of 1 MiB as fast as it is let; the
 *   client's readable holds at most 16 of them, so its socket stops being read, TCP stops the
 *   server, and the server's `send()` must wait for 'drain'.
 * - An upload: the client writes an async generator of 1 GiB (16,384 chunks of 64 KiB) as one
 *   streamed message (§5.4: one frame per chunk); a raw TCP peer counts the frames and bytes
 *   without keeping them.
 *
 * The bound, `MEMORY_BOUND`: 160 MiB over the baseline for `arrayBuffers` (where message bytes
 * live) and 256 MiB for `rss`. What may legitimately be held: 16 MiB in the readable's queue, a
 * message being reassembled (1 MiB) and the socket buffers, plus garbage the collector has not yet
 * reclaimed (each 1 MiB message leaves about 2 MiB behind it); without backpressure the figure
 * would approach the 1 GiB sent. Each test is bounded in time (60 s) and in count.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { type StreamedMessage, WebSocketStream } from '../../src/index.ts';
import {
  cleanupsAfterEach,
  closeQuietly,
  listen,
  nextConnection,
  type RawPeer,
  rawServer,
  withTimeout,
} from './helpers.ts';

const MiB = 1024 * 1024;
const TOTAL = 1024 * MiB;

/** The 1 GiB uploaded as one message, in chunks of UPLOAD_CHUNK bytes made as they are pulled. */
const UPLOAD_CHUNK = 64 * 1024;
async function* upload(): AsyncGenerator<Buffer> {
  for (let i = 0; i < TOTAL / UPLOAD_CHUNK; i++) yield Buffer.alloc(UPLOAD_CHUNK, i & 0xff);
}
const MEMORY_BOUND = { arrayBuffers: 160 * MiB, rss: 256 * MiB };

const cleanups = cleanupsAfterEach();

/** Samples memory every 20 ms until stopped; reports the largest growth over the first sample. */
function memoryWatch(): { stop(): { arrayBuffers: number; rss: number } } {
  const base = process.memoryUsage();
  const peak = { arrayBuffers: 0, rss: 0 };
  const sample = () => {
    const now = process.memoryUsage();
    peak.arrayBuffers = Math.max(peak.arrayBuffers, now.arrayBuffers - base.arrayBuffers);
    peak.rss = Math.max(peak.rss, now.rss - base.rss);
  };
  const timer = setInterval(sample, 20);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

describe('WebSocketStream: 1 GiB in bounded memory', () => {
  it('a slow consumer holds a fast peer back: 1 GiB received, memory bounded', {
    timeout: 60_000,
  }, async () => {
    const listening = await listen();
    cleanups.push(() => listening.server.close({ timeout: 200 }));
    const accepted = nextConnection(listening.server);
    const wss = new WebSocketStream(listening.url);
    const peer = await accepted;
    cleanups.push(() => closeQuietly(peer));
    const { readable } = await withTimeout(wss.opened);
    const watch = memoryWatch();

    // The fast peer: as fast as `send()` lets it, waiting only for 'drain'.
    const message = Buffer.alloc(MiB, 0x5a);
    let drainWaits = 0;
    let receivedWhenAllSent = -1;
    let messages = 0;
    const sent = (async () => {
      for (let i = 0; i < TOTAL / MiB; i++) {
        if (!peer.send(message)) {
          drainWaits++;
          await new Promise<void>((resolve) => peer.once('drain', () => resolve()));
        }
      }
      receivedWhenAllSent = messages;
      peer.close(1000, 'all sent');
    })();

    // The slow consumer: 2 ms after every message (about 500 MiB/s at most, slower than loopback).
    let received = 0;
    for await (const value of readable) {
      received += (value as Uint8Array).length;
      messages++;
      if ((value as Uint8Array)[MiB - 1] !== 0x5a) throw new Error('corrupt message');
      await sleep(2);
    }
    await withTimeout(sent);
    const peak = watch.stop();
    console.info(
      `slow consumer: ${received / MiB} MiB in ${messages} messages; the peer sent its last one when ` +
        `${receivedWhenAllSent} were read; ` +
        `peak growth arrayBuffers ${(peak.arrayBuffers / MiB).toFixed(1)} MiB, rss ${(peak.rss / MiB).toFixed(1)} MiB`,
    );
    expect(received).toBe(TOTAL);
    expect(await withTimeout(wss.closed)).toEqual({ closeCode: 1000, reason: 'all sent' });
    // The peer was held back: it could send its last message only once the consumer had read all
    // but what the readable's queue (16) and the socket buffers hold; the bytes waited in TCP.
    expect(drainWaits).toBeGreaterThan(0);
    expect(receivedWhenAllSent).toBeGreaterThan(TOTAL / MiB - 128);
    expect(peak.arrayBuffers).toBeLessThan(MEMORY_BOUND.arrayBuffers);
    expect(peak.rss).toBeLessThan(MEMORY_BOUND.rss);
  });

  it('an upload of 1 GiB as one streamed message passes through in constant memory', {
    timeout: 60_000,
  }, async () => {
    // A raw peer that answers the handshake and counts frames and payload bytes as they pass.
    const tally = { frames: 0, bytes: 0, firstOpcode: -1, finalFrames: 0, finOnLast: false, closed: false };
    const listening = await rawServer((peer: RawPeer) => countFrames(peer, tally));
    cleanups.push(() => listening.close());
    const wss = new WebSocketStream(listening.url);
    const { writable } = await withTimeout(wss.opened);
    const watch = memoryWatch();
    const writer = writable.getWriter();
    await withTimeout(writer.write(upload()), 55_000, 'the upload');
    for (let i = 0; i < 500 && tally.bytes < TOTAL; i++) await sleep(10);
    const peak = watch.stop();
    console.info(
      `upload: ${tally.bytes / MiB} MiB in ${tally.frames} frames; ` +
        `peak growth arrayBuffers ${(peak.arrayBuffers / MiB).toFixed(1)} MiB, rss ${(peak.rss / MiB).toFixed(1)} MiB`,
    );
    expect(tally).toMatchObject({
      frames: TOTAL / UPLOAD_CHUNK,
      bytes: TOTAL,
      firstOpcode: 2,
      finalFrames: 1,
      finOnLast: true,
    });
    expect(peak.arrayBuffers).toBeLessThan(MEMORY_BOUND.arrayBuffers);
    expect(peak.rss).toBeLessThan(MEMORY_BOUND.rss);
    wss.close();
  });

  it('a sockwire server receives the 1 GiB upload piece by piece (streamMessages), in constant memory', {
    timeout: 60_000,
  }, async () => {
    // maxPayload still applies to a streamed message: raised here above the 1 GiB sent.
    const listening = await listen({ maxPayload: 2 * TOTAL });
    cleanups.push(() => listening.server.close({ timeout: 200 }));
    const received = new Promise<{ messages: number; bytes: number; pieces: number }>((resolve, reject) => {
      listening.server.once('connection', (ws) => {
        const pair = WebSocketStream.from<StreamedMessage>(ws, { streamMessages: true });
        void (async () => {
          const { readable } = await pair.opened;
          const tally = { messages: 0, bytes: 0, pieces: 0 };
          for await (const message of readable) {
            tally.messages++;
            for await (const piece of message.data as ReadableStream<Uint8Array>) {
              tally.bytes += piece.length;
              tally.pieces++;
            }
          }
          resolve(tally);
        })().catch(reject);
      });
    });
    const wss = new WebSocketStream(listening.url);
    const { writable } = await withTimeout(wss.opened);
    const watch = memoryWatch();
    const writer = writable.getWriter();
    await withTimeout(writer.write(upload()), 50_000, 'the upload');
    await writer.close();
    const tally = await withTimeout(received, 5000, 'the server reading');
    const peak = watch.stop();
    console.info(
      `streamed upload to a sockwire server: ${tally.bytes / MiB} MiB in ${tally.messages} message, ` +
        `${tally.pieces} pieces; peak growth arrayBuffers ${(peak.arrayBuffers / MiB).toFixed(1)} MiB, ` +
        `rss ${(peak.rss / MiB).toFixed(1)} MiB`,
    );
    expect(tally).toMatchObject({ messages: 1, bytes: TOTAL });
    expect(peak.arrayBuffers).toBeLessThan(MEMORY_BOUND.arrayBuffers);
    expect(peak.rss).toBeLessThan(MEMORY_BOUND.rss);
  });
});

/**
 * Reads frame headers (§5.2) from `peer`'s socket and skips their payloads, counting them: nothing
 * is kept, so the peer's memory does not depend on the message's size.
 */
function countFrames(
  peer: RawPeer,
  tally: { frames: number; bytes: number; firstOpcode: number; finalFrames: number; finOnLast: boolean },
): void {
  const socket = peer.socket;
  socket.removeAllListeners('data');
  let header: number[] = [];
  let skip = 0;
  let lastFin = false;
  const headerSize = (): number => {
    const b1 = header[1];
    if (b1 === undefined) return 2;
    const short = b1 & 0x7f;
    return 2 + (short === 126 ? 2 : short === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
  };
  socket.on('data', (chunk: Buffer) => {
    let at = 0;
    while (at < chunk.length) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - at);
        skip -= n;
        at += n;
        tally.bytes += n;
        if (skip === 0) tally.finOnLast = lastFin;
        continue;
      }
      header.push(chunk[at++]!);
      if (header.length < headerSize()) continue;
      const bytes = Buffer.from(header);
      header = [];
      const short = bytes[1]! & 0x7f;
      const length =
        short === 126 ? bytes.readUInt16BE(2) : short === 127 ? Number(bytes.readBigUInt64BE(2)) : short;
      const opcode = bytes[0]! & 0x0f;
      lastFin = (bytes[0]! & 0x80) !== 0;
      if (opcode >= 8) continue; // a control frame (our Close at the end): not part of the message
      tally.frames++;
      if (tally.frames === 1) tally.firstOpcode = opcode;
      if (lastFin) tally.finalFrames++;
      skip = length;
      if (length === 0) tally.finOnLast = lastFin;
    }
  });
}
