/**
 * Every ```ts / ```typescript block of README.md, SECURITY.md and docs/*.md type-checks under plain
 * `strict` (what a user's project has, not this repository's stricter settings), each block its own
 * ES module, with `'sockwire'` resolving to the library's types: the built `dist/*.d.ts` through the
 * package's `exports` (as a user's project sees it) when dist/ is up to date with src/, else
 * src/index.ts itself (a development tree whose build is stale). One compile for all blocks.
 *
 * Conventions of the pages: a block made only of `import` lines is the page's header; it is put in
 * front of every later block of the page that does not import from 'sockwire' itself. A block that
 * uses something from its surroundings says so with a `declare const …;` line. A block that is not
 * TypeScript (a signature sketch, a side-by-side comparison) is fenced ```text.
 */
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PAGES = [
  'README.md',
  'SECURITY.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`),
];

interface Block {
  page: string;
  /** 1-based line in the page of the block's first code line. */
  line: number;
  code: string;
}

/** The fenced ```ts / ```typescript blocks of a page (list-indented ones too, indent removed). */
function blocksOf(page: string): Block[] {
  const lines = readFileSync(join(ROOT, page), 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*(ts|typescript)\s*$/.exec(lines[i]!);
    if (open === null) continue;
    const [, indent, fence] = open;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && lines[j]!.trim() !== fence) body.push(lines[j++]!);
    blocks.push({
      page,
      line: i + 2,
      code: body.map((l) => (l.startsWith(indent!) ? l.slice(indent!.length) : l)).join('\n'),
    });
    i = j;
  }
  return blocks;
}

/** Whether a block is only import declarations (one line or several each), comments aside. */
const importsOnly = (code: string) =>
  /^(\s*import\s[^;]*;)+\s*$/.test(code.replace(/\/\/.*$/gm, '')) && code.trim() !== '';
const importsSockwire = (code: string) => /from\s+'sockwire'/.test(code);

/** Newest modification time of a file under `dir` whose name ends with `suffix`. */
function newest(dir: string, suffix: string): number {
  let time = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(suffix))
      time = Math.max(time, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return time;
}

function distIsFresh(): boolean {
  try {
    return statSync(join(ROOT, 'dist/index.d.ts')).mtimeMs >= newest(join(ROOT, 'src'), '.ts');
  } catch {
    return false;
  }
}

it('every TypeScript block of README.md, SECURITY.md and docs/*.md type-checks under strict', {
  timeout: 180_000,
}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sockwire-doc-blocks-'));
  try {
    // A project of its own: 'sockwire' is a dependency (a link to this package), @types/node its types.
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(ROOT, join(dir, 'node_modules/sockwire'), 'dir');
    symlinkSync(join(ROOT, 'node_modules/@types'), join(dir, 'node_modules/@types'), 'dir');
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');

    const files = new Map<string, { block: Block; offset: number }>();
    let count = 0;
    for (const page of PAGES) {
      let header = '';
      for (const block of blocksOf(page)) {
        const prelude = header !== '' && !importsSockwire(block.code) ? `${header}\n` : '';
        if (header === '' && importsOnly(block.code)) header = block.code;
        const file = join(dir, `${page.replace(/[/.]/g, '_')}_${block.line}.ts`);
        writeFileSync(file, `${prelude}${block.code}\n`);
        files.set(file, { block, offset: prelude === '' ? 0 : prelude.split('\n').length - 1 });
        count++;
      }
    }
    expect(count).toBeGreaterThan(20); // the extraction found the blocks

    const fromDist = distIsFresh();
    const options: ts.CompilerOptions = {
      strict: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      moduleDetection: ts.ModuleDetectionKind.Force, // each block its own module, even without imports
      types: ['node'],
      noEmit: true,
      skipLibCheck: true,
      ...(fromDist
        ? {}
        : { paths: { sockwire: [join(ROOT, 'src/index.ts')] }, allowImportingTsExtensions: true }),
    };
    const program = ts.createProgram({ rootNames: [...files.keys()], options });
    const library = join(ROOT, fromDist ? 'dist/index.d.ts' : 'src/index.ts');
    expect(program.getSourceFile(library), `'sockwire' resolves to ${library}`).toBeDefined();
    const problems = ts.getPreEmitDiagnostics(program).flatMap((diagnostic) => {
      const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n  ');
      const source = diagnostic.file === undefined ? undefined : files.get(diagnostic.file.fileName);
      if (diagnostic.file !== undefined && source === undefined) {
        // In the library itself (src/ when dist/ is stale): `npm run typecheck` reports those.
        return fromDist
          ? [`${relative(ROOT, diagnostic.file.fileName)}: TS${diagnostic.code} ${message}`]
          : [];
      }
      if (diagnostic.file === undefined || source === undefined) return [`TS${diagnostic.code} ${message}`];
      const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
      const where = line < source.offset ? `(the page's import block) ` : '';
      return [
        `${source.block.page}:${source.block.line + line - source.offset} ${where}TS${diagnostic.code} ${message}`,
      ];
    });
    expect(
      problems,
      `against ${fromDist ? 'dist/*.d.ts' : 'src/index.ts (dist/ is stale)'}:\n${problems.join('\n')}`,
    ).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
