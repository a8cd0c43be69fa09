/** Micro-benchmark harness: run `fn` repeatedly for ~`ms` of CPU time and report MB/s (1 MB = 10^6 bytes) per CPU second. */
import { dirname, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import { sockwireModuleUrl } from '../lib/dist.ts';

export interface MicroResult {
  group: string;
  impl: string;
  size: number;
  MBps: number;
  /** Calls per second, where a call is one message (the codec bench); absent for byte-stream benches. */
  opsPerSec?: number;
}

/**
 * A loop that calls `fn` `count` times, compiled afresh for every measurement: V8 keeps type
 * feedback per function source, so one shared loop would carry what it learnt from the previous
 * implementation or size into this one (a call site deoptimized as "wrong call target", and some
 * runs measured in code that never re-optimized).
 */
function freshLoop(): (fn: () => void, count: number) => void {
  return new Function('fn', 'count', 'for (let i = 0; i < count; i++) fn();') as (
    fn: () => void,
    count: number,
  ) => void;
}

export function measure(fn: () => void, bytesPerCall: number, ms: number): number {
  const run = freshLoop();
  // CPU time of this process, not wall time: on a shared 2-core machine other work takes the core
  // away for whole scheduler slices, which wall time would count as ours.
  const cpuMs = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  // Calibrate a batch of roughly 2 ms so the clock is read rarely.
  let batch = 1;
  for (;;) {
    const t0 = cpuMs();
    run(fn, batch);
    const dt = cpuMs() - t0;
    if (dt >= 2 || batch >= 1 << 24) break;
    batch *= 2;
  }
  // Warm up, then measure.
  run(fn, batch);
  let calls = 0;
  const t0 = cpuMs();
  const w0 = performance.now();
  let t = t0;
  // Bounded in wall time too, in case the process hardly gets the core.
  while (t - t0 < ms && performance.now() - w0 < ms * 20) {
    run(fn, batch);
    calls += batch;
    t = cpuMs();
  }
  return (calls * bytesPerCall) / ((t - t0) * 1000);
}

export const SIZES = [16, 1024, 64 * 1024, 1024 * 1024];

/** Import an ES module from dist/, or return the error message. */
export async function importDist<T>(rel: string): Promise<T | string> {
  try {
    return (await import(sockwireModuleUrl(rel))) as T;
  } catch (err) {
    return `dist/${rel} not importable (${(err as Error).message.split('\n')[0]})`;
  }
}

/**
 * A module of ws (`'ws'`, or one of its files by path) loaded as a second copy with
 * WS_NO_BUFFER_UTIL=1, that is with its JS masking instead of bufferutil. ws reads the variable
 * when lib/buffer-util.js loads, so its modules leave the require cache for the load and the first
 * copy is put back after: `require('ws')` elsewhere in the process keeps bufferutil. (Without that
 * restore, the "ws Receiver" of the codec benchmark ran with the JS mask after the mask benchmark.)
 */
export function requireWsPureJs<T>(require: NodeJS.Require, request: string): T {
  const wsDir = dirname(require.resolve('ws/package.json')) + sep;
  const saved = new Map<string, NodeJS.Module>();
  for (const [k, m] of Object.entries(require.cache)) {
    if (k.startsWith(wsDir) && m !== undefined) {
      saved.set(k, m);
      delete require.cache[k];
    }
  }
  const prev = process.env.WS_NO_BUFFER_UTIL;
  process.env.WS_NO_BUFFER_UTIL = '1';
  try {
    return require(request) as T;
  } finally {
    if (prev === undefined) delete process.env.WS_NO_BUFFER_UTIL;
    else process.env.WS_NO_BUFFER_UTIL = prev;
    for (const k of Object.keys(require.cache)) if (k.startsWith(wsDir)) delete require.cache[k];
    for (const [k, m] of saved) require.cache[k] = m;
  }
}
