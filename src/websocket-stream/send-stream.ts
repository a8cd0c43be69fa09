/**
 * Sends an `AsyncIterable` (a `ReadableStream`, a Node `Readable`, an async generator) as one
 * fragmented message (§5.4): each chunk becomes one frame, the last one with FIN set, so a message of
 * any size passes through in the memory of a few chunks. With permessage-deflate each fragment is
 * compressed as it goes (RFC 7692 §6.1 compresses a message, whose frames may be sent one by one).
 *
 * Backpressure: while the WebSocket's `bufferedAmount` is over the high-water mark, the next chunk is
 * not pulled from the source until the bytes sent so far were handed to the socket.
 */
import { Buffer } from 'node:buffer';
import { ErrorCode, InvalidArgumentError, InvalidStateError } from '../errors.ts';
import { ReadyState } from '../ready-state.ts';
import type { WebSocket } from '../websocket/websocket.ts';

/** One piece of a streamed message: text (UTF-8 encoded on the way) or bytes. */
export type MessageChunk = string | ArrayBuffer | ArrayBufferView;

const EMPTY = new Uint8Array(0);

/** Whether `value` is something to send as a streamed message rather than as one message. */
export function isMessageSource(
  value: unknown,
): value is AsyncIterable<MessageChunk> | Iterable<MessageChunk> {
  if (value === null || typeof value !== 'object') return false;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return false;
  return Symbol.asyncIterator in value || Symbol.iterator in value;
}

/**
 * Converts one chunk to bytes, without copying a byte view.
 * @throws {InvalidArgumentError} (code WS_ERR_INVALID_ARGUMENT) for a chunk of another type.
 */
export function chunkBytes(chunk: unknown): Uint8Array {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (chunk instanceof Uint8Array) return chunk;
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new InvalidArgumentError(
    'a WebSocketStream chunk must be a string, an ArrayBuffer or an ArrayBufferView (a typed array, a DataView, a Buffer)',
  );
}

/**
 * Sends `source` as one message: text when its first chunk is a string, else binary (an empty
 * source sends an empty binary message). A string chunk is encoded on its own, so a surrogate pair
 * must not be split across two chunks.
 * @param highWaterMark - `bufferedAmount`, in bytes, above which the next chunk waits.
 * @returns once the last fragment was handed to the socket.
 * @throws {InvalidStateError} (code WS_ERR_INVALID_STATE) when the WebSocket is not OPEN, or closes
 *   while the message is sent.
 * @throws {InvalidArgumentError} (code WS_ERR_INVALID_ARGUMENT) for a chunk of another type.
 * Anything the source throws is thrown too. The message is then cut short: the caller must close the
 * connection, since no other message may follow an unfinished one (§5.4).
 */
export async function sendMessageStream(
  ws: WebSocket,
  source: AsyncIterable<unknown> | Iterable<unknown>,
  highWaterMark: number,
): Promise<void> {
  let binary: boolean | undefined;
  // One chunk is held back, so that the last fragment can carry FIN (§5.2: "FIN: Indicates that this
  // is the final fragment in a message").
  let held: Uint8Array | null = null;
  let failure: Error | null = null;
  let written: Promise<void> = Promise.resolve();
  const sendFragment = (bytes: Uint8Array, fin: boolean): void => {
    if (failure !== null) throw failure;
    if (ws.readyState !== ReadyState.OPEN) {
      throw new InvalidStateError(
        'the WebSocket closed while a streamed message was sent',
        ErrorCode.InvalidState,
      );
    }
    written = new Promise<void>((resolve) => {
      // §5.4: a fragmented message is one Text or Binary frame then Continuation frames, the last with FIN.
      ws.send(bytes, { binary: binary ?? true, fin }, (error) => {
        if (error !== undefined && failure === null) failure = error;
        resolve();
      });
    });
  };
  for await (const chunk of source) {
    const bytes = chunkBytes(chunk);
    binary ??= typeof chunk !== 'string';
    if (held !== null) sendFragment(held, false);
    held = bytes;
    if (ws.bufferedAmount >= highWaterMark) await written;
  }
  sendFragment(held ?? EMPTY, true);
  await written;
  if (failure !== null) throw failure;
}
