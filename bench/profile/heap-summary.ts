/**
 * What each connection keeps on the heap: compares two V8 heap snapshots of the same server
 * process, before any connection and with N connections (written by `bench/run.ts
 * --heap-snapshot-dir DIR` in the idle and fleet scenarios), and lists per connection the objects
 * added, by constructor (objects) or by V8 node type (arrays, strings, closures, code…), with
 * their count and self size.
 *
 *   npx tsx bench/profile/heap-summary.ts BEFORE.heapsnapshot AFTER.heapsnapshot --conns N [--top 25] [--markdown]
 *       [--detail '(array)']   # who holds the nodes of one key: Owner.edge, per connection
 *       [--fields Driver]      # the fields of one object of that class in AFTER: what each holds
 *
 * Self size only (the bytes of the object itself; a Buffer's backing store lives outside the V8
 * heap and shows in RSS and `arrayBuffers`, not here).
 *
 * `--fields` shows where an object's bytes go: one line per field that holds a reference (8 B each
 * in Node's V8, built without pointer compression; a small integer is stored in its field and
 * does not show). It is how two hidden costs were found: a field named after a class
 * that holds a `system / Context` is the brand V8 adds to instances of classes with `#` methods, and
 * an `_events` holding a `(array)` of properties is a listener table in dictionary mode.
 */
import { readFileSync } from 'node:fs';
import { parseFlags } from '../lib/args.ts';

interface Snapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
      edge_types: [string[], ...unknown[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

interface Tally {
  count: number;
  bytes: number;
}

/** A parsed snapshot with the positions of the node and edge fields it uses. */
interface Parsed {
  snap: Snapshot;
  types: string[];
  edgeTypes: string[];
  /** Numbers per node and per edge. */
  width: number;
  edgeWidth: number;
  iType: number;
  iName: number;
  iSize: number;
  iCount: number;
  iEdgeType: number;
  iEdgeName: number;
  iTo: number;
}

function parse(file: string): Parsed {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const ef = snap.snapshot.meta.edge_fields;
  return {
    snap,
    types: snap.snapshot.meta.node_types[0],
    edgeTypes: snap.snapshot.meta.edge_types[0],
    width: fields.length,
    edgeWidth: ef.length,
    iType: fields.indexOf('type'),
    iName: fields.indexOf('name'),
    iSize: fields.indexOf('self_size'),
    iCount: fields.indexOf('edge_count'),
    iEdgeType: ef.indexOf('type'),
    iEdgeName: ef.indexOf('name_or_index'),
    iTo: ef.indexOf('to_node'),
  };
}

/**
 * Count and self size of the snapshot's nodes, keyed by constructor (objects) or `(type)`; with
 * `detail`, the nodes of that key are keyed instead by who holds them: `Owner.edge` of each
 * referencing edge (an object held from two places counts in both).
 */
function tally(file: string, detail?: string): Map<string, Tally> {
  const parsed = parse(file);
  const { snap, types, edgeTypes, width, edgeWidth: ew, iType, iName, iSize, iCount } = parsed;
  const { iEdgeType, iEdgeName, iTo } = parsed;
  const out = new Map<string, Tally>();
  const keys: string[] = [];
  const nodes = snap.nodes;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + iType] as number] ?? '?';
    const name = snap.strings[nodes[i + iName] as number] ?? '?';
    // Objects by constructor; closures by function name; the rest by V8's node type.
    const key =
      type === 'object'
        ? name
        : type === 'closure'
          ? `(closure ${name || 'anonymous'})`
          : type === 'native'
            ? `(native ${name})`
            : `(${type})`;
    if (detail !== undefined) {
      keys.push(key);
      continue;
    }
    const t = out.get(key) ?? { count: 0, bytes: 0 };
    t.count++;
    t.bytes += nodes[i + iSize] as number;
    out.set(key, t);
  }
  if (detail === undefined) return out;
  // Walk every edge: node k owns edge_count(k) consecutive edges.
  let e = 0;
  for (let k = 0; k < keys.length; k++) {
    const owner = keys[k] as string;
    const count = nodes[k * width + iCount] as number;
    for (let j = 0; j < count; j++, e += ew) {
      const to = (snap.edges[e + iTo] as number) / width;
      if (keys[to] !== detail) continue;
      const et = edgeTypes[snap.edges[e + iEdgeType] as number];
      if (et === 'weak') continue;
      const nameOrIndex = snap.edges[e + iEdgeName] as number;
      const edge =
        et === 'element' || et === 'hidden' ? `[${et}]` : (snap.strings[nameOrIndex] ?? String(nameOrIndex));
      const key = `${owner}.${edge}`;
      const t = out.get(key) ?? { count: 0, bytes: 0 };
      t.count++;
      t.bytes += nodes[to * width + iSize] as number;
      out.set(key, t);
    }
  }
  return out;
}

/** The fields of the first object named `name` in the snapshot: `edge → target (self size)`, one per line. */
function fieldsOf(file: string, name: string): string[] {
  const parsed = parse(file);
  const { snap, types, edgeTypes, width, edgeWidth: ew, iType, iName, iSize, iCount } = parsed;
  const { iEdgeType, iEdgeName, iTo } = parsed;
  const label = (node: number): string =>
    `${snap.strings[snap.nodes[node * width + iName] as number]} (${snap.nodes[node * width + iSize]} B)`;
  let e = 0;
  for (let k = 0; k * width < snap.nodes.length; k++) {
    const count = snap.nodes[k * width + iCount] as number;
    const isMatch =
      types[snap.nodes[k * width + iType] as number] === 'object' &&
      snap.strings[snap.nodes[k * width + iName] as number] === name;
    if (!isMatch) {
      e += count * ew;
      continue;
    }
    const lines = [`${label(k)}:`];
    for (let j = 0; j < count; j++, e += ew) {
      const et = edgeTypes[snap.edges[e + iEdgeType] as number];
      if (et === 'weak' || et === 'internal') continue;
      const nameOrIndex = snap.edges[e + iEdgeName] as number;
      const edge = et === 'element' || et === 'hidden' ? `[${et}]` : (snap.strings[nameOrIndex] ?? '?');
      lines.push(`  ${edge} → ${label((snap.edges[e + iTo] as number) / width)}`);
    }
    return lines;
  }
  return [`no object named ${name}`];
}

const argv = process.argv.slice(2);
const files = argv.filter((a, i) => !a.startsWith('--') && !(argv[i - 1] ?? '').startsWith('--'));
const [beforeFile, afterFile] = files;
if (beforeFile === undefined || afterFile === undefined) {
  console.error(
    'usage: heap-summary.ts BEFORE.heapsnapshot AFTER.heapsnapshot --conns N [--top N] [--markdown]',
  );
  process.exit(2);
}
const flags = parseFlags(argv);
const fieldsName = flags.get('fields');
if (fieldsName !== undefined) {
  console.log(fieldsOf(afterFile, fieldsName).join('\n'));
  process.exit(0);
}
const conns = Number(flags.get('conns') ?? 1);
const top = Number(flags.get('top') ?? 25);
const detail = flags.get('detail');
const before = tally(beforeFile, detail);
const after = tally(afterFile, detail);
const rows: Array<[string, number, number]> = [];
let totalBytes = 0;
for (const [k, a] of after) {
  const b = before.get(k) ?? { count: 0, bytes: 0 };
  const dc = (a.count - b.count) / conns;
  const db = (a.bytes - b.bytes) / conns;
  totalBytes += db;
  rows.push([k, dc, db]);
}
rows.sort((x, y) => y[2] - x[2]);
if (flags.has('markdown')) {
  console.log(`Self size added per connection: ${totalBytes.toFixed(0)} B (${conns} connections).\n`);
  console.log('| constructor / type | objects per conn | bytes per conn |\n|---|---|---|');
  for (const [k, dc, db] of rows.slice(0, top))
    console.log(`| \`${k}\` | ${dc.toFixed(2)} | ${db.toFixed(0)} |`);
} else {
  console.log(`self size added per connection: ${totalBytes.toFixed(0)} B over ${conns} connections`);
  for (const [k, dc, db] of rows.slice(0, top))
    console.log(`  ${db.toFixed(0).padStart(6)} B  ${dc.toFixed(2).padStart(6)} ×  ${k}`);
}
