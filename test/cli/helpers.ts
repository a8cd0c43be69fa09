/**
 * Runs the real CLI as a child process (`node --import tsx src/cli/main.ts …`, no build needed) with
 * piped stdin, and collects its output so that tests can wait for a line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Generous: tsx compiles on start-up, and the machine may be busy (Autobahn runs alongside). */
export const CLI_WAIT_MS = 15_000;

export interface CliRun {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  /** Resolves with the first stdout line matching `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Writes a line to stdin. */
  type(line: string): void;
  /** Resolves with the exit status once the process has exited. */
  readonly exited: Promise<number | null>;
}

/** Every process started by runCli and not yet exited: killed by {@link killStrays}. */
const running = new Set<ChildProcess>();

/** Kills what a failed test left running (call from afterEach). */
export function killStrays(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

export function runCli(args: readonly string[]): CliRun {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  running.add(child);
  child.on('exit', () => running.delete(child));
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const run: CliRun = {
    child,
    stdout: '',
    stderr: '',
    waitFor(pattern, timeoutMs = CLI_WAIT_MS) {
      const found = run.stdout.split('\n').find((line) => pattern.test(line));
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(`timed out waiting for ${pattern} in stdout:\n${run.stdout}\nstderr:\n${run.stderr}`),
            ),
          timeoutMs,
        );
        waiters.push({
          pattern,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
      });
    },
    type(line) {
      child.stdin!.write(`${line}\n`);
    },
    exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))),
  };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    run.stdout += chunk;
    for (const line of run.stdout.split('\n')) {
      for (let i = waiters.length - 1; i >= 0; i--) {
        const waiter = waiters[i]!;
        if (waiter.pattern.test(line)) {
          waiters.splice(i, 1);
          waiter.resolve(line);
        }
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    run.stderr += chunk;
  });
  return run;
}

/** Waits for the process to exit, killing it after `timeoutMs`. */
export async function exitOf(run: CliRun, timeoutMs = CLI_WAIT_MS): Promise<number | null> {
  const timer = setTimeout(() => run.child.kill('SIGKILL'), timeoutMs);
  try {
    return await run.exited;
  } finally {
    clearTimeout(timer);
  }
}
