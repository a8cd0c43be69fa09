/** scripts/check-cycles.mjs: src/ has no import cycle, type-only imports included. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without declarations
import { findCycles } from '../../scripts/check-cycles.mjs';

const cyclesIn = findCycles as (dir: string) => string[][];

it('src/ has no import cycle', () => {
  expect(cyclesIn(fileURLToPath(new URL('../../src', import.meta.url)))).toEqual([]);
});

it('finds a cycle through a type-only import and a re-export', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sockwire-cycles-'));
  try {
    mkdirSync(join(dir, 'server'));
    writeFileSync(join(dir, 'a.ts'), "import { b } from './server/b.ts';\nexport const a = b;\n");
    writeFileSync(join(dir, 'server', 'b.ts'), "export { c as b } from '../c.ts';\n");
    writeFileSync(join(dir, 'c.ts'), "import type { a } from './a.ts';\nexport const c = 1;\n");
    writeFileSync(join(dir, 'd.ts'), "import { a } from './a.ts';\n");
    expect(cyclesIn(dir)).toEqual([['a.ts', 'server/b.ts', 'c.ts', 'a.ts']]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
