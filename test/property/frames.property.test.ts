/**
 * Property tests of the frame codec and the Connection core (RFC 6455 §5.2–§5.5), pure: no sockets.
 *
 * 1. Any frame sequence encodes (`encodeFrame`) and decodes (`FrameDecoder`) to itself, masked and
 *    unmasked, whatever the chunking of the bytes (TCP may deliver them in any pieces).
 * 2. Two Connections wired back to back (client output → server input and vice versa) deliver random
 *    messages, randomly fragmented (§5.4) with Pings interleaved between fragments (§5.5: "Control
 *    frames MAY be injected in the middle of a fragmented message"), whole and in order, and every
 *    Ping is answered with a Pong carrying its payload (§5.5.2).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Connection, type ConnectionEvent } from '../../src/connection/connection.ts';
import { FrameDecoder } from '../../src/frame/decoder.ts';
import { encodeFrame } from '../../src/frame/encoder.ts';
import { RsvBit } from '../../src/frame/frame.ts';
import {
  budget,
  chunk,
  concatBytes,
  cuts,
  dataPayload,
  equalBytes,
  type FrameSpec,
  filledBytes,
  frameSpec,
  maskKey,
  TIMEOUT,
} from './support.ts';

interface DecodedFrame {
  readonly opcode: number;
  readonly fin: boolean;
  readonly rsv1: boolean;
  readonly masked: boolean;
  readonly maskKey: number | undefined;
  readonly payload: Uint8Array;
}

/** Feeds `pieces` one by one and collects whole frames (parts joined), checking part offsets. */
function decodeAll(decoder: FrameDecoder, pieces: readonly Uint8Array[]): DecodedFrame[] {
  const frames: DecodedFrame[] = [];
  let parts: Uint8Array[] = [];
  let expectedOffset = 0;
  for (const piece of pieces) {
    decoder.push(piece);
    for (let part = decoder.next(); part !== null; part = decoder.next()) {
      expect(part.offset).toBe(expectedOffset);
      parts.push(Uint8Array.from(part.data)); // copy: a view may alias a later-unmasked chunk
      expectedOffset += part.data.length;
      if (!part.last) continue;
      const { header } = part;
      const payload = concatBytes(parts);
      expect(payload.length).toBe(header.payloadLength);
      frames.push({
        opcode: header.opcode,
        fin: header.fin,
        rsv1: header.rsv1,
        masked: header.masked,
        maskKey: header.maskKey,
        payload,
      });
      parts = [];
      expectedOffset = 0;
    }
  }
  expect(parts).toEqual([]); // nothing half-decoded once all bytes are in
  expect(decoder.bufferedLength).toBe(0);
  return frames;
}

describe('RFC 6455 §5.2: encodeFrame / FrameDecoder round trip under any chunking', () => {
  it.each([
    ['unmasked (server → client)', false],
    ['masked (client → server)', true],
  ])(
    '%s',
    (_name, masked) => {
      fc.assert(
        fc.property(
          fc.array(fc.tuple(frameSpec, maskKey), { minLength: 1, maxLength: 8 }),
          cuts,
          (frames, cutPoints) => {
            const encoded: Uint8Array[] = [];
            for (const [spec, key] of frames) {
              const options = { fin: spec.fin, rsv1: spec.rsv1, maskKey: masked ? key : undefined };
              encoded.push(...encodeFrame(spec.opcode, spec.payload, options));
            }
            // encodeFrame must not touch the caller's payload, even when masking (it masks a copy).
            const bytes = concatBytes(encoded);
            const decoder = new FrameDecoder({ expectMasked: masked, maxPayload: 1 << 20 });
            decoder.allowedRsv = RsvBit.rsv1;
            const decoded = decodeAll(decoder, chunk(bytes, cutPoints));
            expect(decoded.length).toBe(frames.length);
            frames.forEach(([spec, key], i) => {
              const got = decoded[i]!;
              expect(got.opcode).toBe(spec.opcode);
              expect(got.fin).toBe(spec.fin);
              expect(got.rsv1).toBe(spec.rsv1);
              expect(got.masked).toBe(masked);
              // The key's 4 bytes in network order, as one number (§5.2).
              if (masked) expect(got.maskKey).toBe(new DataView(key.buffer, key.byteOffset).getUint32(0));
              else expect(got.maskKey).toBeUndefined();
              expect(equalBytes(got.payload, spec.payload)).toBe(true);
            });
          },
        ),
        budget(150),
      );
    },
    TIMEOUT,
  );

  it(
    'the same bytes decode identically in one piece and one byte at a time',
    () => {
      fc.assert(
        fc.property(
          fc.array(
            frameSpec.filter((f: FrameSpec) => f.payload.length < 300),
            { maxLength: 6 },
          ),
          maskKey,
          (frames, key) => {
            const bytes = concatBytes(
              frames.flatMap((f) =>
                encodeFrame(f.opcode, f.payload, { fin: f.fin, rsv1: f.rsv1, maskKey: key }),
              ),
            );
            const whole = new FrameDecoder({ expectMasked: true, maxPayload: 1 << 20 });
            whole.allowedRsv = RsvBit.rsv1;
            const bytewise = new FrameDecoder({ expectMasked: true, maxPayload: 1 << 20 });
            bytewise.allowedRsv = RsvBit.rsv1;
            const a = decodeAll(whole, [bytes.slice()]);
            const b = decodeAll(
              bytewise,
              Array.from(bytes, (byte) => Uint8Array.of(byte)),
            );
            expect(b).toEqual(a);
          },
        ),
        budget(100),
      );
    },
    TIMEOUT,
  );
});

/** One step of what a sender does: a fragment of the current message, or a Ping between fragments. */
type Step =
  | { readonly kind: 'fragment'; readonly data: Uint8Array; readonly binary: boolean; readonly fin: boolean }
  | { readonly kind: 'ping'; readonly data: Uint8Array };

interface MessageSpec {
  readonly binary: boolean;
  readonly data: Uint8Array;
  /** Where the message is cut into fragments (modulo its length + 1; repeated cuts give empty fragments). */
  readonly cuts: readonly number[];
  /** After which fragments a Ping is sent (by fragment index), with its payload. */
  readonly pings: readonly (readonly [number, Uint8Array])[];
}

const textEncoder = new TextEncoder();

const messageSpec: fc.Arbitrary<MessageSpec> = fc
  .record({
    binary: fc.boolean(),
    text: fc.string({ unit: 'binary', maxLength: 80 }),
    bytes: dataPayload,
    cuts: fc.array(fc.nat(), { maxLength: 6 }),
    pings: fc.array(fc.tuple(fc.nat(8), fc.uint8Array({ maxLength: 125 })), { maxLength: 3 }),
  })
  .map(({ binary, text, bytes, cuts, pings }) => ({
    binary,
    // Text messages must be valid UTF-8 (§8.1); TextEncoder turns lone surrogates into U+FFFD.
    data: binary ? bytes : textEncoder.encode(text),
    cuts,
    pings,
  }));

/** Cuts a message into fragments with Pings interleaved; empty fragments are allowed (§5.4). */
function stepsFor(message: MessageSpec): Step[] {
  const positions = [...message.cuts.map((c) => c % (message.data.length + 1)), message.data.length].sort(
    (a, b) => a - b,
  );
  const steps: Step[] = [];
  let previous = 0;
  positions.forEach((at, index) => {
    const fin = index === positions.length - 1;
    steps.push({ kind: 'fragment', data: message.data.slice(previous, at), binary: message.binary, fin });
    previous = at;
    for (const [after, data] of message.pings)
      if (after === index && !fin) steps.push({ kind: 'ping', data });
  });
  return steps;
}

interface Received {
  readonly messages: { binary: boolean; data: Uint8Array }[];
  readonly pings: Uint8Array[];
  readonly pongs: Uint8Array[];
}

function record(events: readonly ConnectionEvent[], into: Received): void {
  for (const event of events) {
    switch (event.type) {
      case 'message':
        expect(event.compressed).toBe(false);
        into.messages.push({ binary: event.binary, data: Uint8Array.from(event.data) });
        break;
      case 'ping':
        into.pings.push(Uint8Array.from(event.data));
        break;
      case 'pong':
        into.pongs.push(Uint8Array.from(event.data));
        break;
      default:
        throw new Error(`unexpected ${event.type} event: ${JSON.stringify(event)}`);
    }
  }
}

/** Moves everything `from` has queued into `to`, re-cut at `cutPoints`. */
function pipe(from: Connection, to: Connection, cutPoints: readonly number[], into: Received): void {
  const bytes = concatBytes(from.takeOutgoing());
  for (const piece of chunk(bytes, cutPoints)) record(to.receive(piece), into);
}

let keyCounter = 0;
/** Deterministic but varying mask keys (the core takes randomness as an injected function). */
const generateMaskKey = () => filledBytes(4, ++keyCounter);

describe('RFC 6455 §5.4 / §5.5: two Connections back to back', () => {
  it(
    'deliver randomly fragmented messages with interleaved Pings whole and in order, both directions',
    () => {
      fc.assert(
        fc.property(
          fc.array(messageSpec, { maxLength: 6 }),
          fc.array(messageSpec, { maxLength: 6 }),
          cuts,
          fc.nat(3),
          (fromClient, fromServer, cutPoints, pumpEvery) => {
            const client = new Connection({ role: 'client', maxPayload: 1 << 20, generateMaskKey });
            const server = new Connection({ role: 'server', maxPayload: 1 << 20 });
            const atServer: Received = { messages: [], pings: [], pongs: [] };
            const atClient: Received = { messages: [], pings: [], pongs: [] };
            const clientSteps = fromClient.flatMap(stepsFor);
            const serverSteps = fromServer.flatMap(stepsFor);
            const total = Math.max(clientSteps.length, serverSteps.length);
            for (let i = 0; i < total; i++) {
              const c = clientSteps[i];
              const s = serverSteps[i];
              if (c?.kind === 'fragment') client.send(c.data, c.binary, c.fin);
              else if (c?.kind === 'ping') client.ping(c.data);
              if (s?.kind === 'fragment') server.send(s.data, s.binary, s.fin);
              else if (s?.kind === 'ping') server.ping(s.data);
              // Deliver now and then, so that Pongs and data cross in flight in varied orders.
              if (i % (pumpEvery + 1) === 0) {
                pipe(client, server, cutPoints, atServer);
                pipe(server, client, cutPoints, atClient);
              }
            }
            // Drain both ways until quiet (Pongs answer Pings, which may answer nothing further).
            for (let round = 0; round < 3; round++) {
              pipe(client, server, cutPoints, atServer);
              pipe(server, client, cutPoints, atClient);
            }
            expect(client.state).toBe('open');
            expect(server.state).toBe('open');
            expectDelivered(fromClient, clientSteps, atServer, atClient);
            expectDelivered(fromServer, serverSteps, atClient, atServer);
          },
        ),
        budget(200),
      );
    },
    TIMEOUT,
  );
});

/** What `sent` by one end arrived at `receiver`, and the Pongs came back to the sender. */
function expectDelivered(
  sent: readonly MessageSpec[],
  steps: readonly Step[],
  receiver: Received,
  sender: Received,
): void {
  expect(receiver.messages.length).toBe(sent.length);
  sent.forEach((message, i) => {
    const got = receiver.messages[i]!;
    expect(got.binary).toBe(message.binary);
    expect(equalBytes(got.data, message.data)).toBe(true);
  });
  const pings = steps.flatMap((step) => (step.kind === 'ping' ? [step.data] : []));
  expect(receiver.pings.map((p) => Array.from(p))).toEqual(pings.map((p) => Array.from(p)));
  // §5.5.3 lets an endpoint answer only the most recent of several unanswered Pings; the Connection
  // does so only beyond 16 unsent Pongs, so with fewer Pings in flight every one is answered.
  const pongs = sender.pongs.map((p) => Array.from(p));
  if (pings.length <= 16) {
    expect(pongs).toEqual(pings.map((p) => Array.from(p)));
  } else {
    expect(pongs.at(-1)).toEqual(Array.from(pings.at(-1)!));
  }
}
