/**
 * Fan-out across processes: deliveries per second of `publish()` to 1,000 subscribers spread over 1,
 * 2 and 4 server processes through Redis, against the same fan-out inside one process, and against
 * Socket.IO with @socket.io/redis-adapter doing the same work; plus the latency a message takes from
 * publish to a subscriber (p50/p99) at a gentle rate, whose difference from the in-process figure is
 * the broker hop.
 *
 *   npm install --prefix bench/cluster     # Socket.IO and its adapter (dev dependencies of this bench)
 *   npx tsx bench/cluster/run.ts           # about 2 minutes (8 runs of < 20 s); needs redis-server
 *   npx tsx bench/cluster/run.ts --messages 200 --subscribers 1000
 *
 * Every process runs on this machine: the subscribers' process, the servers, the publisher and Redis
 * share its cores, so the figures compare configurations; they are not capacities. In the Redis
 * runs a separate publisher process (a server without clients) publishes, so that every delivery
 * crosses Redis; in the in-process runs the one server publishes to its own clients.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RedisServer } from '../../test/redis/redis-server.ts';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const flag = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
};
const MESSAGES = flag('messages', 200);
const SUBSCRIBERS = flag('subscribers', 1000);
// One message every 100 ms: 10,000 deliveries/s to 1,000 subscribers, a load every configuration
// carries without queueing, so that the latency is the path's, not a backlog's.
const LATENCY_MESSAGES = flag('latency-messages', 30);
const LATENCY_INTERVAL_MS = 100;
const HAS_SOCKET_IO = existsSync(`${HERE}node_modules/socket.io`);

interface Proc {
  readonly child: ChildProcess;
  send(line: string): void;
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpExecArray>;
  stop(): Promise<void>;
}

function start(file: string, env: Record<string, string>): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', `${HERE}${file}`], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  let waiters: (() => void)[] = [];
  const onData = (chunk: Buffer) => {
    output += chunk;
    for (const waiter of waiters) waiter();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  return {
    child,
    send: (line) => child.stdin!.write(`${line}\n`),
    waitFor(pattern, ms = 30_000) {
      return new Promise((resolve, reject) => {
        const from = output.length;
        const check = () => {
          const match = pattern.exec(output.slice(from));
          if (match === null) return;
          waiters = waiters.filter((w) => w !== check);
          clearTimeout(timer);
          resolve(match);
        };
        const timer = setTimeout(() => reject(new Error(`${file}: no ${pattern} in:\n${output}`)), ms);
        waiters.push(check);
        check();
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

interface Result {
  readonly name: string;
  readonly deliveriesPerSecond: number;
  readonly delivered: number;
  /** Latency over every delivery (includes the subscribers' process taking 1,000 sockets in turn). */
  readonly p50: number;
  readonly p99: number;
  /** Latency of each message's first arrival: publish → (broker →) server → one client. */
  readonly firstP50: number;
  readonly firstP99: number;
}

async function measure(
  role: 'sockwire' | 'socketio',
  processes: number,
  redisUrl: string | null,
): Promise<Result> {
  const env = { ROLE: role, ADAPTER: redisUrl === null ? 'none' : 'redis', REDIS_URL: redisUrl ?? '' };
  const procs: Proc[] = [];
  try {
    const servers = Array.from({ length: processes }, () => start('server.ts', env));
    procs.push(...servers);
    const ports = await Promise.all(servers.map(async (s) => (await s.waitFor(/ready (\d+)/))[1]!));
    const publisher = redisUrl === null ? servers[0]! : start('server.ts', env);
    if (publisher !== servers[0]) {
      procs.push(publisher);
      await publisher.waitFor(/ready \d+/);
    }
    const clients = start('clients.ts', { ROLE: role, PORTS: ports.join(','), COUNT: String(SUBSCRIBERS) });
    procs.push(clients);
    await clients.waitFor(/^ready$/m, 60_000);
    await new Promise((resolve) => setTimeout(resolve, 300)); // subscriptions reach Redis

    const run = async (messages: number, interval: number) => {
      clients.send(`expect ${messages * SUBSCRIBERS}`);
      const reported = clients.waitFor(/^(\{.*\})$/m, 40_000);
      publisher.send(`go ${messages} ${interval}`);
      return JSON.parse((await reported)[1]!) as {
        deliveries: number;
        seconds: number;
        p50: number;
        p99: number;
        first: { p50: number; p99: number };
      };
    };
    const throughput = await run(MESSAGES, 0);
    const latency = await run(LATENCY_MESSAGES, LATENCY_INTERVAL_MS);
    const where =
      redisUrl === null ? 'in one process' : `${processes} process${processes > 1 ? 'es' : ''} + Redis`;
    return {
      name: `${role === 'sockwire' ? 'sockwire' : 'Socket.IO'}, ${where}`,
      deliveriesPerSecond: throughput.deliveries / throughput.seconds,
      delivered: throughput.deliveries / (MESSAGES * SUBSCRIBERS),
      p50: latency.p50,
      p99: latency.p99,
      firstP50: latency.first.p50,
      firstP99: latency.first.p99,
    };
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
  }
}

const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const ms = (value: number) => `${value.toFixed(2)} ms`;
const redis = await RedisServer.start();
const results: Result[] = [];
try {
  const roles = (['sockwire', 'socketio'] as const).filter(
    (role) => (only === undefined || only === role) && (role === 'sockwire' || HAS_SOCKET_IO),
  );
  if (!HAS_SOCKET_IO)
    console.log('Socket.IO not installed (npm install --prefix bench/cluster): sockwire only');
  console.log(
    `publish of ${MESSAGES} × 64 B to ${SUBSCRIBERS} subscribers; latency at 1 message / ${LATENCY_INTERVAL_MS} ms: ` +
      'first arrival (the path) and every delivery (with the fan-in)',
  );
  for (const role of roles) {
    for (const processes of [0, 1, 2, 4]) {
      const result = await measure(role, Math.max(1, processes), processes === 0 ? null : redis.url);
      results.push(result);
      console.log(
        `${result.name.padEnd(32)} ${Math.round(result.deliveriesPerSecond).toLocaleString('en').padStart(9)} deliveries/s` +
          ` (${(result.delivered * 100).toFixed(1)} %)  first p50 ${ms(result.firstP50)} p99 ${ms(result.firstP99)}` +
          `  all p50 ${ms(result.p50)} p99 ${ms(result.p99)}`,
      );
    }
  }
} finally {
  await redis.dispose();
}

const find = (name: string) => results.find((r) => r.name === name);
const hop = (through: Result, local: Result) =>
  `p50 +${ms(through.firstP50 - local.firstP50)}, p99 +${ms(through.firstP99 - local.firstP99)}`;
console.log(
  '\nratios (deliveries/s) and the broker hop (first-arrival latency through Redis minus in one process)',
);
for (const processes of [1, 2, 4]) {
  const where = `${processes} process${processes > 1 ? 'es' : ''} + Redis`;
  const ours = find(`sockwire, ${where}`);
  const local = find('sockwire, in one process');
  const theirs = find(`Socket.IO, ${where}`);
  const theirLocal = find('Socket.IO, in one process');
  const parts: string[] = [];
  if (ours !== undefined && local !== undefined) {
    parts.push(
      `sockwire ${(ours.deliveriesPerSecond / local.deliveriesPerSecond).toFixed(2)}× of one process, hop ${hop(ours, local)}`,
    );
  }
  if (theirs !== undefined && theirLocal !== undefined) {
    parts.push(
      `Socket.IO ${(theirs.deliveriesPerSecond / theirLocal.deliveriesPerSecond).toFixed(2)}× of one process, hop ${hop(theirs, theirLocal)}`,
    );
  }
  if (ours !== undefined && theirs !== undefined) {
    parts.push(`sockwire / Socket.IO ${(ours.deliveriesPerSecond / theirs.deliveriesPerSecond).toFixed(2)}×`);
  }
  console.log(`  ${where}: ${parts.join('; ')}`);
}
