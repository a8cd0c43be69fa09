/** Micro-benchmark harness: run `fn` repeatedly for ~`ms` of CPU time and report MB/s (1 MB = 10^6 bytes) per CPU second. */
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

export function measure(fn: () => void, bytesPerCall: number, ms: number): number {
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
    for (let i = 0; i < batch; i++) fn();
    const dt = cpuMs() - t0;
    if (dt >= 2 || batch >= 1 << 24) break;
    batch *= 2;
  }
  // Warm up, then measure.
  for (let i = 0; i < batch; i++) fn();
  let calls = 0;
  const t0 = cpuMs();
  const w0 = performance.now();
  let t = t0;
  // Bounded in wall time too, in case the process hardly gets the core.
  while (t - t0 < ms && performance.now() - w0 < ms * 20) {
    for (let i = 0; i < batch; i++) fn();
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
