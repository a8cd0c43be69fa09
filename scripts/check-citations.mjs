#!/usr/bin/env node
/**
 * Keeps section citations greppable. In this repository a bare `§5.5.1` means RFC 6455; every other
 * RFC is always named next to its section (`RFC 7692 §7.2.1`), so that a grep for an RFC 6455
 * section never lands in compression or HTTP/2 code. Two rules, checked over src/:
 *
 * 1. In code about another RFC (src/extensions/, src/http2/) every section is named, even RFC 6455's
 *    (`RFC 6455 §7.4.1`): a reader of those files cannot tell a bare § from the file's own RFC.
 * 2. Anywhere, once a line names another RFC, a later bare § on that line is ambiguous
 *    (`RFC 7692 §5 and §7.1`): name the RFC again. `§8.1 of RFC 7692` is written `RFC 7692 §8.1`.
 *
 * Usage: node scripts/check-citations.mjs [dir]   (exit status 1 and one line per finding)
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const NAMED = /RFC \d{4} §$/;
const ALWAYS_NAMED_DIRS = [`extensions${sep}`, `http2${sep}`];

/** The findings for one file's text; `path` is relative to src/. */
export function checkCitations(path, text) {
  const findings = [];
  const alwaysNamed = ALWAYS_NAMED_DIRS.some(
    (dir) => path.startsWith(dir) || path.startsWith(dir.replace(sep, '/')),
  );
  text.split('\n').forEach((line, index) => {
    let otherRfcSeen = false;
    for (let at = line.indexOf('§'); at !== -1; at = line.indexOf('§', at + 1)) {
      const before = line.slice(0, at + 1);
      const named = NAMED.test(before);
      const rfc = named ? /RFC (\d{4}) §$/.exec(before)[1] : null;
      const after = line.slice(at + 1, at + 40);
      let problem = null;
      if (!named && /^[\d.]+ of RFC \d{4}/.test(after)) {
        problem = 'write `RFC nnnn §x`, not `§x of RFC nnnn`';
      } else if (!named && alwaysNamed) {
        problem = 'in src/extensions and src/http2 every section names its RFC (`RFC 6455 §…` too)';
      } else if (!named && otherRfcSeen) {
        problem = 'a bare § after another RFC on the same line is ambiguous: name the RFC again';
      }
      if (problem !== null) findings.push(`src/${path}:${index + 1}: ${problem}: ${line.trim()}`);
      if (rfc !== null && rfc !== '6455') otherRfcSeen = true;
      else if (rfc === '6455') otherRfcSeen = false;
    }
  });
  return findings;
}

function tsFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? tsFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Every finding under `srcDir`. */
export function checkTree(srcDir) {
  return tsFiles(srcDir).flatMap((file) =>
    checkCitations(relative(srcDir, file), readFileSync(file, 'utf8')),
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const srcDir = process.argv[2] ?? fileURLToPath(new URL('../src', import.meta.url));
  const findings = checkTree(srcDir);
  for (const finding of findings) console.log(finding);
  process.exitCode = findings.length === 0 ? 0 : 1;
}
