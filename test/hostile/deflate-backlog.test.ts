/**
 * permessage-deflate backlog (issue 12, item 13): while one compressed message waits for inflation
 * (the zlib work is queued: the server's concurrency limiter or libuv's thread pool is busy), the
 * connection must not go on decoding and parking further compressed messages. It used to hold up to
 * 17 of them (17 × maxPayload per connection); now it decodes nothing more until the message is
 * inflated and delivered, and TCP holds the rest (RFC 7692 messages stay in order anyway).
 *
 * The thread pool is kept busy without CPU: threads blocked opening a FIFO that has no writer yet.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, constants as fsConstants, mkdtempSync, open, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { deflateRawSync, constants as zlibConstants } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from '../../src/index.ts';
import {
  acceptKeyFor,
  encodeMaskedFrame,
  type Listening,
  listen,
  nextConnection,
  randomKey,
  rawConnect,
  upgradeRequest,
} from '../integration/helpers.ts';
import { closeServer, expectHealthy, sleep } from './support.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let listening: Listening | undefined;
let releasePool: (() => Promise<void>) | undefined;
afterEach(async () => {
  await releasePool?.();
  releasePool = undefined;
  await closeServer(listening);
  listening = undefined;
});

const MIB = 1024 * 1024;

/** Blocks every libuv thread-pool thread (zlib runs there) until the returned function is called. */
function blockThreadPool(): () => Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sockwire-pool-'));
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const threads = Math.max(4, Number(process.env.UV_THREADPOOL_SIZE) || 4) + 4;
  const opened: Promise<number>[] = [];
  for (let i = 0; i < threads; i++) {
    // open(O_RDONLY) on a FIFO blocks its thread until a writer opens it.
    opened.push(
      new Promise((resolve, reject) => open(fifo, 'r', (error, fd) => (error ? reject(error) : resolve(fd)))),
    );
  }
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    // A non-blocking writer wakes every blocked reader; kept open until all readers are in.
    const writer = openSync(fifo, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK);
    const fds = await Promise.all(opened);
    for (const fd of fds) closeSync(fd);
    closeSync(writer);
    rmSync(dir, { recursive: true, force: true });
  };
}

/** §7.2.1 by hand: raw DEFLATE ending in a sync flush, with the trailing 00 00 ff ff removed. */
function deflateMessage(data: Uint8Array): Buffer {
  const out = deflateRawSync(data, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  return out.subarray(0, out.length - 4);
}

function arrayBuffersAfterGc(): number {
  gc();
  return process.memoryUsage().arrayBuffers;
}

describe('permessage-deflate: one connection parks at most one message waiting for inflation', () => {
  it('20 incompressible 1 MiB messages while zlib is stalled: the server holds ~1 message, not 17', async () => {
    // Echoes text only (for expectHealthy): echoing 20 MiB back would only slow the test down.
    listening = await listen({ perMessageDeflate: true });
    listening.server.on('connection', (ws: WebSocket) => {
      ws.on('error', () => {});
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        if (!isBinary && ws.readyState === 1) ws.send(data.toString());
      });
    });
    const accepted = nextConnection(listening.server);
    const peer = await rawConnect(listening.port);
    const key = randomKey();
    peer.write(
      upgradeRequest({
        key,
        headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate; client_no_context_takeover' },
      }),
    );
    const head = await peer.readHttp();
    expect(head.status).toBe(101);
    expect(head.headers['sec-websocket-accept']).toBe(acceptKeyFor(key));
    expect(head.headers['sec-websocket-extensions']).toContain('permessage-deflate');
    const ws: WebSocket = await accepted;
    const received: Buffer[] = [];
    ws.on('message', (data: Buffer) => received.push(data));

    const count = 20;
    const messages = Array.from({ length: count }, () => randomBytes(MIB)); // incompressible
    const burst = Buffer.concat(
      messages.map((message) =>
        encodeMaskedFrame(0x2, deflateMessage(message), { rsv: 4, maskKey: Uint8Array.of(0, 0, 0, 0) }),
      ),
    );
    releasePool = blockThreadPool();
    await sleep(50);
    const before = arrayBuffersAfterGc();
    peer.socket.write(burst); // the kernel and this socket hold what the server does not read
    // Let the server read all it is willing to read.
    let held = 0;
    for (let i = 0; i < 10; i++) {
      await sleep(100);
      held = Math.max(held, arrayBuffersAfterGc() - before);
    }
    expect(received).toHaveLength(0); // nothing could be inflated yet
    // One message (1 MiB) plus at most a few 64 KiB reads; before the fix ~17 MiB (17 messages).
    expect(held).toBeLessThan(4 * MIB);

    await releasePool();
    const deadline = Date.now() + 20_000;
    while (received.length < count && Date.now() < deadline) await sleep(20);
    expect(received).toHaveLength(count);
    for (let i = 0; i < count; i++) expect(received[i]!.equals(messages[i]!)).toBe(true); // in order
    peer.destroy();
    await expectHealthy(listening);
  }, 40_000);
});
