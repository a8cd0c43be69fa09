/**
 * The readable side of a `WebSocketStream`: a WHATWG `ReadableStream` of messages, strings for text
 * and `Uint8Array`s for binary, as browsers give them.
 *
 * Backpressure: the stream's queue holds at most `highWaterMark` messages; when it is full the
 * WebSocket is paused (`ws.pause()`: the socket is no longer read, the kernel's receive buffer fills
 * and TCP's flow control stops the peer), and when the consumer reads below the mark the stream
 * calls `pull()`, which resumes it. So memory stays bounded by `highWaterMark` messages plus the
 * socket buffers, however fast the peer sends.
 */
import type { Buffer } from 'node:buffer';
import type { WebSocket } from '../websocket/websocket.ts';

/** What the readable needs from its `WebSocketStream`. */
export interface ReadableOwner {
  /** `readable.cancel(reason)`: close the connection, with the code of `reason` when it has one. */
  cancel(reason: unknown): void;
}

/** The readable side and the hooks its owner calls when the connection ends. */
export interface MessageReadable<T = string | Uint8Array> {
  readonly readable: ReadableStream<T>;
  /**
   * We started the closing handshake: read on, whatever the queue holds, so that the peer's Close
   * is seen (the peer sends no data after our Close, §5.5.1, so what still comes is bounded).
   */
  closing(): void;
  /** The closing handshake completed: the stream ends after the messages it holds. */
  close(): void;
  /** The connection was lost or failed: the stream errors with `error`, its queue dropped. */
  error(error: unknown): void;
}

/**
 * Makes the readable of an open WebSocket. Call it before the socket is read (in 'open' or
 * 'connection'), or messages received meanwhile are not in it.
 */
export function createMessageReadable(
  ws: WebSocket,
  highWaterMark: number,
  owner: ReadableOwner,
): MessageReadable {
  let controller!: ReadableStreamDefaultController<string | Uint8Array>;
  let done = false;
  // Whether we paused the WebSocket: `ws.isPaused` is also true while it pauses itself (inflating,
  // a full outgoing buffer), which is not ours to undo.
  let paused = false;
  let closing = false;
  const readable = new ReadableStream<string | Uint8Array>(
    {
      start(c) {
        controller = c;
      },
      pull() {
        if (!paused) return;
        paused = false;
        ws.resume();
      },
      cancel(reason) {
        done = true;
        ws.off('message', onMessage);
        if (paused) ws.resume(); // a Close is read only while reading
        paused = false;
        owner.cancel(reason);
      },
    },
    new CountQueuingStrategy({ highWaterMark }),
  );
  const onMessage = (data: Buffer, isBinary: boolean): void => {
    if (done) return;
    // A view, not a copy: browsers hand out a Uint8Array (not a Node Buffer) for a binary message.
    controller.enqueue(
      isBinary ? new Uint8Array(data.buffer, data.byteOffset, data.length) : data.toString(),
    );
    if ((controller.desiredSize ?? 0) <= 0 && !paused && !closing) {
      paused = true;
      ws.pause();
    }
  };
  ws.on('message', onMessage);
  const finish = (): boolean => {
    if (done) return false;
    done = true;
    ws.off('message', onMessage);
    return true;
  };
  return {
    readable,
    closing() {
      closing = true;
      if (!paused) return;
      paused = false;
      ws.resume();
    },
    close() {
      if (finish()) controller.close();
    },
    error(error) {
      if (finish()) controller.error(error);
    },
  };
}
