/**
 * The subscribers of bench/cluster, in one process: COUNT sockwire WebSocket clients spread round
 * robin over PORTS, each subscribed to 'bench' (ROLE=sockwire: a 'sub bench' message) or joined to
 * the room 'bench' (ROLE=socketio: Engine.IO v4 / Socket.IO v5 packets spoken over the same
 * WebSocket client, so that both servers face the same client cost). Prints `ready`; then, on stdin,
 * `expect <deliveries>` counts messages until that many arrived (or 30 s passed) and prints one JSON
 * line: deliveries, seconds from the first publish to the last arrival, and latency percentiles (arrival − stamp).
 */
import { createInterface } from 'node:readline';
import { WebSocket } from '../../src/index.ts';

const role = process.env.ROLE ?? 'sockwire';
const ports = (process.env.PORTS ?? '').split(',').map(Number);
const count = Number(process.env.COUNT ?? 1000);
const now = () => performance.timeOrigin + performance.now();

let expected = Number.POSITIVE_INFINITY;
let received = 0;
let firstStamp = Number.POSITIVE_INFINITY;
let last = 0;
let latencies = new Float64Array(0);
/** Per message, the latency of its first arrival at any subscriber (the path, without the fan-in). */
let firstArrivals: number[] = [];
const seen = new Set<number>();
let finish: () => void = () => {};

function onDelivery(stampText: string): void {
  const at = now();
  const stamp = Number.parseFloat(stampText);
  if (stamp < firstStamp) firstStamp = stamp;
  last = at;
  if (received < latencies.length) latencies[received] = at - stamp;
  if (!seen.has(stamp)) {
    seen.add(stamp);
    firstArrivals.push(at - stamp);
  }
  if (++received === expected) finish();
}

/** Opens one client and resolves once it is subscribed. */
function open(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (role === 'sockwire') {
      const ws = new WebSocket(`ws://127.0.0.1:${port}`);
      ws.on('error', reject);
      ws.on('open', () => ws.send('sub bench'));
      ws.on('message', (data) => {
        const text = String(data);
        if (text === '#ok') resolve();
        else onDelivery(text);
      });
      return;
    }
    const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
    ws.on('error', reject);
    ws.on('message', (data) => {
      const text = String(data);
      if (text.startsWith('42["m","')) onDelivery(text.slice(8));
      else if (text === '2')
        ws.send('3'); // Engine.IO ping → pong
      else if (text.startsWith('0{'))
        ws.send('40'); // Engine.IO open → Socket.IO connect
      else if (text.startsWith('40'))
        ws.send('421["join","bench"]'); // connected → join, ack id 1
      else if (text.startsWith('431')) resolve(); // the join's ack
    });
  });
}

for (let i = 0; i < count; i += 50) {
  await Promise.all(
    Array.from({ length: Math.min(50, count - i) }, (_, j) => open(ports[(i + j) % ports.length]!)),
  );
}
console.log('ready');

createInterface({ input: process.stdin }).on('line', (line) => {
  const [command, total] = line.split(' ');
  if (command !== 'expect') return;
  expected = Number(total);
  received = 0;
  firstStamp = Number.POSITIVE_INFINITY;
  firstArrivals = [];
  seen.clear();
  latencies = new Float64Array(expected);
  const timer = setTimeout(() => finish(), 30_000);
  finish = () => {
    clearTimeout(timer);
    const sorted = latencies.subarray(0, Math.min(received, expected)).sort();
    const firsts = Float64Array.from(firstArrivals).sort();
    const quantile = (values: Float64Array, q: number) =>
      values[Math.min(values.length - 1, Math.floor(q * values.length))] ?? Number.NaN;
    const at = (q: number) => quantile(sorted, q);
    const seconds = (last - firstStamp) / 1000;
    const first = { p50: quantile(firsts, 0.5), p99: quantile(firsts, 0.99) };
    console.log(JSON.stringify({ deliveries: received, seconds, p50: at(0.5), p99: at(0.99), first }));
  };
});
