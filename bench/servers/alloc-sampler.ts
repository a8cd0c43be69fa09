/**
 * Allocation sampling for the server peers (profiling only): V8's sampling heap profiler through
 * `node:inspector`, keeping the objects that were already collected (by scavenges and mark-compacts
 * alike), so the profile shows every allocation site of a window, not only what survived it. That
 * is where per-message churn shows: what a message allocates and the GC then has to clear.
 */

import { writeFileSync } from 'node:fs';
import type { Session } from 'node:inspector/promises';

/** One sample per this many bytes allocated, on average: fine enough for a 16-byte echo's objects. */
const SAMPLING_INTERVAL = 1024;
let session: Session | undefined;

/**
 * Starts sampling. `liveOnly`: keep only the samples of objects still alive when sampling stops —
 * what the window's messages left behind (e.g. per-connection state replaced per message, which
 * survives scavenges while the connection is quiet and ends up in the old generation).
 */
export async function startAllocationSampling(liveOnly = false): Promise<void> {
  const { Session } = await import('node:inspector/promises');
  session = new Session();
  session.connect();
  await session.post('HeapProfiler.enable');
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: SAMPLING_INTERVAL,
    includeObjectsCollectedByMajorGC: !liveOnly,
    includeObjectsCollectedByMinorGC: !liveOnly,
  });
}

/** Stops sampling and writes the profile (Chrome's `.heapprofile` format) to `file`. */
export async function stopAllocationSampling(file: string): Promise<void> {
  if (session === undefined) throw new Error('allocation sampling was not started');
  const { profile } = await session.post('HeapProfiler.stopSampling');
  session.disconnect();
  session = undefined;
  writeFileSync(file, JSON.stringify(profile));
}
