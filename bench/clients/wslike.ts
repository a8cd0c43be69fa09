/**
 * Alternative load generator using a full WebSocket client: `ws` (with
 * bufferutil) or sockwire's own client (`--impl sockwire`, from dist/).
 * Shows whether the light raw client is the bottleneck, and drives the
 * permessage-deflate scenario (the light client does not compress).
 */
import { performance } from 'node:perf_hooks';
import { emit, num, parseFlags, percentile, sleep, str } from '../lib/args.ts';
import { sockwireModuleUrl } from '../lib/dist.ts';
import { jsonLikeText } from '../lib/wire.ts';

type Data = Buffer | ArrayBuffer | Buffer[] | string;

interface ClientSocket {
  on(event: 'open', cb: () => void): unknown;
  on(event: 'message', cb: (data: Data, isBinary: boolean) => void): unknown;
  on(event: 'close', cb: () => void): unknown;
  on(event: 'error', cb: (err: Error) => void): unknown;
  send(data: Data, opts?: { binary: boolean }): void;
  close(): void;
  terminate?: () => void;
  readonly extensions?: unknown;
}
type ClientCtor = new (url: string, opts?: Record<string, unknown>) => ClientSocket;

const flags = parseFlags(process.argv.slice(2));
const impl = str(flags, 'impl', 'ws');
const port = num(flags, 'port', 0);
const scenario = str(flags, 'scenario', 'echo');
const size = num(flags, 'size', 16);
const binary = str(flags, 'binary', 'false') === 'true';
const pipeline = num(flags, 'pipeline', 64);
const warmupMs = num(flags, 'warmup', 0.5) * 1000;
const durationMs = num(flags, 'duration', 2) * 1000;
const hardTimeoutMs = num(flags, 'timeout', 120) * 1000;

function fail(msg: string): never {
  emit({ event: 'error', message: msg });
  process.exit(1);
}
setTimeout(() => fail(`client hard timeout after ${hardTimeoutMs} ms`), hardTimeoutMs).unref();

async function loadCtor(): Promise<ClientCtor> {
  const spec = impl === 'ws' ? 'ws' : sockwireModuleUrl('index.js');
  try {
    const mod = (await import(spec)) as { WebSocket?: ClientCtor; default?: { WebSocket?: ClientCtor } };
    const ctor = mod.WebSocket ?? mod.default?.WebSocket;
    if (typeof ctor !== 'function') throw new Error(`${impl} has no WebSocket export`);
    return ctor;
  } catch (err) {
    emit({ event: 'unavailable', message: (err as Error).message.split('\n')[0] });
    process.exit(3);
  }
}

const url = `ws://127.0.0.1:${port}/`;

async function open(ctor: ClientCtor, deflate: boolean): Promise<ClientSocket> {
  // sockwire's client is driven through the plain `new WebSocket(url)` form;
  // the options object (ws's second-argument form) is used only for ws.
  const ws =
    impl === 'ws'
      ? new ctor(url, { maxPayload: 64 * 1024 * 1024, perMessageDeflate: deflate })
      : deflate
        ? new ctor(url, { perMessageDeflate: true })
        : new ctor(url);
  await new Promise<void>((resolve, reject) => {
    ws.on('open', resolve);
    ws.on('error', reject);
  });
  return ws;
}

async function echo(deflate: boolean): Promise<void> {
  const ctor = await loadCtor();
  const ws = await open(ctor, deflate);
  if (deflate) {
    const ext = String(ws.extensions ?? '');
    if (!ext.includes('permessage-deflate')) {
      emit({ event: 'unavailable', message: 'server did not negotiate permessage-deflate' });
      process.exit(3);
    }
  }
  const msg: string | Buffer = deflate
    ? jsonLikeText(size)
    : binary
      ? Buffer.alloc(size, 0xa5)
      : 'a'.repeat(size);
  const isBin = typeof msg !== 'string';
  let running = true;
  let received = 0;
  ws.on('close', () => {
    if (running) fail('connection closed during the run');
  });
  ws.on('message', () => {
    received++;
    if (running) ws.send(msg, { binary: isBin });
  });
  for (let i = 0; i < pipeline; i++) ws.send(msg, { binary: isBin });
  await sleep(warmupMs);
  const r0 = received;
  const t0 = performance.now();
  emit({ event: 'start' });
  await sleep(durationMs);
  const r1 = received;
  const t1 = performance.now();
  emit({ event: 'end' });
  running = false;
  const msgs = r1 - r0;
  const extras = deflate ? { extras: { MBps: (msgs * size) / (t1 - t0) / 1000 } } : {};
  emit({ event: 'result', value: (msgs / (t1 - t0)) * 1000, msgs, ms: t1 - t0, ...extras });
  ws.terminate?.() ?? ws.close();
}

async function latency(): Promise<void> {
  const ctor = await loadCtor();
  const ws = await open(ctor, false);
  const msg = 'a'.repeat(size);
  const samples = new Float64Array(4_000_000);
  let count = 0;
  let measuring = false;
  let running = true;
  let sentAt = 0n;
  ws.on('close', () => {
    if (running) fail('connection closed during the run');
  });
  ws.on('message', () => {
    const now = process.hrtime.bigint();
    if (measuring && count < samples.length) samples[count++] = Number(now - sentAt) / 1000;
    if (running) {
      sentAt = process.hrtime.bigint();
      ws.send(msg);
    }
  });
  sentAt = process.hrtime.bigint();
  ws.send(msg);
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
  ws.terminate?.() ?? ws.close();
}

const run =
  scenario === 'echo'
    ? () => echo(false)
    : scenario === 'deflate'
      ? () => echo(true)
      : scenario === 'latency'
        ? latency
        : undefined;
if (run === undefined) fail(`scenario ${scenario} is not supported by the ${impl} generator`);
run()
  .then(() => process.exit(0))
  .catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
