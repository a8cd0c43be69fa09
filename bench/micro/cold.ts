/**
 * Cold-connection micro-benchmark: what one 16 B message costs the pure core when its connection's
 * objects are not in the CPU's caches, as on a server where thousands of connections each send now
 * and then (the fleet scenario of bench/run.ts).
 *
 * Per call, the next connection in a fixed random order gets one masked 16 B binary frame: `push()`,
 * `next()` (its `message` event), `send()` of the same bytes (the echo) and `takeOutgoing()`. With
 * one connection everything stays in the caches; with 100,000 (about 80 MB of core state) nearly
 * every object a message touches is a miss to memory. The difference between the rows is the price
 * of those misses, which no single-connection benchmark shows. (The visiting order is random: in
 * allocation order the hardware prefetcher would hide the misses.)
 *
 * The frame is codec.ts's masked binary frame, fed again and again as there; unmasking in place flips its payload
 * between masked and unmasked, which costs the same for a binary message.
 */
import { maskedFrame } from './codec.ts';
import { importDist, type MicroResult, measure } from './harness.ts';

interface ConnectionLike {
  push(chunk: Uint8Array): void;
  next(): { type: string; data?: Uint8Array } | null;
  send(data: Uint8Array, binary: boolean): void;
  takeOutgoing(): Uint8Array[];
}
interface ConnectionModule {
  Connection: new (options: { role: 'server'; maxPayload: number }) => ConnectionLike;
}

const CONNECTION_COUNTS = [1, 10_000, 100_000];
const PAYLOAD_BYTES = 16;
const WARM_UP_MESSAGES = 50_000;

/** The numbers 0 … n-1 in a random order (Fisher–Yates). */
function shuffledIndexes(n: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    const swap = order[i]!;
    order[i] = order[j]!;
    order[j] = swap;
  }
  return order;
}

export async function runCold(ms: number, note: (m: string) => void): Promise<MicroResult[]> {
  const mod = await importDist<ConnectionModule>('connection/connection.js');
  if (typeof mod === 'string') {
    note(`cold: ${mod}`);
    return [];
  }
  const frame = maskedFrame(PAYLOAD_BYTES);
  // Optimized code before the first row: measure()'s own warm-up is one batch, which with --quick
  // left the one-connection row running unoptimized (87k against 2.3M messages/s).
  const warm = new mod.Connection({ role: 'server', maxPayload: 1 << 20 });
  for (let i = 0; i < WARM_UP_MESSAGES; i++) {
    warm.push(frame);
    const event = warm.next();
    if (event?.data !== undefined) warm.send(event.data, true);
    warm.takeOutgoing();
  }
  const rows: MicroResult[] = [];
  for (const count of CONNECTION_COUNTS) {
    const connections = Array.from(
      { length: count },
      () => new mod.Connection({ role: 'server', maxPayload: 1 << 20 }),
    );
    const order = shuffledIndexes(count);
    let turn = 0;
    let written = 0;
    const echoOne = (): void => {
      const connection = connections[order[turn]!]!;
      turn = turn + 1 === count ? 0 : turn + 1;
      connection.push(frame);
      const event = connection.next();
      if (event?.type !== 'message' || event.data === undefined) throw new Error('cold: no message event');
      connection.send(event.data, true);
      written += connection.takeOutgoing().length;
    };
    const MBps = measure(echoOne, PAYLOAD_BYTES, ms);
    if (written === 0) throw new Error('cold: nothing was written');
    rows.push({
      group: 'cold echo 16 B',
      impl: `sockwire Connection ×${count.toLocaleString('en-US')}`,
      size: PAYLOAD_BYTES,
      MBps,
      opsPerSec: (MBps * 1e6) / PAYLOAD_BYTES,
    });
  }
  return rows;
}
