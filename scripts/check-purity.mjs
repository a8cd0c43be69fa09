#!/usr/bin/env node
/**
 * Keeps the protocol core pure, as an allow-list (docs/architecture.md: "bytes in, events and bytes
 * out"; no sockets, no timers, no randomness, no clock). A file of the core may import only:
 *
 * - relative modules inside the core: src/frame/, src/handshake/, src/connection/, src/protocol/,
 *   the pure files beside the shells (PURE_FILES), src/errors.ts and src/defaults.ts, all of them
 *   checked by the same rules;
 * - `node:buffer`, the one Node module the core uses: `Buffer.allocUnsafe` takes small arrays from
 *   Node's 8 KiB pool instead of a fresh ArrayBuffer per frame, and `isUtf8` is the native UTF-8
 *   check. Both are pure functions of their bytes (no I/O, no time, no randomness).
 *
 * and it may not reach the outside world through a global: no timers (`setTimeout`, `setInterval`,
 * `setImmediate`, `queueMicrotask`, `process.nextTick`), no `process`, no `crypto` or
 * `globalThis`/`global`/`self`/`window` (randomness and SHA-1 are injected), no `Math.random`, no clock
 * (`Date`, `performance`), no `require`, no `import()` of anything but an allowed module.
 *
 * The pure files that live beside the shells (permessage-deflate negotiation, the RFC 8441 handshake)
 * follow the same rules. src/errors.ts and src/defaults.ts, imported by the core and the shells alike,
 * may in addition import types from `node:` modules (`import type` is erased: nothing runs).
 *
 * Usage: node scripts/check-purity.mjs [srcDir]   (exit status 1 and one line per finding)
 * Run by `npm run lint` and by test/lint/purity.test.ts (so `npm test` runs it too).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** Directories (relative to src/) whose every file is core. */
export const CORE_DIRS = ['frame', 'handshake', 'connection', 'protocol'];
/** Single files the core may import; they follow the core's rules, with type imports from node: allowed. */
export const SHARED = ['errors.ts', 'defaults.ts'];
/** Pure files outside the core directories: same rules as the core. */
export const PURE_FILES = ['extensions/permessage-deflate/negotiation.ts', 'http2/handshake.ts'];
/** The only non-relative modules a pure file may import, each with its reason (see the header). */
export const ALLOWED_MODULES = new Map([
  [
    'node:buffer',
    'Buffer.allocUnsafe (pooled allocation) and isUtf8 (native check) are pure functions of bytes',
  ],
]);

/** Globals that reach time, randomness, the process or the host; a pure file never names them. */
const FORBIDDEN_GLOBALS = new Map([
  [
    'setTimeout',
    'the core never owns timers: return what to wait for and let the shell (src/websocket/) set the timer',
  ],
  ['setInterval', 'the core never owns timers: let the shell set the timer'],
  ['setImmediate', 'the core never owns timers: let the shell schedule the work'],
  ['clearTimeout', 'the core never owns timers: let the shell clear the timer'],
  ['clearInterval', 'the core never owns timers: let the shell clear the timer'],
  ['clearImmediate', 'the core never owns timers: let the shell clear the timer'],
  ['queueMicrotask', 'the core never defers work: return the result and let the caller decide when to act'],
  ['process', 'the core never touches the process (process.nextTick, env, hrtime): the shell does'],
  ['crypto', 'randomness and hashing are injected into the core (generateMaskKey, sha1 options)'],
  ['globalThis', 'the core reaches nothing through the global object: take what it needs as an argument'],
  ['global', 'the core reaches nothing through the global object: take what it needs as an argument'],
  ['self', 'the core reaches nothing through the global object: take what it needs as an argument'],
  ['window', 'the core reaches nothing through the global object: take what it needs as an argument'],
  ['Date', 'the core never reads the clock: the shell passes times in when a rule needs one'],
  ['performance', 'the core never reads the clock: the shell passes times in when a rule needs one'],
  ['require', 'import the module statically, from the allow-list'],
]);

/** `Math.random` and the like: a member of an allowed global that is not pure. */
const FORBIDDEN_MEMBERS = new Map([
  ['Math.random', 'randomness is injected into the core (generateMaskKey)'],
]);

/** How a path under src/ is checked: 'core', 'shared', or null when it is a shell's. */
export function kindOf(path) {
  const posix = path.split(sep).join('/');
  if (SHARED.includes(posix)) return 'shared';
  if (PURE_FILES.includes(posix)) return 'core';
  if (CORE_DIRS.some((dir) => posix.startsWith(`${dir}/`))) return 'core';
  return null;
}

/** Whether a path under src/ (posix) is a module a pure file may import: another pure file. */
function isAllowedTarget(posix) {
  return kindOf(posix) !== null;
}

/**
 * The findings for one file's text. `path` is relative to src/ (e.g. `frame/decoder.ts`).
 * @returns one line per violation, each saying what to do instead; empty when the file is pure.
 */
export function checkPurity(path, text) {
  const kind = kindOf(path);
  if (kind === null) return [];
  const posixPath = path.split(sep).join('/');
  const source = ts.createSourceFile(posixPath, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const findings = [];
  const report = (node, problem) => {
    const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
    findings.push(`src/${posixPath}:${line + 1}: ${problem}`);
  };

  const checkSpecifier = (node, specifier, typeOnly) => {
    if (specifier.startsWith('.')) {
      const target = join(dirname(posixPath), specifier).split(sep).join('/');
      if (!isAllowedTarget(target)) {
        report(
          node,
          `imports '${specifier}' (src/${target}), outside the core: the core may import only src/{${CORE_DIRS.join(',')}}/, ${PURE_FILES.map((file) => `src/${file}`).join(', ')}, src/errors.ts and src/defaults.ts; move the logic into the core or inject it from the shell`,
        );
      }
      return;
    }
    if (ALLOWED_MODULES.has(specifier)) return;
    if (typeOnly && kind === 'shared' && specifier.startsWith('node:')) return;
    report(
      node,
      `imports '${specifier}': the core imports no package and no Node module but ${[...ALLOWED_MODULES.keys()].join(', ')} (scripts/check-purity.mjs says why); inject what it needs from the shell`,
    );
  };

  const visit = (node) => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) {
      const specifier = node.moduleSpecifier;
      if (specifier !== undefined && ts.isStringLiteral(specifier)) {
        const typeOnly = ts.isImportDeclaration(node)
          ? node.importClause?.isTypeOnly === true
          : node.isTypeOnly === true;
        checkSpecifier(node, specifier.text, typeOnly);
      }
    } else if (ts.isImportEqualsDeclaration(node)) {
      report(node, '`import … = require(…)`: use a static import from the allow-list');
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      if (argument !== undefined && ts.isStringLiteralLike(argument))
        checkSpecifier(node, argument.text, false);
      else
        report(
          node,
          'import() of a computed module: the core imports only fixed modules from the allow-list',
        );
    } else if (ts.isImportTypeNode(node)) {
      const argument = node.argument;
      if (ts.isLiteralTypeNode(argument) && ts.isStringLiteral(argument.literal)) {
        checkSpecifier(node, argument.literal.text, true);
      }
    } else if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression)) {
      const member = `${node.expression.text}.${node.name.text}`;
      const why = FORBIDDEN_MEMBERS.get(member);
      if (why !== undefined) report(node, `uses ${member}: ${why}`);
    } else if (ts.isIdentifier(node) && FORBIDDEN_GLOBALS.has(node.text) && isGlobalReference(node)) {
      report(node, `uses the global \`${node.text}\`: ${FORBIDDEN_GLOBALS.get(node.text)}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return findings;
}

/**
 * Whether an identifier reads a variable (which, for the names checked, is the global): not a
 * property name (`x.process`, `{ process: 1 }`, an interface member), not a declaration's name.
 */
function isGlobalReference(node) {
  const parent = node.parent;
  if (parent === undefined) return true;
  if (ts.isPropertyAccessExpression(parent) && parent.name === node) return false;
  if (ts.isQualifiedName(parent) && parent.right === node) return false;
  if (
    (ts.isPropertyAssignment(parent) ||
      ts.isPropertyDeclaration(parent) ||
      ts.isPropertySignature(parent) ||
      ts.isMethodDeclaration(parent) ||
      ts.isMethodSignature(parent) ||
      ts.isGetAccessorDeclaration(parent) ||
      ts.isSetAccessorDeclaration(parent) ||
      ts.isEnumMember(parent)) &&
    parent.name === node
  ) {
    return false;
  }
  if (ts.isBindingElement(parent) && parent.propertyName === node) return false;
  if (ts.isImportSpecifier(parent) || ts.isExportSpecifier(parent)) return false;
  return true;
}

function tsFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? tsFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Every finding under `srcDir`. */
export function checkTree(srcDir) {
  return tsFiles(srcDir).flatMap((file) => checkPurity(relative(srcDir, file), readFileSync(file, 'utf8')));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const srcDir = resolve(process.argv[2] ?? fileURLToPath(new URL('../src', import.meta.url)));
  const findings = checkTree(srcDir);
  for (const finding of findings) console.log(finding);
  if (findings.length > 0) {
    console.log(
      `${findings.length} purity violation(s): the core must stay free of I/O (scripts/check-purity.mjs)`,
    );
  }
  process.exitCode = findings.length === 0 ? 0 : 1;
}
