/**
 * A real `redis-server` for the tests (Debian's package; `.ci/run` installs it): started on a free
 * loopback port with a temporary directory and no persistence, stopped (and restarted, for the fault
 * tests) on demand. Without the binary the Redis tests skip, saying so, unless SOCKWIRE_REQUIRE_REDIS
 * is set (as `.ci/run` does), where its absence fails them.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The redis-server binary, or null when it is not installed. */
export const REDIS_SERVER: string | null = (() => {
  for (const candidate of [process.env.REDIS_SERVER, 'redis-server']) {
    if (candidate === undefined || candidate === '') continue;
    try {
      execFileSync(candidate, ['--version'], { stdio: 'ignore' });
      return candidate;
    } catch {}
  }
  return null;
})();

/** Whether to skip the Redis tests (redis-server missing and not required). */
export const SKIP_REDIS = REDIS_SERVER === null && process.env.SOCKWIRE_REQUIRE_REDIS === undefined;
if (SKIP_REDIS) {
  console.warn(
    'redis-server is not installed: the Redis adapter tests are skipped (apt-get install redis-server)',
  );
}

/** A free TCP port on 127.0.0.1 (bound, read, released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject()));
    });
  });
}

export class RedisServer {
  readonly port: number;
  readonly url: string;
  readonly #dir: string;
  #child: ChildProcess | null = null;

  private constructor(port: number) {
    this.port = port;
    this.url = `redis://127.0.0.1:${port}`;
    this.#dir = mkdtempSync(join(tmpdir(), 'sockwire-redis-'));
  }

  /** Starts a redis-server on a free port. */
  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort());
    await server.restart();
    return server;
  }

  /** The process id of the running redis-server (for SIGSTOP/SIGCONT). */
  get pid(): number {
    return this.#child?.pid ?? 0;
  }

  /** Starts it again on the same port (after `stop()`), resolving once it accepts connections. */
  restart(): Promise<void> {
    if (REDIS_SERVER === null)
      throw new Error('redis-server is not installed (SOCKWIRE_REQUIRE_REDIS is set)');
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    args.push('--dir', this.#dir, '--protected-mode', 'no', '--loglevel', 'warning');
    const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    return new Promise((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 10_000);
      const poll = setInterval(() => {
        void ping(this.port).then((ok) => {
          if (!ok) return;
          clearInterval(poll);
          clearTimeout(timer);
          resolve();
        });
      }, 20);
      child.stdout!.on('data', (chunk: Buffer) => (output += chunk));
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
      child.once('exit', (code) => {
        clearInterval(poll);
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}:\n${output}`));
      });
    });
  }

  /** Stops it (SIGKILL: connections drop as in a crash) and waits for its exit. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#child;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGCONT'); // a stopped process would not act on SIGTERM
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }

  /** Stops it and removes its directory. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** Whether a Redis answers PING on 127.0.0.1:port (one plain RESP exchange). */
export async function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}
