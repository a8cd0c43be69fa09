/**
 * TODO(wire-up): frame decoder / encoder micro-benchmarks.
 *
 * The planned exports are `FrameDecoder` (dist/frame/decoder.js) and
 * `encodeFrame` (dist/frame/encoder.js), but their signatures are not fixed
 * yet. This stub only checks that the modules import and then reports a
 * "not wired" note instead of numbers. To wire it: build frames of
 * 16 B / 1 KiB / 64 KiB / 1 MiB, feed them through the decoder in chunks of
 * 64 KiB and measure MB/s with `measure()`; for the encoder, measure MB/s of
 * encoding payloads of the same sizes (masked and unmasked).
 */
import { importDist, type MicroResult } from './harness.ts';

export async function runCodec(_ms: number, note: (m: string) => void): Promise<MicroResult[]> {
  const dec = await importDist<Record<string, unknown>>('frame/decoder.js');
  const enc = await importDist<Record<string, unknown>>('frame/encoder.js');
  if (typeof dec === 'string' || typeof enc === 'string') {
    note(`codec: skipped — ${typeof dec === 'string' ? dec : (enc as string)}`);
    return [];
  }
  const found = [
    typeof dec.FrameDecoder === 'function' ? 'FrameDecoder' : '',
    typeof enc.encodeFrame === 'function' ? 'encodeFrame' : '',
  ].filter((x) => x !== '');
  note(`codec: TODO — decoder/encoder micro-bench not wired yet (found: ${found.join(', ') || 'nothing'})`);
  return [];
}
