/**
 * Micro-benchmarks (single process): mask, UTF-8 validation, codec (decoder/encoder vs ws), and the
 * core's echo on cold connections.
 *   npx tsx bench/micro/run.ts [--quick] [--json] [--only mask,utf8,codec,cold]
 */
import { runCodec } from './codec.ts';
import { runCold } from './cold.ts';
import type { MicroResult } from './harness.ts';
import { runMask } from './mask.ts';
import { runUtf8 } from './utf8.ts';

const json = process.argv.includes('--json');
const ms = process.argv.includes('--quick') ? 60 : 250;
const notes: string[] = [];
const note = (m: string): void => {
  notes.push(m);
  if (json) process.stdout.write(`${JSON.stringify({ type: 'note', message: m })}\n`);
};

const all: MicroResult[] = [];
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt === -1 ? undefined : (process.argv[onlyAt + 1] ?? '').split(',');
const parts = { mask: runMask, utf8: runUtf8, codec: runCodec, cold: runCold };
for (const [name, part] of Object.entries(parts)) {
  if (only !== undefined && !only.includes(name)) continue;
  const rows = await part(ms, note);
  all.push(...rows);
  if (json) for (const r of rows) process.stdout.write(`${JSON.stringify({ type: 'micro', ...r })}\n`);
}
if (!json) {
  console.table(
    all.map((r) => ({
      group: r.group,
      impl: r.impl,
      size: r.size,
      'MB/s': Math.round(r.MBps),
      ...(r.opsPerSec !== undefined ? { 'ops/s': Math.round(r.opsPerSec) } : {}),
    })),
  );
  for (const n of notes) console.log(`NOTE: ${n}`);
}
