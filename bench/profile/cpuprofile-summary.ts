/**
 * Summarises a `.cpuprofile` written by `node --cpu-prof` (e.g. a server run by
 * `bench/run.ts --server-flags "--cpu-prof --cpu-prof-dir=DIR"`): where the busy time went, by
 * origin (the library under test, ws, Node internals, GC, native) and the functions with the most
 * self time.
 *
 *   npx tsx bench/profile/cpuprofile-summary.ts FILE.cpuprofile [--window A-B] [--top 25] [--markdown]
 *
 * `--window A-B` keeps only the samples between A and B (µs of CLOCK_MONOTONIC, V8's profile clock),
 * as printed by the runner ("profile window: … --window A-B") for the measured window, so loading,
 * connecting and the memory probes are left out.
 * Self time of a node = the sum of its samples' intervals; `(idle)` is left out of the
 * percentages, so they are shares of the time the process was busy.
 */
import { readFileSync } from 'node:fs';
import { parseFlags } from '../lib/args.ts';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const argv = process.argv.slice(2);
const file = argv.find((a) => !a.startsWith('--'));
if (file === undefined) {
  console.error('usage: cpuprofile-summary.ts FILE.cpuprofile [--top N] [--markdown]');
  process.exit(2);
}
const flags = parseFlags(argv.filter((a) => a !== file));
const top = Number(flags.get('top') ?? 25);
const markdown = flags.has('markdown');

const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const [from, to] = (flags.get('window') ?? `${profile.startTime}-${profile.endTime}`)
  .split('-')
  .map(Number) as [number, number];
// Each sample's time slice is the delta to the next sample; attribute it to the sample.
const hits = new Map<number, number>();
let t = profile.startTime;
let totalUs = 0;
for (let i = 0; i < profile.samples.length; i++) {
  t += profile.timeDeltas[i] ?? 0;
  if (t < from || t > to) continue;
  const dt = profile.timeDeltas[i + 1] ?? 0;
  const id = profile.samples[i] as number;
  hits.set(id, (hits.get(id) ?? 0) + dt);
  totalUs += dt;
}
const totalMs = totalUs / 1000;
const US_TO_MS = 1 / 1000; // hits hold µs

/** Where a function comes from, from its script URL. */
function origin(f: CallFrame): string {
  const u = f.url;
  if (u === '') {
    if (f.functionName === '(garbage collector)') return 'GC';
    if (f.functionName === '(idle)') return 'idle';
    if (f.functionName === '(program)') return 'program (native, unattributed)';
    return 'native';
  }
  if (u.startsWith('node:')) return 'node internals';
  if (/\/node_modules\/ws\//.test(u)) return 'ws';
  if (/\/node_modules\//.test(u)) return 'other packages';
  if (/\/bench\//.test(u)) return 'bench harness';
  return 'sockwire';
}

function shortUrl(u: string): string {
  return u
    .replace(/^file:\/\//, '')
    .replace(/^.*\/node_modules\//, '')
    .replace(/^.*\/(dist|h15dist|src|bench)\//, '$1/');
}

const byOrigin = new Map<string, number>();
const byFn = new Map<string, { ms: number; origin: string }>();
for (const n of profile.nodes) {
  const h = hits.get(n.id) ?? 0;
  if (h === 0) continue;
  const ms = h * US_TO_MS;
  const o = origin(n.callFrame);
  byOrigin.set(o, (byOrigin.get(o) ?? 0) + ms);
  const name = n.callFrame.functionName === '' ? '(anonymous)' : n.callFrame.functionName;
  const key =
    n.callFrame.url === '' ? name : `${name} ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  const cur = byFn.get(key) ?? { ms: 0, origin: o };
  cur.ms += ms;
  byFn.set(key, cur);
}
const idleMs = byOrigin.get('idle') ?? 0;
const busyMs = totalMs - idleMs;
const pct = (ms: number): string => `${((ms / busyMs) * 100).toFixed(1)} %`;

const origins = [...byOrigin].filter(([o]) => o !== 'idle').sort((a, b) => b[1] - a[1]);
const fns = [...byFn].filter(([, v]) => v.origin !== 'idle').sort((a, b) => b[1].ms - a[1].ms);

if (markdown) {
  console.log(
    `Profile ${totalMs.toFixed(0)} ms, busy ${busyMs.toFixed(0)} ms (${((busyMs / totalMs) * 100).toFixed(0)} %).\n`,
  );
  console.log('| origin | self ms | share of busy |\n|---|---|---|');
  for (const [o, ms] of origins) console.log(`| ${o} | ${ms.toFixed(0)} | ${pct(ms)} |`);
  console.log(
    `\n| function (top ${top} by self time) | origin | self ms | share of busy |\n|---|---|---|---|`,
  );
  for (const [k, v] of fns.slice(0, top))
    console.log(`| \`${k}\` | ${v.origin} | ${v.ms.toFixed(0)} | ${pct(v.ms)} |`);
} else {
  console.log(`profile ${totalMs.toFixed(0)} ms, busy ${busyMs.toFixed(0)} ms`);
  for (const [o, ms] of origins) console.log(`  ${pct(ms).padStart(7)}  ${o}`);
  console.log(`top ${top} functions by self time:`);
  for (const [k, v] of fns.slice(0, top)) console.log(`  ${pct(v.ms).padStart(7)}  ${k}  [${v.origin}]`);
}
