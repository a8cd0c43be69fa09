/**
 * Shared plumbing for benchmark server peers (Node and Bun).
 * Protocol with the runner: the server prints `READY <port>` on stdout when
 * listening; it reads line commands on stdin (`stats`, `snapshot <file>`, `alloc-start`,
 * `alloc-stop <file>`, `exit`) and exits when
 * stdin closes, so a dead runner never leaves a server behind.
 */
import { createInterface } from 'node:readline';
import { writeHeapSnapshot } from 'node:v8';

export type ServerMode = 'echo' | 'sink' | 'broadcast' | 'deflate' | 'handshake';

const MODES: readonly ServerMode[] = ['echo', 'sink', 'broadcast', 'deflate', 'handshake'];

export interface ServerOptions {
  mode: ServerMode;
  maxPayload: number;
}

export const BROADCAST_PAYLOAD = Buffer.alloc(64, 0x61);

export function parseServerArgs(argv: readonly string[]): ServerOptions {
  let mode: ServerMode = 'echo';
  let maxPayload = 64 * 1024 * 1024;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--mode' && v !== undefined) {
      if (!MODES.includes(v as ServerMode)) throw new Error(`bad mode ${v}`);
      mode = v as ServerMode;
      i++;
    } else if (a === '--max-payload' && v !== undefined) {
      maxPayload = Number(v);
      i++;
    }
  }
  return { mode, maxPayload };
}

export interface StatsSource {
  connections(): number;
  gc(): void;
}

export function announceReady(port: number): void {
  process.stdout.write(`READY ${port}\n`);
}

export function serveControl(src: StatsSource, shutdown: () => void): void {
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const cmd = line.trim();
    if (cmd === 'stats') {
      for (let i = 0; i < 3; i++) src.gc();
      const m = process.memoryUsage();
      const cpu = process.cpuUsage();
      process.stdout.write(
        `${JSON.stringify({
          type: 'stats',
          rss: m.rss,
          heapUsed: m.heapUsed,
          heapTotal: m.heapTotal,
          external: m.external,
          arrayBuffers: m.arrayBuffers,
          connections: src.connections(),
          cpuUserUs: cpu.user,
          cpuSystemUs: cpu.system,
          handles: activeHandles(),
        })}\n`,
      );
    } else if (cmd.startsWith('snapshot ')) {
      // `snapshot <file>`: a V8 heap snapshot after GC (profiling only; Bun answers with an error).
      for (let i = 0; i < 3; i++) src.gc();
      let file = '';
      let error = '';
      try {
        file = writeHeapSnapshot(cmd.slice(9).trim());
      } catch (err) {
        error = (err as Error).message;
      }
      process.stdout.write(`${JSON.stringify({ type: 'snapshot', file, error })}\n`);
    } else if (cmd.startsWith('alloc-start') || cmd.startsWith('alloc-stop ')) {
      // Allocation sampling of a measured window (profiling only; see alloc-sampler.ts).
      const reply = (error: string): void => {
        process.stdout.write(`${JSON.stringify({ type: 'alloc', error })}\n`);
      };
      import('./alloc-sampler.ts')
        .then((m) =>
          cmd.startsWith('alloc-start')
            ? m.startAllocationSampling(cmd === 'alloc-start live')
            : m.stopAllocationSampling(cmd.slice(11).trim()),
        )
        .then(
          () => reply(''),
          (err: unknown) => reply(err instanceof Error ? err.message : String(err)),
        );
    } else if (cmd === 'exit') {
      shutdown();
      process.exit(0);
    }
  });
  rl.on('close', () => process.exit(0));
}

/** The process's active handles and requests by type (sockets, timers…): the soak checks they go back to the baseline. */
function activeHandles(): Record<string, number> {
  const counts: Record<string, number> = {};
  // Bun may lack it; the soak runs Node peers only.
  if (typeof process.getActiveResourcesInfo !== 'function') return counts;
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

/** Parse a `bcast <n>` control message; returns 0 when it is not one. */
export function parseBroadcast(text: string): number {
  if (!text.startsWith('bcast ')) return 0;
  const n = Number(text.slice(6));
  return Number.isFinite(n) && n > 0 ? Math.min(n, 100000) : 0;
}

export const yieldTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
