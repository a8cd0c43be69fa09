/**
 * The client side of WebSockets over HTTP/2 (RFC 8441), called from src/client/connect.ts when the
 * `http2` option is `'prefer'` or `'require'`:
 *
 *   wss:// ─▶ pooled ClientHttp2Session per origin + TLS options (ALPN "h2") ─▶ peer SETTINGS
 *     ─▶ SETTINGS_ENABLE_CONNECT_PROTOCOL = 1? (RFC 8441 §3) ─no─▶ 'prefer': HTTP/1.1 Upgrade; 'require': HandshakeError
 *        │ yes
 *        ▼
 *   HEADERS :method CONNECT, :protocol websocket, :scheme, :path, :authority, sec-websocket-version 13,
 *           [sec-websocket-protocol, sec-websocket-extensions, origin] (RFC 8441 §4, RFC 8441 §5)
 *     ─▶ :status 200 ─▶ validateConnectResponse ─▶ the stream is the Duplex under the WebSocket
 *     ─▶ any other status: HandshakeError with it
 *
 * The sessions are pooled in src/http2/session-pool.ts: closing a WebSocket ends its stream, not the
 * session; a session with no streams for SESSION_IDLE_TIMEOUT ms is closed.
 */
import { type ClientHttp2Stream, constants as h2constants } from 'node:http2';
import { type ClientOffer, clientAttachOptions, maskKeysFrom } from '../client/handshake.ts';
import { openClient } from '../client/open-client.ts';
import type { ClientOptions } from '../client/options.ts';
import { generateMaskKey } from '../crypto.ts';
import {
  ErrorCode,
  HandshakeError,
  InvalidArgumentError,
  toHandshakeFailure,
  type WebSocketError,
} from '../errors.ts';
import { REQUEST_RESERVED } from '../handshake/client.ts';
import { assertFieldName, assertFieldValue } from '../handshake/header-lines.ts';
import { WEBSOCKET_VERSION } from '../handshake/version.ts';
import type { AttachOptions } from '../websocket/types.ts';
import type { WebSocket } from '../websocket/websocket.ts';
import {
  CONNECTION_SPECIFIC_FIELDS,
  type Http2HeaderValues,
  validateConnectResponse,
  WEBSOCKET_PROTOCOL,
} from './handshake.ts';
import {
  acquire,
  hasRoom,
  MAX_SESSIONS_PER_ORIGIN,
  MAX_WEBSOCKET_STREAMS_PER_SESSION,
  NoHttp2,
  openStream,
  type PooledSession,
  poolKey,
  release,
  type SessionOrigin,
  stopWaiting,
  waitForRoom,
} from './session-pool.ts';

/** What src/client/connect.ts hands over: where to connect (host, port, `:authority`, TLS) and more. */
export interface Http2Attempt extends SessionOrigin {
  readonly ws: WebSocket;
  readonly url: string;
  readonly policy: 'prefer' | 'require';
  readonly secure: boolean;
  /** Why HTTP/2 cannot be used for this target at all (ws+unix://, a proxy), or undefined. */
  readonly unsupported: string | undefined;
  readonly path: string;
  /** The subprotocols and the permessage-deflate offer, as over HTTP/1.1. */
  readonly offer: ClientOffer;
  readonly options: ClientOptions;
  /** Marks the attempt settled; false when it already was (timed out or aborted). */
  readonly settle: () => boolean;
  readonly fail: (error: WebSocketError) => void;
  /** Continues with the HTTP/1.1 Upgrade (only with 'prefer'). */
  readonly fallback: () => void;
}

/** A running RFC 8441 attempt, as src/client/connect.ts sees it. */
export interface Http2Handle {
  /** Aborts the attempt (a HandshakeError). */
  abort(): void;
  /** Why the attempt is waiting, for the handshake timeout's message, or undefined. */
  readonly waitingFor: string | undefined;
}

const FULL =
  `every HTTP/2 connection to the server (at most ${MAX_SESSIONS_PER_ORIGIN}) is at its ` +
  `SETTINGS_MAX_CONCURRENT_STREAMS limit or carries ${MAX_WEBSOCKET_STREAMS_PER_SESSION} WebSockets`;

/**
 * Starts an RFC 8441 attempt.
 * @throws {InvalidArgumentError} synchronously with `'require'` for a target HTTP/2 cannot serve
 *   (ws://, ws+unix://, a proxy), or for an invalid extra header.
 */
export function connectHttp2(attempt: Http2Attempt): Http2Handle {
  const why = !attempt.secure ? 'a ws:// URL (HTTP/2 is used over TLS only)' : attempt.unsupported;
  if (why !== undefined) {
    if (attempt.policy === 'require') {
      throw new InvalidArgumentError(`http2: 'require' cannot be used with ${why}`);
    }
    attempt.fallback();
    return { abort: noop, waitingFor: undefined };
  }
  const headers = requestHeaders(attempt);
  const key = poolKey(attempt);
  let entry: PooledSession | null = null;
  /** Sessions this attempt opened: bounded too, so that sessions that keep closing cannot loop it. */
  let created = 0;
  let waiting: (() => void) | null = null;
  let stream: ClientHttp2Stream | null = null;
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    if (waiting !== null) stopWaiting(key, waiting);
    waiting = null;
    if (entry !== null) release(entry);
    entry = null;
  };
  /** Takes a session with room, or opens one within the bounds; otherwise falls back or waits. */
  const take = () => {
    waiting = null;
    if (done) return;
    const taken = acquire(key, attempt, created < MAX_SESSIONS_PER_ORIGIN);
    if (taken === null) {
      if (attempt.policy === 'prefer') {
        noHttp2(attempt, finish, FULL);
        return;
      }
      // 'require': wait for a stream to close, a SETTINGS update or a session to go; the handshake
      // timeout bounds the wait.
      waiting = take;
      waitForRoom(key, take);
      return;
    }
    if (taken.created) created++;
    const current = taken.entry;
    entry = current;
    current.ready.then(
      (enabled) => onReady(current, enabled),
      (error: unknown) => {
        if (entry === current) onFailure(error);
      },
    );
  };
  const onReady = (current: PooledSession, enabled: boolean) => {
    if (done || entry !== current) return;
    // A session at the server's SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113 §6.5.2) would queue the
    // stream until another one closes, and one at MAX_WEBSOCKET_STREAMS_PER_SESSION may get a 429:
    // take (or open) another session to the same origin instead.
    if (enabled && !hasRoom(current)) {
      release(current);
      entry = null;
      take();
      return;
    }
    if (!enabled) {
      // RFC 8441 §3: "Upon receipt of SETTINGS_ENABLE_CONNECT_PROTOCOL with a value of 1, a client MAY
      // use the Extended CONNECT"; without it, "a non-supporting peer would detect a malformed request
      // and generate a stream error". ("A sender MUST NOT send ... 0 after previously sending a value
      // of 1", so the answer holds for the session's lifetime.)
      noHttp2(
        attempt,
        finish,
        'the server does not allow extended CONNECT (SETTINGS_ENABLE_CONNECT_PROTOCOL)',
      );
      return;
    }
    open();
  };
  const fail = (error: WebSocketError) => {
    finish();
    if (stream !== null && !stream.closed) stream.close(h2constants.NGHTTP2_CANCEL);
    attempt.fail(error);
  };
  const onFailure = (error: unknown) => {
    if (done) return;
    if (error instanceof NoHttp2) {
      noHttp2(attempt, finish, error.message);
      return;
    }
    const message = (error as Error).message ?? 'HTTP/2 session failed';
    fail(toHandshakeFailure(error, message));
  };
  const open = () => {
    try {
      stream = openStream(entry!, headers, finish);
    } catch (error) {
      fail(toHandshakeFailure(error, (error as Error).message));
      return;
    }
    const current = stream;
    const onError = (error: Error) => fail(toHandshakeFailure(error, error.message));
    const onClose = () =>
      fail(
        new HandshakeError(ErrorCode.HandshakeFailed, 0, 'the server closed the stream during the handshake'),
      );
    current.on('error', onError);
    current.on('close', onClose);
    current.once('response', (responseHeaders: Http2HeaderValues) => {
      current.off('error', onError);
      current.off('close', onClose);
      let response: ReturnType<typeof validateConnectResponse>;
      let attach: AttachOptions;
      try {
        response = validateConnectResponse(responseHeaders, attempt.offer);
        // The `generateMask` option applies over HTTP/2 as over HTTP/1.1 (RFC 6455 §5.3: the client masks).
        const maskKeys = maskKeysFrom(attempt.options.generateMask, generateMaskKey);
        attach = clientAttachOptions(response, attempt.offer, attempt.options, maskKeys, attempt.url);
      } catch (error) {
        fail(toHandshakeFailure(error));
        return;
      }
      if (!attempt.settle()) {
        current.close(h2constants.NGHTTP2_CANCEL);
        return;
      }
      // Outside the catch above: an exception from the application's 'upgrade' or 'open' listener
      // is uncaught, as in `ws`, not a handshake failure.
      openClient(attempt.ws, current, response.head, EMPTY, attach);
    });
  };
  take();
  return {
    abort: () => {
      if (!done) fail(new HandshakeError(ErrorCode.HandshakeAborted, 0, 'connection attempt aborted'));
    },
    get waitingFor() {
      return waiting === null ? undefined : FULL;
    },
  };
}

const EMPTY = new Uint8Array(0);
function noop(): void {}

function noHttp2(attempt: Http2Attempt, finish: () => void, reason: string): void {
  finish();
  if (attempt.policy === 'prefer') {
    attempt.fallback();
    return;
  }
  attempt.fail(new HandshakeError(ErrorCode.Http2Unavailable, 0, `http2 'require': ${reason}`));
}

/**
 * Header fields the caller may not add: those the HTTP/1.1 handshake sets (Host is `:authority` here)
 * and the connection-specific ones an HTTP/2 request must not carry (RFC 9113 §8.2.2).
 */
const RESERVED: ReadonlySet<string> = new Set([...REQUEST_RESERVED, ...CONNECTION_SPECIFIC_FIELDS]);

/**
 * The request headers of RFC 8441 §4 and RFC 8441 §5.
 * @throws {InvalidArgumentError} for an invalid or reserved extra header.
 */
function requestHeaders(attempt: Http2Attempt): Record<string, string> {
  const headers: Record<string, string> = {
    ':method': 'CONNECT',
    ':protocol': WEBSOCKET_PROTOCOL,
    ':scheme': 'https',
    ':path': attempt.path,
    ':authority': attempt.authority,
    // RFC 8441 §5 keeps Sec-WebSocket-Version (RFC 6455 §4.1 item 9: "MUST be 13").
    'sec-websocket-version': WEBSOCKET_VERSION,
  };
  const { protocols, extensionOffer } = attempt.offer;
  if (protocols.length > 0) headers['sec-websocket-protocol'] = protocols.join(', ');
  if (extensionOffer !== undefined) headers['sec-websocket-extensions'] = extensionOffer;
  try {
    if (attempt.options.origin !== undefined) {
      assertFieldValue('Origin', attempt.options.origin);
      headers.origin = attempt.options.origin;
    }
    for (const [name, value] of Object.entries(attempt.options.headers ?? {})) {
      assertFieldName(name);
      assertFieldValue(name, value);
      const lower = name.toLowerCase();
      if (RESERVED.has(lower) || lower === 'origin') {
        throw new TypeError(`the header ${name} is set by the handshake or not allowed in HTTP/2`);
      }
      headers[lower] = value;
    }
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  return headers;
}
