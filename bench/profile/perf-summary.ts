/**
 * Summarises Linux `perf` recordings of a server, side by side: where its CPU time went per unit of
 * work (a message, a handshake), by origin (the kernel, libc, libuv, Node's and V8's native code,
 * V8's builtins, the garbage collector and write barrier, and JavaScript by origin), and the
 * functions whose time differs most between the recordings.
 *
 *   perf script -i REC.jit.data -F ip,sym,dso > REC.txt          # after `perf inject --jit`
 *   npx tsx bench/profile/perf-summary.ts BASE.txt NEW.txt --units 100000 --hz 4000 [--top 30] [--share]
 *
 * `--units` is the work done in the recorded window (the fleet: connections × rate × seconds), `--hz`
 * the sampling frequency given to `perf record -F`: each sample stands for 1/hz s of one core, so the
 * tables are in µs per unit. With one file it lists that recording alone. `--share` gives each figure
 * as a percentage of its recording's total instead: when the host's speed changed between the
 * recordings, every origin moves with it, and shares compare better than times.
 *
 * Why this and not the totals of a benchmark: per-function sample counts of paired recordings move
 * much less than a whole run's CPU figure, which follows the state of the host. A change of 0.1 µs
 * per message is lost in the fleet's figure, and visible here (bench/README.md, "Profiling a regime",
 * tells how to record).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseFlags } from '../lib/args.ts';

const argv = process.argv.slice(2);
/** The flags that take a value; every other argument not starting with `--` is a recording. */
const VALUE_FLAGS = ['--units', '--hz', '--top'];
const files = argv.filter((a, i) => !a.startsWith('--') && !VALUE_FLAGS.includes(argv[i - 1] ?? ''));
if (files.length === 0) {
  console.error('usage: perf-summary.ts REC.txt [REC2.txt …] --units N --hz F [--top 30]');
  process.exit(2);
}
const flags = parseFlags(argv.filter((a) => !files.includes(a)));
const units = Number(flags.get('units') ?? 1);
const hz = Number(flags.get('hz') ?? 4000);
const top = Number(flags.get('top') ?? 30);
/** µs per unit that one sample stands for. */
const usPerSample = 1e6 / hz / units;

/** Where a sample's code comes from, from its symbol and the object it lies in. */
function origin(symbol: string, dso: string): string {
  if (dso.includes('kernel')) return 'kernel';
  if (/\blib(c|m|stdc\+\+|gcc_s)[.-]|ld-linux/.test(dso)) return 'libc';
  if (symbol.startsWith('JS:')) {
    if (symbol.includes(' node:')) return 'JavaScript: Node';
    if (/\/node_modules\/ws\//.test(symbol)) return 'JavaScript: ws';
    if (/\/(dist|src)\//.test(symbol) && !symbol.includes('/node_modules/')) return 'JavaScript: sockwire';
    return 'JavaScript: other';
  }
  // The write barrier's slow path (an old object given a pointer to a young one) and the collector.
  if (
    /RecordWrite|Scaveng|MarkCompact|Sweep|Marking|Evacuat|RememberedSet|SlotSet|Heap::|GCTracer/.test(symbol)
  )
    return 'GC and write barrier';
  if (/Builtin/.test(symbol)) return 'V8 builtins';
  if (/^uv_|^uv__/.test(symbol)) return 'libuv';
  if (symbol.includes('node::')) return 'Node native';
  if (symbol.includes('v8::')) return 'V8 native';
  if (/\.node$/.test(dso)) return 'native addons';
  return 'other';
}

interface Recording {
  name: string;
  byOrigin: Map<string, number>;
  bySymbol: Map<string, number>;
  samples: number;
}

function load(file: string): Recording {
  const recording: Recording = { name: basename(file), byOrigin: new Map(), bySymbol: new Map(), samples: 0 };
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    // `ip sym (dso)`: the address, the symbol (may contain spaces), the object in parentheses.
    const match = /^\s*[0-9a-f]+\s+(.*)\s+\((.*)\)\s*$/.exec(line);
    if (match === null) continue;
    const dso = match[2]!;
    const from = origin(match[1]!, dso);
    // The same function at another source position, or in another checkout, is the same function.
    const symbol = match[1]!
      .trim()
      .replace(/:\d+:\d+$/, '')
      .replace(/file:\/\/\S*?\/(dist|src|node_modules|bench)\//, '$1/');
    recording.byOrigin.set(from, (recording.byOrigin.get(from) ?? 0) + 1);
    const key = `${symbol} [${from}]`;
    recording.bySymbol.set(key, (recording.bySymbol.get(key) ?? 0) + 1);
    recording.samples++;
  }
  return recording;
}

const recordings = files.map(load);
const share = flags.has('share');
const width = Math.min(24, Math.max(8, ...recordings.map((r) => r.name.length)));
/** What `samples` of recording `r` stand for: µs per unit, or a share of the recording. */
const value = (samples: number | undefined, r: Recording): number =>
  share ? (samples ?? 0) / r.samples : (samples ?? 0) * usPerSample;
const cell = (samples: number | undefined, r: Recording): string =>
  (share ? `${(100 * value(samples, r)).toFixed(1)} %` : value(samples, r).toFixed(2)).padStart(width);
const row = (of: (r: Recording) => number | undefined): string =>
  recordings.map((r) => cell(of(r), r)).join(' ');
const header = recordings.map((r) => r.name.slice(-width).padStart(width)).join(' ');

console.log(share ? "share of each recording's samples" : `µs per unit (${units} units, ${hz} Hz)`);
console.log(`${header}  origin`);
console.log(`${row((r) => r.samples)}  total`);
const origins = [...new Set(recordings.flatMap((r) => [...r.byOrigin.keys()]))].sort(
  (a, b) => (recordings[0]!.byOrigin.get(b) ?? 0) - (recordings[0]!.byOrigin.get(a) ?? 0),
);
for (const o of origins) console.log(`${row((r) => r.byOrigin.get(o))}  ${o}`);

console.log('');
console.log(
  recordings.length < 2 ? `${header}  function` : `${header}  function (largest changes, last − first)`,
);
const symbols = [...new Set(recordings.flatMap((r) => [...r.bySymbol.keys()]))];
const [first, last] = [recordings[0]!, recordings.at(-1)!];
// One recording: the largest functions; several: the largest changes from the first to the last.
const rank = (key: string): number =>
  recordings.length < 2
    ? value(first.bySymbol.get(key), first)
    : Math.abs(value(last.bySymbol.get(key), last) - value(first.bySymbol.get(key), first));
symbols.sort((a, b) => rank(b) - rank(a));
for (const key of symbols.slice(0, top)) {
  console.log(`${row((r) => r.bySymbol.get(key))}  ${key.slice(0, 110)}`);
}
