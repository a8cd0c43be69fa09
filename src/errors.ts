/**
 * The error taxonomy of sockwire. Every error has a stable `code` string (listed in docs/api.md)
 * so that callers can branch on it without parsing messages.
 *
 * - {@link ProtocolError}: the peer broke RFC 6455; carries the close code we fail the connection with.
 * - {@link HandshakeError}: the opening handshake failed; carries the HTTP status (server side: the
 *   status we answer with; client side: the status we received, or 0 when none was received).
 * - {@link InvalidStateError}: the call is not allowed in the current state; thrown synchronously.
 * - {@link InvalidArgumentError} (and {@link InvalidOptionError}): an argument no state would accept;
 *   thrown synchronously.
 *
 * The handshake has one code per failure a program would handle differently (as tungstenite's
 * `ProtocolError` variants), so that nothing needs to match a message: `WS_ERR_HANDSHAKE_FAILED` is
 * left for what has no better code (the connection failing during the handshake, or an unexpected
 * exception, wrapped by {@link toHandshakeFailure}).
 */
import type { Buffer } from 'node:buffer';
import type { IncomingHttpHeaders } from 'node:http';

/** Stable error code strings. */
export const ErrorCode = {
  // Frame and message violations (ProtocolError).
  InvalidOpcode: 'WS_ERR_INVALID_OPCODE',
  UnexpectedRsvBit: 'WS_ERR_UNEXPECTED_RSV',
  ControlFrameTooLong: 'WS_ERR_CONTROL_FRAME_TOO_LONG',
  FragmentedControlFrame: 'WS_ERR_FRAGMENTED_CONTROL_FRAME',
  MaskExpected: 'WS_ERR_EXPECTED_MASK',
  MaskUnexpected: 'WS_ERR_UNEXPECTED_MASK',
  InvalidPayloadLength: 'WS_ERR_INVALID_PAYLOAD_LENGTH',
  UnexpectedContinuation: 'WS_ERR_UNEXPECTED_CONTINUATION',
  ExpectedContinuation: 'WS_ERR_EXPECTED_CONTINUATION',
  MessageTooBig: 'WS_ERR_MESSAGE_TOO_BIG',
  InvalidUtf8: 'WS_ERR_INVALID_UTF8',
  InvalidCloseCode: 'WS_ERR_INVALID_CLOSE_CODE',
  InvalidClosePayload: 'WS_ERR_INVALID_CLOSE_PAYLOAD',
  InvalidCompressedData: 'WS_ERR_INVALID_COMPRESSED_DATA',
  /** Our zlib failed (a compression error, or no stream: out of memory); the connection is failed with 1011. */
  CompressionFailed: 'WS_ERR_COMPRESSION_FAILED',
  // Opening handshake (HandshakeError): one code per failure a program would handle differently,
  // as tungstenite's `ProtocolError` variants. `status` says what was answered (server) or received
  // (client; 0 when nothing was).
  /**
   * A failure with no more specific code: the connection failed or closed during the handshake
   * (`cause` has Node's error), or something unexpected was thrown (wrapped, as `cause`).
   */
  HandshakeFailed: 'WS_ERR_HANDSHAKE_FAILED',
  /** Client: no complete handshake within `handshakeTimeout`. */
  HandshakeTimeout: 'WS_ERR_HANDSHAKE_TIMEOUT',
  /** Client: `close()` or `terminate()` was called before the connection was established. */
  HandshakeAborted: 'WS_ERR_HANDSHAKE_ABORTED',
  /** A head over the size or field-count limits (server: 431). */
  HeadTooLarge: 'WS_ERR_HEAD_TOO_LARGE',
  /**
   * Not a valid HTTP message (RFC 9112): a malformed start line or field line, a body framing a
   * proxy could read differently, a missing, repeated or invalid `Host`, an invalid request target
   * (server: 400). Over HTTP/2, a missing pseudo-header field.
   */
  MalformedHttp: 'WS_ERR_MALFORMED_HTTP',
  /** Server: a plain HTTP request (neither `Upgrade` nor `Connection: upgrade`) at a WebSocket endpoint (426). */
  UpgradeRequired: 'WS_ERR_UPGRADE_REQUIRED',
  /** Server: the method is not GET (§4.2.1 item 1), or over HTTP/2 not an extended CONNECT (405). */
  InvalidMethod: 'WS_ERR_INVALID_METHOD',
  /** An HTTP version the handshake cannot use: below 1.1 (§4.1, §4.2.1 item 1), or not 1.x at all. */
  InvalidHttpVersion: 'WS_ERR_INVALID_HTTP_VERSION',
  /** `Upgrade` missing or not `websocket` (§4.1, §4.2.1 item 3); over HTTP/2, `:protocol` not `websocket`. */
  InvalidUpgradeHeader: 'WS_ERR_INVALID_UPGRADE_HEADER',
  /** `Connection` missing or without `upgrade` (§4.1, §4.2.1 item 4). */
  InvalidConnectionHeader: 'WS_ERR_INVALID_CONNECTION_HEADER',
  /** Server: `Sec-WebSocket-Key` missing or not the base64 of 16 bytes (§4.2.1 item 5). */
  InvalidKey: 'WS_ERR_INVALID_KEY',
  /**
   * Server: `Sec-WebSocket-Version` missing or not one this server speaks (§4.2.1 item 6); the answer
   * lists the versions it speaks (§4.2.2).
   */
  UnsupportedVersion: 'WS_ERR_UNSUPPORTED_VERSION',
  /** Client: `Sec-WebSocket-Accept` missing or not the one our key asks for (§4.1). */
  InvalidAcceptKey: 'WS_ERR_INVALID_ACCEPT_KEY',
  /** Client: the server answered something other than 101 (over HTTP/2: other than 2xx); `status` says what. */
  UnexpectedResponse: 'WS_ERR_UNEXPECTED_RESPONSE',
  /**
   * A malformed `Sec-WebSocket-Protocol` (server: 400), or (client) a subprotocol in the answer that
   * was not offered, several of them, or one when none was offered (§4.1).
   */
  InvalidSubprotocol: 'WS_ERR_INVALID_SUBPROTOCOL',
  /** Client: subprotocols were offered and the server selected none (WHATWG Fetch, as browsers and `ws`). */
  MissingSubprotocol: 'WS_ERR_MISSING_SUBPROTOCOL',
  /**
   * A malformed `Sec-WebSocket-Extensions` (server: 400), or (client) an extension in the answer that
   * was not offered (§4.1, §9.1), or permessage-deflate parameters the offer does not allow (RFC 7692 §7.1).
   */
  InvalidExtensions: 'WS_ERR_INVALID_EXTENSIONS',
  /**
   * Client, following redirects: a `Location` that is not a URL, not ws/wss/http/https, or that would
   * go from wss:// to ws://.
   */
  InvalidRedirect: 'WS_ERR_INVALID_REDIRECT',
  /** Client: more than `maxRedirects` redirects (the message is `ws`'s, `Maximum redirects exceeded`). */
  TooManyRedirects: 'WS_ERR_TOO_MANY_REDIRECTS',
  /** Client: the proxy refused to open a tunnel (`status` is its answer) or closed the connection. */
  ProxyFailed: 'WS_ERR_PROXY_FAILED',
  /** Client with `http2: 'require'`: the server does not speak HTTP/2 or RFC 8441's extended CONNECT. */
  Http2Unavailable: 'WS_ERR_HTTP2_UNAVAILABLE',
  /** Server: no WebSocket endpoint at the request's path (400). */
  NoEndpoint: 'WS_ERR_NO_ENDPOINT',
  /** Server: the `Origin` is not in `allowedOrigins` (403, §4.2.2, §10.2). */
  OriginRefused: 'WS_ERR_ORIGIN_REFUSED',
  /** Server: `close()` was called; handshakes in progress are answered 503. */
  ShuttingDown: 'WS_ERR_SHUTTING_DOWN',
  /** Server: `maxConnections` reached (503, with `Retry-After`), or over HTTP/2 `maxStreamsPerSession` (429). */
  TooManyConnections: 'WS_ERR_TOO_MANY_CONNECTIONS',
  // API misuse (InvalidStateError, TypeError-like).
  InvalidState: 'WS_ERR_INVALID_STATE',
  InvalidArgument: 'WS_ERR_INVALID_ARGUMENT',
  /** `ReconnectingWebSocket.send()` while disconnected with `maxQueuedMessages` already queued. */
  QueueFull: 'WS_ERR_QUEUE_FULL',
  // Transport-level failures surfaced to the user.
  ConnectionLost: 'WS_ERR_CONNECTION_LOST',
  /** The peer sent nothing within the keep-alive timeout after a Ping. */
  KeepAliveTimeout: 'WS_ERR_KEEPALIVE_TIMEOUT',
  /**
   * Server: a hook of the application (`verifyClient`, `handleProtocols`, an `allowedOrigins`
   * function, a 'connection' listener or the `handleUpgrade` callback) threw or returned an invalid
   * value during a handshake; emitted as 'hookError', with what the hook threw as `cause`.
   */
  HookFailed: 'WS_ERR_HOOK_FAILED',
} as const;

export type ErrorCodeString = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Base class of every error sockwire throws or emits. */
export class WebSocketError extends Error {
  readonly code: ErrorCodeString;

  constructor(code: ErrorCodeString, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The peer violated the protocol; the connection is failed with {@link ProtocolError.closeCode}. */
export class ProtocolError extends WebSocketError {
  /** The close code sent to the peer (RFC 6455 §7.4.1), e.g. 1002, 1007 or 1009. */
  readonly closeCode: number;

  constructor(code: ErrorCodeString, closeCode: number, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.closeCode = closeCode;
  }
}

/** The opening handshake failed (RFC 6455 §4). */
export class HandshakeError extends WebSocketError {
  /** HTTP status: the one answered (server) or received (client); 0 when there was none. */
  readonly status: number;
  /**
   * Client, when the server answered something other than 101: the response's header fields as
   * Node gives them (lower-case names, `set-cookie` an array); `undefined` otherwise.
   */
  readonly headers: IncomingHttpHeaders | undefined;
  /** Client, with `headers`: the start of the response body (at most 16 KiB); `undefined` otherwise. */
  readonly body: Buffer | undefined;

  constructor(
    code: ErrorCodeString,
    status: number,
    message: string,
    options?: { cause?: unknown; headers?: IncomingHttpHeaders; body?: Buffer },
  ) {
    super(code, message, options !== undefined && 'cause' in options ? { cause: options.cause } : undefined);
    this.status = status;
    this.headers = options?.headers;
    this.body = options?.body;
  }
}

/** The API was used in a way the current state does not allow (e.g. `send()` before `open`). */
export class InvalidStateError extends WebSocketError {
  constructor(message: string, code: ErrorCodeString = ErrorCode.InvalidState) {
    super(code, message);
  }
}

/**
 * An argument has a value the method cannot work with (a close code outside the allowed ranges, a
 * Ping payload over 125 bytes, an invalid URL…); thrown synchronously, like the `TypeError`s and
 * `RangeError`s of the browser API. `code` is WS_ERR_INVALID_ARGUMENT. Distinct from
 * {@link InvalidStateError}: the same call would fail in any state, so the fix is in the caller's code.
 */
export class InvalidArgumentError extends WebSocketError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.InvalidArgument, message, options);
  }
}

/**
 * An option given to a constructor (WebSocketServer, WebSocket, ReconnectingWebSocket) has a value
 * it cannot work with; thrown synchronously by the constructor, before anything starts. `code` is
 * WS_ERR_INVALID_ARGUMENT, as for any other invalid argument; `option` names the option, with a
 * dotted path for nested ones (e.g. `keepAlive.timeout`, `perMessageDeflate.threshold`).
 */
export class InvalidOptionError extends InvalidArgumentError {
  /** The option's name, e.g. `maxPayload` or `keepAlive.timeout`. */
  readonly option: string;

  constructor(option: string, message: string) {
    super(message);
    this.option = option;
  }
}

/**
 * The error a failed client handshake reports, the one place where the client wraps what it did not
 * raise itself: our own errors as they are; anything else (an exception from a parser or a hook, a
 * socket or HTTP/2 session error) as a HandshakeError `WS_ERR_HANDSHAKE_FAILED` with status 0 and
 * the original as `cause`.
 *
 * @param error - What was thrown or emitted.
 * @param message - The message of the wrapper: for a transport error, its own message (the text
 * `ws` reports); by default `invalid handshake response`.
 * @returns A {@link WebSocketError}.
 * @throws Never.
 */
export function toHandshakeFailure(error: unknown, message = 'invalid handshake response'): WebSocketError {
  return error instanceof WebSocketError
    ? error
    : new HandshakeError(ErrorCode.HandshakeFailed, 0, message, { cause: error });
}
