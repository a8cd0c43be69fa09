/**
 * Fuzzing with fast-check: the parsers fed arbitrary bytes and mutations of valid input.
 *
 * - `FrameDecoder` throws nothing but {@link ProtocolError} (1002 or 1009: it does not look at UTF-8).
 * - `Connection.receive` never throws: a violation is a 'fail' event whose close code is 1002, 1007
 *   or 1009 (§7.4.1), and the bytes it holds while open stay within one frame header plus maxPayload
 *   (a peer cannot make it buffer more by announcing a large frame: §10.4 "Implementations SHOULD
 *   impose a limit on frame sizes").
 * - `HttpHeadParser.forRequests()` completes or throws {@link HandshakeError} 400/431, and
 *   `validateUpgradeRequest` on what it parsed throws only {@link HandshakeError} 400/405/426.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Connection } from '../../src/connection/connection.ts';
import { HandshakeError, ProtocolError } from '../../src/errors.ts';
import { FrameDecoder } from '../../src/frame/decoder.ts';
import { encodeFrame } from '../../src/frame/encoder.ts';
import { RsvBit } from '../../src/frame/frame.ts';
import { HttpHeadParser } from '../../src/handshake/http.ts';
import { validateUpgradeRequest } from '../../src/handshake/server.ts';
import { budget, chunk, concatBytes, cuts, filledBytes, frameSpec, maskKey, TIMEOUT } from './support.ts';

/** Largest frame header: 2 bytes, 8 of extended length, 4 of mask key (§5.2). */
const MAX_HEADER = 14;

// --- mutations -----------------------------------------------------------------------------------

type Mutation =
  | { readonly kind: 'flip'; readonly at: number; readonly bit: number }
  | { readonly kind: 'set'; readonly at: number; readonly value: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'delete'; readonly at: number; readonly count: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: 'duplicate'; readonly at: number; readonly count: number }
  /** Rewrites a frame's length: the 7-bit field (126/127 or any) and the extended bytes after it. */
  | { readonly kind: 'length'; readonly at: number; readonly short: number; readonly extended: Uint8Array };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.nat(255) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 16 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({
    kind: fc.constant('duplicate' as const),
    at: fc.nat(),
    count: fc.integer({ min: 1, max: 64 }),
  }),
  fc.record({
    kind: fc.constant('length' as const),
    at: fc.nat(),
    short: fc.oneof(fc.constantFrom(0, 1, 125, 126, 127), fc.nat(127)),
    extended: fc.oneof(
      fc.uint8Array({ minLength: 8, maxLength: 8 }),
      fc.constantFrom(
        Uint8Array.of(0x80, 0, 0, 0, 0, 0, 0, 0), // MSB set (§5.2: "MUST be 0")
        Uint8Array.of(0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), // 2^63 - 1
        Uint8Array.of(0, 0x20, 0, 0, 0, 0, 0, 0), // just over 2^53
        Uint8Array.of(0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff),
        Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0), // non-minimal zero
        Uint8Array.of(0xff, 0xff, 0, 0, 0, 0, 0, 0),
      ),
    ),
  }),
);

function applyMutation(bytes: Uint8Array, m: Mutation): Uint8Array {
  if (bytes.length === 0) return m.kind === 'insert' ? m.bytes.slice() : bytes;
  const at = m.at % bytes.length;
  switch (m.kind) {
    case 'flip': {
      const out = bytes.slice();
      out[at] = out[at]! ^ (1 << m.bit);
      return out;
    }
    case 'set': {
      const out = bytes.slice();
      out[at] = m.value;
      return out;
    }
    case 'truncate':
      return bytes.slice(0, at);
    case 'delete':
      return concatBytes([bytes.subarray(0, at), bytes.subarray(at + m.count)]);
    case 'insert':
      return concatBytes([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
    case 'duplicate':
      return concatBytes([bytes.subarray(0, at + m.count), bytes.subarray(at)]);
    case 'length': {
      // Keep the mask bit of byte at+1, replace its 7-bit length and the 8 bytes after it.
      const out = bytes.slice();
      if (at + 1 < out.length) out[at + 1] = (out[at + 1]! & 0x80) | m.short;
      for (let i = 0; i < 8 && at + 2 + i < out.length; i++) out[at + 2 + i] = m.extended[i]!;
      return out;
    }
  }
}

/** A valid frame sequence (masked or not), possibly mutated several times. */
const mutatedFrames = fc
  .record({
    masked: fc.boolean(),
    frames: fc.array(fc.tuple(frameSpec, maskKey), { minLength: 1, maxLength: 6 }),
    mutations: fc.array(mutation, { maxLength: 4 }),
  })
  .map(({ masked, frames, mutations }) => {
    let bytes = concatBytes(
      frames.flatMap(([f, key]) =>
        encodeFrame(f.opcode, f.payload, { fin: f.fin, rsv1: f.rsv1, maskKey: masked ? key : undefined }),
      ),
    );
    for (const m of mutations) bytes = applyMutation(bytes, m);
    return { masked, bytes };
  });

/** Arbitrary bytes, sometimes starting with a plausible header so that decoding goes further. */
const arbitraryFrameBytes = fc.record({
  masked: fc.boolean(),
  bytes: fc.oneof(
    fc.uint8Array({ maxLength: 400 }),
    fc
      .tuple(
        fc.constantFrom(0x81, 0x82, 0x01, 0x00, 0x80, 0x89, 0x8a, 0x88),
        fc.uint8Array({ maxLength: 400 }),
      )
      .map(([first, rest]) => concatBytes([Uint8Array.of(first), rest])),
  ),
});

const maxPayload = fc.oneof(fc.constantFrom(0, 1, 125, 126, 65535, 65536, 1 << 20), fc.nat(300));

// --- frame decoder and Connection --------------------------------------------------------------

function expectProtocolError(error: unknown): asserts error is ProtocolError {
  if (!(error instanceof ProtocolError))
    throw new Error(`not a ProtocolError: ${String(error)}`, { cause: error });
  expect([1002, 1007, 1009]).toContain(error.closeCode);
}

function fuzzDecoder(masked: boolean, bytes: Uint8Array, limit: number, cutPoints: readonly number[]): void {
  const decoder = new FrameDecoder({ expectMasked: masked, maxPayload: limit });
  decoder.allowedRsv = RsvBit.rsv1;
  try {
    for (const piece of chunk(bytes, cutPoints)) {
      decoder.push(piece);
      for (let part = decoder.next(); part !== null; part = decoder.next()) {
        expect(part.header.payloadLength).toBeLessThanOrEqual(limit);
        expect(part.offset + part.data.length).toBeLessThanOrEqual(part.header.payloadLength);
      }
      // Between pieces: at most a partial header, or a partial control frame (≤ maxPayload).
      expect(decoder.bufferedLength).toBeLessThanOrEqual(limit + MAX_HEADER);
    }
  } catch (error) {
    expectProtocolError(error);
    expect(error.closeCode).not.toBe(1007); // the decoder does not look at UTF-8
    // A failed decoder stays failed: it yields nothing more.
    expect(decoder.next()).toBeNull();
  }
}

function fuzzConnection(
  masked: boolean,
  bytes: Uint8Array,
  limit: number,
  cutPoints: readonly number[],
  deflate: boolean,
): void {
  // A server expects masked frames, a client unmasked ones: pick the role that makes valid input valid.
  const connection = masked
    ? new Connection({ role: 'server', maxPayload: limit, perMessageDeflate: deflate })
    : new Connection({
        role: 'client',
        maxPayload: limit,
        generateMaskKey: () => Uint8Array.of(1, 2, 3, 4),
        perMessageDeflate: deflate,
      });
  let failed = 0;
  for (const piece of chunk(bytes, cutPoints)) {
    const before = connection.bufferedIncoming;
    const wasOpen = connection.state === 'open';
    const events: ReturnType<Connection['receive']> = [];
    try {
      events.push(...connection.receive(piece));
      // As the shell does: a compressed message stops decoding until it comes back inflated (here
      // unchanged); then the bytes received meanwhile are decoded.
      for (let index = 0; index < events.length; index++) {
        const event = events[index]!;
        if (event.type !== 'message' || !event.compressed || !connection.awaitingTransform) continue;
        events.push(...connection.completeMessage(event.data));
        for (let next = connection.next(); next !== null; next = connection.next()) events.push(next);
      }
    } catch (error) {
      throw new Error(`Connection.receive threw: ${String(error)}`, { cause: error });
    }
    for (const event of events) {
      if (event.type === 'fail') {
        failed++;
        expectProtocolError(event.error);
      }
      if (event.type === 'message') expect(event.data.length).toBeLessThanOrEqual(limit);
    }
    if (connection.state === 'open') {
      expect(connection.bufferedIncoming).toBeLessThanOrEqual(limit + MAX_HEADER);
    } else if (!wasOpen) {
      // Once closed (or closing after a Close), further bytes are not kept.
      expect(connection.bufferedIncoming).toBeLessThanOrEqual(before);
    }
    connection.takeOutgoing(); // the transport writes them
  }
  expect(failed).toBeLessThanOrEqual(1); // failed once, then silent
}

describe('FrameDecoder and Connection fed hostile bytes', () => {
  it(
    'arbitrary bytes: the decoder throws only ProtocolError, the Connection never throws',
    () => {
      fc.assert(
        fc.property(
          arbitraryFrameBytes,
          maxPayload,
          cuts,
          fc.boolean(),
          ({ masked, bytes }, limit, cutPoints, deflate) => {
            fuzzDecoder(masked, bytes.slice(), limit, cutPoints);
            fuzzConnection(masked, bytes.slice(), limit, cutPoints, deflate);
          },
        ),
        budget(1500),
      );
    },
    TIMEOUT,
  );

  it(
    'mutated valid frames (bit flips, truncation, length fields, insertions): same guarantees',
    () => {
      fc.assert(
        fc.property(
          mutatedFrames,
          maxPayload,
          cuts,
          fc.boolean(),
          ({ masked, bytes }, limit, cutPoints, deflate) => {
            fuzzDecoder(masked, bytes.slice(), limit, cutPoints);
            fuzzConnection(masked, bytes.slice(), limit, cutPoints, deflate);
          },
        ),
        budget(400),
      );
    },
    TIMEOUT,
  );

  it(
    'a huge announced length is refused from the header alone, before any payload is buffered',
    () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 1 << 16 }),
          fc.bigInt({ min: 1n << 17n, max: (1n << 63n) - 1n }),
          fc.integer(),
          (limit, announced, seed) => {
            const header = new Uint8Array(14);
            header[0] = 0x82;
            header[1] = 0x80 | 127;
            new DataView(header.buffer).setBigUint64(2, announced);
            header.set(filledBytes(4, seed), 10);
            const connection = new Connection({ role: 'server', maxPayload: limit });
            const events = connection.receive(concatBytes([header, filledBytes(1024, seed)]));
            const fail = events.find((e) => e.type === 'fail');
            expect(fail?.type === 'fail' && fail.error.closeCode).toBe(1009);
            expect(connection.state).toBe('closed');
          },
        ),
        budget(200),
      );
    },
    TIMEOUT,
  );
});

// --- HTTP request heads ------------------------------------------------------------------------

const VALID_HEAD =
  'GET /chat?room=1 HTTP/1.1\r\n' +
  'Host: 127.0.0.1:8080\r\n' +
  'Upgrade: websocket\r\n' +
  'Connection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
  'Sec-WebSocket-Version: 13\r\n' +
  'Sec-WebSocket-Protocol: chat, superchat\r\n' +
  'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, x-foo; a="b"\r\n' +
  'Origin: https://example.com\r\n' +
  '\r\n';

/** Characters that matter to HTTP and header-value grammars. */
const specialByte = fc.constantFrom(
  ...[...'\r\n:; ,="\\\t/?\x00\x7f\xff(){}[]@'].map((c) => c.charCodeAt(0)),
  0x80,
);

const headMutation: fc.Arbitrary<Mutation> = fc.oneof(
  mutation,
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: specialByte }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.array(specialByte, { minLength: 1, maxLength: 8 }).map((a) => Uint8Array.from(a)),
  }),
);

/** Header values built from the characters that stress the token/quoted-string parsers. */
const nastyValue = fc.oneof(
  fc.string({ unit: fc.constantFrom(' ', ',', '"', ';', '=', '\\', 'a', '\t', '\x7f', 'é'), maxLength: 200 }),
  fc.string({ maxLength: 60 }),
  fc
    .tuple(fc.constantFrom(' ', ',', '"', ';', '\\'), fc.integer({ min: 1000, max: 15000 }))
    .map(([c, n]) => c.repeat(n)),
);

const requestHeads = fc.oneof(
  // Arbitrary bytes.
  fc.uint8Array({ maxLength: 600 }),
  // The valid head, mutated.
  fc
    .array(headMutation, { minLength: 1, maxLength: 5 })
    .map((ms) =>
      ms.reduce<Uint8Array>(
        (bytes, m) => applyMutation(bytes, m),
        Uint8Array.from(Buffer.from(VALID_HEAD, 'latin1')),
      ),
    ),
  // The valid head with nasty Sec-WebSocket-Protocol / -Extensions / other values.
  fc
    .record({
      name: fc.constantFrom(
        'Sec-WebSocket-Protocol',
        'Sec-WebSocket-Extensions',
        'Host',
        'Connection',
        'Upgrade',
        'Sec-WebSocket-Key',
        'Sec-WebSocket-Version',
      ),
      value: nastyValue,
    })
    .map(({ name, value }) =>
      Uint8Array.from(
        Buffer.from(VALID_HEAD.replace(/\r\n\r\n$/, `\r\n${name}: ${value}\r\n\r\n`), 'latin1'),
      ),
    ),
);

describe('HttpHeadParser.forRequests and validateUpgradeRequest fed hostile heads', () => {
  it(
    'complete, or HandshakeError 400/431 from the parser and 400/405/426 from validation; nothing else',
    () => {
      fc.assert(
        fc.property(requestHeads, cuts, (bytes, cutPoints) => {
          const parser = HttpHeadParser.forRequests();
          let head: Parameters<typeof validateUpgradeRequest>[0] | undefined;
          try {
            for (const piece of chunk(bytes, cutPoints)) {
              const result = parser.push(piece);
              expect(parser.retainedBytes).toBeLessThanOrEqual(16384);
              if (result.done) {
                head = result.head;
                break;
              }
            }
          } catch (error) {
            if (!(error instanceof HandshakeError))
              throw new Error(`parser threw ${String(error)}`, { cause: error });
            expect([400, 431]).toContain(error.status);
            return;
          }
          if (head === undefined) return; // incomplete: the server waits (bounded by handshakeTimeout)
          try {
            const request = validateUpgradeRequest(head);
            expect(typeof request.key).toBe('string');
          } catch (error) {
            if (!(error instanceof HandshakeError))
              throw new Error(`validation threw ${String(error)}`, { cause: error });
            expect([400, 405, 426]).toContain(error.status);
          }
        }),
        budget(1500),
      );
    },
    TIMEOUT,
  );
});
