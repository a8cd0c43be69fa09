/**
 * sockwire benchmark runner.
 *
 *   npm run bench                      # full suite (about 15 min), writes results/latest.{json,md}
 *   npx tsx bench/run.ts --quick       # CI smoke (< 2.5 min): fails only on crashes, never on speed
 *   npx tsx bench/run.ts --only echo-16B,latency-16B --peers ws,bun --rounds 5
 *   npx tsx bench/run.ts --baseline-dist /tmp/base/dist   # adds `sockwire-base`: another build, same run
 *
 * Every scenario starts the server peer and the load generator as separate
 * processes on loopback (pinned to cores 0 and 1 with taskset when present),
 * alternates peers A B C A B C … per round and reports median and min–max.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags, sleep } from './lib/args.ts';
import {
  type Calibration,
  calibrate,
  describeCalibration,
  slowdown,
  stealSeconds,
  storedCalibration,
} from './lib/calibrate.ts';
import { moduleScopeProblem, sockwireDistDir, sockwireModuleUrl } from './lib/dist.ts';
import { cpuSeconds, HAS_TASKSET, lastLines, minorFaults, Proc, systemBusySeconds } from './lib/proc.ts';
import { buildServers, compiledServer } from './lib/servers-build.ts';
import { type Summary, summarize } from './lib/stats.ts';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const RESULTS = join(BENCH, 'results');
const NODE = process.execPath;
const BUN = join(ROOT, 'node_modules', '.bin', 'bun');
const SERVER_CORE = 0;
const CLIENT_CORE = 1;

type PeerId = 'sockwire' | 'sockwire-base' | 'ws' | 'ws-nobu' | 'bun' | 'raw' | 'raw-1w';
type GenId = 'light' | 'ws' | 'sockwire';
type ServerMode = 'echo' | 'sink' | 'broadcast' | 'deflate' | 'handshake';

interface Peer {
  id: PeerId;
  label: string;
  cmd: string;
  args: string[];
  env?: Record<string, string>;
  /** Only these scenarios (default: all). */
  only?: string[];
}

/** `--server-flags "…"`: extra Node flags for the Node server peers, e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`. */
const serverFlags = (
  process.argv.includes('--server-flags')
    ? (process.argv[process.argv.indexOf('--server-flags') + 1] ?? '')
    : ''
)
  .split(' ')
  .filter((x) => x !== '');
/** The Node server peers run compiled, under plain `node` (bench/lib/servers-build.ts). */
const node = (script: string): string[] => [...serverFlags, '--expose-gc', compiledServer(script)];
const PEERS: Peer[] = [
  { id: 'sockwire', label: 'sockwire', cmd: NODE, args: node('sockwire-server.ts') },
  { id: 'ws', label: 'ws (bufferutil)', cmd: NODE, args: node('ws-server.ts') },
  {
    id: 'ws-nobu',
    label: 'ws (pure JS)',
    cmd: NODE,
    args: node('ws-server.ts'),
    env: { WS_NO_BUFFER_UTIL: '1', WS_NO_UTF_8_VALIDATE: '1' },
  },
  { id: 'bun', label: 'Bun.serve', cmd: BUN, args: [join('bench', 'servers', 'bun-server.ts')] },
  { id: 'raw', label: 'raw node:net', cmd: NODE, args: node('raw-server.ts') },
  {
    id: 'raw-1w',
    label: 'raw node:net, 1 write/msg',
    cmd: NODE,
    args: [...node('raw-server.ts'), '--per-message'],
    only: ['echo-16B', 'echo-1KiB', 'latency-16B'],
  },
];
const BASELINE: PeerId = 'ws';

function runsIn(p: Peer, sc: { id: string; peers?: PeerId[] }): boolean {
  // The baseline build runs wherever sockwire runs: it is the same library at another commit.
  const id = p.id === 'sockwire-base' ? 'sockwire' : p.id;
  return (
    (sc.peers === undefined || sc.peers.includes(id)) && (p.only === undefined || p.only.includes(sc.id))
  );
}

interface Scenario {
  id: string;
  title: string;
  unit: string;
  better: 'higher' | 'lower';
  mode: ServerMode;
  client: string[];
  generators: GenId[];
  /** Server peers this scenario runs against (default: all). */
  peers?: PeerId[];
  /** Peers listed as "n/a" because they cannot do this scenario. */
  naPeers?: PeerId[];
  naNote?: string;
  idle?: boolean;
  /**
   * Fleet: the server's CPU time per echoed message over the measured window (the value), and its
   * heap and RSS per connection under traffic after a forced GC (secondary rows).
   */
  fleet?: boolean;
  /** Further rows drawn from an extra of the same runs (their own unit and ratios). */
  secondary?: ReadonlyArray<{ readonly key: string; readonly label: string; readonly unit: string }>;
  /** Peers whose figure for a secondary row is not comparable, with the reason (shown as n/a). */
  secondaryNa?: Readonly<Record<string, { readonly peer: PeerId; readonly note: string }>>;
  /** Valid only when the load generator is not saturated (broadcast: the receivers are the generator). */
  generatorMustNotSaturate?: boolean;
  connects?: number;
  full: boolean;
  quick: boolean;
}

const flags = parseFlags(process.argv.slice(2));
const quick = flags.has('quick');
/** Fleet parameters: the issue's 10,000 connections × 1 msg/s for 20 s after a ramp-up; 500 in --quick. */
const fleetConns = Number(flags.get('fleet-conns') ?? (quick ? 500 : 10000));
const fleetRate = Number(flags.get('fleet-rate') ?? 1);
const fleetRampupS = Number(flags.get('fleet-rampup') ?? (quick ? 1 : 4));
const fleetDurationS = Number(flags.get('fleet-duration') ?? (quick ? 3 : 20));
const fleetSize = 16;
const kConns = (n: number): string => (n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n));

const SCENARIOS: Scenario[] = [
  {
    id: 'echo-16B',
    title: 'Echo 16 B text, 64 in flight',
    unit: 'msgs/s',
    better: 'higher',
    mode: 'echo',
    client: ['--scenario', 'echo', '--size', '16', '--pipeline', '64'],
    generators: ['light'],
    full: true,
    quick: true,
  },
  {
    id: 'echo-1KiB',
    title: 'Echo 1 KiB binary, 64 in flight',
    unit: 'msgs/s',
    better: 'higher',
    mode: 'echo',
    client: ['--scenario', 'echo', '--size', '1024', '--binary', 'true', '--pipeline', '64'],
    generators: ['light'],
    full: true,
    quick: false,
  },
  ...(
    [
      ['64KiB', 65536, false],
      ['1MiB', 1048576, true],
      ['16MiB', 16777216, false],
    ] as const
  ).map(
    ([name, size, quick]): Scenario => ({
      id: `oneway-${name}`,
      title: `One-way ${name.replace('KiB', ' KiB').replace('MiB', ' MiB')} binary, client→server`,
      unit: 'MB/s',
      better: 'higher',
      mode: 'sink',
      client: ['--scenario', 'sink', '--size', String(size)],
      generators: ['light'],
      full: true,
      quick,
    }),
  ),
  // Echo of large messages: the server unmasks and validates each message, then sends it back
  // (unmasked, §5.1), so both of its paths carry the payload; MB/s of payload echoed.
  ...(
    [
      ['64KiB', 65536, 16, true],
      ['1MiB', 1048576, 4, false],
    ] as const
  ).map(
    ([name, size, inFlight, quick]): Scenario => ({
      id: `echo-${name}`,
      title: `Echo ${name.replace('KiB', ' KiB').replace('MiB', ' MiB')} binary, ${inFlight} in flight`,
      unit: 'MB/s',
      better: 'higher',
      mode: 'echo',
      client: [
        '--scenario',
        'echo',
        '--size',
        String(size),
        '--binary',
        'true',
        '--pipeline',
        String(inFlight),
        '--report',
        'MB/s',
      ],
      generators: ['light'],
      full: true,
      quick,
    }),
  ),
  {
    id: 'latency-16B',
    title: 'Round-trip latency 16 B, 1 in flight (p50; p99, p99.9 in extras)',
    unit: 'µs',
    better: 'lower',
    mode: 'echo',
    client: ['--scenario', 'latency', '--size', '16'],
    generators: ['light'],
    full: true,
    quick: true,
  },
  {
    id: 'broadcast-1k',
    title: 'Broadcast 64 B to 1,000 clients',
    unit: 'deliveries/s',
    better: 'higher',
    mode: 'broadcast',
    client: ['--scenario', 'broadcast', '--conns', '1000'],
    generators: ['light'],
    generatorMustNotSaturate: true,
    connects: 1000,
    full: true,
    quick: true,
  },
  {
    id: 'broadcast-10k',
    title: 'Broadcast 64 B to 10,000 clients',
    unit: 'deliveries/s',
    better: 'higher',
    mode: 'broadcast',
    client: ['--scenario', 'broadcast', '--conns', '10000'],
    generators: ['light'],
    generatorMustNotSaturate: true,
    connects: 10000,
    full: true,
    quick: false,
  },
  {
    id: 'fleet',
    title:
      `Fleet: ${fleetConns.toLocaleString('en-US')} connections × ${fleetRate} msg/s, ${fleetSize} B echo, ` +
      `${fleetDurationS} s after ${fleetRampupS} s ramp-up: server CPU time per message (heap, RSS per connection under traffic: next rows)`,
    unit: 'µs/msg',
    better: 'lower',
    mode: 'echo',
    client: [
      '--scenario',
      'fleet',
      '--conns',
      String(fleetConns),
      '--rate',
      String(fleetRate),
      '--size',
      String(fleetSize),
    ],
    generators: ['light'],
    peers: ['sockwire', 'ws', 'bun', 'raw'],
    fleet: true,
    secondary: [
      { key: 'heap B/conn', label: `fleet-${kConns(fleetConns)} heap`, unit: 'B/conn' },
      { key: 'rss B/conn', label: `fleet-${kConns(fleetConns)} RSS`, unit: 'B/conn' },
    ],
    secondaryNa: {
      'heap B/conn': { peer: 'bun', note: "Bun's JavaScriptCore heap is not comparable with V8's heapUsed" },
    },
    // As many rounds as every scenario, though it is long: its figure moves with the state of the host
    // more than any other (0.79–0.92× across one day's single rounds), so it needs a median most.
    connects: fleetConns,
    full: true,
    quick: true,
  },
  {
    id: 'idle-10k',
    title: '10,000 idle connections: server RSS per connection (heap/conn in extras)',
    unit: 'B/conn',
    better: 'lower',
    mode: 'echo',
    client: ['--scenario', 'idle', '--conns', '10000'],
    generators: ['light'],
    idle: true,
    connects: 10000,
    full: true,
    quick: false,
  },
  {
    id: 'idle-1k',
    title: '1,000 idle connections: server RSS per connection (heap/conn in extras)',
    unit: 'B/conn',
    better: 'lower',
    mode: 'echo',
    client: ['--scenario', 'idle', '--conns', '1000'],
    generators: ['light'],
    idle: true,
    connects: 1000,
    full: false,
    quick: true,
  },
  {
    id: 'handshake',
    title: 'Handshakes (upgrade + close), 200 concurrent',
    unit: 'handshakes/s',
    better: 'higher',
    mode: 'handshake',
    client: ['--scenario', 'handshake', '--concurrency', '200'],
    generators: ['light'],
    full: true,
    quick: true,
  },
  {
    id: 'deflate-16KiB',
    title: 'permessage-deflate echo, 16 KiB JSON-like text, 64 in flight (ws client)',
    unit: 'msgs/s',
    better: 'higher',
    mode: 'deflate',
    client: ['--scenario', 'deflate', '--size', '16384', '--pipeline', '64'],
    generators: ['ws'],
    peers: ['sockwire', 'ws', 'ws-nobu', 'bun'],
    naPeers: ['raw'],
    naNote: 'no permessage-deflate',
    full: true,
    quick: true,
  },
  {
    id: 'clients-echo-16B',
    title: 'Echo 16 B text, 64 in flight, by load generator (is the client the bottleneck?)',
    unit: 'msgs/s',
    better: 'higher',
    mode: 'echo',
    client: ['--scenario', 'echo', '--size', '16', '--pipeline', '64'],
    generators: ['light', 'ws', 'sockwire'],
    peers: ['sockwire', 'ws'],
    full: true,
    quick: false,
  },
];

// ---------------------------------------------------------------- options

const onlyFlag = flags.get('only');
const peersFlag = flags.get('peers');
const roundsFlag = flags.get('rounds');
const rounds = roundsFlag !== undefined ? Math.max(1, Number(roundsFlag)) : quick ? 1 : 3;
const warmupS = Number(flags.get('warmup') ?? (quick ? 0.2 : 0.3));
const durationS = Number(flags.get('duration') ?? (quick ? 0.5 : 1.0));
// The fleet adds about 6 minutes to a full run (3 rounds × 4 peers × ramp-up + 20 s) and 25 s to a quick one.
const budgetS = Number(flags.get('budget') ?? (quick ? 135 : 1200));
const withMicro = onlyFlag === undefined ? !flags.has('no-micro') : onlyFlag.split(',').includes('micro');

const allIds = new Set(SCENARIOS.map((s) => s.id));
let selected = SCENARIOS.filter((s) => (quick ? s.quick : s.full));
if (onlyFlag !== undefined) {
  const want = onlyFlag.split(',').filter((x) => x !== '' && x !== 'micro');
  for (const w of want)
    if (!allIds.has(w)) die(`unknown scenario ${w}; known: ${[...allIds, 'micro'].join(', ')}`);
  selected = SCENARIOS.filter((s) => want.includes(s.id));
}
const baselineDist = flags.get('baseline-dist');
for (const [flag, dir] of [
  ['baseline-dist', baselineDist],
  ['sockwire-dist', flags.get('sockwire-dist')],
] as const) {
  const problem = dir === undefined ? undefined : moduleScopeProblem(dir);
  if (problem !== undefined)
    die(
      `--${flag}: ${problem}, so Node would load it as CommonJS, not as the package does. ` +
        `Use the dist/ of a checkout (e.g. git worktree add /tmp/base REV && cd /tmp/base && npm ci && npm run build), ` +
        `or write {"type": "module"} to a package.json beside it.`,
    );
}
if (baselineDist !== undefined) {
  // A second sockwire peer loaded from another build (e.g. of the last release), so that a change is
  // judged against it in the same run, under the same machine load.
  PEERS.splice(1, 0, {
    id: 'sockwire-base',
    label: 'sockwire (baseline build)',
    cmd: NODE,
    args: node('sockwire-server.ts'),
    env: { SOCKWIRE_DIST: baselineDist },
  });
}
let peers = PEERS;
if (peersFlag !== undefined) {
  const want = peersFlag.split(',');
  for (const w of want) if (!PEERS.some((p) => p.id === w)) die(`unknown peer ${w}`);
  peers = PEERS.filter((p) => want.includes(p.id));
}
const isDefaultRun =
  !quick &&
  onlyFlag === undefined &&
  peersFlag === undefined &&
  roundsFlag === undefined &&
  !flags.has('warmup') &&
  !flags.has('duration') &&
  !flags.has('no-micro') &&
  !flags.has('sockwire-dist') &&
  !flags.has('server-flags') &&
  !flags.has('heap-snapshot-dir') &&
  !flags.has('alloc-profile-dir') &&
  !flags.has('alloc-live') &&
  !flags.has('fleet-conns') &&
  !flags.has('fleet-rate') &&
  !flags.has('fleet-rampup') &&
  !flags.has('fleet-duration') &&
  baselineDist === undefined;
const outName = flags.get('out') ?? (isDefaultRun ? 'latest' : quick ? 'quick' : 'partial');

function die(msg: string): never {
  console.error(msg);
  process.exit(2);
}

// ---------------------------------------------------------------- environment

const notes: string[] = [];
const cpuModel =
  /model name\s*:\s*(.*)/.exec(
    existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '',
  )?.[1] ??
  cpus()[0]?.model ??
  'unknown';
const nproc = Number(spawnSync('nproc', [], { encoding: 'utf8' }).stdout.trim()) || cpus().length;
const bunVersion = spawnSync(BUN, ['--version'], { encoding: 'utf8' }).stdout?.trim() || 'unavailable';
const gitRev =
  spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() ?? '';

try {
  buildServers();
} catch (err) {
  die((err as Error).message);
}

const distFlag = flags.get('sockwire-dist');
if (distFlag !== undefined) process.env.SOCKWIRE_DIST = distFlag; // inherited by every child
const distUrl = sockwireModuleUrl('index.js');
if (distFlag !== undefined) notes.push(`sockwire loaded from ${sockwireDistDir()}.`);
let sockwireServer = false;
let sockwireClient = false;
try {
  const mod = (await import(distUrl)) as Record<string, unknown>;
  sockwireServer = typeof mod.WebSocketServer === 'function';
  sockwireClient = typeof mod.WebSocket === 'function';
  if (!sockwireServer)
    notes.push('sockwire server peer skipped: dist/index.js has no WebSocketServer export.');
  if (!sockwireClient)
    notes.push('sockwire client generator skipped: dist/index.js has no WebSocket export.');
} catch (err) {
  notes.push(
    `sockwire skipped: dist/index.js is not importable (${(err as Error).message.split('\n')[0]}). Run \`npm run build\`.`,
  );
}
if (!sockwireServer) peers = peers.filter((p) => p.id !== 'sockwire');
if (bunVersion === 'unavailable') {
  notes.push('Bun peer skipped: node_modules/.bin/bun does not run.');
  peers = peers.filter((p) => p.id !== 'bun');
}
const loadavg = (): number => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
const loadStart = existsSync('/proc/loadavg') ? loadavg() : 0;
if (loadStart > 0.5) {
  notes.push(
    `The machine was busy when the run started (1-min load average ${loadStart}): figures are noisy.`,
  );
}
// How fast the machine is, timed now and at the end (bench/lib/calibrate.ts): a VM does not see its
// host's other tenants, which can slow every peer down alike.
const calibrationStart = calibrate(SERVER_CORE);
const stealStart = stealSeconds();
const stored = storedCalibration(join(RESULTS, 'latest.json'));
if (calibrationStart !== undefined && stored !== undefined) {
  const factor = slowdown(calibrationStart, stored);
  if (factor > 1.2) {
    notes.push(
      `The machine ran the calibration loops ${factor.toFixed(2)}× slower than for the stored latest.json ` +
        `(${describeCalibration(stored)}): its absolute figures are not comparable with these; ratios are.`,
    );
  }
}
if (!HAS_TASKSET) notes.push('taskset not found: processes are not pinned to cores.');
if (nproc < 2) notes.push('Fewer than 2 cores: server and load generator share a core.');

// ---------------------------------------------------------------- running

interface RunOutcome {
  status: 'ok' | 'n/a' | 'error';
  value?: number;
  extras?: Record<string, number>;
  cpuServer?: number;
  cpuClient?: number;
  cpuOther?: number;
  note?: string;
}

interface Row {
  peer: PeerId;
  gen: GenId;
  values: number[];
  extras: Map<string, number[]>;
  cpuServer: number[];
  cpuClient: number[];
  cpuOther: number[];
  errors: string[];
  na: string | undefined;
  skipped: number;
}

/** Warmup and measured seconds of a scenario: the fleet has its own (a message per second needs seconds). */
function windowS(sc: Scenario): { warmup: number; duration: number } {
  return sc.fleet === true
    ? { warmup: fleetRampupS, duration: fleetDurationS }
    : { warmup: warmupS, duration: durationS };
}

function generatorCmd(gen: GenId, port: number, sc: Scenario): string[] {
  const w = windowS(sc);
  const common = ['--port', String(port), '--warmup', String(w.warmup), '--duration', String(w.duration)];
  const timeout = ['--timeout', String(Math.ceil(w.warmup + w.duration + 60 + (sc.connects ?? 0) / 200))];
  if (gen === 'light')
    return ['--import', 'tsx', join('bench', 'clients', 'light.ts'), ...sc.client, ...common, ...timeout];
  return [
    '--import',
    'tsx',
    join('bench', 'clients', 'wslike.ts'),
    '--impl',
    gen,
    ...sc.client,
    ...common,
    ...timeout,
  ];
}

/** `--heap-snapshot-dir DIR`: idle and fleet runs also write V8 heap snapshots before and with the connections. */
const snapshotDir = flags.get('heap-snapshot-dir');
/**
 * `--alloc-profile-dir DIR`: Node servers sample their allocations over the measured window
 * (with `--alloc-live`, only what is still alive at its end).
 */
const allocDir = flags.get('alloc-profile-dir');

async function allocCommand(server: Proc, peer: Peer, cmd: string): Promise<void> {
  if (allocDir === undefined || peer.cmd !== NODE) return;
  server.send(cmd);
  const line = await server.waitLine((l) => l.startsWith('{"type":"alloc"'), 60000, 'allocation sampling');
  const r = JSON.parse(line) as { error: string };
  if (r.error !== '') console.log(`allocation sampling failed: ${r.error}`);
}

async function heapSnapshot(server: Proc, peer: Peer, sc: Scenario, when: string): Promise<void> {
  if (snapshotDir === undefined || peer.cmd !== NODE) return;
  mkdirSync(snapshotDir, { recursive: true });
  server.send(`snapshot ${join(snapshotDir, `${sc.id}-${peer.id}-${when}.heapsnapshot`)}`);
  const line = await server.waitLine((l) => l.startsWith('{"type":"snapshot"'), 120000, 'heap snapshot');
  const r = JSON.parse(line) as { file: string; error: string };
  console.log(r.error !== '' ? `heap snapshot failed: ${r.error}` : `wrote ${r.file}`);
}

/**
 * Garbage collection in the measured window, from the server's `--trace-gc-nvp` lines: count of
 * scavenges and mark-compacts, pause time, bytes allocated on the V8 heap and promoted (per
 * message when the generator reported the count).
 */
function gcSummary(lines: readonly string[], msgs: number | undefined): string {
  let scavenges = 0;
  let markCompacts = 0;
  let pause = 0;
  let allocated = 0;
  let promoted = 0;
  for (const l of lines) {
    const field = (k: string): number => Number(new RegExp(`\\b${k}=([0-9.]+)`).exec(l)?.[1] ?? 0);
    const kind = /\bgc=(\w+)/.exec(l)?.[1];
    if (kind === undefined) continue;
    if (kind === 's') scavenges++;
    else markCompacts++;
    pause += field('pause');
    allocated += field('allocated');
    promoted += field('promoted');
  }
  const per = (b: number): string =>
    msgs !== undefined && msgs > 0 ? `, ${(b / msgs).toFixed(0)} B/msg` : '';
  return (
    `gc in window: ${scavenges} scavenges, ${markCompacts} mark-compacts, pause ${pause.toFixed(0)} ms, ` +
    `allocated ${(allocated / 1e6).toFixed(1)} MB${per(allocated)}, promoted ${(promoted / 1e6).toFixed(1)} MB${per(promoted)}`
  );
}

async function serverStats(server: Proc): Promise<Record<string, number>> {
  server.send('stats');
  const line = await server.waitLine((l) => l.startsWith('{"type":"stats"'), 15000, 'server stats');
  return JSON.parse(line) as Record<string, number>;
}

async function runOne(sc: Scenario, peer: Peer, gen: GenId): Promise<RunOutcome> {
  const server = new Proc({
    cmd: peer.cmd,
    args: [...peer.args, '--mode', sc.mode],
    core: SERVER_CORE,
    cwd: ROOT,
    ...(peer.env !== undefined ? { env: peer.env } : {}),
  });
  let client: Proc | undefined;
  try {
    const ready = await server.waitLine((l) => /^(READY|UNAVAILABLE) /.test(l), 20000, `${peer.id} start`);
    if (ready.startsWith('UNAVAILABLE')) return { status: 'n/a', note: ready.slice(12) };
    const port = Number(ready.slice(6));
    const measuresMemory = sc.idle === true || sc.fleet === true;
    // The snapshot first: writing one grows RSS, which must not count as the connections'.
    if (measuresMemory) await heapSnapshot(server, peer, sc, 'before');
    const before = measuresMemory ? await serverStats(server) : undefined;
    client = new Proc({ cmd: NODE, args: generatorCmd(gen, port, sc), core: CLIENT_CORE, cwd: ROOT });
    const w = windowS(sc);
    const runTimeout = (w.warmup + w.duration + 60 + (sc.connects ?? 0) / 200) * 1000;
    let fleetResult: RunOutcome | undefined;
    let windowStartUs = 0n;
    let gcLinesFrom = 0;
    let c0:
      | {
          t: number;
          s: number | undefined;
          c: number | undefined;
          all: number | undefined;
          flt: number | undefined;
        }
      | undefined;
    let cpuServer: number | undefined;
    let cpuClient: number | undefined;
    let cpuOther: number | undefined;
    let idleResult: RunOutcome | undefined;
    for (;;) {
      const line = await client.waitLine((l) => l.startsWith('{'), runTimeout, `${gen} generator`);
      const ev = JSON.parse(line) as {
        event: string;
        value?: number;
        message?: string;
        extras?: Record<string, number>;
        n?: number;
        msgs?: number;
        sent?: number;
        offered?: number;
        maxLagMs?: number;
      };
      if (ev.event === 'start') {
        await allocCommand(server, peer, flags.has('alloc-live') ? 'alloc-start live' : 'alloc-start');
        windowStartUs = process.hrtime.bigint() / 1000n;
        gcLinesFrom = server.lines.length;
        c0 = {
          t: performance.now(),
          s: cpuSeconds(server.pid),
          c: cpuSeconds(client.pid),
          all: systemBusySeconds(),
          flt: minorFaults(server.pid),
        };
      } else if (ev.event === 'end' && c0 !== undefined) {
        if (serverFlags.length > 0) {
          // CLOCK_MONOTONIC µs, the clock of V8's profile timestamps: the measured window to keep.
          console.log(
            `profile window: ${sc.id} ${peer.id} server pid ${server.pid} --window ${windowStartUs}-${process.hrtime.bigint() / 1000n}`,
          );
        }
        const dt = (performance.now() - c0.t) / 1000;
        const s1 = cpuSeconds(server.pid);
        const c1 = cpuSeconds(client.pid);
        if (s1 !== undefined && c0.s !== undefined) cpuServer = (s1 - c0.s) / dt;
        if (c1 !== undefined && c0.c !== undefined) cpuClient = (c1 - c0.c) / dt;
        const all1 = systemBusySeconds();
        if (
          all1 !== undefined &&
          c0.all !== undefined &&
          cpuServer !== undefined &&
          cpuClient !== undefined
        ) {
          cpuOther = Math.max(0, (all1 - c0.all) / dt - cpuServer - cpuClient);
        }
        // Profiling outputs after the CPU samples, so they do not stretch the window.
        if (allocDir !== undefined && peer.cmd === NODE) {
          mkdirSync(allocDir, { recursive: true });
          const file = join(allocDir, `${sc.id}-${peer.id}.heapprofile`);
          await allocCommand(server, peer, `alloc-stop ${file}`);
          console.log(`wrote ${file}${ev.msgs !== undefined ? ` (${ev.msgs} messages in the window)` : ''}`);
        }
        if (serverFlags.includes('--trace-gc-nvp')) {
          console.log(`${sc.id} ${peer.id}: ${gcSummary(server.lines.slice(gcLinesFrom), ev.msgs)}`);
        }
        if (sc.fleet === true && before !== undefined) {
          const f1 = minorFaults(server.pid);
          fleetResult = await fleetOutcome(
            server,
            before,
            ev,
            s1 !== undefined && c0.s !== undefined ? s1 - c0.s : undefined,
            f1 !== undefined && c0.flt !== undefined ? f1 - c0.flt : undefined,
          );
          await heapSnapshot(server, peer, sc, 'after');
          client.send('close');
        }
      } else if (ev.event === 'connected' && sc.idle === true && before !== undefined) {
        await sleep(500);
        const after = await serverStats(server);
        await heapSnapshot(server, peer, sc, 'after');
        const n = ev.n ?? 1;
        const perConn = (k: string): number => ((after[k] ?? 0) - (before[k] ?? 0)) / n;
        if (after.connections !== n) {
          return { status: 'error', note: `server sees ${after.connections} connections, expected ${n}` };
        }
        idleResult = {
          status: 'ok',
          value: perConn('rss'),
          extras: {
            'heap B/conn': perConn('heapUsed'),
            'arrayBuffers B/conn': perConn('arrayBuffers'),
            connectMs: Math.round(Number((ev as { ms?: number }).ms ?? 0)),
          },
        };
        client.send('close');
      } else if (ev.event === 'result') {
        if (idleResult !== undefined) return idleResult;
        if (fleetResult !== undefined) {
          return {
            ...fleetResult,
            ...(cpuServer !== undefined ? { cpuServer } : {}),
            ...(cpuClient !== undefined ? { cpuClient } : {}),
            ...(cpuOther !== undefined ? { cpuOther } : {}),
          };
        }
        if (server.exitCode !== undefined)
          return { status: 'error', note: `server exited (${server.exitCode})` };
        return {
          status: 'ok',
          ...(ev.value !== undefined ? { value: ev.value } : {}),
          ...(ev.extras !== undefined ? { extras: ev.extras } : {}),
          ...(cpuServer !== undefined ? { cpuServer } : {}),
          ...(cpuClient !== undefined ? { cpuClient } : {}),
          ...(cpuOther !== undefined ? { cpuOther } : {}),
        };
      } else if (ev.event === 'unavailable') {
        return { status: 'n/a', note: ev.message ?? 'unavailable' };
      } else if (ev.event === 'error') {
        const crashed =
          server.exitCode !== undefined
            ? ` (server exited ${server.exitCode} ${lastLines(server.stderr)})`
            : '';
        return { status: 'error', note: `${ev.message ?? 'generator error'}${crashed}` };
      }
    }
  } catch (err) {
    const srv =
      server.exitCode !== undefined ? ` [server exited ${server.exitCode} ${lastLines(server.stderr)}]` : '';
    return { status: 'error', note: `${(err as Error).message}${srv}` };
  } finally {
    if (client !== undefined) {
      client.child.stdin.end();
      const t = setTimeout(() => client?.child.kill('SIGKILL'), 5000);
      await client.exited;
      clearTimeout(t);
    }
    // A profiled server writes its profile at exit: give it time before the SIGKILL.
    await server.stop(serverFlags.length > 0 ? 30000 : 2000);
  }
}

/**
 * The fleet's figures, read when the generator ends its window while traffic goes on: server CPU
 * seconds over the window ÷ messages echoed in it, and heap/RSS after a forced GC minus the same
 * process's figures before any connection, per connection. Valid only if the generator kept the
 * offered rate (it sent ≥ 97 % of connections × rate × window).
 */
async function fleetOutcome(
  server: Proc,
  before: Record<string, number>,
  ev: { msgs?: number; sent?: number; offered?: number; ms?: number; maxLagMs?: number },
  serverCpuS: number | undefined,
  serverFaults: number | undefined,
): Promise<RunOutcome> {
  const after = await serverStats(server);
  const msgs = ev.msgs ?? 0;
  const sent = ev.sent ?? 0;
  const offered = ev.offered ?? 0;
  if (after.connections !== fleetConns) {
    return { status: 'error', note: `server sees ${after.connections} connections, expected ${fleetConns}` };
  }
  if (offered > 0 && sent < 0.97 * offered) {
    return {
      status: 'error',
      note: `generator kept ${Math.round((sent / offered) * 100)}% of the offered rate only: it is the bottleneck`,
    };
  }
  if (serverCpuS === undefined || msgs === 0) return { status: 'error', note: 'no CPU sample or no echo' };
  const perConn = (k: string): number => ((after[k] ?? 0) - (before[k] ?? 0)) / fleetConns;
  return {
    status: 'ok',
    value: (serverCpuS / msgs) * 1e6,
    extras: {
      'heap B/conn': perConn('heapUsed'),
      'rss B/conn': perConn('rss'),
      'arrayBuffers B/conn': perConn('arrayBuffers'),
      ...(serverFaults !== undefined ? { 'minor faults/1k msgs': (serverFaults / msgs) * 1000 } : {}),
      'echoed %': (msgs / Math.max(1, sent)) * 100,
      // Sends follow the schedule by catching up; this says how bursty the generator was at worst.
      'gen max lag ms': ev.maxLagMs ?? 0,
      'msgs/s': (msgs / (ev.ms ?? 1)) * 1000,
    },
  };
}

function estimateS(sc: Scenario): number {
  const w = windowS(sc);
  return w.warmup + w.duration + 1.2 + (sc.connects ?? 0) / 2500;
}

const t0 = performance.now();
const elapsedS = (): number => (performance.now() - t0) / 1000;
const results = new Map<string, Map<string, Row>>();
let anyError = false;
let skippedForTime = 0;

const genAvailable = (g: GenId): boolean => g !== 'sockwire' || sockwireClient;
const totalRuns = selected.reduce((n, sc) => {
  const ps = peers.filter((p) => runsIn(p, sc));
  return n + ps.length * sc.generators.filter(genAvailable).length * rounds;
}, 0);
let runIndex = 0;

console.log(
  `sockwire bench: ${quick ? 'quick' : 'full'}; ${selected.length} scenarios × ${peers.length} peers × ${rounds} rounds ` +
    `(${totalRuns} runs), warmup ${warmupS}s, measure ${durationS}s, budget ${budgetS}s`,
);
for (const n of notes) console.log(`NOTE: ${n}`);

for (const sc of selected) {
  const rows = new Map<string, Row>();
  results.set(sc.id, rows);
  const scPeers = peers.filter((p) => runsIn(p, sc));
  for (const p of peers) {
    if (!scPeers.includes(p) && !(sc.naPeers ?? []).includes(p.id)) continue;
    for (const g of sc.generators) {
      const row: Row = {
        peer: p.id,
        gen: g,
        values: [],
        extras: new Map(),
        cpuServer: [],
        cpuClient: [],
        cpuOther: [],
        errors: [],
        na: undefined,
        skipped: 0,
      };
      if (!scPeers.includes(p)) row.na = sc.naNote ?? 'n/a';
      else if (!genAvailable(g)) row.na = 'sockwire client not importable';
      rows.set(`${p.id}|${g}`, row);
    }
  }
  for (let r = 0; r < rounds; r++) {
    for (const p of scPeers) {
      for (const g of sc.generators) {
        const row = rows.get(`${p.id}|${g}`) as Row;
        if (row.na !== undefined) continue;
        runIndex++;
        if (elapsedS() + estimateS(sc) > budgetS) {
          row.skipped++;
          skippedForTime++;
          continue;
        }
        const out = await runOne(sc, p, g);
        const tag = `[${runIndex}/${totalRuns} ${elapsedS().toFixed(0)}s] ${sc.id} r${r + 1} ${p.id}${g !== 'light' ? ` ← ${g} client` : ''}`;
        if (out.status === 'n/a') {
          row.na = out.note ?? 'n/a';
          console.log(`${tag}: n/a (${row.na})`);
          continue;
        }
        if (out.status === 'error') {
          anyError = true;
          row.errors.push(out.note ?? 'error');
          console.log(`${tag}: ERROR ${out.note ?? ''}`);
          continue;
        }
        if (out.value !== undefined) row.values.push(out.value);
        for (const [k, v] of Object.entries(out.extras ?? {})) {
          const list = row.extras.get(k) ?? [];
          list.push(v);
          row.extras.set(k, list);
        }
        if (out.cpuServer !== undefined) row.cpuServer.push(out.cpuServer);
        if (out.cpuClient !== undefined) row.cpuClient.push(out.cpuClient);
        if (out.cpuOther !== undefined) row.cpuOther.push(out.cpuOther);
        const cpu =
          out.cpuServer !== undefined
            ? ` (cpu srv ${pct(out.cpuServer)} gen ${pct(out.cpuClient ?? Number.NaN)} other ${pct(out.cpuOther ?? Number.NaN)})`
            : '';
        console.log(`${tag}: ${fmt(sc.unit, out.value ?? Number.NaN)} ${sc.unit}${cpu}`);
      }
    }
  }
}
if (skippedForTime > 0) notes.push(`${skippedForTime} runs skipped to stay within the ${budgetS}s budget.`);

// ---------------------------------------------------------------- micro-benchmarks

interface MicroRow {
  group: string;
  impl: string;
  size: number;
  MBps: number;
  opsPerSec?: number;
}
const micro: MicroRow[] = [];
if (withMicro) {
  console.log('micro-benchmarks…');
  const p = new Proc({
    cmd: NODE,
    args: ['--import', 'tsx', join('bench', 'micro', 'run.ts'), '--json', ...(quick ? ['--quick'] : [])],
    core: SERVER_CORE,
    cwd: ROOT,
  });
  const kill = setTimeout(() => p.child.kill('SIGKILL'), 90000);
  await p.exited;
  clearTimeout(kill);
  for (const l of p.lines) {
    if (!l.startsWith('{')) continue;
    const ev = JSON.parse(l) as { type: string; message?: string } & MicroRow;
    if (ev.type === 'micro')
      micro.push({
        group: ev.group,
        impl: ev.impl,
        size: ev.size,
        MBps: ev.MBps,
        ...(ev.opsPerSec !== undefined ? { opsPerSec: ev.opsPerSec } : {}),
      });
    else if (ev.type === 'note' && ev.message !== undefined) notes.push(`micro: ${ev.message}`);
  }
  if (p.exitCode !== 0) {
    anyError = true;
    notes.push(`micro-benchmarks exited with ${p.exitCode} ${lastLines(p.stderr)}`);
  }
}

// ---------------------------------------------------------------- reporting

function pct(x: number): string {
  return Number.isFinite(x) ? `${Math.round(x * 100)}%` : '–';
}

function fmt(unit: string, v: number): string {
  if (!Number.isFinite(v)) return '–';
  if (unit === 'B/conn') return `${(v / 1024).toFixed(2)} KiB`;
  if (unit === 'µs' || unit === 'µs/msg') return v.toFixed(1);
  if (unit === 'MB/s') return v.toFixed(0);
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)}k`;
  return v.toFixed(0);
}

function fmtExtra(k: string, v: number): string {
  if (k.includes('B/conn')) return `${k.replace('B/conn', '')}${(v / 1024).toFixed(2)} KiB/conn`;
  if (k === 'p99' || k === 'p99.9') return `${k} ${v.toFixed(1)} µs`;
  if (k === 'MBps') return `${v.toFixed(0)} MB/s`;
  if (k === 'connectMs') return `connect ${(v / 1000).toFixed(1)} s`;
  if (k === 'echoed %') return `echoed ${v.toFixed(1)} %`;
  if (k === 'msgs/s') return `${fmt('msgs/s', v)} msgs/s`;
  return `${k} ${v.toFixed(1)}`;
}

const peerLabel = (id: PeerId): string => PEERS.find((p) => p.id === id)?.label ?? id;

interface OutRow {
  scenario: string;
  title: string;
  unit: string;
  better: string;
  peer: PeerId;
  peerLabel: string;
  generator: GenId;
  status: 'ok' | 'n/a' | 'error' | 'skipped';
  note?: string;
  values: number[];
  summary?: Summary;
  ratioVsWs?: number;
  /** Ratio of medians against each limit peer, or why there is none (a footnote in the table). */
  vsLimits: Record<string, number | string>;
  extras: Record<string, Summary>;
  cpuServer?: number;
  cpuClient?: number;
  cpuOther?: number;
  saturated: string;
}

const outRows: OutRow[] = [];
/** The limits every figure is also compared with: Bun's native server and raw `node:net`. */
const LIMITS = [
  { id: 'bun' as PeerId, label: 'Bun' },
  { id: 'raw' as PeerId, label: 'raw node:net' },
];
for (const sc of selected) {
  const rows = results.get(sc.id) as Map<string, Row>;
  const variants: Array<{ scenario: string; unit: string; key: string | undefined }> = [
    { scenario: sc.id, unit: sc.unit, key: undefined },
    ...(sc.secondary ?? []).map((m) => ({ scenario: m.label, unit: m.unit, key: m.key })),
  ];
  for (const v of variants) {
    const valuesOf = (row: Row | undefined): number[] =>
      row === undefined ? [] : v.key === undefined ? row.values : (row.extras.get(v.key) ?? []);
    const naOf = (peer: PeerId): string | undefined => {
      const m = v.key !== undefined ? sc.secondaryNa?.[v.key] : undefined;
      return m !== undefined && m.peer === peer ? m.note : undefined;
    };
    const medianOf = (peer: PeerId, gen: GenId): number | undefined =>
      naOf(peer) !== undefined
        ? undefined
        : summarize(valuesOf(rows.get(`${peer}|${gen}`) ?? rows.get(`${peer}|light`)))?.median;
    for (const row of rows.values()) {
      const secondaryNa = naOf(row.peer);
      const summary = secondaryNa === undefined ? summarize(valuesOf(row)) : undefined;
      const base = medianOf(BASELINE, row.gen);
      const cpuS = summarize(row.cpuServer)?.median;
      const cpuC = summarize(row.cpuClient)?.median;
      const cpuO = summarize(row.cpuOther)?.median;
      const extras: Record<string, Summary> = {};
      if (v.key === undefined) {
        for (const [k, list] of row.extras) {
          const s = summarize(list);
          if (s !== undefined && !(sc.secondary ?? []).some((m) => m.key === k)) extras[k] = s;
        }
      }
      const sat = [
        cpuS !== undefined && cpuS >= 0.9 ? 'server' : '',
        cpuC !== undefined && cpuC >= 0.9 ? 'client' : '',
      ]
        .filter((x) => x !== '')
        .join('+');
      const na = secondaryNa ?? row.na;
      const status: OutRow['status'] =
        row.errors.length > 0 ? 'error' : summary !== undefined ? 'ok' : na !== undefined ? 'n/a' : 'skipped';
      const invalid =
        sc.generatorMustNotSaturate === true && cpuC !== undefined && cpuC >= 0.9
          ? ['not valid: the generator (receivers) saturated its core, so it may be what was measured']
          : [];
      const note = [...row.errors, ...(na !== undefined ? [na] : []), ...invalid].join('; ');
      const vsLimits: Record<string, number | string> = {};
      for (const l of LIMITS) {
        const lim = medianOf(l.id, row.gen);
        if (summary !== undefined && lim !== undefined) vsLimits[l.label] = summary.median / lim;
        else if (summary !== undefined) vsLimits[l.label] = limitNa(sc, v.key, l.id, rows);
      }
      outRows.push({
        scenario: v.scenario,
        title: sc.title,
        unit: v.unit,
        better: sc.better,
        peer: row.peer,
        peerLabel: peerLabel(row.peer),
        generator: row.gen,
        status,
        ...(note !== '' ? { note } : {}),
        values: valuesOf(row),
        ...(summary !== undefined ? { summary } : {}),
        ...(summary !== undefined && base !== undefined ? { ratioVsWs: summary.median / base } : {}),
        vsLimits,
        extras,
        // A secondary row comes from the same runs: its CPU is the main row's, shown once there.
        ...(cpuS !== undefined && v.key === undefined ? { cpuServer: cpuS } : {}),
        ...(cpuC !== undefined && v.key === undefined ? { cpuClient: cpuC } : {}),
        ...(cpuO !== undefined && v.key === undefined ? { cpuOther: cpuO } : {}),
        saturated: sat === '' || v.key !== undefined ? '-' : sat,
      });
    }
  }
}

/** Why a limit peer has no figure to compare with in this scenario: the footnote text. */
function limitNa(sc: Scenario, key: string | undefined, peer: PeerId, rows: Map<string, Row>): string {
  const m = key !== undefined ? sc.secondaryNa?.[key] : undefined;
  if (m !== undefined && m.peer === peer) return m.note;
  const row = rows.get(`${peer}|light`) ?? [...rows.values()].find((r) => r.peer === peer);
  if (row?.na !== undefined) return `${peerLabel(peer)}: ${row.na}`;
  if (row !== undefined && row.errors.length > 0) return `${peerLabel(peer)} failed in this scenario`;
  if (!peers.some((p) => p.id === peer)) return `${peerLabel(peer)} was not among the peers of this run`;
  if (sc.peers !== undefined && !sc.peers.includes(peer))
    return `this scenario runs ${sc.peers.map(peerLabel).join(', ')} only`;
  return `${peerLabel(peer)} has no figure in this scenario (skipped)`;
}

/** Footnotes for "n/a" ratio cells, numbered in order of first use. */
const footnotes: string[] = [];
function footnote(text: string): string {
  let i = footnotes.indexOf(text);
  if (i < 0) i = footnotes.push(text) - 1;
  return `n/a[${i + 1}]`;
}

const calibrationEnd = calibrate(SERVER_CORE);
const stealEnd = stealSeconds();
if (calibrationStart !== undefined && calibrationEnd !== undefined) {
  const change = slowdown(calibrationEnd, calibrationStart);
  const speedup = slowdown(calibrationStart, calibrationEnd);
  if (change > 1.15 || speedup > 1.15) {
    notes.push(
      `The machine's speed changed during the run: the calibration loops ran ${Math.max(change, speedup).toFixed(2)}× ` +
        `${change > speedup ? 'slower' : 'faster'} at the end than at the start.`,
    );
  }
}
/** Share of the machine's CPU time that the hypervisor gave to other guests during the run. */
const stealShare =
  stealStart !== undefined && stealEnd !== undefined
    ? (stealEnd - stealStart) / (elapsedS() * nproc)
    : undefined;
if (stealShare !== undefined && stealShare > 0.02) {
  notes.push(
    `Steal time was ${pct(stealShare)} of the machine's CPU time: another guest competed for the cores.`,
  );
}
const complete = isDefaultRun && !anyError && skippedForTime === 0;
const meta = {
  date: new Date().toISOString(),
  gitRev,
  mode: quick ? 'quick' : 'full',
  complete,
  rounds,
  warmupS,
  durationS,
  elapsedS: Math.round(elapsedS()),
  node: process.version,
  bun: bunVersion,
  nproc,
  cpuModel,
  pinned: HAS_TASKSET ? `server taskset -c ${SERVER_CORE}, generator taskset -c ${CLIENT_CORE}` : 'no',
  argv: process.argv.slice(2),
  calibration: { core: SERVER_CORE, start: calibrationStart, end: calibrationEnd } satisfies {
    core: number;
    start: Calibration | undefined;
    end: Calibration | undefined;
  },
  stealShare,
  notes,
};

function cell(r: OutRow): string[] {
  const sum = r.summary;
  const arrow = r.better === 'higher' ? '↑' : '↓';
  const gen = r.generator === 'light' ? '' : ` ← ${r.generator} client`;
  const extras = Object.entries(r.extras)
    .map(([k, s]) => fmtExtra(k, s.median))
    .join(', ');
  const statusNote =
    r.status === 'ok'
      ? (r.note ?? '') // e.g. a broadcast whose generator saturated: "not valid: …"
      : r.status === 'error'
        ? `ERROR: ${r.note ?? ''}`
        : `${r.status}${r.note !== undefined ? ` (${r.note})` : ''}`;
  return [
    r.scenario,
    `${r.unit} ${arrow}`,
    `${r.peerLabel}${gen}`,
    sum !== undefined ? fmt(r.unit, sum.median) : r.status === 'error' ? 'ERROR' : r.status,
    sum !== undefined ? `${fmt(r.unit, sum.min)}–${fmt(r.unit, sum.max)}` : '',
    r.ratioVsWs !== undefined ? `${r.ratioVsWs.toFixed(2)}×` : '',
    ...LIMITS.map((l) => {
      const x = r.vsLimits[l.label];
      return x === undefined ? '' : typeof x === 'number' ? `${x.toFixed(2)}×` : footnote(x);
    }),
    [extras, statusNote].filter((x) => x !== '').join('; '),
    r.cpuServer !== undefined
      ? `${pct(r.cpuServer)} / ${pct(r.cpuClient ?? Number.NaN)} / ${pct(r.cpuOther ?? Number.NaN)}`
      : '',
    r.saturated,
  ];
}
const HEAD = [
  'Scenario',
  'Unit',
  'Server peer',
  'Median',
  'Min–max',
  'vs ws',
  ...LIMITS.map((l) => `vs ${l.label}`),
  'Extras',
  'CPU srv / gen / other',
  'Saturated',
];

function markdown(): string {
  const lines: string[] = [];
  lines.push(`# sockwire benchmark results (${meta.mode}${complete ? '' : ', incomplete'})`, '');
  lines.push(`- Date: ${meta.date}${gitRev !== '' ? ` (commit ${gitRev})` : ''}`);
  lines.push(`- Machine: ${nproc} cores, ${cpuModel}`);
  lines.push(`- Node ${meta.node}, Bun ${bunVersion}`);
  lines.push(
    `- ${rounds} rounds per peer, alternating peers; warmup ${warmupS}s, measurement ${durationS}s; pinning: ${meta.pinned}; total ${meta.elapsedS}s`,
  );
  lines.push(
    `- Machine speed (bench/lib/calibrate.ts, core ${SERVER_CORE}): ${describeCalibration(calibrationStart)} at the start, ` +
      `${describeCalibration(calibrationEnd)} at the end; steal time ${stealShare === undefined ? 'not reported' : pct(stealShare)}`,
  );
  for (const n of notes) lines.push(`- Note: ${n}`);
  lines.push(
    '- Where each figure stands against its target, and the limit where one is out of reach: [targets.md](targets.md)',
  );
  lines.push('');
  lines.push(
    '"vs ws" is median ÷ median of `ws` with bufferutil (↑ higher is better, ↓ lower is better); "vs Bun" and "vs raw node:net" are the same ratio against Bun\'s native server and the raw `node:net` peer, the limits (n/a[k]: see the numbered notes under the table). ' +
      'CPU is the share of one core used by the server, the load generator, and everything else on the machine ' +
      '("other": if high, another workload competed for the cores) during the measured window; ' +
      '"Saturated" marks server/generator ≥ 90 %.',
    '',
  );
  lines.push(`| ${HEAD.join(' | ')} |`, `|${HEAD.map(() => '---').join('|')}|`);
  for (const r of outRows) lines.push(`| ${cell(r).join(' | ')} |`);
  if (footnotes.length > 0) {
    lines.push('');
    footnotes.forEach((f, i) => {
      lines.push(`${i + 1}. n/a: ${f}.`);
    });
  }
  if (micro.length > 0) {
    lines.push(
      '',
      '## Micro-benchmarks (MB/s, single process, higher is better; codec: MB/s of payload (messages/s), and ratios)',
      '',
    );
    const groups = [...new Set(micro.map((m) => m.group))];
    for (const g of groups) {
      const rowsG = micro.filter((m) => m.group === g);
      const impls = [...new Set(rowsG.map((m) => m.impl))];
      const sizes = [...new Set(rowsG.map((m) => m.size))];
      // Codec groups: MB/s (ops/s), and each sockwire implementation ÷ the first ws one.
      const wsImpl = g.startsWith('codec') ? impls.find((i) => i.startsWith('ws')) : undefined;
      const ratioImpls = wsImpl === undefined ? [] : impls.filter((i) => i.startsWith('sockwire'));
      const heads = [...impls, ...ratioImpls.map((i) => `${i} ÷ ${wsImpl}`)];
      lines.push(`| ${g} | ${heads.join(' | ')} |`, `|---|${heads.map(() => '---').join('|')}|`);
      for (const s of sizes) {
        const at = (i: string): MicroRow | undefined => rowsG.find((x) => x.impl === i && x.size === s);
        const cells = impls.map((i) => {
          const m = at(i);
          if (m === undefined) return 'n/a';
          return m.opsPerSec !== undefined
            ? `${m.MBps.toFixed(0)} (${fmt('ops/s', m.opsPerSec)}/s)`
            : m.MBps.toFixed(0);
        });
        for (const i of ratioImpls) {
          const a = at(i);
          const b = wsImpl === undefined ? undefined : at(wsImpl);
          cells.push(a !== undefined && b !== undefined ? `${(a.MBps / b.MBps).toFixed(2)}×` : 'n/a');
        }
        lines.push(`| ${sizeLabel(s)} | ${cells.join(' | ')} |`);
      }
      lines.push('');
    }
  }
  return `${lines.join('\n')}\n`;
}

function sizeLabel(n: number): string {
  if (n >= 1048576) return `${n / 1048576} MiB`;
  if (n >= 1024) return `${n / 1024} KiB`;
  return `${n} B`;
}

function consoleTable(): string {
  const rows = [HEAD, ...outRows.map(cell)];
  const widths = HEAD.map((_, i) => Math.min(60, Math.max(...rows.map((r) => (r[i] ?? '').length))));
  return rows
    .map((r) =>
      r.map((c, i) => (c.length > 60 ? `${c.slice(0, 57)}...` : c).padEnd(widths[i] ?? 0)).join('  '),
    )
    .join('\n');
}

mkdirSync(RESULTS, { recursive: true });
const md = markdown();
writeFileSync(
  join(RESULTS, `${outName}.json`),
  `${JSON.stringify({ meta, rows: outRows, micro }, null, 2)}\n`,
);
writeFileSync(join(RESULTS, `${outName}.md`), md);
console.log('');
console.log(consoleTable());
if (micro.length > 0) console.log(`\n${md.slice(md.indexOf('## Micro'))}`);
for (const n of notes) console.log(`NOTE: ${n}`);

// A complete default run also refreshes the table embedded in bench/README.md.
const readme = join(BENCH, 'README.md');
if (complete && existsSync(readme)) {
  const text = readFileSync(readme, 'utf8');
  const a = '<!-- latest:start -->';
  const b = '<!-- latest:end -->';
  const i = text.indexOf(a);
  const j = text.indexOf(b);
  if (i >= 0 && j > i) {
    // The README sits one directory up from results/, where latest.md's links point.
    const body = md.replace(/^# .*\n/, '').replace('](targets.md)', '](results/targets.md)');
    writeFileSync(readme, `${text.slice(0, i + a.length)}\n${body}\n${text.slice(j)}`);
    // Keep `biome check .` clean: Biome pads markdown tables.
    spawnSync(join(ROOT, 'node_modules', '.bin', 'biome'), ['format', '--write', readme], { cwd: ROOT });
  }
}
console.log(
  `\nwrote ${relative(ROOT, join(RESULTS, `${outName}.json`))} and .md in ${elapsedS().toFixed(0)}s${complete ? '' : ' (not a complete default run)'}`,
);
process.exit(anyError ? 1 : 0);
