/**
 * Soak-test load generator (a separate process, using the `ws` client for both servers).
 *
 * `--mode steady --port P --connections N --duration S`: opens N connections (500 handshakes in
 * flight at most), prints `OPEN <n> <failed>`, then every connection sends one 16-byte message per
 * second (staggered) for S seconds; every echo is matched and timed. Waits up to 10 s for the last
 * echoes, prints `DONE {json}` with sent/received/lost and latency percentiles, closes everything.
 *
 * `--mode churn --port P --cycles C`: C connect → message → echo → close cycles, 200 at a time;
 * prints `DONE {json}`.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
}
const mode = process.argv[process.argv.indexOf('--mode') + 1] ?? 'steady';
const port = arg('port', 0);
const url = `ws://127.0.0.1:${port}`;

function open(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

async function pool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      const i = next++;
      await task(i);
    }
  });
  await Promise.all(workers);
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function steady(): Promise<void> {
  const connections = arg('connections', 1000);
  const durationMs = arg('duration', 20) * 1000;
  const sockets: WebSocket[] = [];
  let failed = 0;
  let latencies = new Float64Array(1 << 16);
  let samples = 0;
  let sent = 0;
  let received = 0;
  await pool(connections, 500, async () => {
    try {
      const ws = await open();
      ws.on('error', () => {});
      ws.on('message', (data: Buffer) => {
        received++;
        const latency = performance.now() - data.readDoubleLE(0);
        if (samples === latencies.length) {
          const grown = new Float64Array(latencies.length * 2);
          grown.set(latencies);
          latencies = grown;
        }
        latencies[samples++] = latency;
      });
      sockets.push(ws);
    } catch {
      failed++;
    }
  });
  process.stdout.write(`OPEN ${sockets.length} ${failed}\n`);
  const started = performance.now();
  const timers: NodeJS.Timeout[] = [];
  let closedEarly = 0;
  sockets.forEach((ws, index) => {
    // Staggered over the first second, then one message per second each.
    const fire = () => {
      if (performance.now() - started >= durationMs) return;
      if (ws.readyState !== WebSocket.OPEN) return;
      const message = Buffer.allocUnsafe(16);
      message.writeDoubleLE(performance.now(), 0);
      message.writeUInt32LE(index, 8);
      message.writeUInt32LE(sent, 12);
      ws.send(message);
      sent++;
    };
    ws.on('close', () => closedEarly++);
    timers.push(
      setTimeout(
        () => {
          fire();
          timers.push(setInterval(fire, 1000));
        },
        (index * 1000) / sockets.length,
      ),
    );
  });
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  for (const timer of timers) clearInterval(timer);
  const waitUntil = performance.now() + 10_000;
  while (received < sent && performance.now() < waitUntil) await new Promise((r) => setTimeout(r, 50));
  const sorted = latencies.slice(0, samples).sort();
  const result = {
    connections: sockets.length,
    failed,
    closedEarly,
    sent,
    received,
    lost: sent - received,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1],
  };
  for (const ws of sockets) ws.terminate();
  process.stdout.write(`DONE ${JSON.stringify(result)}\n`);
}

async function churn(): Promise<void> {
  const cycles = arg('cycles', 5000);
  let ok = 0;
  let failed = 0;
  const started = performance.now();
  await pool(cycles, 200, async () => {
    try {
      const ws = await open();
      await new Promise<void>((resolve, reject) => {
        ws.once('message', () => resolve());
        ws.once('error', reject);
        ws.send('ping');
      });
      await new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        ws.close(1000);
      });
      ok++;
    } catch {
      failed++;
    }
  });
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`DONE ${JSON.stringify({ cycles, ok, failed, seconds, perSecond: ok / seconds })}\n`);
}

await (mode === 'churn' ? churn() : steady());
process.exit(0);
