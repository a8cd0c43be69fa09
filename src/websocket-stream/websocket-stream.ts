/**
 * `WebSocketStream`: the streams interface browsers ship beside `WebSocket` (Chrome's
 * "WebSocketStream", the WHATWG proposal), over sockwire's WebSocket, so that code moves between a
 * browser and Node unchanged, with backpressure both ways.
 *
 * ```text
 *   new WebSocketStream(url, { protocols, signal, ...client options })      (client)
 *   WebSocketStream.from(ws)                    (a server's accepted WebSocket, or any open one)
 *        │
 *   opened ──▶ { readable, writable, protocol, extensions }
 *        readable: messages in (readable.ts); a full queue pauses the socket, reading resumes it
 *        writable: messages out (writable.ts); a write resolves once handed to the socket
 *   close({ closeCode, reason }), writer.close(), writer.abort(e), readable.cancel(e) ──▶ §7.1.2
 *   closed ──▶ { closeCode, reason } after the closing handshake; rejects (1006) when it was lost
 * ```
 *
 * Only the WebSocket's public API is used (`send` with its callback and `fin`, `close`, `pause`,
 * `resume`, `bufferedAmount`, `readyState` and its events).
 */
// Loading the client installs it as the dialer of `new WebSocket(url)` (src/websocket/dialer.ts).
import type { Buffer } from 'node:buffer';
import '../client/connect.ts';
import type { ClientOptions } from '../client/options.ts';
import { DEFAULTS } from '../defaults.ts';
import { ErrorCode, InvalidArgumentError, InvalidOptionError, InvalidStateError } from '../errors.ts';
import { CloseCode } from '../frame/close-code.ts';
import { ReadyState } from '../ready-state.ts';
import { WebSocket } from '../websocket/websocket.ts';
import { WebSocketCloseError, type WebSocketCloseInfo } from './close-error.ts';
import { createMessageReadable, type MessageReadable } from './readable.ts';
import { createStreamedReadable, type StreamedMessage } from './streamed-readable.ts';
import { createMessageWritable, type MessageWritable } from './writable.ts';

/** How far each side of the pair may run ahead of the other end: see `DEFAULTS`. */
export interface WebSocketStreamPairOptions {
  /**
   * Messages the readable holds for a consumer that is not reading before the socket stops being
   * read. Default 16 (`DEFAULTS.streamReadableHighWaterMark`).
   */
  readonly readableHighWaterMark?: number;
  /**
   * Bytes the writable queues, not yet handed to the socket, before `writer.ready` waits. Default
   * 1 MiB (`DEFAULTS.streamWritableHighWaterMark`).
   */
  readonly writableHighWaterMark?: number;
  /**
   * Receive each message as a stream of its pieces, `{ binary, data }` (a {@link StreamedMessage}),
   * instead of whole: a message of any size then passes through without being buffered (give the
   * class the type: `new WebSocketStream<StreamedMessage>(url, { streamMessages: true })`).
   * `maxPayload` still bounds each message. Default false, as browsers.
   */
  readonly streamMessages?: boolean;
}

/** The options of `new WebSocketStream(url, options)`: the browsers' two, then the client's. */
export interface WebSocketStreamOptions
  extends Omit<ClientOptions<WebSocket>, 'signal'>,
    WebSocketStreamPairOptions {
  /** Subprotocols to offer, most preferred first (§4.1); the chosen one is `opened`'s `protocol`. */
  readonly protocols?: string | readonly string[];
  /**
   * Aborts the opening handshake: `opened` and `closed` reject with the signal's reason. Once the
   * connection is open the signal is ignored, as in browsers: close it with `close()`.
   */
  readonly signal?: AbortSignal;
}

/** What the readable yields: whole messages, or with `streamMessages` each message as a stream. */
export type WebSocketStreamMessage = string | Uint8Array | StreamedMessage;

/** What `opened` resolves with. */
export interface WebSocketOpenInfo<M extends WebSocketStreamMessage = string | Uint8Array> {
  /**
   * Incoming messages: a string for text, a `Uint8Array` for binary; with `streamMessages`, a
   * {@link StreamedMessage} per message.
   */
  readonly readable: ReadableStream<M>;
  /**
   * Outgoing messages: a string (text), an `ArrayBuffer` or `ArrayBufferView` (binary), or an
   * `AsyncIterable` of those (a `ReadableStream`…), sent as one fragmented message.
   */
  readonly writable: WritableStream<unknown>;
  /** The subprotocol the server selected, or ''. */
  readonly protocol: string;
  /** The extensions in use (§9.1), e.g. 'permessage-deflate', or ''. */
  readonly extensions: string;
}

/** What `closed` resolves with: the close code and reason of the closing handshake (§7.1.5, §7.1.6). */
export interface WebSocketCloseResult {
  readonly closeCode: number;
  readonly reason: string;
}

/** Set by {@link WebSocketStream.from} for the constructor it calls: the WebSocket to adopt. */
let adopting: WebSocket | null = null;

function settled<T>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
} {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Browsers only log a rejection nobody awaits; in Node it would end the process.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

function highWaterMark(value: number | undefined, fallback: number, option: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 1)) {
    throw new InvalidOptionError(option, `${option} must be a number ≥ 1, got ${String(value)}`);
  }
  return value;
}

/**
 * A WebSocket as a pair of WHATWG streams, with backpressure: see the module comment. `M` is what
 * the readable yields: `StreamedMessage` with the `streamMessages` option.
 */
export class WebSocketStream<M extends WebSocketStreamMessage = string | Uint8Array> {
  /** The URL connected to ('' for a server-side WebSocket given to `from()`). */
  readonly url: string;
  /** Resolves once the connection is open; rejects when the handshake fails or is aborted. */
  readonly opened: Promise<WebSocketOpenInfo<M>>;
  /**
   * Resolves once the closing handshake is over; rejects with a {@link WebSocketCloseError}
   * (`closeCode` 1006) when the connection was lost or failed, or like `opened` when it never opened.
   */
  readonly closed: Promise<WebSocketCloseResult>;
  readonly #ws: WebSocket | null;
  readonly #readableHighWaterMark: number;
  readonly #writableHighWaterMark: number;
  readonly #streamMessages: boolean;
  #readable: MessageReadable<WebSocketStreamMessage> | null = null;
  #writable: MessageWritable | null = null;
  #abortReason: { readonly reason: unknown } | null = null;
  #error: Error | null = null;

  /**
   * Opens a client connection (`ws://`, `wss://`, `ws+unix://`).
   * @throws {InvalidArgumentError} (code WS_ERR_INVALID_ARGUMENT) for an invalid URL or option, as
   *   `new WebSocket()` does.
   */
  constructor(url: string | URL, options: WebSocketStreamOptions = {}) {
    const {
      protocols,
      signal,
      readableHighWaterMark,
      writableHighWaterMark,
      streamMessages,
      ...clientOptions
    } = options;
    this.#streamMessages = streamMessages === true;
    this.#readableHighWaterMark = highWaterMark(
      readableHighWaterMark,
      DEFAULTS.streamReadableHighWaterMark,
      'readableHighWaterMark',
    );
    this.#writableHighWaterMark = highWaterMark(
      writableHighWaterMark,
      DEFAULTS.streamWritableHighWaterMark,
      'writableHighWaterMark',
    );
    const opened = settled<WebSocketOpenInfo<M>>();
    const closed = settled<WebSocketCloseResult>();
    this.opened = opened.promise;
    this.closed = closed.promise;
    const adopted = adopting;
    adopting = null;
    if (adopted === null && signal?.aborted === true) {
      // Browsers do not even connect with a signal already aborted.
      this.#ws = null;
      this.url = String(url);
      opened.reject(signal.reason);
      closed.reject(signal.reason);
      return;
    }
    const ws = adopted ?? new WebSocket(url, protocols ?? [], clientOptions);
    this.#ws = ws;
    this.url = ws.url;
    const onAbort = (): void => {
      if (ws.readyState !== ReadyState.CONNECTING) return;
      this.#abortReason = { reason: signal!.reason };
      ws.close(); // while CONNECTING: the handshake is aborted, 'error' then 'close' follow
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    ws.on('error', (error) => {
      this.#error ??= error;
    });
    const open = (): void => {
      signal?.removeEventListener('abort', onAbort);
      const owner = { cancel: (reason: unknown) => this.#closeFor(reason) };
      const readable: MessageReadable<WebSocketStreamMessage> = this.#streamMessages
        ? createStreamedReadable(ws, this.#readableHighWaterMark, DEFAULTS.streamPieceHighWaterMark, owner)
        : createMessageReadable(ws, this.#readableHighWaterMark, owner);
      const writable = createMessageWritable(ws, this.#writableHighWaterMark, {
        closeFromWriter: async () => {
          this.#closeFor(undefined);
          await this.closed;
        },
        abort: (reason) => this.#closeFor(reason),
      });
      this.#readable = readable;
      this.#writable = writable;
      opened.resolve({
        readable: readable.readable as ReadableStream<M>,
        writable: writable.writable,
        protocol: ws.protocol,
        extensions: ws.extensions,
      });
    };
    ws.once('close', (code: number, reason: Buffer) => {
      signal?.removeEventListener('abort', onAbort);
      const readable = this.#readable;
      const writable = this.#writable;
      if (readable === null || writable === null) {
        const error =
          this.#abortReason !== null
            ? this.#abortReason.reason
            : (this.#error ??
              new WebSocketCloseError('the connection closed before it opened', { closeCode: code }));
        opened.reject(error);
        closed.reject(error);
        return;
      }
      // §7.1.5: without a Close frame received the close code is 1006; a connection we failed
      // (§7.1.7) did not close cleanly either, whatever the peer answered (browsers say 1006 too).
      if (code === CloseCode.Abnormal || this.#error !== null) {
        const error = new WebSocketCloseError(
          this.#error === null ? 'the connection was lost' : `the connection failed: ${this.#error.message}`,
          { closeCode: CloseCode.Abnormal },
          ErrorCode.ConnectionLost,
          { cause: this.#error ?? undefined },
        );
        readable.error(error);
        writable.error(error);
        closed.reject(error);
        return;
      }
      readable.close();
      writable.error(new InvalidStateError('the WebSocket is closed: nothing more can be sent'));
      closed.resolve({ closeCode: code, reason: reason.toString() });
    });
    if (ws.readyState === ReadyState.OPEN) open();
    else if (ws.readyState === ReadyState.CONNECTING) ws.once('open', open);
    else {
      const error = new InvalidStateError('the WebSocket is already closing or closed');
      opened.reject(error);
      closed.reject(error);
    }
  }

  /**
   * The same pair over a WebSocket that exists already: a server's accepted connection (call it in
   * the 'connection' listener, before anything is read), or a client WebSocket, open or connecting.
   * @param options - the queues' high-water marks.
   * @throws {InvalidOptionError} (code WS_ERR_INVALID_ARGUMENT) for a high-water mark below 1.
   */
  static from<M extends WebSocketStreamMessage = string | Uint8Array>(
    ws: WebSocket,
    options: WebSocketStreamPairOptions = {},
  ): WebSocketStream<M> {
    if (!(ws instanceof WebSocket)) {
      throw new InvalidArgumentError('WebSocketStream.from() takes a sockwire WebSocket');
    }
    adopting = ws;
    try {
      return new WebSocketStream<M>(ws.url, options);
    } finally {
      adopting = null;
    }
  }

  /**
   * Starts the closing handshake (§7.1.2), or aborts the opening one (then `opened` and `closed`
   * reject). Messages still queued in the writable are not sent.
   * @param closeInfo - `closeCode`: 1000–1003, 1007–1014 or 3000–4999 (§7.4); omitted, 1000 when a
   *   reason is given, else a Close frame without a code (1005). `reason`: at most 123 bytes of UTF-8.
   * @throws {InvalidArgumentError} (code WS_ERR_INVALID_ARGUMENT) for an invalid code, a reason too
   *   long, or `closeInfo` that is not an object.
   */
  close(closeInfo?: WebSocketCloseInfo): void {
    if (closeInfo !== undefined && (closeInfo === null || typeof closeInfo !== 'object')) {
      throw new InvalidArgumentError('close() takes { closeCode, reason } or nothing');
    }
    const ws = this.#ws;
    if (ws === null) return;
    ws.close(closeInfo?.closeCode, closeInfo?.reason);
    this.#readable?.closing();
  }

  /**
   * `readable.cancel(reason)`, `writer.abort(reason)`, `writer.close()`: close with the code and
   * reason of a {@link WebSocketCloseError}; any other reason (or an invalid code in one, as
   * browsers do) closes without a code.
   */
  #closeFor(reason: unknown): void {
    const ws = this.#ws;
    if (ws === null || ws.readyState !== ReadyState.OPEN) return;
    if (reason instanceof WebSocketCloseError) {
      try {
        ws.close(
          reason.closeCode === CloseCode.NoStatusReceived ? undefined : reason.closeCode,
          reason.reason,
        );
        this.#readable?.closing();
        return;
      } catch (error) {
        if (!(error instanceof InvalidArgumentError)) throw error;
      }
    }
    ws.close();
    this.#readable?.closing();
  }
}
