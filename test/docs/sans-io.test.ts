/**
 * docs/sans-io.md: runs the example of the page itself (its first ```ts block), with `'sockwire'`
 * pointing at src/index.ts, so that the page cannot drift from the code.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

it('the example in docs/sans-io.md runs and its assertions hold', () => {
  const page = readFileSync(join(ROOT, 'docs/sans-io.md'), 'utf8');
  const code = /```ts\n([\s\S]*?)```/.exec(page)?.[1];
  expect(code, 'a ```ts block in docs/sans-io.md').toBeDefined();
  expect(code!.split('\n').length).toBeLessThanOrEqual(48); // a client, a server and their driver in about 45 lines
  const source = code!.replace(`from 'sockwire'`, `from ${JSON.stringify(join(ROOT, 'src/index.ts'))}`);
  expect(source).not.toBe(code); // it imports from 'sockwire'
  const dir = mkdtempSync(join(tmpdir(), 'sockwire-sans-io-'));
  try {
    const file = join(dir, 'example.ts');
    writeFileSync(file, source);
    const run = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(
      [
        'server: open /chat (echo)',
        'client: echo Hello',
        'server: close 1000 done',
        'client: close 1000 done',
        'client: transport closed',
        'server: transport closed',
        '',
      ].join('\n'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
