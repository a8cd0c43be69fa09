#!/usr/bin/env node
/**
 * Finds import cycles among src/**\/*.ts: static imports and re-exports, type-only ones included,
 * since a cycle of types still ties two modules' designs together. The layers must stay a graph a
 * reader can walk from the bottom up (the core, then the WebSocket, then the server and client).
 *
 * Usage: node scripts/check-cycles.mjs [dir]   (exit status 1 and one line per cycle)
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s+['"](\.{1,2}\/[^'"]+)['"]|(?:^|\n)\s*import\s+['"](\.{1,2}\/[^'"]+)['"]/g;

function tsFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? tsFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Every cycle under `srcDir`, each as a list of paths relative to it (the first repeated last). */
export function findCycles(srcDir) {
  const root = resolve(srcDir);
  const files = new Set(tsFiles(root));
  const graph = new Map();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const deps = [];
    for (const match of text.matchAll(IMPORT)) {
      const target = resolve(dirname(file), match[1] ?? match[2]);
      if (files.has(target)) deps.push(target);
    }
    graph.set(file, deps);
  }
  const cycles = [];
  const seen = new Set();
  const state = new Map(); // 1: on the current path, 2: done
  const path = [];
  const visit = (file) => {
    state.set(file, 1);
    path.push(file);
    for (const dep of graph.get(file)) {
      if (state.get(dep) === 1) {
        const cycle = path.slice(path.indexOf(dep)).map((p) => relative(root, p));
        const key = [...cycle].sort().join('\n');
        if (!seen.has(key)) {
          seen.add(key);
          cycles.push([...cycle, relative(root, dep)]);
        }
      } else if (!state.has(dep)) {
        visit(dep);
      }
    }
    path.pop();
    state.set(file, 2);
  };
  for (const file of files) if (!state.has(file)) visit(file);
  return cycles;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const srcDir = process.argv[2] ?? fileURLToPath(new URL('../src', import.meta.url));
  const cycles = findCycles(srcDir);
  for (const cycle of cycles) console.log(`import cycle: ${cycle.join(' -> ')}`);
  process.exitCode = cycles.length === 0 ? 0 : 1;
}
