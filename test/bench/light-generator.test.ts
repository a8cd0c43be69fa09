/**
 * The benchmark's light load generator keeps its promises: the fleet sender offers the rate it is
 * asked for and counts every echo, and the broadcast receivers count every delivery, against the
 * raw `node:net` peer over loopback (both real processes, as `bench/run.ts` starts them).
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const children: ChildProcessWithoutNullStreams[] = [];

interface Lines {
  next(pred: (l: string) => boolean, ms: number): Promise<string>;
}

function start(args: string[]): { child: ChildProcessWithoutNullStreams; lines: Lines } {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: root });
  children.push(child);
  const seen: string[] = [];
  const waiters: Array<() => void> = [];
  createInterface({ input: child.stdout }).on('line', (l) => {
    seen.push(l);
    for (const w of waiters.splice(0)) w();
  });
  child.stderr.resume();
  const lines: Lines = {
    async next(pred, ms) {
      const deadline = Date.now() + ms;
      for (;;) {
        const i = seen.findIndex(pred);
        if (i >= 0) return seen.splice(i, 1)[0] as string;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no matching line within ${ms} ms; got ${seen.join(' | ')}`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    },
  };
  return { child, lines };
}

async function rawServer(mode: string): Promise<number> {
  const { lines } = start(['bench/servers/raw-server.ts', '--mode', mode]);
  const ready = await lines.next((l) => l.startsWith('READY '), 15000);
  return Number(ready.slice(6));
}

/** The light generator in `scenario` against `port`, over a short window; `args` are the scenario's own. */
function lightClient(
  scenario: string,
  port: number,
  args: string[],
  window = { warmup: '0.2', duration: '0.5' },
): ReturnType<typeof start> {
  return start([
    'bench/clients/light.ts',
    '--scenario',
    scenario,
    '--port',
    String(port),
    ...args,
    '--warmup',
    window.warmup,
    '--duration',
    window.duration,
    '--timeout',
    '15',
  ]);
}

afterEach(() => {
  // The servers exit when their stdin closes; the generators are killed if still running.
  for (const c of children.splice(0)) {
    c.stdin.end();
    c.kill();
  }
});

describe('bench/clients/light.ts', () => {
  it('fleet: offers conns × rate messages per second and counts every echo', async () => {
    const port = await rawServer('echo');
    const conns = 40;
    const rate = 20;
    const gen = lightClient(
      'fleet',
      port,
      ['--conns', String(conns), '--rate', String(rate), '--size', '16'],
      { warmup: '0.3', duration: '1' },
    );
    await gen.lines.next((l) => l.includes('"event":"connected"'), 15000);
    const end = JSON.parse(await gen.lines.next((l) => l.includes('"event":"end"'), 15000)) as {
      msgs: number;
      sent: number;
      offered: number;
      ms: number;
      maxLagMs: number;
    };
    expect(end.offered).toBeCloseTo((conns * rate * end.ms) / 1000, 6);
    // Late ticks are caught up before the window's edges are read: the schedule holds to a slot.
    expect(end.maxLagMs).toBeGreaterThanOrEqual(0);
    expect(end.sent).toBeGreaterThanOrEqual(end.offered * 0.9);
    expect(end.sent).toBeLessThanOrEqual(end.offered * 1.1);
    expect(end.msgs).toBeGreaterThanOrEqual(end.sent * 0.9);
    gen.child.stdin.write('close\n');
    const result = JSON.parse(await gen.lines.next((l) => l.includes('"event":"result"'), 10000)) as {
      msgs: number;
    };
    expect(result.msgs).toBe(end.msgs);
  });

  it('echo of large messages: reports MB/s of payload echoed, whole messages only', async () => {
    const port = await rawServer('echo');
    const size = 65536;
    const gen = lightClient('echo', port, [
      '--size',
      String(size),
      '--binary',
      'true',
      '--pipeline',
      '4',
      '--report',
      'MB/s',
    ]);
    const result = JSON.parse(await gen.lines.next((l) => l.includes('"event":"result"'), 15000)) as {
      value: number;
      msgs: number;
      ms: number;
    };
    expect(result.msgs).toBeGreaterThan(0);
    expect(Number.isInteger(result.msgs)).toBe(true);
    // MB/s of payload: messages × size per second, in units of 10^6 bytes.
    expect(result.value).toBeCloseTo((result.msgs * size) / result.ms / 1000, 6);
  });

  it('broadcast: the byte-counting receivers count the deliveries the server makes', async () => {
    const port = await rawServer('broadcast');
    const gen = lightClient('broadcast', port, ['--conns', '20']);
    const result = JSON.parse(await gen.lines.next((l) => l.includes('"event":"result"'), 15000)) as {
      value: number;
      deliveries: number;
    };
    expect(result.deliveries).toBeGreaterThan(0);
    // Every delivery is a whole 66-byte frame, counted as one.
    expect(Number.isInteger(result.deliveries)).toBe(true);
    expect(result.value).toBeGreaterThan(0);
  });
});
