#!/usr/bin/env node
/**
 * Writes test/unit/rfc6455/README.md: an index from RFC section to the socket-free tests of the core
 * that check it (test/unit/rfc6455/ and test/unit/rfc7692/), read from the test files themselves so
 * that it stays true. test/lint/test-index.test.ts fails when the README is out of date.
 *
 * Usage: node scripts/test-index.mjs           (rewrites the README)
 *        node scripts/test-index.mjs --check   (exit status 1 when it is out of date)
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('..', import.meta.url));
/** The directories indexed, relative to the repository. */
export const TEST_DIRS = ['test/unit/rfc6455', 'test/unit/rfc7692'];
/** Where the index is written, relative to the repository. */
export const README = 'test/unit/rfc6455/README.md';

/** A describe block or a test, with its title as a reader sees it. */
function titleOf(node, source) {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isTemplateExpression(node)) {
    // `on reserved opcode 0x${opcode.toString(16)}`: the loop variable is shown as "…", and a role
    // (`${role} decodes …`, in a loop over both) as "each side".
    const shown = (span) =>
      ts.isIdentifier(span.expression) && span.expression.text === 'role' ? 'each side' : '…';
    return node.head.text + node.templateSpans.map((span) => `${shown(span)}${span.literal.text}`).join('');
  }
  return node.getText(source);
}

/** `describe(…)`, `describe.each(…)(…)`, `it(…)`, `it.each(…)(…)`, `it.for(…)(…)`, `test(…)`: kind and title node. */
function testCall(node) {
  if (!ts.isCallExpression(node) || node.arguments.length === 0) return null;
  let callee = node.expression;
  let each = false;
  if (ts.isCallExpression(callee)) {
    callee = callee.expression;
    each = true;
  }
  if (ts.isPropertyAccessExpression(callee) && ['each', 'for'].includes(callee.name.text)) {
    if (!each) return null;
    callee = callee.expression;
  } else if (each) {
    return null;
  }
  if (!ts.isIdentifier(callee)) return null;
  const kind = callee.text === 'describe' ? 'describe' : ['it', 'test'].includes(callee.text) ? 'it' : null;
  if (kind === null) return null;
  return { kind, title: node.arguments[0], each };
}

/** The tree of describe blocks and tests of one file. */
export function outline(path, text) {
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const top = { title: '', children: [] };
  const visit = (node, parent) => {
    const call = testCall(node);
    if (call !== null) {
      let title = titleOf(call.title, source);
      // it.each(ROLES)('%s sends …'): one test per side.
      if (call.each) title = title.replace(/%s/g, 'each side').replace(/%%/g, '%');
      const entry = { title, children: [] };
      parent.children.push(call.kind === 'describe' ? entry : { title, children: null });
      ts.forEachChild(node, (child) => visit(child, call.kind === 'describe' ? entry : parent));
      return;
    }
    ts.forEachChild(node, (child) => visit(child, parent));
  };
  visit(source, top);
  return top.children;
}

/** The section a title names: `§5.2`, `RFC 7692 §6`, or null. */
function sectionOf(title) {
  const match = /^(RFC \d{4} )?§[\d.]+/.exec(title);
  return match === null ? null : match[0];
}

function countTests(children) {
  return children.reduce((sum, child) => sum + (child.children === null ? 1 : countTests(child.children)), 0);
}

function renderTree(children, depth, lines) {
  for (const child of children) {
    const indent = '  '.repeat(depth);
    if (child.children === null) {
      lines.push(`${indent}- ${child.title}`);
    } else {
      lines.push(`${indent}- **${child.title}**`);
      renderTree(child.children, depth + 1, lines);
    }
  }
}

/** A Markdown table with padded columns, as the formatter (biome) lays it out. */
function table(rows) {
  const widths = rows[0].map((_, column) => Math.max(3, ...rows.map((row) => row[column].length)));
  const line = (cells) => `| ${cells.map((cell, column) => cell.padEnd(widths[column])).join(' | ')} |`;
  return [line(rows[0]), line(widths.map((width) => '-'.repeat(width))), ...rows.slice(1).map(line)];
}

/** The README's text, from the test files as they are on disk under `base`. */
export function renderIndex(base = root) {
  const files = TEST_DIRS.flatMap((dir) =>
    readdirSync(join(base, dir))
      .filter((name) => name.endsWith('.test.ts'))
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
      .map((name) => join(dir, name)),
  );
  const entries = files.map((file) => {
    const tree = outline(file, readFileSync(join(base, file), 'utf8'));
    const sections = new Set();
    const collect = (children) => {
      for (const child of children) {
        const section = sectionOf(child.title);
        if (section !== null) sections.add(section);
        if (child.children !== null) collect(child.children);
      }
    };
    collect(tree);
    return { file, tree, sections: [...sections] };
  });
  const link = (file) => relative('test/unit/rfc6455', file);
  const lines = [
    "# The core's tests by RFC section",
    '',
    '<!-- Generated by scripts/test-index.mjs from the test files: run `node scripts/test-index.mjs` after',
    'changing them (test/lint/test-index.test.ts fails when this file is out of date). -->',
    '',
    'Socket-free tests of the protocol core (`Connection`, src/connection/ and src/frame/): bytes in,',
    'events and bytes out, one `describe` per RFC section, each rule checked as a client and as a server',
    '("each side"), sending and receiving, with exact bytes. A bare § is RFC 6455. The frames the peer',
    "sends are built by `harness.ts`, independently of src/frame. The shells' rules (lost transports of",
    '§7.2, timers, the opening handshake over sockets) are tested in test/integration/.',
    '',
    'The last column counts the tests as written; loops and `it.each` run most of them once per side',
    'or per value.',
    '',
    ...table([
      ['section', 'file', 'tests'],
      ...entries.map(({ file, tree, sections }) => [
        sections.join(', ') || '—',
        `[${link(file)}](${link(file)})`,
        String(countTests(tree)),
      ]),
    ]),
    '',
  ];
  for (const { file, tree } of entries) {
    lines.push(`## [${link(file)}](${link(file)})`, '');
    renderTree(tree, 0, lines);
    lines.push('');
  }
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const path = join(root, README);
  const text = renderIndex();
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(path, 'utf8');
    } catch {}
    if (current !== text) {
      console.log(`${README} is out of date: run node scripts/test-index.mjs`);
      process.exitCode = 1;
    }
  } else {
    writeFileSync(path, text);
    console.log(`wrote ${README}`);
  }
}
