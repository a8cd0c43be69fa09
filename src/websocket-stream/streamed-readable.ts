/**
 * The readable side of a `WebSocketStream` with `streamMessages: true`: a stream of messages, each
 * itself a stream of its pieces as they arrive (§5.4 fragments, and the chunks of a frame), so that a
 * message of any size is received without being buffered whole.
 *
 *   socket ──▶ Connection (streamMessages: message-part events) ──▶ receiveParts listener
 *          ──▶ readable: { binary, data } per message ──▶ data: Uint8Array (binary) | string (text)
 *
 * Backpressure: reading stops (`ws.pause()`) while the messages' queue holds `highWaterMark`
 * messages, or while the current message's `data` holds `pieceHighWaterMark` bytes; it resumes when
 * the consumer reads. A message's `data` must be read or cancelled for the next message to come:
 * cancelling it drops the rest of that message only. `maxPayload` still bounds each message (the
 * core fails the connection with 1009 past it), and text is still checked as UTF-8 piece by piece.
 * Compressed messages (permessage-deflate) come the same way, each piece inflated as it arrives
 * (RFC 7692 §7.2.2); a message that began before streaming did arrives whole, as one piece.
 */
import type { Buffer } from 'node:buffer';
import { InvalidStateError } from '../errors.ts';
import { receiveParts } from '../websocket/internal.ts';
import type { WebSocket } from '../websocket/websocket.ts';
import type { MessageReadable, ReadableOwner } from './readable.ts';

/** One incoming message as a stream: bytes for a binary message, text (decoded as it comes) for text. */
export type StreamedMessage =
  | { readonly binary: true; readonly data: ReadableStream<Uint8Array> }
  | { readonly binary: false; readonly data: ReadableStream<string> };

/** The message whose pieces are arriving. */
interface Current {
  readonly controller: ReadableStreamDefaultController<Uint8Array | string>;
  /** For text: decodes across pieces (a character may be split between two). */
  readonly decoder: InstanceType<typeof TextDecoder> | null;
  /** The consumer cancelled `data`: the rest of the message is dropped. */
  discard: boolean;
}

/**
 * Makes the streamed readable of an open WebSocket and switches its Connection to streaming. Call
 * it before the socket is read (in 'open' or 'connection').
 */
export function createStreamedReadable(
  ws: WebSocket,
  highWaterMark: number,
  pieceHighWaterMark: number,
  owner: ReadableOwner,
): MessageReadable<StreamedMessage> {
  let outer!: ReadableStreamDefaultController<StreamedMessage>;
  let current: Current | null = null;
  let done = false;
  let closing = false;
  // Why reading should stop: the queue of messages is full, or the current message's data is.
  let messagesFull = false;
  let piecesFull = false;
  // Whether we paused the WebSocket (it also pauses itself, which is not ours to undo).
  let paused = false;
  const update = (): void => {
    const stop = !done && !closing && (messagesFull || piecesFull);
    if (stop && !paused) {
      paused = true;
      ws.pause();
    } else if (!stop && paused) {
      paused = false;
      ws.resume();
    }
  };

  const readable = new ReadableStream<StreamedMessage>(
    {
      start(controller) {
        outer = controller;
      },
      pull() {
        messagesFull = false;
        update();
      },
      cancel(reason) {
        stop();
        update();
        owner.cancel(reason);
      },
    },
    new CountQueuingStrategy({ highWaterMark }),
  );

  /** Starts a message: its `data` stream goes into the queue of messages at once. */
  const begin = (binary: boolean): Current => {
    let controller!: ReadableStreamDefaultController<Uint8Array | string>;
    const data = new ReadableStream<Uint8Array | string>(
      {
        start(c) {
          controller = c;
        },
        pull() {
          if (current?.controller !== controller) return;
          piecesFull = false;
          update();
        },
        cancel() {
          if (current?.controller !== controller) return;
          current.discard = true;
          piecesFull = false;
          update();
        },
      },
      { highWaterMark: pieceHighWaterMark, size: (piece) => piece.length },
    );
    const message = { binary, data } as StreamedMessage;
    outer.enqueue(message);
    if ((outer.desiredSize ?? 0) <= 0) messagesFull = true;
    return { controller, decoder: binary ? null : new TextDecoder(), discard: false };
  };

  const onPart = (data: Buffer, binary: boolean, fin: boolean): void => {
    if (done) return;
    const message = current ?? begin(binary);
    current = message;
    if (!message.discard) {
      // A view, not a copy, and not a Buffer (as for whole messages). UTF-8 was checked by the core.
      const piece = binary
        ? new Uint8Array(data.buffer, data.byteOffset, data.length)
        : message.decoder!.decode(data, { stream: !fin });
      if (piece.length > 0) message.controller.enqueue(piece);
      if ((message.controller.desiredSize ?? 0) <= 0) piecesFull = true;
      if (fin) message.controller.close();
    }
    if (fin) {
      current = null;
      piecesFull = false;
    }
    update();
  };

  // A message that began before streaming did comes whole.
  const onMessage = (data: Buffer, isBinary: boolean): void => {
    if (done) return;
    const message = begin(isBinary);
    if (data.length > 0) {
      message.controller.enqueue(
        isBinary ? new Uint8Array(data.buffer, data.byteOffset, data.length) : data.toString(),
      );
    }
    message.controller.close();
    update();
  };

  ws[receiveParts](onPart);
  ws.on('message', onMessage);

  /** Stops taking messages; true the first time. */
  const stop = (): boolean => {
    if (done) return false;
    done = true;
    ws.off('message', onMessage);
    ws[receiveParts](null);
    return true;
  };
  /** A message cut short by the end of the connection errors with `error`. */
  const cutShort = (error: unknown): void => {
    const message = current;
    current = null;
    if (message !== null && !message.discard) message.controller.error(error);
  };
  return {
    readable,
    closing() {
      closing = true;
      update();
    },
    close() {
      if (!stop()) return;
      cutShort(new InvalidStateError('the connection closed before the message ended'));
      outer.close();
    },
    error(error) {
      if (!stop()) return;
      cutShort(error);
      outer.error(error);
    },
  };
}
