/**
 * The client side of WebSockets over HTTP/2 (RFC 8441), called from src/client/connect.ts when the
 * `http2` option is `'prefer'` or `'require'`:
 *
 *   wss:// ─▶ pooled ClientHttp2Session per origin + TLS options (ALPN "h2") ─▶ peer SETTINGS
 *     ─▶ SETTINGS_ENABLE_CONNECT_PROTOCOL = 1? (§3) ─no─▶ 'prefer': HTTP/1.1 Upgrade; 'require': HandshakeError
 *        │ yes
 *        ▼
 *   HEADERS :method CONNECT, :protocol websocket, :scheme, :path, :authority, sec-websocket-version 13,
 *           [sec-websocket-protocol, sec-websocket-extensions, origin] (§4, §5)
 *     ─▶ :status 200 ─▶ validateConnectResponse ─▶ the stream is the Duplex under the WebSocket
 *     ─▶ any other status: HandshakeError with it
 *
 * Closing a WebSocket ends its stream, not the session; a session with no streams for
 * {@link SESSION_IDLE_TIMEOUT} ms is closed (and never keeps the process alive while idle).
 */
import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  constants as h2constants,
  connect as http2Connect,
} from 'node:http2';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { openClient } from '../client/open-client.ts';
import type { ClientOptions } from '../client/options.ts';
import { USER_TLS_OPTIONS } from '../client/tls-options.ts';
import { generateMaskKey } from '../crypto.ts';
import { DEFAULTS } from '../defaults.ts';
import {
  ErrorCode,
  HandshakeError,
  InvalidStateError,
  toHandshakeFailure,
  type WebSocketError,
} from '../errors.ts';
import { assertFieldName, assertFieldValue } from '../handshake/header-lines.ts';
import type { ExtensionOffer } from '../handshake/headers.ts';
import type { AttachOptions, WebSocket } from '../websocket.ts';
import { type Http2HeaderValues, validateConnectResponse, WEBSOCKET_PROTOCOL } from './handshake.ts';

/** How long a pooled session with no streams stays open, in ms. */
export const SESSION_IDLE_TIMEOUT = 1000;

/**
 * At most this many pooled HTTP/2 sessions (TLS connections) per origin. RFC 9113 §9.1: "Clients
 * SHOULD NOT open more than one HTTP/2 connection to a given host and port pair"; but a WebSocket
 * holds its stream for its whole life, so a server's SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113
 * §6.5.2) can fill one, and then a few more are opened. No more than this: a server advertising 0
 * ("Servers SHOULD only set a zero value for short durations", e.g. while draining) then costs a
 * handful of TLS handshakes, not a loop of them. When all are full, 'prefer' falls back to HTTP/1.1
 * at once and 'require' waits for a free stream until the handshake timeout.
 */
export const MAX_SESSIONS_PER_ORIGIN = 4;

/**
 * At most this many WebSocket streams per pooled session, whatever the server's
 * SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113 §6.5.2) allows: a WebSocket holds its stream for its whole
 * life, and servers bound WebSockets per connection below that setting (sockwire's own
 * `maxStreamsPerSession` defaults to 100 and answers 429 beyond it), so the client opens another
 * pooled session instead of getting 429s. 100 is also the value RFC 9113 §6.5.2 recommends as the
 * minimum ("It is recommended that this value be no smaller than 100").
 */
export const MAX_WEBSOCKET_STREAMS_PER_SESSION = 100;

/** What src/client/connect.ts hands over. */
export interface Http2Attempt {
  readonly ws: WebSocket;
  readonly url: string;
  readonly policy: 'prefer' | 'require';
  readonly secure: boolean;
  /** Why HTTP/2 cannot be used for this target at all (ws+unix://, a proxy), or undefined. */
  readonly unsupported: string | undefined;
  readonly host: string;
  readonly port: number;
  /** `:authority`: host[:port], IPv6 literals bracketed. */
  readonly authority: string;
  readonly path: string;
  readonly protocols: readonly string[];
  readonly options: ClientOptions;
  readonly tlsOptions: TlsConnectionOptions;
  /** The serialized permessage-deflate offer, if any, and the offered extension names. */
  readonly extensionOffer: string | undefined;
  readonly offeredExtensions: readonly string[];
  readonly negotiateDeflate: (
    extensions: readonly ExtensionOffer[],
    status: number,
    maxPayload: number,
  ) => AttachOptions['deflate'];
  /** Marks the attempt settled; false when it already was (timed out or aborted). */
  readonly settle: () => boolean;
  readonly fail: (error: WebSocketError) => void;
  /** Continues with the HTTP/1.1 Upgrade (only with 'prefer'). */
  readonly fallback: () => void;
}

interface PooledSession {
  readonly key: string;
  readonly session: ClientHttp2Session;
  /** Settled with the peer's SETTINGS_ENABLE_CONNECT_PROTOCOL, or an error / 'no-h2'. */
  readonly ready: Promise<boolean>;
  /** Attempts and WebSockets using the session (it closes when idle at 0). */
  streams: number;
  /** Streams opened on it (against the server's SETTINGS_MAX_CONCURRENT_STREAMS). */
  open: number;
  idleTimer: NodeJS.Timeout | null;
}

/** Sessions by pool key; more than one when a server limits concurrent streams. */
const pool = new Map<string, PooledSession[]>();
/** Attempts ('require') waiting for room on a full pool, by pool key. */
const waiters = new Map<string, Set<() => void>>();

/** Something changed for `key` (a stream closed, new SETTINGS, a session gone): waiters try again. */
function wake(key: string): void {
  const waiting = waiters.get(key);
  if (waiting === undefined) return;
  waiters.delete(key);
  for (const retry of waiting) retry();
}

/**
 * The number of pooled HTTP/2 sessions (for tests and diagnostics).
 * @throws Never.
 */
export function pooledSessionCount(): number {
  let count = 0;
  for (const entries of pool.values()) count += entries.length;
  return count;
}

function forget(entry: PooledSession): void {
  const entries = pool.get(entry.key);
  if (entries === undefined) return;
  const at = entries.indexOf(entry);
  if (at !== -1) entries.splice(at, 1);
  if (entries.length === 0) pool.delete(entry.key);
  if (at !== -1) wake(entry.key);
}

/**
 * Whether a session can take one more stream: under the server's SETTINGS_MAX_CONCURRENT_STREAMS
 * (unknown before its SETTINGS: no limit yet) and under {@link MAX_WEBSOCKET_STREAMS_PER_SESSION}.
 */
function hasRoom(entry: PooledSession): boolean {
  if (entry.session.closed || entry.session.destroyed) return false;
  const limit = Math.min(
    entry.session.remoteSettings?.maxConcurrentStreams ?? Number.POSITIVE_INFINITY,
    MAX_WEBSOCKET_STREAMS_PER_SESSION,
  );
  return entry.open < limit;
}

/** Thrown (internally) when the server did not negotiate h2 through ALPN. */
class NoHttp2 extends Error {}

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
 * @throws {InvalidStateError} (code WS_ERR_INVALID_ARGUMENT) synchronously with `'require'` for a
 *   target HTTP/2 cannot serve (ws://, ws+unix://, a proxy), or an invalid extra header.
 */
export function connectHttp2(attempt: Http2Attempt): Http2Handle {
  const why = !attempt.secure ? 'a ws:// URL (HTTP/2 is used over TLS only)' : attempt.unsupported;
  if (why !== undefined) {
    if (attempt.policy === 'require') {
      throw new InvalidStateError(`http2: 'require' cannot be used with ${why}`, ErrorCode.InvalidArgument);
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
  const stopWaiting = () => {
    if (waiting === null) return;
    const set = waiters.get(key);
    set?.delete(waiting);
    if (set?.size === 0) waiters.delete(key); // idle sessions of the origin may close again
    waiting = null;
  };
  const finish = () => {
    if (done) return;
    done = true;
    stopWaiting();
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
      const set = waiters.get(key) ?? new Set<() => void>();
      waiters.set(key, set);
      set.add(take);
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
    fail(new HandshakeError(ErrorCode.HandshakeFailed, 0, message, { cause: error }));
  };
  const open = () => {
    const opened = entry!;
    try {
      stream = opened.session.request(headers, { endStream: false });
    } catch (error) {
      fail(new HandshakeError(ErrorCode.HandshakeFailed, 0, (error as Error).message, { cause: error }));
      return;
    }
    const current = stream;
    opened.open++;
    current.once('close', () => {
      opened.open--;
      finish();
      wake(opened.key); // a stream is free for an attempt waiting on this origin
    });
    const onError = (error: Error) =>
      fail(new HandshakeError(ErrorCode.HandshakeFailed, 0, error.message, { cause: error }));
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
        response = validateConnectResponse(responseHeaders, {
          protocols: attempt.protocols,
          offeredExtensions: attempt.offeredExtensions,
        });
        const status = response.head.statusCode;
        const maxPayload = attempt.options.maxPayload ?? DEFAULTS.maxPayload;
        const deflate = attempt.negotiateDeflate(response.extensions, status, maxPayload);
        attach = {
          role: 'client', // RFC 8441 §5: frames are masked exactly as over HTTP/1.1
          protocol: response.protocol,
          extensions: response.head.headers.get('sec-websocket-extensions') ?? '',
          maxPayload,
          closeTimeout: attempt.options.closeTimeout ?? DEFAULTS.closeTimeout,
          keepAlive: attempt.options.keepAlive,
          autoPong: attempt.options.autoPong,
          deflate,
          generateMaskKey,
          url: attempt.url,
        };
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
      if (!done) fail(new HandshakeError(ErrorCode.HandshakeFailed, 0, 'connection attempt aborted'));
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
  attempt.fail(new HandshakeError(ErrorCode.HandshakeFailed, 0, `http2 'require': ${reason}`));
}

/** Header fields an HTTP/2 request must not carry (RFC 9113 §8.2.2) or that the handshake sets. */
const RESERVED: ReadonlySet<string> = new Set([
  'connection',
  'upgrade',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'host',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'sec-websocket-accept',
]);

/**
 * RFC 8441 §4–§5 request headers.
 * @throws {InvalidStateError} for an invalid or reserved extra header.
 */
function requestHeaders(attempt: Http2Attempt): Record<string, string> {
  const headers: Record<string, string> = {
    ':method': 'CONNECT',
    ':protocol': WEBSOCKET_PROTOCOL,
    ':scheme': 'https',
    ':path': attempt.path,
    ':authority': attempt.authority,
    // RFC 8441 §5 keeps Sec-WebSocket-Version (RFC 6455 §4.1 item 9: "MUST be 13").
    'sec-websocket-version': '13',
  };
  if (attempt.protocols.length > 0) headers['sec-websocket-protocol'] = attempt.protocols.join(', ');
  if (attempt.extensionOffer !== undefined) headers['sec-websocket-extensions'] = attempt.extensionOffer;
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
    throw new InvalidStateError((error as Error).message, ErrorCode.InvalidArgument);
  }
  return headers;
}

/** Pool key: the origin plus every option that changes the TLS connection. */
function poolKey(attempt: Http2Attempt): string {
  const { tlsOptions, options } = attempt;
  const parts = [
    attempt.host,
    String(attempt.port),
    String(options.family ?? ''),
    options.localAddress ?? '',
  ];
  for (const name of ['servername', ...USER_TLS_OPTIONS] as const) parts.push(identity(tlsOptions[name]));
  return parts.join('\u0000');
}

const identities = new WeakMap<object, number>();
let nextIdentity = 0;
/** Strings and numbers by value, objects (Buffers, arrays, functions) by identity. */
function identity(value: unknown): string {
  if (value === undefined) return '';
  if ((typeof value === 'object' && value !== null) || typeof value === 'function') {
    let id = identities.get(value);
    if (id === undefined) {
      id = ++nextIdentity;
      identities.set(value, id);
    }
    return `#${id}`;
  }
  return `=${String(value)}`;
}

/**
 * A pooled session with room for one more stream, or a new one when `mayOpen` and the origin has
 * fewer than {@link MAX_SESSIONS_PER_ORIGIN}; null when neither.
 */
function acquire(
  key: string,
  attempt: Http2Attempt,
  mayOpen: boolean,
): { entry: PooledSession; created: boolean } | null {
  let entries = pool.get(key);
  let entry = entries?.find(hasRoom);
  const created = entry === undefined;
  if (entry === undefined) {
    if (!mayOpen || (entries?.length ?? 0) >= MAX_SESSIONS_PER_ORIGIN) return null;
    if (entries === undefined) {
      entries = [];
      pool.set(key, entries);
    }
    entry = openSession(key, attempt);
    entries.push(entry);
  }
  entry.streams++;
  if (entry.idleTimer !== null) {
    clearTimeout(entry.idleTimer);
    entry.idleTimer = null;
  }
  entry.session.ref();
  return { entry, created };
}

function release(entry: PooledSession): void {
  entry.streams--;
  if (entry.streams > 0 || entry.session.closed || entry.session.destroyed) return;
  entry.session.unref();
  entry.idleTimer = setTimeout(closeIdle, SESSION_IDLE_TIMEOUT, entry);
  entry.idleTimer.unref();
}

function closeIdle(entry: PooledSession): void {
  entry.idleTimer = null;
  if (entry.streams > 0) return;
  if (waiters.has(entry.key)) {
    // Attempts wait for this origin to allow a stream (a SETTINGS update may come on this session):
    // closing it would only make them open another.
    entry.idleTimer = setTimeout(closeIdle, SESSION_IDLE_TIMEOUT, entry);
    entry.idleTimer.unref();
    return;
  }
  forget(entry);
  entry.session.close();
}

function openSession(key: string, attempt: Http2Attempt): PooledSession {
  const authority = `https://${attempt.authority}`;
  const session = http2Connect(authority, {
    ...attempt.tlsOptions,
    ALPNProtocols: ['h2'],
    host: attempt.host,
    port: attempt.port,
    ...(attempt.options.family === undefined ? {} : { family: attempt.options.family }),
    ...(attempt.options.localAddress === undefined ? {} : { localAddress: attempt.options.localAddress }),
  });
  const ready = new Promise<boolean>((resolve, reject) => {
    let alpn: string | false | undefined;
    session.once('connect', () => {
      alpn = session.alpnProtocol;
      if (alpn !== 'h2') reject(new NoHttp2(`the server did not negotiate h2 through ALPN (got ${alpn})`));
    });
    // RFC 8441 §3: the client waits for the server's SETTINGS before using ":protocol".
    session.once('remoteSettings', (settings) => resolve(settings.enableConnectProtocol === true));
    // Later SETTINGS may raise SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113 §6.5.2): waiters try again.
    session.on('remoteSettings', () => wake(key));
    session.on('error', (error: Error & { code?: string }) => {
      forget(entry);
      if (error.code === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL') {
        reject(new NoHttp2('the server does not speak h2 (TLS ALPN refused)'));
      } else {
        reject(error);
      }
    });
    session.once('close', () => {
      forget(entry);
      reject(new Error('the HTTP/2 session closed before the server SETTINGS arrived'));
    });
  });
  ready.catch(noop); // the attempts waiting on it handle the rejection
  const entry: PooledSession = { key, session, ready, streams: 0, open: 0, idleTimer: null };
  return entry;
}
