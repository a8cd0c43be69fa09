/**
 * Soak and capacity test: sockwire's server and ws's server in the same run, one after the other,
 * each under the same load from a separate client process (`ws` clients), on loopback.
 *
 *   npm run soak                       # builds dist/ first: the server loads sockwire as users do
 *   tsx bench/soak.ts [--quick] [--duration S] [--connections N] [--churn C] [--impls sockwire,ws]
 *
 * Steady phase: N connections (default 10,000; --quick 1,000) each send one 16-byte message per second
 * for S seconds (default 300; --quick 20); every echo must come back (messages lost must be 0). The
 * server's RSS is sampled every 5 s (after a forced GC in the server) to see whether it stays flat
 * after warm-up; memory per connection is (RSS with N open − RSS before) / N; server CPU from
 * /proc/<pid>/stat; latency percentiles from the client.
 * Churn phase: C connect/message/close cycles (default 100,000; --quick 5,000); afterwards the
 * server's RSS and active handles (TCP sockets, timers) must return to their baseline.
 *
 * Prints a markdown table and writes it to bench/results/soak-latest.md (soak-partial.md when run
 * with --quick or other than the defaults). Bounded: every wait has a
 * timeout and the children exit when this process's stdin pipe to them closes.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sockwireDistDir } from './lib/dist.ts';
import { cpuSeconds, Proc } from './lib/proc.ts';
import { buildServers, compiledServer } from './lib/servers-build.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
function option(name: string, fallback: number): number {
  const at = argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(argv[at + 1]);
}
const duration = option('duration', quick ? 20 : 300);
const connections = option('connections', quick ? 1000 : 10_000);
const churnCycles = option('churn', quick ? 5000 : 100_000);
const implsAt = argv.indexOf('--impls');
const impls = implsAt === -1 ? ['sockwire', 'ws'] : (argv[implsAt + 1] ?? '').split(',');
if (impls.includes('sockwire') && !existsSync(join(sockwireDistDir(), 'index.js'))) {
  console.error(
    `${join(sockwireDistDir(), 'index.js')} is missing: run \`npm run build\` (or \`npm run soak\`).`,
  );
  process.exit(2);
}
buildServers();

interface Stats {
  rss: number;
  heapUsed: number;
  arrayBuffers: number;
  connections: number;
  cpuSeconds: number;
  handles: Record<string, number>;
}

const MIB = 1024 * 1024;
const mib = (bytes: number) => (bytes / MIB).toFixed(1);

/** The soak's client, a TypeScript script, under tsx. */
function spawnClient(args: string[]): Proc {
  return new Proc({
    cmd: process.execPath,
    args: ['--import', 'tsx', join(ROOT, 'bench', 'soak', 'client.ts'), ...args],
    core: undefined,
    cwd: ROOT,
  });
}

/**
 * The benchmark's echo server for `impl` (bench/servers/), compiled and run under plain `node`: the
 * soak compares the servers' RSS, and a TypeScript loader in the process would count in it.
 */
function spawnServer(impl: string): Proc {
  return new Proc({
    cmd: process.execPath,
    args: ['--expose-gc', compiledServer(`${impl}-server.ts`), '--mode', 'echo'],
    core: undefined,
    cwd: ROOT,
  });
}

async function stats(server: Proc): Promise<Stats> {
  server.send('stats');
  const line = await server.waitLine((l) => l.startsWith('{"type":"stats"'), 30_000, 'server stats');
  const answer = JSON.parse(line) as Omit<Stats, 'cpuSeconds'> & { cpuUserUs: number; cpuSystemUs: number };
  return { ...answer, cpuSeconds: (answer.cpuUserUs + answer.cpuSystemUs) / 1e6 };
}

function jsonAfter(line: string, prefix: string): Record<string, number> {
  return JSON.parse(line.slice(prefix.length)) as Record<string, number>;
}

interface Result {
  impl: string;
  baseline: Stats;
  opened: Stats;
  samples: { t: number; rss: number; heapUsed: number; connections: number }[];
  steady: Record<string, number>;
  openFailed: number;
  cpuSteady: number;
  afterSteady: Stats;
  churn: Record<string, number>;
  afterChurn: Stats;
}

async function runImpl(impl: string): Promise<Result> {
  const server = spawnServer(impl);
  try {
    const ready = await server.waitLine((l) => l.startsWith('READY '), 30_000, `${impl} server start`);
    const port = ready.split(' ')[1]!;
    const baseline = await stats(server);
    process.stderr.write(
      `[${impl}] baseline RSS ${mib(baseline.rss)} MiB; opening ${connections} connections\n`,
    );

    const client = spawnClient([
      '--mode',
      'steady',
      '--port',
      port,
      '--connections',
      String(connections),
      '--duration',
      String(duration),
    ]);
    const openLine = await client.waitLine((l) => l.startsWith('OPEN '), 300_000, `${impl} open`);
    const [, openCount, openFailed] = openLine.split(' ').map(Number);
    const opened = await stats(server);
    process.stderr.write(`[${impl}] ${openCount} open (${openFailed} failed), RSS ${mib(opened.rss)} MiB\n`);
    const cpuStart = cpuSeconds(server.pid) ?? opened.cpuSeconds;
    const samples: Result['samples'] = [];
    const started = Date.now();
    let done: string | undefined;
    const doneLine = client.waitLine((l) => l.startsWith('DONE '), (duration + 120) * 1000, `${impl} steady`);
    doneLine.then(
      (l) => {
        done = l;
      },
      () => {},
    );
    while (done === undefined && Date.now() - started < (duration + 120) * 1000) {
      await new Promise((r) => setTimeout(r, 5000));
      if (done !== undefined) break;
      const s = await stats(server);
      samples.push({
        t: Math.round((Date.now() - started) / 1000),
        rss: s.rss,
        heapUsed: s.heapUsed,
        connections: s.connections,
      });
      process.stderr.write(
        `[${impl}] t=${samples.at(-1)!.t}s RSS ${mib(s.rss)} MiB, heap used ${mib(s.heapUsed)} MiB, ${s.connections} conns\n`,
      );
    }
    const steady = jsonAfter(await doneLine, 'DONE ');
    const cpuSteady = (cpuSeconds(server.pid) ?? 0) - cpuStart;
    await client.exited;
    await new Promise((r) => setTimeout(r, 2000));
    const afterSteady = await stats(server);

    process.stderr.write(`[${impl}] churn: ${churnCycles} connect/close cycles\n`);
    const churner = spawnClient(['--mode', 'churn', '--port', port, '--cycles', String(churnCycles)]);
    const churn = jsonAfter(
      await churner.waitLine((l) => l.startsWith('DONE '), 900_000, `${impl} churn`),
      'DONE ',
    );
    await churner.exited;
    await new Promise((r) => setTimeout(r, 3000));
    const afterChurn = await stats(server);
    return {
      impl,
      baseline,
      opened,
      samples,
      steady,
      openFailed: openFailed ?? 0,
      cpuSteady,
      afterSteady,
      churn,
      afterChurn,
    };
  } finally {
    await server.stop();
  }
}

function handleSummary(h: Record<string, number>): string {
  return ['TCPSocketWrap', 'TCPServerWrap', 'Timeout']
    .map((k) => `${k.replace('Wrap', '')} ${h[k] ?? 0}`)
    .join(', ');
}

function report(results: Result[]): string {
  const lines: string[] = [];
  lines.push(`# Soak test (${quick ? 'quick' : 'full'}) — ${new Date().toISOString()}`);
  lines.push('');
  lines.push(
    `${connections} connections × 1 msg/s (16 B) for ${duration} s, then ${churnCycles} connect/close cycles; ` +
      `loopback, client load in a separate process (ws clients); ${cpus().length} CPUs, load average at the end ` +
      `${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} (the machine runs other jobs: CPU and latency figures are noisy).`,
  );
  lines.push('');
  lines.push(
    '| server | open (failed) | RSS base → open | per connection | RSS first → last sample (after warm-up) | sent | lost | p50 ms | p99 ms | max ms | server CPU s (% of one core) |',
  );
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const open = r.steady.connections ?? 0;
    const perConn = open > 0 ? ((r.opened.rss - r.baseline.rss) / open / 1024).toFixed(1) : 'n/a';
    const warm = r.samples.filter((s) => s.t >= 10);
    const first = warm[0] ?? r.samples[0];
    const last = r.samples.at(-1);
    lines.push(
      `| ${r.impl} | ${open} (${r.openFailed}) | ${mib(r.baseline.rss)} → ${mib(r.opened.rss)} MiB | ${perConn} KiB | ` +
        `${first ? mib(first.rss) : 'n/a'} → ${last ? mib(last.rss) : 'n/a'} MiB | ${r.steady.sent} | ${r.steady.lost} | ` +
        `${r.steady.p50?.toFixed(2)} | ${r.steady.p99?.toFixed(2)} | ${r.steady.max?.toFixed(1)} | ` +
        `${r.cpuSteady.toFixed(1)} (${((100 * r.cpuSteady) / duration).toFixed(0)}%) |`,
    );
  }
  lines.push('');
  lines.push(
    '| server | churn cycles ok (failed) | cycles/s | RSS base → after steady → after churn | heap used base → after churn | handles base → after churn |',
  );
  lines.push('|---|---|---|---|---|---|');
  for (const r of results) {
    lines.push(
      `| ${r.impl} | ${r.churn.ok} (${r.churn.failed}) | ${r.churn.perSecond?.toFixed(0)} | ` +
        `${mib(r.baseline.rss)} → ${mib(r.afterSteady.rss)} → ${mib(r.afterChurn.rss)} MiB | ` +
        `${mib(r.baseline.heapUsed)} → ${mib(r.afterChurn.heapUsed)} MiB | ` +
        `${handleSummary(r.baseline.handles)} → ${handleSummary(r.afterChurn.handles)} |`,
    );
  }
  lines.push('');
  lines.push('RSS samples every 5 s (MiB, after a forced GC in the server):');
  lines.push('');
  for (const r of results) lines.push(`- ${r.impl}: ${r.samples.map((s) => mib(s.rss)).join(', ')}`);
  lines.push('');
  // RSS that creeps while the heap stays flat is native memory (malloc arenas, socket buffers),
  // not objects the server keeps.
  lines.push('Heap used at the same samples (MiB, after the same forced GC):');
  lines.push('');
  for (const r of results) lines.push(`- ${r.impl}: ${r.samples.map((s) => mib(s.heapUsed)).join(', ')}`);
  lines.push('');
  return lines.join('\n');
}

const results: Result[] = [];
for (const impl of impls) results.push(await runImpl(impl));
const markdown = report(results);
process.stdout.write(`${markdown}\n`);
// Only a default run replaces the committed results; a quick or changed one must not pass for it.
const defaultRun =
  !quick &&
  duration === 300 &&
  connections === 10_000 &&
  churnCycles === 100_000 &&
  impls.join(',') === 'sockwire,ws';
const file = join(ROOT, 'bench', 'results', defaultRun ? 'soak-latest.md' : 'soak-partial.md');
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, markdown);
process.stderr.write(`wrote ${file}\n`);
const lost = results.reduce((n, r) => n + (r.steady.lost ?? 0), 0);
process.exitCode = lost === 0 ? 0 : 1;
