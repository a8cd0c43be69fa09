/** Child-process helpers for the runner: pinned spawn, line events, CPU sampling. */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

export const HAS_TASKSET = spawnSync('sh', ['-c', 'command -v taskset'], { encoding: 'utf8' }).status === 0;
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

export interface SpawnSpec {
  cmd: string;
  args: string[];
  env?: Record<string, string>;
  core: number | undefined;
  cwd: string;
}

/**
 * A child process started through `sh -c 'ulimit -n <hard>; exec taskset -c N cmd…'`.
 * Both `sh` and `taskset` exec, so the pid is the benchmark process itself.
 */
export class Proc {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: string[] = [];
  stderr = '';
  exitCode: number | null | undefined;
  private waiters: Array<() => void> = [];
  readonly exited: Promise<void>;

  constructor(spec: SpawnSpec) {
    const inner =
      HAS_TASKSET && spec.core !== undefined
        ? ['taskset', '-c', String(spec.core), spec.cmd, ...spec.args]
        : [spec.cmd, ...spec.args];
    this.child = spawn('sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'sh', ...inner], {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    createInterface({ input: this.child.stdout }).on('line', (l) => {
      this.lines.push(l);
      this.wake();
    });
    this.child.stderr.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString('utf8')).slice(-4000);
    });
    this.child.stdin.on('error', () => {});
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exitCode = code ?? (signal === null ? -1 : -2);
        this.wake();
        resolve();
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Wait for (and consume) the first line matching `pred`; rejects on exit or timeout. */
  async waitLine(pred: (line: string) => boolean, timeoutMs: number, what: string): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const idx = this.lines.findIndex(pred);
      if (idx >= 0) return this.lines.splice(idx, 1)[0] as string;
      if (this.exitCode !== undefined) {
        throw new Error(`${what}: process exited (code ${this.exitCode}) ${lastLines(this.stderr)}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${what}: timed out after ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  send(line: string): void {
    if (this.exitCode === undefined) this.child.stdin.write(`${line}\n`);
  }

  /** Ask politely (stdin `exit` / EOF), then SIGKILL after `graceMs`. */
  async stop(graceMs = 2000): Promise<void> {
    if (this.exitCode !== undefined) return;
    this.send('exit');
    this.child.stdin.end();
    const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
  }
}

export function lastLines(s: string): string {
  const lines = s
    .trim()
    .split('\n')
    .filter((l) => l.trim() !== '');
  if (lines.length === 0) return '';
  // Prefer the error message over the tail of a stack trace.
  const err = lines.find((l) => /\b\w*Error\b|error:/.test(l) && !/^\s+at /.test(l));
  return `— stderr: ${(err ?? lines.slice(-2).join(' | ')).trim().slice(0, 300)}`;
}

/** CPU seconds (user+system) consumed so far by `pid`, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number | undefined {
  const path = `/proc/${pid}/stat`;
  if (!existsSync(path)) return undefined;
  try {
    const stat = readFileSync(path, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime is field 14, stime field 15.
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/**
 * Minor page faults of `pid` so far (field 10 of /proc/<pid>/stat): each is a fresh page the kernel
 * had to map (and zero), the cost of memory churn that CPU profiles of JavaScript do not show.
 */
export function minorFaults(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[7]);
  } catch {
    return undefined;
  }
}

/** Busy CPU seconds of the whole machine (all cores), from /proc/stat. */
export function systemBusySeconds(): number | undefined {
  try {
    const first = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const f = first.trim().split(/\s+/).slice(1).map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    return (total - idle) / CLK_TCK;
  } catch {
    return undefined;
  }
}
