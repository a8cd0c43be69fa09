/**
 * Masking throughput: sockwire `applyMask` (dist/frame/mask.js) vs the native
 * `bufferutil` mask and ws's JS fallback (`_mask` from ws/lib/buffer-util.js).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { importDist, type MicroResult, measure, requireWsPureJs, SIZES } from './harness.ts';

type MaskFn = (source: Buffer, mask: Buffer, output: Buffer, offset: number, length: number) => void;

export async function runMask(ms: number, note: (m: string) => void): Promise<MicroResult[]> {
  const require = createRequire(import.meta.url);
  const native = (require('bufferutil') as { mask: MaskFn }).mask;
  // ws does not export lib/ from its package map, so its JS mask is loaded by path.
  const wsJsPath = join(dirname(require.resolve('ws/package.json')), 'lib', 'buffer-util.js');
  const wsJs = requireWsPureJs<{ mask: MaskFn }>(require, wsJsPath).mask;

  const sw = await importDist<{ applyMask?: (d: Uint8Array, k: Uint8Array, o?: number) => void }>(
    'frame/mask.js',
  );
  const applyMask = typeof sw === 'string' ? undefined : sw.applyMask;
  if (applyMask === undefined)
    note(`mask: sockwire skipped — ${typeof sw === 'string' ? sw : 'no applyMask export'}`);

  const key = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const out: MicroResult[] = [];
  for (const size of SIZES) {
    const buf = Buffer.alloc(size, 0x5a);
    if (applyMask !== undefined) {
      // Sanity: masking twice restores the data, and matches bufferutil.
      const a = Buffer.from(buf);
      const b = Buffer.from(buf);
      applyMask(a, key);
      native(b, key, b, 0, b.length);
      if (!a.equals(b)) note(`mask: sockwire applyMask output differs from bufferutil at ${size} B`);
      out.push({ group: 'mask', impl: 'sockwire', size, MBps: measure(() => applyMask(buf, key), size, ms) });
    }
    out.push({
      group: 'mask',
      impl: 'bufferutil (native)',
      size,
      MBps: measure(() => native(buf, key, buf, 0, size), size, ms),
    });
    out.push({
      group: 'mask',
      impl: 'ws JS _mask',
      size,
      MBps: measure(() => wsJs(buf, key, buf, 0, size), size, ms),
    });
  }
  return out;
}
