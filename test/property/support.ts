/**
 * Shared settings and arbitraries of the property tests.
 *
 * Every property runs with a fixed seed, so a failure in CI replays exactly; `FUZZ_RUNS=<n>` (see
 * scripts/fuzz.sh) multiplies the budget for a long fuzzing session, and `FUZZ_SEED=<n>` changes the
 * seed (a long run with a fresh seed explores new inputs; a failure prints the seed and path to
 * replay it).
 */
import fc from 'fast-check';
import { Opcode } from '../../src/frame/opcode.ts';

export const SEED = Number(process.env.FUZZ_SEED ?? 20261125);

/** True during a long fuzzing session (`FUZZ_RUNS` set). */
export const LONG_RUN = process.env.FUZZ_RUNS !== undefined;

/**
 * Parameters for `fc.assert`: the seed, and `defaultRuns` runs in `npm test` (sized so that the whole
 * property suite stays well under 20 s on a busy machine) or `FUZZ_RUNS` in a fuzzing session.
 */
export function budget(defaultRuns: number): fc.Parameters<unknown> {
  const runs = LONG_RUN ? Number(process.env.FUZZ_RUNS) : defaultRuns;
  return { seed: SEED, numRuns: runs, endOnFailure: true };
}

/** Per-test timeout for vitest: generous for the default budget, unbounded-ish for long runs. */
export const TIMEOUT = LONG_RUN ? 24 * 60 * 60 * 1000 : 30_000;

/** Deterministic bytes of a given length (a xorshift stream), for payloads too large to shrink. */
export function filledBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let state = seed | 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = state & 0xff;
  }
  return out;
}

/** Payload lengths around every encoding boundary of RFC 6455 §5.2 (7-bit, 16-bit, 64-bit). */
const BOUNDARY_LENGTHS = [125, 126, 127, 65535, 65536, 65537] as const;

/** A data-frame payload: mostly small, sometimes exactly at a length-encoding boundary. */
export const dataPayload: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 8, arbitrary: fc.uint8Array({ maxLength: 200 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(...BOUNDARY_LENGTHS), fc.integer())
      .map(([length, seed]) => filledBytes(length, seed)),
  },
);

/** A control-frame payload (§5.5: at most 125 bytes). */
export const controlPayload: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 125 }),
  fc.integer().map((seed) => filledBytes(125, seed)),
);

export interface FrameSpec {
  readonly opcode: Opcode;
  readonly fin: boolean;
  readonly rsv1: boolean;
  readonly payload: Uint8Array;
}

/** Any single well-formed frame (not necessarily a valid message sequence: the decoder does not care). */
export const frameSpec: fc.Arbitrary<FrameSpec> = fc.oneof(
  fc.record({
    opcode: fc.constantFrom(Opcode.Continuation, Opcode.Text, Opcode.Binary),
    fin: fc.boolean(),
    rsv1: fc.boolean(),
    payload: dataPayload,
  }),
  fc.record({
    opcode: fc.constantFrom(Opcode.Close, Opcode.Ping, Opcode.Pong),
    fin: fc.constant(true),
    rsv1: fc.constant(false),
    payload: controlPayload,
  }),
);

export const maskKey: fc.Arbitrary<Uint8Array> = fc.uint8Array({ minLength: 4, maxLength: 4 });

/** Cut points, as arbitrary integers reduced modulo the length of whatever is being cut. */
export const cuts: fc.Arbitrary<number[]> = fc.oneof(
  fc.array(fc.nat(), { maxLength: 12 }),
  // Sometimes very fine-grained: many tiny pieces.
  fc.array(fc.nat(), { minLength: 20, maxLength: 200 }),
);

/** Splits `bytes` at the given cut points (each taken modulo `length + 1`); pieces are copies. */
export function chunk(bytes: Uint8Array, cutPoints: readonly number[]): Uint8Array[] {
  const positions = [...new Set(cutPoints.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let previous = 0;
  for (const at of [...positions, bytes.length]) {
    if (at < previous) continue;
    pieces.push(bytes.slice(previous, at));
    previous = at;
  }
  return pieces;
}

export function concatBytes(list: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const item of list) total += item.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const item of list) {
    out.set(item, at);
    at += item.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}
