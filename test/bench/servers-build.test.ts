/**
 * The benchmark's Node servers compile (bench/lib/servers-build.ts) and run under plain `node`, as
 * bench/run.ts and bench/soak.ts start them: listening on loopback, answering `stats` with the
 * fields the soak reads.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { buildServers, compiledServer } from '../../bench/lib/servers-build.ts';

const children: ChildProcessWithoutNullStreams[] = [];

afterEach(() => {
  for (const c of children.splice(0)) {
    c.stdin.end();
    c.kill();
  }
});

/** The next stdout line of `child` that `pred` accepts, or a rejection after `ms`. */
function nextLine(child: ChildProcessWithoutNullStreams, pred: (l: string) => boolean, ms: number) {
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no matching line within ${ms} ms`)), ms);
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (l) => {
      if (!pred(l)) return;
      clearTimeout(timer);
      lines.close();
      resolve(l);
    });
  });
}

describe('bench/lib/servers-build.ts', () => {
  it('compiles the servers, which then run under plain node and answer stats', async () => {
    buildServers();
    // No loader flag: plain node, as the runner starts them.
    const child = spawn(process.execPath, ['--expose-gc', compiledServer('ws-server.ts'), '--mode', 'echo']);
    children.push(child);
    child.stderr.resume();
    const ready = await nextLine(child, (l) => l.startsWith('READY '), 15000);
    expect(Number(ready.slice(6))).toBeGreaterThan(0);
    const answer = nextLine(child, (l) => l.startsWith('{"type":"stats"'), 15000);
    child.stdin.write('stats\n');
    const stats = JSON.parse(await answer) as Record<string, unknown>;
    expect(stats.connections).toBe(0);
    expect(typeof stats.cpuUserUs).toBe('number');
    // The soak compares the handles after its churn with those before it.
    expect(stats.handles).toMatchObject({ TCPServerWrap: 1 });
  }, 60_000);
});
