/**
 * Runs an example as a child process (`node --import tsx examples/<name>.ts`, as `npx tsx` would)
 * and waits for lines of its output.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const EXAMPLE_WAIT_MS = 15_000;

export interface ExampleRun {
  readonly child: ChildProcess;
  readonly output: () => string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  readonly exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

export function runExample(
  file: string,
  args: readonly string[] = [],
  env: Record<string, string> = {},
): ExampleRun {
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let output = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: string) => {
    output += chunk;
    for (const waiter of waiters) waiter();
  };
  child.stdout!.setEncoding('utf8').on('data', onData);
  child.stderr!.setEncoding('utf8').on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited,
    waitFor(pattern, timeoutMs = EXAMPLE_WAIT_MS) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(output);
          if (match === null) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(match);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${pattern} in:\n${output}`));
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
