/**
 * UTF-8 validation throughput: sockwire `isValidUtf8` (dist/frame/utf8.js) vs
 * `utf-8-validate` (native) and `buffer.isUtf8` (Node's simdutf).
 */
import { isUtf8 } from 'node:buffer';
import { createRequire } from 'node:module';
import { importDist, type MicroResult, measure, SIZES } from './harness.ts';

function textOf(size: number, mixed: boolean): Buffer {
  const unit = mixed ? 'héllo wörld — 日本語 テキスト 🎉 ' : 'hello world, plain ASCII text. ';
  let s = unit;
  while (Buffer.byteLength(s) < size * 2) s += s;
  // Trim to `size` bytes without splitting a code point.
  const b = Buffer.from(s);
  let end = Math.min(size, b.length);
  while (end > 0 && ((b[end] ?? 0) & 0xc0) === 0x80) end--;
  const out = Buffer.alloc(size, 0x20);
  b.copy(out, 0, 0, end);
  return out;
}

export async function runUtf8(ms: number, note: (m: string) => void): Promise<MicroResult[]> {
  const require = createRequire(import.meta.url);
  const native = require('utf-8-validate') as (b: Buffer) => boolean;
  const sw = await importDist<{ isValidUtf8?: (b: Uint8Array) => boolean }>('frame/utf8.js');
  const isValidUtf8 = typeof sw === 'string' ? undefined : sw.isValidUtf8;
  if (isValidUtf8 === undefined)
    note(`utf8: sockwire skipped — ${typeof sw === 'string' ? sw : 'no isValidUtf8 export'}`);

  const out: MicroResult[] = [];
  let sink = 0;
  for (const mixed of [false, true]) {
    const group = mixed ? 'utf8 (mixed 1–4 byte)' : 'utf8 (ASCII)';
    for (const size of SIZES) {
      const buf = textOf(size, mixed);
      if (!isUtf8(buf) || !native(buf)) throw new Error(`test input of ${size} B is not valid UTF-8`);
      if (isValidUtf8 !== undefined) {
        if (!isValidUtf8(buf)) note(`utf8: sockwire rejects valid ${group} input of ${size} B`);
        out.push({
          group,
          impl: 'sockwire',
          size,
          MBps: measure(() => (sink += +isValidUtf8(buf)), size, ms),
        });
      }
      out.push({
        group,
        impl: 'utf-8-validate',
        size,
        MBps: measure(() => (sink += +native(buf)), size, ms),
      });
      out.push({ group, impl: 'buffer.isUtf8', size, MBps: measure(() => (sink += +isUtf8(buf)), size, ms) });
    }
  }
  if (sink < 0) note('unreachable');
  return out;
}
