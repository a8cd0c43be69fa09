/**
 * Light raw-socket load generator (`node:net`): pre-encoded masked frames,
 * server frames are only counted. Used against every server peer so the
 * generator is the same for all of them.
 *
 * Prints JSON event lines: `start`/`end` around the measured window (the
 * runner samples CPU time of both processes there), then `result`.
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { emit, num, parseFlags, percentile, sleep, str } from '../lib/args.ts';
import {
  CLIENT_CLOSE_FRAME,
  EXPECTED_ACCEPT,
  encodeFrame,
  FrameCounter,
  OP_BINARY,
  OP_TEXT,
  upgradeRequest,
} from '../lib/wire.ts';

const flags = parseFlags(process.argv.slice(2));
const HOST = '127.0.0.1';
const port = num(flags, 'port', 0);
const scenario = str(flags, 'scenario', 'echo');
const size = num(flags, 'size', 16);
const binary = str(flags, 'binary', 'false') === 'true';
const pipeline = num(flags, 'pipeline', 64);
const warmupMs = num(flags, 'warmup', 0.5) * 1000;
const durationMs = num(flags, 'duration', 2) * 1000;
const conns = num(flags, 'conns', 1000);
const concurrency = num(flags, 'concurrency', 200);
const hardTimeoutMs = num(flags, 'timeout', 120) * 1000;
/** handshake scenario: `close` = full close handshake (default), `destroy` = drop the TCP connection after the 101. */
const closeMode = str(flags, 'close', 'close');
/** echo scenario: `msgs/s` (default) or `MB/s` of payload echoed (large messages). */
const report = str(flags, 'report', 'msgs/s');
/** fleet scenario: messages per second per connection. */
const rate = num(flags, 'rate', 1);
/** Period of the fleet sender's timer: fine enough that a connection's phase is kept within 5 ms. */
const FLEET_TICK_MS = 5;
/** Payload of every broadcast delivery (bench/servers/common.ts BROADCAST_PAYLOAD). */
const BROADCAST_SIZE = 64;

setTimeout(() => fail(`light client hard timeout after ${hardTimeoutMs} ms`), hardTimeoutMs).unref();

function fail(msg: string): never {
  emit({ event: 'error', message: msg });
  process.exit(1);
}

const request = upgradeRequest(HOST, port);

interface Conn {
  socket: Socket;
  rest: Buffer;
}

function openConn(): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: HOST, noDelay: true });
    let head: Buffer | undefined;
    let done = false;
    const onData = (chunk: Buffer): void => {
      head = head === undefined ? chunk : Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const text = head.subarray(0, end).toString('latin1');
      socket.off('data', onData);
      done = true;
      if (!text.startsWith('HTTP/1.1 101') || !text.includes(EXPECTED_ACCEPT)) {
        socket.destroy();
        reject(new Error(`bad upgrade response: ${text.split('\r\n')[0]}`));
        return;
      }
      resolve({ socket, rest: head.subarray(end + 4) });
    };
    socket.once('connect', () => socket.write(request));
    socket.on('data', onData);
    socket.once('error', (err) => {
      if (!done) reject(err);
    });
    socket.once('close', () => {
      if (!done) reject(new Error('closed during handshake'));
    });
  });
}

async function openMany(n: number): Promise<Conn[]> {
  const out: Conn[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      out.push(await openConn());
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return out;
}

function watchClose(socket: Socket, isActive: () => boolean): void {
  socket.on('error', () => {});
  socket.on('close', () => {
    if (isActive()) fail('server closed the connection during the run');
  });
}

function payload(): Buffer {
  return Buffer.alloc(size, binary ? 0xa5 : 0x61);
}

async function echo(): Promise<void> {
  const { socket, rest } = await openConn();
  const frame = encodeFrame(binary ? OP_BINARY : OP_TEXT, payload(), true);
  const batch = Buffer.concat(Array.from({ length: pipeline }, () => frame));
  // Every reply is the same frame, so after reading the first header we only
  // count bytes: received frames = floor(bytes / replyFrameLength).
  let replyLen = 0;
  let bytes = 0;
  let frames = 0;
  let running = true;
  watchClose(socket, () => running);
  const onData = (chunk: Buffer): void => {
    if (replyLen === 0) {
      if (bytes + chunk.length < 2) fail('first reply chunk too short');
      const b1 = (bytes === 0 ? chunk[1] : chunk[0]) as number;
      const len7 = b1 & 0x7f;
      const ext = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
      replyLen = 2 + ext + ((b1 & 0x80) !== 0 ? 4 : 0) + size;
    }
    bytes += chunk.length;
    const total = Math.floor(bytes / replyLen);
    const n = total - frames;
    frames = total;
    if (running && n > 0) socket.write(n === pipeline ? batch : batch.subarray(0, n * frame.length));
  };
  socket.on('data', onData);
  if (rest.length > 0) onData(rest);
  socket.write(batch);
  await sleep(warmupMs);
  const r0 = frames;
  const t0 = performance.now();
  emit({ event: 'start' });
  await sleep(durationMs);
  const r1 = frames;
  const t1 = performance.now();
  emit({ event: 'end' });
  running = false;
  const msgs = r1 - r0;
  const perSecond = (msgs / (t1 - t0)) * 1000;
  const value = report === 'MB/s' ? (perSecond * size) / 1e6 : perSecond;
  emit({ event: 'result', value, msgs, ms: t1 - t0 });
  socket.destroy();
}

async function latency(): Promise<void> {
  const { socket, rest } = await openConn();
  const frame = encodeFrame(binary ? OP_BINARY : OP_TEXT, payload(), true);
  const fc = new FrameCounter();
  const samples = new Float64Array(4_000_000);
  let count = 0;
  let measuring = false;
  let running = true;
  let sentAt = 0n;
  watchClose(socket, () => running);
  const onData = (chunk: Buffer): void => {
    if (fc.feed(chunk) === 0) return;
    const now = process.hrtime.bigint();
    if (measuring && count < samples.length) samples[count++] = Number(now - sentAt) / 1000;
    if (running) {
      sentAt = process.hrtime.bigint();
      socket.write(frame);
    }
  };
  socket.on('data', onData);
  if (rest.length > 0) onData(rest);
  sentAt = process.hrtime.bigint();
  socket.write(frame);
  await sleep(warmupMs);
  measuring = true;
  emit({ event: 'start' });
  await sleep(durationMs);
  measuring = false;
  emit({ event: 'end' });
  running = false;
  const sorted = samples.slice(0, count).sort();
  emit({
    event: 'result',
    value: percentile(sorted, 50),
    extras: { p99: percentile(sorted, 99), 'p99.9': percentile(sorted, 99.9) },
    samples: count,
  });
  socket.destroy();
}

async function sink(): Promise<void> {
  const { socket, rest } = await openConn();
  const frame = encodeFrame(OP_BINARY, payload(), true);
  const endFrame = encodeFrame(OP_TEXT, Buffer.from('end'), true);
  const fc = new FrameCounter();
  let onReply: ((text: string) => void) | undefined;
  fc.onText = (text) => onReply?.(text);
  let running = true;
  watchClose(socket, () => running);
  socket.on('data', (chunk: Buffer) => fc.feed(chunk));
  if (rest.length > 0) fc.feed(rest);
  const limit = 8 * 1024 * 1024;
  const phase = async (ms: number): Promise<{ bytes: number; msgs: number; ms: number }> => {
    const t0 = performance.now();
    while (performance.now() - t0 < ms) {
      do socket.write(frame);
      while (socket.writableLength < limit);
      await once(socket, 'drain');
    }
    const reply = new Promise<string>((resolve) => {
      onReply = resolve;
    });
    socket.write(endFrame);
    const text = await reply;
    const t1 = performance.now();
    const r = JSON.parse(text) as { bytes: number; msgs: number };
    return { bytes: r.bytes, msgs: r.msgs, ms: t1 - t0 };
  };
  await phase(warmupMs);
  emit({ event: 'start' });
  const r = await phase(durationMs);
  emit({ event: 'end' });
  running = false;
  const expected = r.msgs * size;
  if (r.bytes !== expected) fail(`server counted ${r.bytes} bytes, expected ${expected}`);
  emit({ event: 'result', value: r.bytes / r.ms / 1000, msgs: r.msgs, bytes: r.bytes, ms: r.ms });
  socket.destroy();
}

/**
 * Broadcast receivers made cheap, so the server is what is measured: every delivery is the same
 * 66-byte frame (64 B binary, §5.2 header of 2 bytes), so the receivers only add up bytes (no
 * parsing). Two trigger batches are kept in flight (the next `bcast k` goes out when at most one
 * batch is outstanding), so the server never idles waiting for the generator's round trip; the
 * runner's CPU columns then show who saturates (a result is valid only if the generator does not).
 */
async function broadcast(): Promise<void> {
  const t0c = performance.now();
  const list = await openMany(conns);
  const connectMs = performance.now() - t0c;
  emit({ event: 'connected', n: list.length, ms: connectMs });
  const frameLen = 2 + BROADCAST_SIZE;
  let bytes = 0;
  let running = true;
  let issued = 0;
  const per = Math.max(1, Math.floor(20000 / conns));
  const perBatch = per * list.length;
  const trigger = encodeFrame(OP_TEXT, Buffer.from(`bcast ${per}`), true);
  const ctrl = list[0];
  if (ctrl === undefined) fail('no connections');
  const pump = (): void => {
    // Keep two batches in flight: issue when the deliveries counted reach the end of the older one.
    while (running && Math.floor(bytes / frameLen) >= (issued - 1) * perBatch) {
      issued++;
      ctrl.socket.write(trigger);
    }
  };
  for (const c of list) {
    watchClose(c.socket, () => running);
    c.socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes >= (issued - 1) * perBatch * frameLen) pump();
    });
    if (c.rest.length > 0) bytes += c.rest.length;
  }
  let lastBytes = -1;
  const stall = setInterval(() => {
    if (bytes === lastBytes)
      fail(`broadcast stalled: ${Math.floor(bytes / frameLen)} deliveries, no progress in 30 s`);
    lastBytes = bytes;
  }, 30000);
  pump();
  await sleep(warmupMs);
  const d0 = bytes;
  const t0 = performance.now();
  emit({ event: 'start' });
  await sleep(durationMs);
  const d1 = bytes;
  const t1 = performance.now();
  emit({ event: 'end' });
  running = false;
  clearInterval(stall);
  const deliveries = (d1 - d0) / frameLen;
  emit({
    event: 'result',
    value: (deliveries / (t1 - t0)) * 1000,
    deliveries,
    ms: t1 - t0,
    extras: { connectMs },
  });
  for (const c of list) c.socket.destroy();
}

/**
 * Fleet: `conns` connections, each sending one `size`-byte masked text message `rate` times per
 * second, echoed. Each connection gets a random phase (seeded), so sends spread evenly over the
 * period instead of arriving in bursts; a 5 ms tick sends every connection whose phase has come
 * (catching up after a late tick, so the offered rate holds). Replies are only counted (bytes ÷
 * reply frame length). After `rampup`, `start`/`end` bound the measured window; the `end` event
 * carries the counts, then traffic goes on until the runner sends `close` on stdin (it reads the
 * server's memory under traffic meanwhile).
 */
async function fleet(): Promise<void> {
  const t0c = performance.now();
  const list = await openMany(conns);
  emit({ event: 'connected', n: list.length, ms: performance.now() - t0c });
  const frame = encodeFrame(OP_TEXT, payload(), true);
  const periodMs = 1000 / rate;
  const slots = Math.max(1, Math.round(periodMs / FLEET_TICK_MS));
  const bySlot: Socket[][] = Array.from({ length: slots }, () => []);
  let seed = 0x2545f491;
  for (const c of list) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    bySlot[seed % slots]?.push(c.socket);
  }
  let replyLen = 0;
  let rxBytes = 0;
  let sent = 0;
  let running = true;
  let sending = true;
  for (const c of list) {
    watchClose(c.socket, () => running);
    const onData = (chunk: Buffer): void => {
      if (replyLen === 0 && chunk.length >= 2) {
        // An echo server replies unmasked (18 B for 16 B); the raw peer echoes the masked frame (22 B).
        const b1 = chunk[1] as number;
        replyLen = 2 + ((b1 & 0x80) !== 0 ? 4 : 0) + (size < 126 ? 0 : size < 65536 ? 2 : 8) + size;
      }
      rxBytes += chunk.length;
    };
    c.socket.on('data', onData);
    if (c.rest.length > 0) onData(c.rest);
  }
  const tStart = performance.now();
  let nextSlot = 0; // absolute slot number, slot k is due at tStart + k * periodMs / slots
  let maxLagMs = 0; // how late the generator sent a slot, at worst, in the window
  let measuring = false;
  /** Sends every slot that is due (catching up after a late tick), so `sent` follows the schedule. */
  const sendDue = (): void => {
    const now = performance.now();
    const due = Math.floor(((now - tStart) * slots) / periodMs);
    if (measuring && nextSlot <= due) {
      maxLagMs = Math.max(maxLagMs, now - (tStart + (nextSlot * periodMs) / slots));
    }
    for (; nextSlot <= due; nextSlot++) {
      const group = bySlot[nextSlot % slots] as Socket[];
      for (const s of group) s.write(frame);
      sent += group.length;
    }
  };
  const tick = (): void => {
    if (!sending) return;
    sendDue();
    setTimeout(tick, FLEET_TICK_MS);
  };
  tick();
  const echoed = (): number => (replyLen === 0 ? 0 : Math.floor(rxBytes / replyLen));
  await sleep(warmupMs);
  sendDue();
  measuring = true;
  const e0 = echoed();
  const s0 = sent;
  const t0 = performance.now();
  emit({ event: 'start' });
  await sleep(durationMs);
  sendDue();
  measuring = false;
  const e1 = echoed();
  const s1 = sent;
  const t1 = performance.now();
  const ms = t1 - t0;
  const offered = (list.length * rate * ms) / 1000;
  emit({ event: 'end', msgs: e1 - e0, sent: s1 - s0, offered, ms, maxLagMs });
  // Traffic goes on while the runner reads the server's memory; it stops on `close` (or EOF).
  await waitForClose(hardTimeoutMs);
  sending = false;
  running = false;
  emit({
    event: 'result',
    value: ((e1 - e0) / ms) * 1000,
    msgs: e1 - e0,
    sent: s1 - s0,
    offered,
    ms,
  });
  for (const c of list) c.socket.destroy();
}

/** Resolves on a `close` line or EOF on stdin (the runner's signal to stop), or after `maxMs`. */
function waitForClose(maxMs: number): Promise<void> {
  const rl = createInterface({ input: process.stdin });
  return new Promise<void>((resolve) => {
    const t = setTimeout(resolve, maxMs);
    const done = (): void => {
      clearTimeout(t);
      rl.close();
      resolve();
    };
    rl.on('line', (l) => {
      if (l.trim() === 'close') done();
    });
    rl.on('close', done);
  });
}

async function idle(): Promise<void> {
  const t0 = performance.now();
  const list = await openMany(conns);
  let running = true;
  for (const c of list) {
    watchClose(c.socket, () => running);
    c.socket.on('data', () => {});
  }
  emit({ event: 'connected', n: list.length, ms: performance.now() - t0 });
  const rl = createInterface({ input: process.stdin });
  await new Promise<void>((resolve) => {
    rl.on('line', (l) => {
      if (l.trim() === 'close') resolve();
    });
    rl.on('close', () => resolve());
  });
  running = false;
  for (const c of list) c.socket.destroy();
  emit({ event: 'result', value: list.length });
}

async function handshakes(): Promise<void> {
  let completed = 0;
  let failures = 0;
  let stop = false;
  const one = async (): Promise<void> => {
    const { socket } = await openConn();
    socket.on('error', () => {});
    if (closeMode === 'destroy') {
      socket.destroy();
      return;
    }
    socket.on('data', () => {});
    const closed = once(socket, 'close');
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      socket.destroy();
    }, 5000);
    // Close handshake as RFC 6455 §7.1.1 intends: the server closes TCP first
    // (so TIME_WAIT lands on the server side, not on the client's ports).
    socket.write(CLIENT_CLOSE_FRAME);
    await closed;
    clearTimeout(timer);
    if (timedOut) throw new Error('close handshake timed out');
  };
  const worker = async (): Promise<void> => {
    while (!stop) {
      try {
        await one();
        completed++;
      } catch {
        failures++;
        if (failures > 1000) fail('too many failed handshakes');
      }
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  await sleep(warmupMs);
  const c0 = completed;
  const t0 = performance.now();
  emit({ event: 'start' });
  await sleep(durationMs);
  const c1 = completed;
  const t1 = performance.now();
  emit({ event: 'end' });
  stop = true;
  await Promise.all(workers);
  emit({ event: 'result', value: ((c1 - c0) / (t1 - t0)) * 1000, handshakes: c1 - c0, failures });
}

const scenarios: Record<string, () => Promise<void>> = {
  echo,
  latency,
  sink,
  broadcast,
  fleet,
  idle,
  handshake: handshakes,
};
const run = scenarios[scenario];
if (run === undefined) fail(`unknown scenario ${scenario}`);
run()
  .then(() => process.exit(0))
  .catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
