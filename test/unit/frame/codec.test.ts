import { describe, expect, it } from 'vitest';
import { ErrorCode, ProtocolError } from '../../../src/errors.ts';
import { FrameDecoder, type FramePart } from '../../../src/frame/decoder.ts';
import { encodeFrame } from '../../../src/frame/encoder.ts';
import type { FrameHeader } from '../../../src/frame/frame.ts';
import { Opcode } from '../../../src/frame/opcode.ts';
import { hex, seededRandom, splits, toHex } from '../../helpers/bytes.ts';

interface DecodedFrame {
  header: Omit<FrameHeader, 'maskKey'> & { maskKey: string | undefined };
  payload: string;
}

/** Decodes `chunks` fully, joining the parts of each frame. */
function decodeAll(chunks: Uint8Array[], expectMasked: boolean, maxPayload = 1 << 30): DecodedFrame[] {
  const decoder = new FrameDecoder({ expectMasked, maxPayload });
  const frames: DecodedFrame[] = [];
  let parts: FramePart[] = [];
  for (const chunk of chunks) {
    decoder.push(chunk.slice()); // the decoder unmasks in place: give it its own copy
    for (let part = decoder.next(); part !== null; part = decoder.next()) {
      parts.push(part);
      if (part.last) {
        const { maskKey, ...rest } = part.header;
        frames.push({
          header: {
            ...rest,
            maskKey: maskKey === undefined ? undefined : maskKey.toString(16).padStart(8, '0'),
          },
          payload: toHex(parts.map((p) => p.data)),
        });
        parts = [];
      }
    }
  }
  return frames;
}

function decodeError(bytes: Uint8Array, expectMasked: boolean, maxPayload = 1 << 20): ProtocolError {
  try {
    decodeAll([bytes], expectMasked, maxPayload);
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    throw error;
  }
  throw new Error(`no error for ${toHex(bytes)}`);
}

/** Checks both directions: bytes decode to the frame, and the frame encodes to the same bytes. */
function expectVector(bytes: string, opcode: Opcode, payload: Uint8Array, fin = true, maskKey?: Uint8Array) {
  const encoded = encodeFrame(opcode, payload, { fin, maskKey });
  expect(toHex(encoded)).toBe(bytes.replace(/\s+/g, ''));
  for (const pieces of splits(hex(bytes))) {
    const [frame] = decodeAll(pieces, maskKey !== undefined);
    expect(frame?.header.opcode).toBe(opcode);
    expect(frame?.header.fin).toBe(fin);
    expect(frame?.payload).toBe(toHex(payload));
  }
}

const text = (s: string) => Uint8Array.from(Buffer.from(s));

describe('RFC 6455 §5.7 examples', () => {
  it('a single-frame unmasked text message', () => {
    expectVector('81 05 48 65 6c 6c 6f', Opcode.Text, text('Hello'));
  });
  it('a single-frame masked text message', () => {
    expectVector('81 85 37 fa 21 3d 7f 9f 4d 51 58', Opcode.Text, text('Hello'), true, hex('37 fa 21 3d'));
  });
  it('a fragmented unmasked text message', () => {
    expectVector('01 03 48 65 6c', Opcode.Text, text('Hel'), false);
    expectVector('80 02 6c 6f', Opcode.Continuation, text('lo'));
  });
  it('unmasked Ping and masked Pong', () => {
    expectVector('89 05 48 65 6c 6c 6f', Opcode.Ping, text('Hello'));
    expectVector('8a 85 37 fa 21 3d 7f 9f 4d 51 58', Opcode.Pong, text('Hello'), true, hex('37 fa 21 3d'));
  });
  it('256 bytes and 64 KiB binary messages in a single unmasked frame', () => {
    const small = new Uint8Array(256).fill(0xab);
    expect(toHex(encodeFrame(Opcode.Binary, small)).slice(0, 8)).toBe('827e0100');
    const large = new Uint8Array(65536).fill(0xcd);
    expect(toHex(encodeFrame(Opcode.Binary, large)).slice(0, 20)).toBe('827f0000000000010000');
    expect(decodeAll(encodeFrame(Opcode.Binary, large), false)[0]?.header.payloadLength).toBe(65536);
  });
});

describe('RFC 6455 §5.2 payload length boundaries', () => {
  for (const [length, headerHex] of [
    [0, '8200'],
    [125, '827d'],
    [126, '827e007e'],
    [65535, '827effff'],
    [65536, '827f0000000000010000'],
  ] as const) {
    it(`${length} bytes use the minimal encoding, masked and unmasked`, () => {
      const payload = Uint8Array.from({ length }, (_, i) => i & 0xff);
      const unmasked = encodeFrame(Opcode.Binary, payload);
      expect(toHex(unmasked[0]!)).toBe(headerHex);
      const masked = encodeFrame(Opcode.Binary, payload, { maskKey: hex('01020304') });
      const frames = decodeAll(masked, true);
      expect(frames).toHaveLength(1);
      expect(frames[0]?.payload).toBe(toHex(payload));
      expect(frames[0]?.header.payloadLength).toBe(length);
    });
  }
});

describe('seeded random round trips under random chunking', () => {
  it('any frame sequence encodes and decodes to itself', () => {
    const random = seededRandom(2026);
    for (let round = 0; round < 200; round++) {
      const masked = random() < 0.5;
      const frames: { opcode: Opcode; payload: Uint8Array; fin: boolean }[] = [];
      const count = 1 + Math.floor(random() * 5);
      for (let i = 0; i < count; i++) {
        const control = random() < 0.3;
        const size = control
          ? Math.floor(random() * 126)
          : Math.floor(random() * (random() < 0.1 ? 70000 : 300));
        frames.push({
          opcode: control ? Opcode.Ping : Opcode.Binary,
          payload: Uint8Array.from({ length: size }, () => Math.floor(random() * 256)),
          fin: control || random() < 0.8,
        });
      }
      const wire = Buffer.concat(
        frames.flatMap((f) =>
          encodeFrame(f.opcode, f.payload, { fin: f.fin, maskKey: masked ? hex('a1b2c3d4') : undefined }),
        ),
      );
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < wire.length; ) {
        const size = 1 + Math.floor(random() * (random() < 0.5 ? 10 : 5000));
        chunks.push(wire.subarray(at, at + size));
        at += size;
      }
      const decoded = decodeAll(chunks, masked);
      expect(decoded.map((d) => [d.header.opcode, d.header.fin, d.payload])).toEqual(
        frames.map((f) => [f.opcode, f.fin, toHex(f.payload)]),
      );
    }
  });
});

describe('RFC 6455 §5 violations fail the connection with the right close code', () => {
  const cases: [string, string, boolean, number, string][] = [
    ['reserved data opcode 0x3', '83 00', false, 1002, ErrorCode.InvalidOpcode],
    ['reserved control opcode 0xB', '8b 00', false, 1002, ErrorCode.InvalidOpcode],
    ['RSV1 without an extension', 'c1 00', false, 1002, ErrorCode.UnexpectedRsvBit],
    ['RSV2 without an extension', 'a1 00', false, 1002, ErrorCode.UnexpectedRsvBit],
    ['RSV3 without an extension', '91 00', false, 1002, ErrorCode.UnexpectedRsvBit],
    ['fragmented ping', '09 00', false, 1002, ErrorCode.FragmentedControlFrame],
    ['126-byte ping', '89 7e 00 7e', false, 1002, ErrorCode.ControlFrameTooLong],
    ['unmasked frame at the server', '81 00', true, 1002, ErrorCode.MaskExpected],
    ['masked frame at the client', '81 80 00 00 00 00', false, 1002, ErrorCode.MaskUnexpected],
    [
      '64-bit length with the MSB set',
      '82 7f 80 00 00 00 00 00 00 00',
      false,
      1002,
      ErrorCode.InvalidPayloadLength,
    ],
    ['frame over maxPayload', '82 7e 04 01', false, 1009, ErrorCode.MessageTooBig],
  ];
  for (const [name, bytes, expectMasked, closeCode, code] of cases) {
    it(name, () => {
      const error = decodeError(hex(bytes), expectMasked, 1024);
      expect(error.closeCode).toBe(closeCode);
      expect(error.code).toBe(code);
    });
  }

  it('refuses an oversized frame before any of its payload arrives', () => {
    const decoder = new FrameDecoder({ expectMasked: false, maxPayload: 1000 });
    decoder.push(hex('82 7f 00 00 00 01 00 00 00 00')); // announces 4 GiB, sends nothing more
    expect(() => decoder.next()).toThrow(/maxPayload/);
    expect(decoder.next()).toBeNull(); // stays failed
  });

  it('fails on the MSB of a 64-bit length as soon as that byte arrives', () => {
    const decoder = new FrameDecoder({ expectMasked: false, maxPayload: 1000 });
    decoder.push(hex('82 7f 80'));
    expect(() => decoder.next()).toThrow(ProtocolError);
  });
});

describe('streaming payloads', () => {
  it('hands out data payload pieces as they arrive, with offsets, zero-copy', () => {
    const decoder = new FrameDecoder({ expectMasked: false, maxPayload: 1 << 20 });
    const chunk = hex('82 06 01 02 03');
    decoder.push(chunk);
    const first = decoder.next();
    expect(first && toHex(first.data)).toBe('010203');
    expect(first?.last).toBe(false);
    expect(first?.data.buffer).toBe(chunk.buffer);
    expect(decoder.next()).toBeNull();
    decoder.push(hex('04 05 06'));
    const second = decoder.next();
    expect(second?.offset).toBe(3);
    expect(second?.last).toBe(true);
  });

  it('waits for a control frame to be complete', () => {
    const decoder = new FrameDecoder({ expectMasked: false, maxPayload: 1 << 20 });
    decoder.push(hex('89 03 01'));
    expect(decoder.next()).toBeNull();
    decoder.push(hex('02 03'));
    expect(toHex(decoder.next()!.data)).toBe('010203');
  });
});
