/**
 * Static check against ReDoS: no regular expression in src/ may contain a quantified group whose body
 * is itself quantified (`(a+)+`, `(a*)*`, `(?:ab+)*`, `(a+){2,}`), the shape that makes a backtracking
 * engine take exponential time on a crafted header value. Regex literals and `new RegExp('…')`/
 * `RegExp('…')` string arguments are found with the TypeScript scanner, so comments and divisions are
 * not mistaken for patterns.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '..', '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The regex sources in a file: literals, and string literals passed to RegExp. */
function regexSources(path: string): { pattern: string; line: number }[] {
  const text = readFileSync(path, 'utf8');
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const found: { pattern: string; line: number }[] = [];
  const visit = (node: ts.Node): void => {
    const line = file.getLineAndCharacterOfPosition(node.getStart()).line + 1;
    if (ts.isRegularExpressionLiteral(node)) {
      const literal = node.text;
      found.push({ pattern: literal.slice(1, literal.lastIndexOf('/')), line });
    } else if (
      (ts.isNewExpression(node) || ts.isCallExpression(node)) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === 'RegExp'
    ) {
      const first = node.arguments?.[0];
      if (first !== undefined && (ts.isStringLiteral(first) || ts.isNoSubstitutionTemplateLiteral(first))) {
        found.push({ pattern: first.text, line });
      } else if (first !== undefined) {
        found.push({ pattern: `<dynamic: ${first.getText(file)}>`, line });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

/**
 * Whether `pattern` has a group that is quantified (`*`, `+`, `{n,}`, `{n,m}` with m > 1) and whose
 * body contains an unbounded quantifier outside character classes.
 */
function hasNestedQuantifier(pattern: string): boolean {
  /** For each open group: whether an unbounded quantifier was seen inside it. */
  const stack: boolean[] = [];
  let inClass = false;
  const quantifierAt = (i: number): number => {
    // Length of the quantifier starting at i that can repeat more than once, or 0.
    const c = pattern[i];
    if (c === '*' || c === '+') return 1;
    if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
      if (m === null) return 0;
      const max = m[2] === undefined ? Number(m[1]) : m[3] === '' ? Number.POSITIVE_INFINITY : Number(m[3]);
      return max > 1 ? m[0].length : 0;
    }
    return 0;
  };
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
    } else if (c === '(') {
      stack.push(false);
    } else if (c === ')') {
      const innerQuantified = stack.pop() ?? false;
      if (innerQuantified && quantifierAt(i + 1) > 0) return true;
      // The group as a whole is a quantified item inside its parent when followed by a quantifier.
      if ((innerQuantified || quantifierAt(i + 1) > 0) && stack.length > 0) stack[stack.length - 1] = true;
    } else if (quantifierAt(i) > 0 && stack.length > 0) {
      stack[stack.length - 1] = true;
    }
  }
  return false;
}

describe('no ReDoS-prone regular expressions in src/', () => {
  it('the detector flags nested quantifiers and only them', () => {
    for (const bad of [
      '(a+)+',
      '(a*)*',
      '(?:ab+)*',
      '(a+){2,}',
      'x(?:[a-z]+\\s*)+y',
      '((a)+)+',
      '(\\w+,?)*$',
    ]) {
      expect(hasNestedQuantifier(bad), bad).toBe(true);
    }
    for (const good of [
      '(ab)+',
      '[a+]+',
      'a+b*',
      '(a|b)?',
      '\\(a+\\)+',
      '(a+)?',
      '(a+){1}',
      '^\\d+$',
      '[(+]+',
    ]) {
      expect(hasNestedQuantifier(good), good).toBe(false);
    }
  });

  it('src/ has none (and no RegExp built from a dynamic string)', () => {
    const offenders: string[] = [];
    let checked = 0;
    for (const path of sourceFiles(SRC)) {
      for (const { pattern, line } of regexSources(path)) {
        checked++;
        if (pattern.startsWith('<dynamic') || hasNestedQuantifier(pattern)) {
          offenders.push(`${relative(SRC, path)}:${line}: /${pattern}/`);
        }
      }
    }
    expect(offenders).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(0);
  });
});
