/**
 * Autobahn|Testsuite runner: `npm run autobahn [-- OPTIONS]`. See autobahn/README.md.
 *
 * 1. Makes sure `wstest` is installed (autobahn/install-wstest.sh, a Python 2.7 virtualenv
 *    in ${XDG_CACHE_HOME:-~/.cache}/sockwire/autobahn, built once and reused).
 * 2. Runs the requested directions, in parallel when both are requested:
 *    - server: our echo server (autobahn/echo-server.ts) tested by `wstest -m fuzzingclient`;
 *    - client: our client (autobahn/client-agent.ts) tested by `wstest -m fuzzingserver`.
 *    Every process gets a free loopback port and its own process group; all of them are
 *    stopped on exit, on SIGINT/SIGTERM and on errors. A direction is aborted when it runs
 *    past its overall timeout or makes no progress (no new case) for the stall timeout.
 * 3. Reads both reports' index.json, prints a summary per case group and compares every case
 *    with autobahn/expected-results.json.
 *
 * With --http2 the same cases run over RFC 8441: wstest speaks HTTP/1.1 only, so a bridge sits
 * between it and our agent in each direction (autobahn/h2-bridge-server.ts, h2-bridge-client.ts),
 * carrying the frames unchanged over an extended CONNECT stream; reports go to autobahn/reports/h2/
 * and are held to the same expected-results.json.
 *
 * Exit code: 0 all cases as good as expected; 1 some case worse than expected (or not good
 * and not in the expected file); 2 the harness could not produce a report (install failure,
 * crash, hang, timeout, bad usage).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
const EXPECTED_FILE = join(HERE, 'expected-results.json');

type Direction = 'server' | 'client';
const DIRECTIONS: readonly Direction[] = ['server', 'client'];
const outdirs = (reports: string): Record<Direction, string> => ({
  server: join(reports, 'servers'),
  client: join(reports, 'clients'),
});
/** autobahn/reports, or autobahn/reports/h2 with --http2 (set once by main, before anything runs). */
let REPORTS = join(HERE, 'reports');
let OUTDIR = outdirs(REPORTS);

const HELP = `usage: npm run autobahn -- [options]

  --fast                 skip 9.x (limits/performance), 12.x and 13.x (permessage-deflate)
                         (same as AUTOBAHN=fast)
  --full                 run every case (same as AUTOBAHN=full; this is the default)
  --cases LIST           only these cases, comma-separated wstest patterns (e.g. 5.*,6.4.*)
  --only server|client   run one direction (server: our server; client: our client)
  --sequential           run the two directions one after the other (default: in parallel)
  --update-expected      rewrite autobahn/expected-results.json from this run's reports
  --from-reports         run nothing; summarize/compare the reports already in autobahn/reports
  --http2                run over RFC 8441 through the bridges (autobahn/h2-bridge-*.ts), our
                         client with http2: 'require'; reports in autobahn/reports/h2, held to
                         the same expected-results.json
  --timeout SECONDS      overall limit per direction (default 3600; 900 with --fast)
  --stall-timeout SEC    abort a direction when no new case starts for this long (default 120)
  -h, --help

environment:
  AUTOBAHN_IMPL=ws       run the agents on the 'ws' package instead of sockwire (stand-in)
  AUTOBAHN_DEFLATE=0     turn permessage-deflate off in both agents (12.x/13.x then UNIMPLEMENTED)
  WSTEST=/path/wstest    use this wstest instead of installing one
  WSTEST_HOME=DIR        where install-wstest.sh keeps its virtualenv
  WSTEST_PYTHON=PATH     the Python 2.7 interpreter (default ~/.pyenv/versions/2.7.18/bin/python)`;

// ---------------------------------------------------------------------------------------------
// options

interface Options {
  readonly directions: readonly Direction[];
  readonly cases: readonly string[];
  readonly excludeCases: readonly string[];
  readonly parallel: boolean;
  readonly updateExpected: boolean;
  readonly fromReports: boolean;
  readonly timeoutMs: number;
  readonly stallMs: number;
  readonly impl: string;
  readonly deflate: boolean;
  readonly http2: boolean;
}

class UsageError extends Error {}

function parseArgs(argv: readonly string[]): Options {
  let mode = process.env.AUTOBAHN ?? 'full';
  let only: string | undefined;
  let cases: string[] | undefined;
  let parallel = true;
  let updateExpected = false;
  let fromReports = false;
  let http2 = false;
  let timeoutS: number | undefined;
  let stallS = 120;
  const value = (i: number, name: string): string => {
    const v = argv[i];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${name} needs a value`);
    return v;
  };
  const seconds = (v: string, name: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${name} needs a number of seconds, got "${v}"`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    switch (arg) {
      case '--fast':
        mode = 'fast';
        break;
      case '--full':
        mode = 'full';
        break;
      case '--cases':
        cases = value(++i, arg).split(',').filter(Boolean);
        break;
      case '--only':
        only = value(++i, arg);
        break;
      case '--sequential':
        parallel = false;
        break;
      case '--update-expected':
        updateExpected = true;
        break;
      case '--from-reports':
        fromReports = true;
        break;
      case '--http2':
        http2 = true;
        break;
      case '--timeout':
        timeoutS = seconds(value(++i, arg), arg);
        break;
      case '--stall-timeout':
        stallS = seconds(value(++i, arg), arg);
        break;
      case '-h':
      case '--help':
        console.log(HELP);
        process.exit(0);
        break;
      default:
        throw new UsageError(`unknown option ${arg}`);
    }
  }
  if (mode !== 'fast' && mode !== 'full')
    throw new UsageError(`AUTOBAHN must be "fast" or "full", got "${mode}"`);
  if (only !== undefined && only !== 'server' && only !== 'client') {
    throw new UsageError(`--only takes "server" or "client", got "${only}"`);
  }
  const impl = process.env.AUTOBAHN_IMPL ?? 'sockwire';
  if (impl !== 'sockwire' && impl !== 'ws') throw new UsageError(`AUTOBAHN_IMPL must be "sockwire" or "ws"`);
  if (http2 && impl !== 'sockwire')
    throw new UsageError(`--http2 needs AUTOBAHN_IMPL=sockwire (ws has no RFC 8441)`);
  if (http2 && updateExpected) {
    // The HTTP/2 pass is held to the HTTP/1.1 results: the frames are the same, so must be the verdicts.
    throw new UsageError('--http2 is compared with expected-results.json as it is; it cannot rewrite it');
  }
  return {
    directions: only ? [only as Direction] : DIRECTIONS,
    cases: cases ?? ['*'],
    excludeCases: mode === 'fast' ? ['9.*', '12.*', '13.*'] : [],
    parallel,
    updateExpected,
    fromReports,
    timeoutMs: (timeoutS ?? (mode === 'fast' ? 900 : 3600)) * 1000,
    stallMs: stallS * 1000,
    impl,
    deflate: process.env.AUTOBAHN_DEFLATE !== '0',
    http2,
  };
}

// ---------------------------------------------------------------------------------------------
// child processes: each in its own process group, all stopped whatever happens

const running = new Set<ChildProcess>();

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** SIGTERM to the process group, SIGKILL after a grace period. */
async function stop(child: ChildProcess): Promise<void> {
  killGroup(child, 'SIGTERM');
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 3000);
  await exited(child);
  clearTimeout(timer);
  // The leader may exit before the rest of its group: make sure nothing is left behind.
  killGroup(child, 'SIGKILL');
  running.delete(child);
}

function stopAllNow(): void {
  for (const child of running) killGroup(child, 'SIGKILL');
}

process.on('exit', stopAllNow);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    console.error(`\nautobahn: ${signal}, stopping ${running.size} process(es)`);
    stopAllNow();
    process.exit(130);
  });
}

interface Proc {
  readonly child: ChildProcess;
  readonly name: string;
  readonly logFile: string;
  /** the last lines of output, for error messages */
  readonly tail: string[];
  onLine(listener: (line: string) => void): void;
}

function start(
  name: string,
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; logFile: string },
): Proc {
  const log = createWriteStream(options.logFile);
  log.write(`$ ${command} ${args.join(' ')}\n`);
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    detached: true, // own process group, so the whole tree can be killed
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.on('exit', () => running.delete(child));
  const tail: string[] = [];
  const listeners: ((line: string) => void)[] = [];
  const split = (stream: NodeJS.ReadableStream | null) => {
    let rest = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      log.write(chunk);
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 15) tail.shift();
        for (const listener of listeners) listener(line);
      }
    });
  };
  split(child.stdout);
  split(child.stderr);
  child.on('error', (err) => {
    tail.push(`spawn error: ${err.message}`);
    log.write(`spawn error: ${err.message}\n`);
  });
  child.on('close', () => log.end());
  return { child, name, logFile: options.logFile, tail, onLine: (l) => listeners.push(l) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class HarnessError extends Error {}

function describeTail(proc: Proc): string {
  const lines = proc.tail.filter((l) => l.trim() !== '').slice(-6);
  return `${lines.length ? `\n    ${lines.join('\n    ')}` : ''}\n    (full log: ${relative(ROOT, proc.logFile)})`;
}

/** Resolves when `match` sees a line; rejects when the process exits first or time runs out. */
function waitForLine(proc: Proc, match: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new HarnessError(
            `${proc.name} printed no ready line within ${timeoutMs / 1000} s${describeTail(proc)}`,
          ),
        ),
      timeoutMs,
    );
    proc.onLine((line) => {
      if (match.test(line)) {
        clearTimeout(timer);
        resolve(line);
      }
    });
    void exited(proc.child).then(() => {
      clearTimeout(timer);
      reject(
        new HarnessError(
          `${proc.name} exited (${exitText(proc.child)}) before it was ready${describeTail(proc)}`,
        ),
      );
    });
  });
}

async function waitForPort(proc: Proc, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new HarnessError(
        `${proc.name} exited (${exitText(proc.child)}) before listening${describeTail(proc)}`,
      );
    }
    if (await canConnect(port)) return;
    await sleep(200);
  }
  throw new HarnessError(
    `${proc.name} did not listen on port ${port} within ${timeoutMs / 1000} s${describeTail(proc)}`,
  );
}

function exitText(child: ChildProcess): string {
  return child.signalCode ? `signal ${child.signalCode}` : `code ${child.exitCode}`;
}

// ---------------------------------------------------------------------------------------------
// wstest

function ensureWstest(): string {
  const given = process.env.WSTEST;
  if (given) {
    if (!existsSync(given)) fatal(`wstest could not be found: WSTEST=${given} does not exist`);
    return given;
  }
  const result = spawnSync('bash', [join(HERE, 'install-wstest.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 15 * 60 * 1000,
    killSignal: 'SIGKILL',
  });
  const stderr = (result.stderr ?? '').trim();
  if (result.error || result.status !== 0) {
    const reason =
      stderr
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('install-wstest:'))
        ?.replace(/^install-wstest: /, '') ??
      result.error?.message ??
      (stderr.split('\n').pop() || `install-wstest.sh exited with ${result.status}`);
    fatal(`wstest could not be installed: ${reason}`);
  }
  if (stderr) console.log(stderr); // "installing wstest into ..." on a first run
  const path = (result.stdout ?? '').trim().split('\n').pop() ?? '';
  if (!path || !existsSync(path))
    fatal(`wstest could not be installed: install-wstest.sh printed no wstest path`);
  return path;
}

/**
 * Two runs at once would overwrite each other's reports and logs: the first one holds
 * autobahn/reports/.runner.pid until it exits; a stale file (dead pid) is taken over.
 */
function lockReports(): void {
  const file = join(REPORTS, '.runner.pid');
  mkdirSync(REPORTS, { recursive: true });
  try {
    const other = Number(readFileSync(file, 'utf8'));
    if (other && other !== process.pid) {
      process.kill(other, 0); // throws when that process is gone
      fatal(
        `another autobahn run (pid ${other}) is using ${relative(ROOT, REPORTS)}; wait for it or stop it`,
      );
    }
  } catch {
    // no lock, or a stale one
  }
  writeFileSync(file, String(process.pid));
  process.on('exit', () => {
    try {
      if (readFileSync(file, 'utf8') === String(process.pid)) rmSync(file);
    } catch {
      // already gone
    }
  });
}

function fatal(message: string): never {
  console.error(`autobahn: ${message}`);
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------
// running one direction

interface CaseResult {
  readonly behavior: string;
  readonly behaviorClose: string;
  /** ms, as wstest measured the case; only kept in the reports, not in expected-results.json */
  readonly duration?: number;
}
type Results = Record<string, CaseResult>;

interface DirectionRun {
  readonly direction: Direction;
  readonly results?: Results;
  readonly error?: string;
  readonly seconds: number;
}

interface Watch {
  readonly startedAt: number;
  current: string;
  done: number;
  lastProgress: number;
  group: string;
}

function progress(direction: Direction, watch: Watch, caseId: string): void {
  watch.current = caseId;
  watch.done++;
  watch.lastProgress = Date.now();
  const group = caseId.split('.')[0] ?? caseId;
  if (group !== watch.group) {
    watch.group = group;
    console.log(
      `[${direction}] ${group}.x (case ${caseId}) at ${((Date.now() - watch.startedAt) / 1000).toFixed(1)} s`,
    );
  }
}

/**
 * Fails when a process exits early or when the direction runs past the overall or the
 * no-progress timeout. `settle` ends the watch.
 */
function watchdog(direction: Direction, watch: Watch, options: Options, startedAt: number) {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setInterval(() => {
      const now = Date.now();
      const at = watch.current ? `at case ${watch.current} (${watch.done} started)` : 'before the first case';
      if (now - startedAt > options.timeoutMs) {
        reject(new HarnessError(`${direction}: timed out after ${options.timeoutMs / 1000} s, ${at}`));
      } else if (now - watch.lastProgress > options.stallMs) {
        reject(new HarnessError(`${direction}: no progress for ${options.stallMs / 1000} s, ${at}`));
      }
    }, 500);
  });
  promise.catch(() => {});
  return { promise, settle: () => clearInterval(timer) };
}

function diedEarly(proc: Proc, watch: Watch, direction: Direction): Promise<never> {
  const p = exited(proc.child).then(() => {
    throw new HarnessError(
      `${direction}: ${proc.name} exited (${exitText(proc.child)}) at case ${watch.current || '(none yet)'}${describeTail(proc)}`,
    );
  });
  p.catch(() => {});
  return p;
}

function agentEnv(options: Options): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AUTOBAHN_IMPL: options.impl,
    AUTOBAHN_DEFLATE: options.deflate ? '1' : '0',
    AUTOBAHN_PARENT_PID: String(process.pid),
    AUTOBAHN_HTTP2: options.http2 ? '1' : '0',
  };
}

const TSX_ARGS = ['--import', 'tsx'];

async function runDirection(
  direction: Direction,
  options: Options,
  wstest: string,
  workDir: string,
): Promise<DirectionRun> {
  const startedAt = Date.now();
  const outdir = OUTDIR[direction];
  mkdirSync(outdir, { recursive: true });
  // Never read a previous run's report.
  rmSync(join(outdir, 'index.json'), { force: true });
  const logs = join(REPORTS, 'logs');
  mkdirSync(logs, { recursive: true });
  const wstestEnv = { ...process.env, PYTHONUNBUFFERED: '1', PYTHONWARNINGS: 'ignore' };
  const watch: Watch = { startedAt, current: '', done: 0, lastProgress: Date.now(), group: '' };
  const procs: Proc[] = [];
  const dog = watchdog(direction, watch, options, startedAt);
  try {
    const agentPort = await freePort();
    // --http2: wstest talks to a bridge on its own port, which carries each connection over RFC 8441.
    const bridgePort = options.http2 ? await freePort() : agentPort;
    if (direction === 'server') {
      const port = bridgePort;
      const agent = start(
        'echo server',
        process.execPath,
        [...TSX_ARGS, join(HERE, 'echo-server.ts'), String(agentPort)],
        {
          cwd: ROOT,
          env: agentEnv(options),
          logFile: join(logs, 'server-agent.log'),
        },
      );
      procs.push(agent);
      await Promise.race([waitForLine(agent, /^ready /, 30_000), dog.promise]);
      if (options.http2) {
        const bridge = start(
          'HTTP/2 bridge (server direction)',
          process.execPath,
          [...TSX_ARGS, join(HERE, 'h2-bridge-server.ts'), String(bridgePort), String(agentPort)],
          { cwd: ROOT, env: agentEnv(options), logFile: join(logs, 'server-bridge.log') },
        );
        procs.push(bridge);
        await Promise.race([
          waitForLine(bridge, /^ready /, 30_000),
          diedEarly(agent, watch, direction),
          dog.promise,
        ]);
      }
      const spec = {
        options: { failByDrop: false },
        outdir,
        servers: [{ agent: options.impl, url: `ws://127.0.0.1:${port}` }],
        cases: options.cases,
        'exclude-cases': options.excludeCases,
        'exclude-agent-cases': {},
      };
      const specFile = join(workDir, 'fuzzingclient.json');
      writeFileSync(specFile, JSON.stringify(spec, null, 2));
      const tester = start('wstest (fuzzingclient)', wstest, ['-m', 'fuzzingclient', '-s', specFile], {
        cwd: workDir,
        env: wstestEnv,
        logFile: join(logs, 'server-wstest.log'),
      });
      procs.push(tester);
      tester.onLine((line) => {
        const m = /^Running test case ID (\S+) for agent/.exec(line);
        if (m?.[1]) progress(direction, watch, m[1]);
      });
      await Promise.race([
        exited(tester.child),
        ...procs.filter((p) => p !== tester).map((p) => diedEarly(p, watch, direction)),
        dog.promise,
      ]);
      if (tester.child.exitCode !== 0) {
        throw new HarnessError(
          `${direction}: ${tester.name} failed (${exitText(tester.child)})${describeTail(tester)}`,
        );
      }
    } else {
      const port = agentPort; // wstest's; the client agent connects to the bridge with --http2
      const spec = {
        url: `ws://127.0.0.1:${port}`,
        options: { failByDrop: false },
        outdir,
        cases: options.cases,
        'exclude-cases': options.excludeCases,
        'exclude-agent-cases': {},
      };
      const specFile = join(workDir, 'fuzzingserver.json');
      writeFileSync(specFile, JSON.stringify(spec, null, 2));
      // --webport 0: no embedded HTTP server on 8080 (it would collide between parallel runs).
      const tester = start(
        'wstest (fuzzingserver)',
        wstest,
        ['-m', 'fuzzingserver', '-s', specFile, '--webport', '0'],
        {
          cwd: workDir,
          env: wstestEnv,
          logFile: join(logs, 'client-wstest.log'),
        },
      );
      procs.push(tester);
      await Promise.race([waitForPort(tester, port, 60_000), dog.promise]);
      if (options.http2) {
        const bridge = start(
          'HTTP/2 bridge (client direction)',
          process.execPath,
          [...TSX_ARGS, join(HERE, 'h2-bridge-client.ts'), String(bridgePort), String(port)],
          { cwd: ROOT, env: agentEnv(options), logFile: join(logs, 'client-bridge.log') },
        );
        procs.push(bridge);
        await Promise.race([
          waitForLine(bridge, /^ready /, 30_000),
          diedEarly(tester, watch, direction),
          dog.promise,
        ]);
      }
      const agent = start(
        'client agent',
        process.execPath,
        [...TSX_ARGS, join(HERE, 'client-agent.ts'), String(bridgePort)],
        {
          cwd: ROOT,
          env: agentEnv(options),
          logFile: join(logs, 'client-agent.log'),
        },
      );
      procs.push(agent);
      agent.onLine((line) => {
        const m = /^case (\d+)\/(\d+) (\S+)/.exec(line);
        if (m) progress(direction, watch, `${m[3]} (#${m[1]}/${m[2]})`);
        else if (line === 'updating reports') watch.lastProgress = Date.now();
      });
      await Promise.race([
        exited(agent.child),
        ...procs.filter((p) => p !== agent).map((p) => diedEarly(p, watch, direction)),
        dog.promise,
      ]);
      if (agent.child.exitCode !== 0) {
        throw new HarnessError(
          `${direction}: ${agent.name} failed (${exitText(agent.child)}) at case ${watch.current || '(none yet)'}${describeTail(agent)}`,
        );
      }
      // The server writes the report before it closes the /updateReports connection; allow a little slack.
      const deadline = Date.now() + 10_000;
      while (!existsSync(join(outdir, 'index.json')) && Date.now() < deadline) await sleep(100);
    }
    const results = readReport(direction, options.impl);
    return { direction, results, seconds: (Date.now() - startedAt) / 1000 };
  } catch (err) {
    if (!(err instanceof HarnessError)) throw err;
    return { direction, error: err.message, seconds: (Date.now() - startedAt) / 1000 };
  } finally {
    dog.settle();
    await Promise.all(procs.map((p) => stop(p.child)));
  }
}

function readReport(direction: Direction, agent: string): Results {
  const file = join(OUTDIR[direction], 'index.json');
  if (!existsSync(file))
    throw new HarnessError(`${direction}: wstest wrote no report (${relative(ROOT, file)} missing)`);
  let index: Record<string, Record<string, CaseResult>>;
  try {
    index = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new HarnessError(`${direction}: cannot parse ${relative(ROOT, file)}: ${(err as Error).message}`);
  }
  const byAgent = index[agent];
  if (!byAgent) {
    const agents = Object.keys(index).join(', ') || 'none';
    throw new HarnessError(
      `${direction}: ${relative(ROOT, file)} has no results for agent "${agent}" (it has: ${agents})`,
    );
  }
  const results: Results = {};
  for (const id of sortCaseIds(Object.keys(byAgent))) {
    const r = byAgent[id]!;
    results[id] = { behavior: r.behavior, behaviorClose: r.behaviorClose, duration: r.duration ?? 0 };
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// summary and comparison

function compareCaseIds(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? -1) - (pb[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}
const sortCaseIds = (ids: readonly string[]) => [...ids].sort(compareCaseIds);

/** Lower is better. OK and INFORMATIONAL are the goal; NON-STRICT falls short of it. */
const RANK: Record<string, number> = {
  OK: 0,
  INFORMATIONAL: 0,
  'NON-STRICT': 1,
  UNIMPLEMENTED: 2,
  'WRONG CODE': 3,
  UNCLEAN: 3,
  'FAILED BY CLIENT': 3,
  FAILED: 4,
};
const rank = (value: string) => RANK[value] ?? 4;
const isGood = (r: CaseResult) => rank(r.behavior) === 0 && rank(r.behaviorClose) === 0;

const COLUMNS = ['OK', 'NON-STRICT', 'INFORMATIONAL', 'UNIMPLEMENTED', 'FAILED'] as const;
/** WRONG CODE, UNCLEAN, FAILED BY CLIENT are counted as FAILED in the table and listed by name below it. */
const column = (value: string) => ((COLUMNS as readonly string[]).includes(value) ? value : 'FAILED');

function printSummary(run: DirectionRun, impl: string): void {
  const results = run.results ?? {};
  const ids = Object.keys(results);
  const tested =
    run.direction === 'server'
      ? 'our server, wstest -m fuzzingclient'
      : 'our client, wstest -m fuzzingserver';
  console.log(
    `\n${run.direction} (${impl}; ${tested}): ${ids.length} cases${run.seconds ? ` in ${run.seconds.toFixed(1)} s` : ' (report on disk)'}`,
  );
  const groups = new Map<string, Results>();
  for (const id of ids) {
    const g = `${id.split('.')[0]}.x`;
    if (!groups.has(g)) groups.set(g, {});
    groups.get(g)![id] = results[id]!;
  }
  const short = ['OK', 'NS', 'INFO', 'UNIMPL', 'FAILED'];
  const w = 7;
  const cells = (values: readonly (string | number)[]) => values.map((v) => String(v).padStart(w)).join('');
  console.log(`${''.padEnd(13)}${'behavior'.padEnd(short.length * w)}   behaviorClose`);
  console.log(`${'group'.padEnd(6)}${'cases'.padStart(6)} ${cells(short)}   ${cells(short)}   seconds`);
  const row = (name: string, rs: Results) => {
    const count = (field: 'behavior' | 'behaviorClose') =>
      COLUMNS.map((c) => Object.values(rs).filter((r) => column(r[field]) === c).length);
    console.log(
      `${name.padEnd(6)}${String(Object.keys(rs).length).padStart(6)} ${cells(count('behavior'))}   ${cells(count('behaviorClose'))}` +
        `${(Object.values(rs).reduce((t, r) => t + (r.duration ?? 0), 0) / 1000).toFixed(1).padStart(10)}`,
    );
  };
  for (const [g, rs] of [...groups].sort((a, b) => compareCaseIds(a[0], b[0]))) row(g, rs);
  row('total', results);
  const notGood = ids.filter((id) => !isGood(results[id]!));
  if (notGood.length) {
    console.log(`not OK (${notGood.length}), as behavior/behaviorClose:`);
    for (const line of compactNotGood(results, notGood)) console.log(`  ${line}`);
  }
}

/**
 * One line per result, e.g. `UNIMPLEMENTED/OK: 12.1.*, 12.2.*, 6.4.1 (42)`: a sub-group
 * (`12.1.*`) is named as a whole when all its cases share the result.
 */
function compactNotGood(results: Results, notGood: readonly string[]): string[] {
  const key = (id: string) => `${results[id]!.behavior}/${results[id]!.behaviorClose}`;
  const prefix = (id: string) => id.split('.').slice(0, 2).join('.');
  const byKey = new Map<string, string[]>();
  for (const id of notGood) {
    const k = key(id);
    if (!byKey.has(k)) byKey.set(k, []);
    byKey.get(k)!.push(id);
  }
  const lines: string[] = [];
  for (const [k, list] of byKey) {
    const names: string[] = [];
    for (const id of list) {
      const p = prefix(id);
      const whole =
        p !== id && Object.keys(results).every((other) => prefix(other) !== p || key(other) === k);
      const name = whole ? `${p}.*` : id;
      if (!names.includes(name)) names.push(name);
    }
    lines.push(`${k}: ${names.join(', ')} (${list.length})`);
  }
  return lines;
}

type Expected = Partial<Record<Direction, Results>>;

function readExpected(): Expected {
  if (!existsSync(EXPECTED_FILE)) return {};
  return JSON.parse(readFileSync(EXPECTED_FILE, 'utf8')) as Expected;
}

/** Glob as wstest reads case patterns: `*` matches anything, the rest literally. */
function matches(id: string, patterns: readonly string[]): boolean {
  return patterns.some((p) =>
    new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(id),
  );
}

interface Comparison {
  readonly worse: string[];
  readonly better: string[];
}

function compare(run: DirectionRun, expected: Results, options: Options): Comparison {
  const results = run.results ?? {};
  const worse: string[] = [];
  const better: string[] = [];
  const inScope = (id: string) => matches(id, options.cases) && !matches(id, options.excludeCases);
  const d = run.direction;
  for (const id of sortCaseIds(Object.keys(results))) {
    const got = results[id]!;
    const want = expected[id];
    if (!want) {
      if (!isGood(got)) {
        worse.push(`${d} ${id}: ${got.behavior}/${got.behaviorClose}, and not in expected-results.json`);
      }
      continue;
    }
    const fields = ['behavior', 'behaviorClose'] as const;
    const regressed = fields.filter((f) => rank(got[f]) > rank(want[f]));
    const improved = fields.filter((f) => rank(got[f]) < rank(want[f]));
    const text = (fs: readonly (typeof fields)[number][]) =>
      fs.map((f) => `${f} ${got[f]} (expected ${want[f]})`).join(', ');
    if (regressed.length) worse.push(`${d} ${id}: ${text(regressed)}`);
    else if (improved.length) better.push(`${d} ${id}: ${text(improved)}`);
  }
  if (!options.fromReports) {
    for (const id of sortCaseIds(Object.keys(expected))) {
      if (inScope(id) && !results[id]) worse.push(`${d} ${id}: expected but missing from the report`);
    }
  }
  return { worse, better };
}

function writeExpected(expected: Expected): void {
  // One case per line keeps the diffs of this file readable.
  const section = (results: Results) =>
    sortCaseIds(Object.keys(results))
      .map((id) => {
        const r = results[id]!;
        return `    ${JSON.stringify(id)}: { "behavior": ${JSON.stringify(r.behavior)}, "behaviorClose": ${JSON.stringify(r.behaviorClose)} }`;
      })
      .join(',\n');
  const parts = DIRECTIONS.filter((d) => expected[d]).map(
    (d) => `  "${d}": {\n${section(expected[d]!)}\n  }`,
  );
  writeFileSync(EXPECTED_FILE, `{\n${parts.join(',\n')}\n}\n`);
}

// ---------------------------------------------------------------------------------------------
// main

async function main(): Promise<number> {
  let options: Options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`autobahn: ${err.message}\n\n${HELP}`);
      return 2;
    }
    throw err;
  }

  if (options.http2) {
    REPORTS = join(HERE, 'reports', 'h2');
    OUTDIR = outdirs(REPORTS);
  }
  let runs: DirectionRun[];
  if (!options.fromReports) lockReports();
  if (options.fromReports) {
    runs = options.directions.map((direction) => {
      try {
        return { direction, results: readReport(direction, options.impl), seconds: 0 };
      } catch (err) {
        return { direction, error: (err as Error).message, seconds: 0 };
      }
    });
  } else {
    const wstest = ensureWstest();
    const workDir = mkdtempSync(join(tmpdir(), 'sockwire-autobahn-'));
    const scope = options.excludeCases.length
      ? `cases ${options.cases.join(',')} except ${options.excludeCases.join(',')}`
      : `cases ${options.cases.join(',')}`;
    console.log(
      `autobahn: ${options.directions.join(' + ')} with ${options.impl}${options.http2 ? ' over HTTP/2 (RFC 8441, through the bridges)' : ''}${options.deflate ? ' (permessage-deflate)' : ''}, ${scope}` +
        `${options.directions.length > 1 ? (options.parallel ? ', in parallel' : ', one after the other') : ''}`,
    );
    try {
      if (options.parallel) {
        runs = await Promise.all(options.directions.map((d) => runDirection(d, options, wstest, workDir)));
      } else {
        runs = [];
        for (const d of options.directions) runs.push(await runDirection(d, options, wstest, workDir));
      }
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  }

  const expected = readExpected();
  const worse: string[] = [];
  const better: string[] = [];
  const errors: string[] = [];
  for (const run of runs) {
    if (run.error) {
      errors.push(run.error);
      continue;
    }
    printSummary(run, options.http2 ? `${options.impl} over HTTP/2` : options.impl);
    const c = compare(run, expected[run.direction] ?? {}, options);
    worse.push(...c.worse);
    better.push(...c.better);
  }
  console.log('');
  for (const run of runs) {
    if (!run.error) console.log(`report: ${relative(ROOT, join(OUTDIR[run.direction], 'index.html'))}`);
  }

  if (options.updateExpected) {
    if (errors.length) {
      for (const e of errors) console.error(`autobahn: ERROR ${e}`);
      console.error('autobahn: expected-results.json NOT updated (a direction has no report)');
      return 2;
    }
    const updated: Expected = { ...expected };
    for (const run of runs) {
      const merged: Results = {};
      const keep = options.fromReports
        ? () => false
        : (id: string) => !(matches(id, options.cases) && !matches(id, options.excludeCases));
      for (const [id, r] of Object.entries(expected[run.direction] ?? {})) if (keep(id)) merged[id] = r;
      Object.assign(merged, run.results);
      updated[run.direction] = merged;
    }
    writeExpected(updated);
    console.log(
      `autobahn: wrote ${relative(ROOT, EXPECTED_FILE)} (${runs.map((r) => r.direction).join(', ')})`,
    );
    return 0;
  }

  for (const line of better)
    console.log(`improved: ${line} -> update expected-results.json (npm run autobahn -- --update-expected)`);
  for (const line of worse) console.error(`WORSE: ${line}`);
  for (const e of errors) console.error(`autobahn: ERROR ${e}`);
  if (errors.length) return 2;
  if (worse.length) {
    console.error(`autobahn: ${worse.length} case(s) worse than autobahn/expected-results.json`);
    return 1;
  }
  console.log(`autobahn: all cases as good as expected${better.length ? `, ${better.length} improved` : ''}`);
  return 0;
}

main().then(
  (code) => {
    stopAllNow();
    process.exit(code);
  },
  (err: unknown) => {
    console.error(
      `autobahn: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    );
    stopAllNow();
    process.exit(2);
  },
);
