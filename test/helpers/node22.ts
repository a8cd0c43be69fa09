/**
 * The Node 22 harness of the interop tests (test/interop/node22.test.ts, deflate-node22.test.ts):
 * Node 22 has a built-in WebSocket client (undici, WHATWG API). Its binary is installed into .cache/
 * by scripts/install-node.sh (about 5 s the first time); without it, the tests skip, saying why.
 */
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { withTimeout } from '../integration/helpers.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The Node 22 binary, or null and why not. */
export type Node22 =
  | { readonly path: string; readonly error: '' }
  | { readonly path: null; readonly error: string };

/**
 * Installs (or finds) Node 22; on failure warns that `what` is skipped and returns the reason. Call it
 * from a `beforeAll` with a timeout of 150 s.
 */
export function installNode22(what: string): Node22 {
  try {
    const output = execFileSync('scripts/install-node.sh', ['22'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 120_000,
    });
    const line = output.trim().split('\n').pop() ?? '';
    const path = line.startsWith('/') ? line : `${root}${line}`;
    const version = execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
    if (!version.startsWith('v22.')) throw new Error(`unexpected version ${version}`);
    return { path, error: '' };
  } catch (error) {
    const reason = String(error);
    console.warn(`Node 22 unavailable, skipping ${what}: ${reason}`);
    return { path: null, error: reason };
  }
}

/** Runs an inline ESM script with Node 22; resolves with stdout lines (JSON) and the exit code. */
export function runNode22(
  node22: string,
  script: string,
  env: Record<string, string>,
): Promise<{ lines: unknown[]; code: number | null; stderr: string }> {
  return withTimeout(
    new Promise((resolve, reject) => {
      const child = spawn(node22, ['--input-type=module', '-e', script], {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      child.on('error', reject);
      child.on('close', (code) => {
        const lines = stdout
          .split('\n')
          .filter((line) => line.trim() !== '')
          .map((line) => JSON.parse(line) as unknown);
        resolve({ lines, code, stderr });
      });
      setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
    }),
    20_000,
    'the Node 22 client',
  );
}
