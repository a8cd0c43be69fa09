/**
 * The client's pooled HTTP/2 sessions (RFC 8441 runs each WebSocket on a stream of one): one pool per
 * origin and TLS settings, bounded in sessions per origin and in WebSocket streams per session.
 *
 *   acquire(key) ─▶ a session with room ─or─ a new one (≤ MAX_SESSIONS_PER_ORIGIN) ─or─ null (full)
 *   openStream(entry) counts the stream against SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113 §6.5.2)
 *   release(entry) ─▶ no stream left ─▶ closed after SESSION_IDLE_TIMEOUT, never keeping the process alive
 *   waitForRoom(key, retry) ─▶ retried when a stream closes, SETTINGS change or a session goes
 */
import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect as http2Connect,
  type OutgoingHttpHeaders,
} from 'node:http2';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { USER_TLS_OPTIONS } from '../client/tls-options.ts';

/** How long a pooled session with no streams stays open, in ms. */
export const SESSION_IDLE_TIMEOUT = 1000;

/**
 * At most this many pooled HTTP/2 sessions (TLS connections) per origin. RFC 9113 §9.1: "Clients
 * SHOULD NOT open more than one HTTP/2 connection to a given host and port pair"; but a WebSocket
 * holds its stream for its whole life, so a server's SETTINGS_MAX_CONCURRENT_STREAMS
 * (RFC 9113 §6.5.2) can fill one, and then a few more are opened. No more than this: a server advertising 0
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

/** A session in the pool, with its stream counts. */
export interface PooledSession {
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
 * Calls `retry` once something changes for `key` (a stream closes, new SETTINGS, a session goes), for
 * an attempt that found every session of its origin full.
 * @throws Never.
 */
export function waitForRoom(key: string, retry: () => void): void {
  const set = waiters.get(key) ?? new Set<() => void>();
  waiters.set(key, set);
  set.add(retry);
}

/**
 * Forgets a `retry` given to {@link waitForRoom}.
 * @throws Never.
 */
export function stopWaiting(key: string, retry: () => void): void {
  const set = waiters.get(key);
  set?.delete(retry);
  if (set?.size === 0) waiters.delete(key); // idle sessions of the origin may close again
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
 * @throws Never.
 */
export function hasRoom(entry: PooledSession): boolean {
  if (entry.session.closed || entry.session.destroyed) return false;
  const limit = Math.min(
    entry.session.remoteSettings?.maxConcurrentStreams ?? Number.POSITIVE_INFINITY,
    MAX_WEBSOCKET_STREAMS_PER_SESSION,
  );
  return entry.open < limit;
}

/** A session's `ready` rejects with this when the server did not negotiate h2 through ALPN. */
export class NoHttp2 extends Error {}

/** Where a session connects, and every option that changes its TLS connection. */
export interface SessionOrigin {
  readonly host: string;
  readonly port: number;
  /** `:authority` (RFC 9113 §8.3.1): host[:port], IPv6 literals bracketed. */
  readonly authority: string;
  readonly tlsOptions: TlsConnectionOptions;
  readonly options: { readonly family?: number; readonly localAddress?: string };
}

/**
 * Opens a stream on `entry`, counted against the server's SETTINGS_MAX_CONCURRENT_STREAMS
 * (RFC 9113 §6.5.2); when it closes, `closed` runs and attempts waiting on the origin try again.
 * @throws Whatever `session.request()` throws (e.g. the session is closing).
 */
export function openStream(
  entry: PooledSession,
  headers: OutgoingHttpHeaders,
  closed: () => void,
): ClientHttp2Stream {
  const stream = entry.session.request(headers, { endStream: false });
  entry.open++;
  stream.once('close', () => {
    entry.open--;
    closed();
    wake(entry.key); // a stream is free for an attempt waiting on this origin
  });
  return stream;
}

/**
 * Pool key: the origin plus every option that changes the TLS connection.
 * @throws Never.
 */
export function poolKey(attempt: SessionOrigin): string {
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
 * fewer than {@link MAX_SESSIONS_PER_ORIGIN}; null when neither. The caller {@link release}s it.
 * @throws Whatever `http2.connect()` throws synchronously for invalid TLS options.
 */
export function acquire(
  key: string,
  attempt: SessionOrigin,
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

/**
 * Gives back a session taken with {@link acquire}; with no user left it closes after
 * {@link SESSION_IDLE_TIMEOUT} and no longer keeps the process alive.
 * @throws Never.
 */
export function release(entry: PooledSession): void {
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

function openSession(key: string, attempt: SessionOrigin): PooledSession {
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

function noop(): void {}
