/**
 * Summarises an allocation profile written by `bench/run.ts --alloc-profile-dir DIR` (V8's sampling
 * heap profiler over the measured window, collected objects included): bytes allocated by
 * function (self) and by origin, per message when `--msgs N` is given (the runner prints N).
 *
 *   npx tsx bench/profile/alloc-summary.ts FILE.heapprofile [--msgs N] [--top 25] [--markdown]
 *
 * Sampled, so small sites are estimates: a site's bytes are the sum of its samples' sizes, each
 * sample standing for about one sampling interval of allocation.
 */
import { readFileSync } from 'node:fs';
import { parseFlags } from '../lib/args.ts';

interface AllocNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: AllocNode[];
}

const argv = process.argv.slice(2);
const file = argv.find((a, i) => !a.startsWith('--') && !(argv[i - 1] ?? '').startsWith('--'));
if (file === undefined) {
  console.error('usage: alloc-summary.ts FILE.heapprofile [--msgs N] [--top N] [--markdown]');
  process.exit(2);
}
const flags = parseFlags(argv);
const msgs = Number(flags.get('msgs') ?? 0);
const top = Number(flags.get('top') ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as { head: AllocNode };

function origin(url: string, name: string): string {
  if (url === '') return name.startsWith('(') ? name : 'native';
  if (url.startsWith('node:')) return 'node internals';
  if (/\/node_modules\/ws\//.test(url)) return 'ws';
  if (/\/node_modules\//.test(url)) return 'other packages';
  if (/\/bench\//.test(url)) return 'bench harness';
  return 'sockwire';
}
const shortUrl = (u: string): string =>
  u
    .replace(/^file:\/\//, '')
    .replace(/^.*\/node_modules\//, '')
    .replace(/^.*\/(dist|h15dist|src|bench)\//, '$1/');

const byFn = new Map<string, { bytes: number; origin: string; via: Map<string, number> }>();
const byOrigin = new Map<string, number>();
let total = 0;
/** `parent` is the caller's name: for a Node-internal allocation, who in the library asked for it. */
function walk(n: AllocNode, libCaller: string): void {
  const { functionName, url, lineNumber } = n.callFrame;
  const o = origin(url, functionName);
  const name = functionName === '' ? '(anonymous)' : functionName;
  const here = url === '' ? name : `${name} ${shortUrl(url)}:${lineNumber + 1}`;
  const caller = o === 'sockwire' || o === 'ws' || o === 'bench harness' ? here : libCaller;
  if (n.selfSize > 0) {
    total += n.selfSize;
    byOrigin.set(o, (byOrigin.get(o) ?? 0) + n.selfSize);
    const cur = byFn.get(here) ?? { bytes: 0, origin: o, via: new Map() };
    cur.bytes += n.selfSize;
    cur.via.set(caller, (cur.via.get(caller) ?? 0) + n.selfSize);
    byFn.set(here, cur);
  }
  for (const c of n.children) walk(c, caller);
}
walk(profile.head, '(root)');

const fmt = (b: number): string =>
  msgs > 0 ? `${(b / msgs).toFixed(0)} B/msg` : `${(b / 1e6).toFixed(2)} MB`;
const fns = [...byFn].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top);
const mainVia = (via: Map<string, number>): string =>
  [...via]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 2)
    .map(([k, v]) => `${k} (${fmt(v)})`)
    .join('; ');
if (flags.has('markdown')) {
  console.log(`Allocated in the window: ${fmt(total)}${msgs > 0 ? ` (${msgs} messages)` : ''}.\n`);
  console.log('| origin | allocated |\n|---|---|');
  for (const [o, b] of [...byOrigin].sort((a, b) => b[1] - a[1])) console.log(`| ${o} | ${fmt(b)} |`);
  console.log(
    '\n| allocating function | origin | allocated | reached from (library frame) |\n|---|---|---|---|',
  );
  for (const [k, v] of fns) console.log(`| \`${k}\` | ${v.origin} | ${fmt(v.bytes)} | ${mainVia(v.via)} |`);
} else {
  console.log(`allocated in the window: ${fmt(total)}`);
  for (const [o, b] of [...byOrigin].sort((a, b) => b[1] - a[1]))
    console.log(`  ${fmt(b).padStart(12)}  ${o}`);
  for (const [k, v] of fns)
    console.log(`  ${fmt(v.bytes).padStart(12)}  ${k}  [${v.origin}]  ← ${mainVia(v.via)}`);
}
