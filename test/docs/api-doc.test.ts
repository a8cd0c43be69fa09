/**
 * docs/api.md must mention every export of src/index.ts (values and types) and every ErrorCode value.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as sockwire from '../../src/index.ts';
import { ErrorCode } from '../../src/index.ts';

const doc = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
const index = readFileSync(new URL('../../src/index.ts', import.meta.url), 'utf8');

/** Every name exported by src/index.ts, including `type` exports (which do not exist at run time). */
function exportedNames(source: string): string[] {
  const names = new Set<string>();
  for (const [, list] of source.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const item of list!.split(',')) {
      const name = item
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)
        .pop()!
        .trim();
      if (name !== '') names.add(name);
    }
  }
  for (const [, name] of source.matchAll(/export\s+(?:const|function|class|type|interface)\s+(\w+)/g)) {
    names.add(name!);
  }
  if (/^export\s+default\s/m.test(source)) names.add('default');
  return [...names].sort();
}

/** Whether `name` appears in the doc as a word (inside code spans or not). */
function mentioned(name: string): boolean {
  return new RegExp(`(^|[^A-Za-z0-9_])${name}([^A-Za-z0-9_]|$)`).test(doc);
}

describe('docs/api.md', () => {
  it('mentions every run-time export of src/index.ts', () => {
    const missing = Object.keys(sockwire).filter((name) => !mentioned(name));
    expect(missing, `add these to docs/api.md: ${missing.join(', ')}`).toEqual([]);
  });

  it('mentions every export of src/index.ts, types included', () => {
    const names = exportedNames(index);
    expect(names.length).toBeGreaterThan(20); // the parser found the export lists
    for (const name of Object.keys(sockwire)) expect(names).toContain(name);
    const missing = names.filter((name) => !mentioned(name));
    expect(missing, `add these to docs/api.md: ${missing.join(', ')}`).toEqual([]);
  });

  it('lists every ErrorCode value and name', () => {
    const missing = Object.entries(ErrorCode).filter(
      ([name, code]) => !doc.includes(`\`${code}\``) || !mentioned(name),
    );
    expect(missing, `document these error codes: ${missing.map(([, code]) => code).join(', ')}`).toEqual([]);
  });
});
