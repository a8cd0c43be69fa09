/**
 * The harness of the RFC 6455 tests: a client and a server `Connection` with a fixed mask key, a frame
 * builder independent of src/frame (so a bug there cannot hide on both sides of an assertion), and
 * assertions on bytes out and events out. Everything is socket-free: bytes in → events and bytes out.
 */
import { expect } from 'vitest';
import {
  Connection,
  type ConnectionEvent,
  type ConnectionOptions,
  type Role,
} from '../../../src/connection/connection.ts';
import { ProtocolError } from '../../../src/errors.ts';
import { hex, toHex } from '../../helpers/bytes.ts';

export { BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT } from '../../helpers/opcodes.ts';
export { hex, toHex };

/** Both ends, for `it.each(ROLES)`: every rule is checked as a client and as a server. */
export const ROLES: readonly Role[] = ['client', 'server'];

/** The mask key of the §5.7 examples; every client Connection here masks with it. */
export const MASK_KEY = Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);

/** A Connection for `role` with a 1 MiB maxPayload and, for a client, the fixed mask key. */
export function connection(role: Role, options: Partial<ConnectionOptions> = {}): Connection {
  // Only a client masks (§5.1); a server given a mask function would mask too.
  const generateMaskKey = role === 'client' ? () => MASK_KEY.slice() : undefined;
  return new Connection({ role, maxPayload: 1 << 20, generateMaskKey, ...options });
}

export const encoder = new TextEncoder();

/** Bytes of a string as UTF-8, or the bytes themselves. */
export function bytesOf(data: string | Uint8Array | readonly number[]): Uint8Array {
  if (typeof data === 'string') return encoder.encode(data);
  return data instanceof Uint8Array ? data : Uint8Array.from(data);
}

export interface FrameSpec {
  readonly fin?: boolean;
  /** RSV1..RSV3 as bits 0x4, 0x2, 0x1 (RSV1 = 4). */
  readonly rsv?: number;
  /** Mask key, or undefined for an unmasked frame. */
  readonly mask?: Uint8Array | undefined;
  /** Force a longer length encoding than needed: 16 or 64 (bits). */
  readonly lengthBits?: 7 | 16 | 64;
}

/** Encodes one frame by the book (§5.2), independently of src/frame. */
export function frame(
  opcode: number,
  payload: string | Uint8Array | readonly number[] = [],
  spec: FrameSpec = {},
): Uint8Array {
  const data = bytesOf(payload);
  const { fin = true, rsv = 0, mask } = spec;
  const bits = spec.lengthBits ?? (data.length <= 125 ? 7 : data.length <= 0xffff ? 16 : 64);
  const header: number[] = [(fin ? 0x80 : 0) | (rsv << 4) | opcode];
  const maskBit = mask === undefined ? 0 : 0x80;
  if (bits === 7) {
    header.push(maskBit | data.length);
  } else if (bits === 16) {
    header.push(maskBit | 126, data.length >> 8, data.length & 0xff);
  } else {
    const high = Math.floor(data.length / 2 ** 32);
    const low = data.length >>> 0;
    header.push(
      maskBit | 127,
      0,
      0,
      0,
      high & 0xff,
      low >>> 24,
      (low >>> 16) & 0xff,
      (low >>> 8) & 0xff,
      low & 0xff,
    );
  }
  if (mask !== undefined) header.push(...mask);
  const out = new Uint8Array(header.length + data.length);
  out.set(header, 0);
  for (let i = 0; i < data.length; i++) {
    out[header.length + i] = mask === undefined ? data[i]! : data[i]! ^ mask[i % 4]!;
  }
  return out;
}

/**
 * A frame as the peer of `role` sends it: masked (with a key of the peer's) when it comes from a
 * client, i.e. when `role` is the server (§5.1).
 */
export function fromPeer(
  role: Role,
  opcode: number,
  payload: string | Uint8Array | readonly number[] = [],
  spec: Omit<FrameSpec, 'mask'> = {},
): Uint8Array {
  return frame(opcode, payload, {
    ...spec,
    mask: role === 'server' ? Uint8Array.of(0xa1, 0x02, 0xc3, 0x04) : undefined,
  });
}

/** A frame as `role` itself sends it: masked with {@link MASK_KEY} when `role` is the client (§5.1). */
export function fromSelf(
  role: Role,
  opcode: number,
  payload: string | Uint8Array | readonly number[] = [],
  spec: Omit<FrameSpec, 'mask'> = {},
): Uint8Array {
  return frame(opcode, payload, { ...spec, mask: role === 'client' ? MASK_KEY : undefined });
}

/** A Close body (§5.5.1): the code in network byte order, then the reason in UTF-8. */
export function closeBody(code?: number, reason: string | Uint8Array = ''): Uint8Array {
  if (code === undefined) return new Uint8Array(0);
  const reasonBytes = bytesOf(reason);
  const out = new Uint8Array(2 + reasonBytes.length);
  out[0] = code >> 8;
  out[1] = code & 0xff;
  out.set(reasonBytes, 2);
  return out;
}

/** Joins byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** The bytes `conn` has queued since the last call, as one hex string. */
export function sentHex(conn: Connection): string {
  return toHex(conn.takeOutgoing());
}

/** Expects `conn` to have queued exactly `frames` (in order) since the last take. */
export function expectSent(conn: Connection, ...frames: Uint8Array[]): void {
  expect(sentHex(conn)).toBe(toHex(frames));
}

/** Expects nothing queued. */
export function expectNothingSent(conn: Connection): void {
  expect(sentHex(conn)).toBe('');
}

/** Feeds bytes and returns the events, with payloads as plain arrays for readable assertions. */
export function receive(conn: Connection, ...chunks: Uint8Array[]): ConnectionEvent[] {
  const events: ConnectionEvent[] = [];
  for (const chunk of chunks) events.push(...conn.receive(chunk));
  return events;
}

/** A `message` event as the Connection reports it. */
export function message(
  data: string | Uint8Array | readonly number[],
  binary = false,
  compressed = false,
): ConnectionEvent {
  return { type: 'message', data: bytesOf(data), binary, compressed };
}

/** Compares events, with byte payloads compared by value. */
export function expectEvents(actual: readonly ConnectionEvent[], expected: readonly ConnectionEvent[]): void {
  const plain = (events: readonly ConnectionEvent[]) =>
    events.map((event) =>
      'data' in event
        ? { ...event, data: toHex(event.data) }
        : event.type === 'fail'
          ? { type: 'fail', code: event.error.code }
          : event,
    );
  expect(plain(actual)).toEqual(plain(expected));
}

/**
 * Expects `events` to end the connection by _Fail the WebSocket Connection_ (§7.1.7): a `fail`
 * event with `closeCode` (and the error code), a Close frame with that code and no reason queued, and
 * the state CLOSED. Events before the failure are returned for further checks.
 */
export function expectFailed(
  conn: Connection,
  events: readonly ConnectionEvent[],
  closeCode: number,
  errorCode?: string,
): ConnectionEvent[] {
  const last = events.at(-1);
  expect(last?.type).toBe('fail');
  const error = (last as { error: ProtocolError }).error;
  expect(error).toBeInstanceOf(ProtocolError);
  expect(error.closeCode).toBe(closeCode);
  if (errorCode !== undefined) expect(error.code).toBe(errorCode);
  expect(conn.state).toBe('closed');
  expect(conn.transportShouldClose).toBe(true);
  return events.slice(0, -1);
}

/** {@link expectFailed}, plus: the Close frame with `closeCode` is what went out. */
export function expectFailedWithClose(
  conn: Connection,
  events: readonly ConnectionEvent[],
  closeCode: number,
  errorCode?: string,
): ConnectionEvent[] {
  const before = expectFailed(conn, events, closeCode, errorCode);
  expect(sentHex(conn)).toBe(toHex(fromSelf(conn.role, 0x8, closeBody(closeCode))));
  return before;
}

/** Every way to cut `bytes` in two, then one byte at a time: what a TCP stream may deliver. */
export function* chunkings(bytes: Uint8Array): Generator<Uint8Array[]> {
  for (let at = 0; at <= bytes.length; at++) yield [bytes.slice(0, at), bytes.slice(at)];
  yield Array.from(bytes, (byte) => Uint8Array.of(byte));
}

/** Parses hex (spaces allowed). */
export const bytes = hex;
