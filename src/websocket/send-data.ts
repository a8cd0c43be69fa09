/**
 * What `send()`, `ping()` and `pong()` accept, and its conversion to bytes: shared by the WebSocket
 * and by the server's `broadcast()`/`publish()`, which check their argument the same way.
 */
import { Buffer } from 'node:buffer';
import { InvalidArgumentError, InvalidStateError } from '../errors.ts';

/**
 * Data accepted by `send()`, `ping()` and `pong()`. Strings go as text, everything else as binary
 * unless told otherwise; a number is sent as its decimal text (as in `ws`), and a Blob is read
 * first, its message keeping its place among the others.
 */
export type SendData =
  | string
  | number
  | Buffer
  | Uint8Array
  | ArrayBuffer
  | ArrayBufferView
  | Blob
  | readonly Buffer[];

/** The payload of a message sent with no data: an empty binary message. */
export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

/** Whether `data` is a Blob (which is read asynchronously before it is sent). */
export function isBlob(data: unknown): data is Blob {
  return typeof Blob === 'function' && data instanceof Blob;
}

/** The size in bytes of what send() accepts, without encoding strings or reading Blobs. */
export function byteSize(data: SendData): number {
  if (typeof data === 'string') return Buffer.byteLength(data);
  if (typeof data === 'number') return String(data).length;
  if (isBlob(data)) return data.size;
  return toBytes(data).length;
}

/**
 * Converts what `send()` accepts (but a Blob) into bytes without copying where possible.
 * @throws {InvalidArgumentError} (code WS_ERR_INVALID_ARGUMENT) for a Blob, or a value of another type.
 */
export function toBytes(data: SendData): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (typeof data === 'number') return Buffer.from(String(data), 'utf8');
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (Array.isArray(data)) return Buffer.concat(data as readonly Buffer[]);
  if (isBlob(data)) {
    throw new InvalidArgumentError('a Blob cannot be sent here: read it first (await blob.arrayBuffer())');
  }
  throw new InvalidArgumentError(
    'send() takes a string, number, Buffer, ArrayBuffer, typed array, DataView, Blob or Buffer[]',
  );
}

/**
 * What send()/ping()/pong() throw while CONNECTING (browsers and `ws` throw too).
 * @returns the error, for the caller to throw.
 */
export function notOpenYet(method: string): InvalidStateError {
  return new InvalidStateError(
    `WebSocket is not open: readyState 0 (CONNECTING); wait for the "open" event before ${method}()`,
  );
}
