/**
 * The writable side of a `WebSocketStream`: a WHATWG `WritableStream` whose chunks are messages.
 *
 *   writer.write(string)         ──▶ a text message
 *   writer.write(BufferSource)   ──▶ a binary message
 *   writer.write(AsyncIterable)  ──▶ one fragmented message, chunk by chunk (send-stream.ts; a
 *                                    sockwire addition: browsers take no streams here)
 *   writer.close()               ──▶ the closing handshake (§7.1.2); resolves when it completes
 *   writer.abort(reason)         ──▶ the closing handshake, with the code of a WebSocketCloseError
 *
 * Backpressure: a write's promise resolves once its bytes were handed to the socket (the `send()`
 * callback), and the stream calls the next write only then. Writes made meanwhile wait in the
 * stream's queue, counted in bytes; over `highWaterMark` `writer.desiredSize` goes to zero and
 * `writer.ready` waits. A peer that does not read fills the socket, its writes stop completing, and
 * the writer is held back: memory stays bounded by the high-water mark.
 */
import { InvalidStateError } from '../errors.ts';
import { CloseCode } from '../frame/close-code.ts';
import { ReadyState } from '../ready-state.ts';
import type { WebSocket } from '../websocket/websocket.ts';
import { WebSocketCloseError } from './close-error.ts';
import { chunkBytes, isMessageSource, sendMessageStream } from './send-stream.ts';

/** What the writable needs from its `WebSocketStream`. */
export interface WritableOwner {
  /** `writer.close()`: start the closing handshake without a code; resolves when the connection is closed. */
  closeFromWriter(): Promise<void>;
  /** `writer.abort(reason)`, or a streamed message that failed: close with the code of `reason` when it has one. */
  abort(reason: unknown): void;
}

/** The writable side and the hook its owner calls when the connection ends. */
export interface MessageWritable {
  readonly writable: WritableStream<unknown>;
  /** The connection closed (or is closing from the other side): writes fail from now on. */
  error(error: unknown): void;
}

/** A chunk's size for the queuing strategy: its bytes (a streamed message counts as nothing, it is pulled as sent). */
function chunkSize(chunk: unknown): number {
  if (typeof chunk === 'string') return chunk.length;
  if (chunk instanceof ArrayBuffer) return chunk.byteLength;
  if (ArrayBuffer.isView(chunk)) return chunk.byteLength;
  return 0;
}

/** Makes the writable of an open WebSocket. */
export function createMessageWritable(
  ws: WebSocket,
  highWaterMark: number,
  owner: WritableOwner,
): MessageWritable {
  let controller!: WritableStreamDefaultController;
  const writable = new WritableStream<unknown>(
    {
      start(c) {
        controller = c;
      },
      async write(chunk) {
        if (ws.readyState !== ReadyState.OPEN) {
          throw new InvalidStateError('the WebSocket is closing or closed: nothing more can be sent');
        }
        if (isMessageSource(chunk)) {
          try {
            await sendMessageStream(ws, chunk, highWaterMark);
          } catch (error) {
            // The message was cut short; §5.4 lets no other message follow an unfinished one, so the
            // connection closes, with 1011 ("encountered an unexpected condition", §7.4.1).
            owner.abort(
              new WebSocketCloseError('a streamed message was cut short', {
                closeCode: CloseCode.InternalError,
              }),
            );
            throw error;
          }
          return;
        }
        const data = typeof chunk === 'string' ? chunk : chunkBytes(chunk);
        await new Promise<void>((resolve, reject) => {
          ws.send(data, (error) => (error === undefined ? resolve() : reject(error)));
        });
      },
      close() {
        return owner.closeFromWriter();
      },
      abort(reason) {
        owner.abort(reason);
      },
    },
    { highWaterMark, size: chunkSize },
  );
  return {
    writable,
    error(error) {
      controller.error(error);
    },
  };
}
