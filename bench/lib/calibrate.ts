/**
 * How fast was the machine? A fixed amount of work, timed on the server's core.
 *
 * A virtual machine does not see the other tenants of its host: its "other" CPU stays at 0 %, steal
 * time may not be reported, and yet they can halve its speed for an hour (on this project's
 * benchmark machine, every peer once ran twice as slow as in the morning). Ratios measured side by
 * side survive that; absolute figures, and a claim that a run was quiet, do not. So the runner times
 * the same four loops at the start and at the end of a run, and compares them with the figures stored
 * with the previous results:
 *
 * - compute: an integer loop that stays in registers (the core's clock and its share of it);
 * - cache: a chase of pointers through 8 MiB in random order, which the last-level cache holds when
 *   the machine is ours alone (a neighbour sharing that cache makes its steps misses);
 * - memory: the same chase through 64 MiB, every step a miss to memory (what a server with
 *   thousands of connections waits on);
 * - system call: a one-byte read from /dev/zero (what every message costs in the kernel's entry and
 *   exit, which a hypervisor can slow down).
 *
 * Each figure is the median of five timings, in a child process pinned like the server.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { HAS_TASKSET } from './proc.ts';

export interface Calibration {
  /** Nanoseconds per step of the integer loop. */
  computeNs: number;
  /** Nanoseconds per step of the random pointer chase through 8 MiB (a hit in the last-level cache each). */
  cacheNs: number;
  /** Nanoseconds per step of the random pointer chase through 64 MiB (a miss to memory each). */
  memoryNs: number;
  /** Nanoseconds per one-byte read system call. */
  syscallNs: number;
}

const FIGURES = ['computeNs', 'cacheNs', 'memoryNs', 'syscallNs'] as const;

// The child's program, kept as plain JavaScript so that it runs without a loader.
const LOOPS = `
const median = (f) => {
  const times = [];
  for (let r = 0; r < 5; r++) {
    const start = process.hrtime.bigint();
    f();
    times.push(Number(process.hrtime.bigint() - start));
  }
  return times.sort((a, b) => a - b)[2];
};
let sink = 1;
const COMPUTE_STEPS = 20_000_000;
const compute = () => {
  let x = sink | 1;
  for (let i = 0; i < COMPUTE_STEPS; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; }
  sink ^= x;
};
// One random cycle through all the slots (Sattolo's algorithm), so that every step lands on a line
// the previous steps did not bring in.
const cycle = (slots) => {
  const next = new Int32Array(slots);
  for (let i = 0; i < slots; i++) next[i] = i;
  let seed = 12345;
  for (let i = slots - 1; i > 0; i--) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const j = seed % i;
    const t = next[i]; next[i] = next[j]; next[j] = t;
  }
  return next;
};
const CHASE_STEPS = 500_000;
const chaser = (next) => () => {
  let p = sink & (next.length - 1);
  for (let i = 0; i < CHASE_STEPS; i++) p = next[p];
  sink ^= p;
};
const inCache = chaser(cycle(1 << 21)); // 8 MiB
const inMemory = chaser(cycle(1 << 24)); // 64 MiB
const fs = require('node:fs');
const zero = fs.openSync('/dev/zero', 'r');
const byte = Buffer.alloc(1);
const SYSCALL_STEPS = 100_000;
const syscall = () => { for (let i = 0; i < SYSCALL_STEPS; i++) fs.readSync(zero, byte, 0, 1, null); };
compute(); inCache(); inMemory(); syscall(); // warm-up: optimized code and mapped pages
process.stdout.write(JSON.stringify({
  computeNs: median(compute) / COMPUTE_STEPS,
  cacheNs: median(inCache) / CHASE_STEPS,
  memoryNs: median(inMemory) / CHASE_STEPS,
  syscallNs: median(syscall) / SYSCALL_STEPS,
  sink,
}));
`;

/** Times the loops on `core` (unpinned without taskset); undefined if the child failed. */
export function calibrate(core: number): Calibration | undefined {
  const command = HAS_TASKSET ? 'taskset' : process.execPath;
  const args = [...(HAS_TASKSET ? ['-c', String(core), process.execPath] : []), '-e', LOOPS];
  const child = spawnSync(command, args, { encoding: 'utf8', timeout: 60_000 });
  if (child.status !== 0) return undefined;
  try {
    const figures = JSON.parse(child.stdout) as Calibration;
    return Object.fromEntries(FIGURES.map((figure) => [figure, figures[figure]])) as unknown as Calibration;
  } catch {
    return undefined;
  }
}

export const describeCalibration = (c: Calibration | undefined): string =>
  c === undefined
    ? 'failed'
    : `compute ${c.computeNs.toFixed(2)}, cache ${c.cacheNs.toFixed(1)}, memory ${c.memoryNs.toFixed(1)}, ` +
      `system call ${c.syscallNs.toFixed(0)} ns/step`;

/** How much slower `now` is than `before` (1.0 = the same): the worst of the loops. */
export function slowdown(now: Calibration, before: Calibration): number {
  return Math.max(...FIGURES.map((figure) => now[figure] / before[figure]));
}

/** The calibration stored with earlier results (`latest.json`), if it has one. */
export function storedCalibration(resultsJson: string): Calibration | undefined {
  try {
    const meta = (
      JSON.parse(readFileSync(resultsJson, 'utf8')) as { meta?: { calibration?: { start?: Calibration } } }
    ).meta;
    const start = meta?.calibration?.start;
    return start !== undefined && FIGURES.every((figure) => start[figure] > 0) ? start : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Steal time so far, in seconds, from /proc/stat (the eighth number of the `cpu` line): time the
 * hypervisor gave another guest while ours wanted to run. Often 0 even under contention (see above).
 */
export function stealSeconds(): number | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
    const steal = Number(fields[8]);
    return Number.isFinite(steal) ? steal / 100 : undefined; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}
