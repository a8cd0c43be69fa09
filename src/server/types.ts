/**
 * The public types of WebSocketServer: its options (each with its default and the reason for it),
 * the request its hooks and events receive, the decisions its hooks return, and its events. Types
 * only: the behaviour is in websocket-server.ts (the class), negotiate.ts (§4.2.2) and
 * http1-listener.ts (§4.2.1 over HTTP/1.1).
 */
import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { Http2SecureServer, Http2Server } from 'node:http2';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { TlsOptions } from 'node:tls';
import type { HandshakeError, WebSocketError } from '../errors.ts';
import type { PerMessageDeflateOptions } from '../extensions/permessage-deflate/index.ts';
import type { HeaderFields } from '../handshake/header-lines.ts';
import type { ConnectionSettings } from '../websocket/types.ts';
import type { WebSocket } from '../websocket/websocket.ts';
import type { ServerAdapter } from './adapter.ts';

/** What the server knows of an upgrade request; an `http.IncomingMessage` when attached to node:http. */
export interface UpgradeRequestInfo {
  readonly method: string;
  /** The request target, e.g. `/chat?room=1`. */
  readonly url: string;
  readonly httpVersion: string;
  /** Header values by lowercase name (repeated fields joined with ", "). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly rawHeaders: readonly string[];
  /**
   * The connection: a `net.Socket` or `tls.TLSSocket` standalone (with `remoteAddress`, as
   * `IncomingMessage.socket` has), an HTTP/2 stream over RFC 8441 (no address of its own).
   */
  readonly socket: Duplex & {
    readonly remoteAddress?: string | undefined;
    readonly remotePort?: number | undefined;
  };
  /** The `user` an async `verifyClient` accepted the request with (`{ accept: true, user }`). */
  readonly user?: RequestUser;
}

/**
 * The type of `request.user`: `unknown`, or the type the application declared for `user` on
 * `http.IncomingMessage` (module augmentation, as `ws` users do), so that both request kinds agree.
 */
export type RequestUser = IncomingMessage extends { readonly user?: infer User } ? User : unknown;

/**
 * The request the server gives to its hooks and events: node:http's `IncomingMessage` over HTTP/1.1
 * (attached, `noServer`, and standalone, where the server makes one from its own parser's result),
 * or an {@link UpgradeRequestInfo} with the same fields for RFC 8441 over HTTP/2. `user` is what an
 * async `verifyClient` accepted the request with.
 */
export type ServerRequest = (IncomingMessage & { user?: RequestUser }) | UpgradeRequestInfo;

/**
 * The decision of `verifyClient`: accept (optionally with a `user`, which becomes `ws.user` and
 * `request.user` before 'connection' fires), or reject with a status, reason and headers.
 */
export type VerifyResult =
  | boolean
  | { readonly accept: true; readonly user?: unknown }
  | {
      readonly accept: false;
      readonly status?: number;
      readonly reason?: string;
      readonly headers?: HeaderFields;
    };

/**
 * What the server emits as 'handshakeRejected': one opening handshake that did not become a
 * WebSocket, for logs and metrics. The peer got `status` with the fixed text `reason` (nothing of the
 * request is reflected to it); the request itself, with the path, headers and socket, is here.
 */
export interface HandshakeRejection {
  /** The HTTP status answered (400, 401, 403, 404, 405, 426, 429, 431, 500, 503…), or 0 when the socket was dropped without an answer (a handshake timeout, or `maxConnections` reached during TLS). */
  readonly status: number;
  /** The reason sent with the status, or why the socket was dropped. */
  readonly reason: string;
  /** The upgrade request, when its head had arrived and could be parsed. */
  readonly request: ServerRequest | undefined;
  /** The peer's address, as the socket reports it (undefined on some HTTP/2 streams and closed sockets). */
  readonly remoteAddress: string | undefined;
}

/** What `verifyClient` receives: the request, its `Origin` and whether the connection is TLS. */
export interface VerifyClientInfo {
  readonly origin: string | undefined;
  readonly secure: boolean;
  readonly req: ServerRequest;
}

/** The options of `new WebSocketServer(options)`; every default is in `DEFAULTS` (src/defaults.ts). */
export interface ServerOptions<W extends WebSocket = WebSocket> extends ConnectionSettings {
  /** Port to listen on (standalone mode). 0 picks a free port. */
  readonly port?: number;
  /** Address to listen on. Default: all interfaces, as `net.Server`. */
  readonly host?: string;
  readonly backlog?: number;
  /** TLS options (`key`, `cert`, …) for a standalone `wss://` server. */
  readonly tls?: TlsOptions;
  /**
   * An existing `http`/`https` server to take upgrade requests from, or a `node:http2` server: then
   * HTTP/1.1 upgrades (with `allowHTTP1: true`) and RFC 8441 extended CONNECT streams are both
   * accepted, on the same port, with the same options and hooks (see docs/http2.md).
   */
  readonly server?: HttpServer | HttpsServer | Http2SecureServer | Http2Server;
  /** No listener at all: call `handleUpgrade()` yourself. */
  readonly noServer?: boolean;
  /** Accept only this path (the request target without its query). Default: any path. */
  readonly path?: string;
  /**
   * Picks the subprotocol from those offered (RFC 6455 §4.2.2 item 4), or `false` (or nothing) for
   * none. Default: the client's first choice. Without an offer, no subprotocol is selected.
   */
  readonly handleProtocols?: (protocols: Set<string>, request: ServerRequest) => string | false | undefined;
  /**
   * Decides whether to accept a client before the upgrade (authentication, origin checks, §10.2).
   * May be async. `false` answers 401; an object can choose the status, reason and headers.
   * A callback-style `(info, cb)` function, as in `ws`, is also accepted.
   */
  // One signature (not a union of the two styles), so that `({ req }) => …` gets its parameter's type
  // from context under `strict`. It returns a VerifyResult or a Promise of one; a function that
  // declares the second parameter calls back instead. The return type is `unknown` so that both
  // styles (and async functions that throw) are accepted as written: the value is checked at run
  // time, and anything else answers 500 with 'hookError'.
  readonly verifyClient?: (
    info: VerifyClientInfo,
    callback: (result: boolean, code?: number, message?: string, headers?: HeaderFields) => void,
  ) => unknown;
  /** Keep the set of open clients in `server.clients`. Default true. */
  readonly clientTracking?: boolean;
  /**
   * Standalone mode: how long a new socket may take, from accept, to finish its TLS handshake (with
   * `tls`) and send its complete request head, in ms; then it is destroyed without an answer.
   * Default 10 s: long enough for any real client, short enough to shed slowloris sockets.
   * In every mode it also bounds how long `verifyClient` may take to decide: after it, the client is
   * answered 500 and the server emits 'hookError' (an undecided hook would hold its socket forever).
   */
  readonly handshakeTimeout?: number;
  /** Standalone mode: request head limits (RFC 6585 §5: over them the answer is 431). */
  readonly maxHeadSize?: number;
  readonly maxHeaderCount?: number;
  /**
   * permessage-deflate (RFC 7692): `true` or options. Default off, as in `ws`: compression costs CPU
   * and about 64 KiB–300 KiB of zlib state per connection with context takeover, so a server opts in.
   */
  readonly perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /**
   * Origins allowed to connect (RFC 6455 §10.2: "servers that are not intended to process input from
   * any web page but only for certain sites SHOULD verify the |Origin| field is an origin they
   * expect"): exact `Origin` values (e.g. `'https://app.example'`), or a function deciding per request.
   * Anything else is answered `403 Forbidden` before the upgrade and before `verifyClient`.
   *
   * A request **without** `Origin` is allowed with the array form: browsers always send it, so its
   * absence means a non-browser client, which could forge any Origin anyway. The function form
   * receives `undefined` and decides itself (return false to require an Origin). Default: no check.
   */
  readonly allowedOrigins?:
    | readonly string[]
    | ((origin: string | undefined, request: ServerRequest) => boolean);
  /**
   * Most connections at once, counting open sockets and upgrades being verified or accepted, and on
   * a standalone `wss://` server sockets from accept on (TLS handshake included; over the limit they
   * are closed at once, as no HTTP answer is possible before TLS). Plain sockets still sending their
   * request head do not count: `handshakeTimeout` bounds them. Over the limit the answer is
   * `503 Service Unavailable` with `Retry-After` (RFC 9110 §10.2.3). Default: no limit.
   */
  readonly maxConnections?: number;
  /** Seconds sent in `Retry-After` with the 503 of `maxConnections`. Default 5. */
  readonly retryAfter?: number;
  /**
   * HTTP/2 (RFC 8441): most WebSockets (streams being verified or open) one HTTP/2 connection may
   * carry; further extended CONNECTs on it are answered `429 Too Many Requests` (RFC 6585 §4) while
   * the connection and its other streams go on. Per-IP or per-connection limits in front of the
   * server count TCP connections, and without this one connection could hold thousands of
   * WebSockets. Default 100: the smallest SETTINGS_MAX_CONCURRENT_STREAMS that RFC 9113 §6.5.2
   * recommends, and near common servers' stream limits (Apache httpd 100, nginx 128). `Infinity`: no limit.
   */
  readonly maxStreamsPerSession?: number;
  /**
   * `broadcast()`/`publish()`: a client whose `bufferedAmount` is over this many bytes is a slow
   * reader and gets `slowReaderPolicy` instead of the message. Default: no limit.
   */
  readonly maxBufferedAmount?: number;
  /**
   * What `broadcast()`/`publish()` do with a slow reader (see `maxBufferedAmount`): `'drop'` (default)
   * skips the message for that client; `'close'` closes it with **1013 Try Again Later** (RFC 6455
   * §7.4.1 via the IANA registry, §11.7). Not 1008 Policy Violation: the client broke no policy, it is
   * merely slow, and the server is shedding load; 1013 tells it to reconnect later, 1008 would tell a
   * reconnecting client not to retry.
   */
  readonly slowReaderPolicy?: 'close' | 'drop';
  /**
   * A message broker adapter (for example `createRedisAdapter()` of `@sockwire/redis-adapter`): then
   * `publish()`, `broadcast()` and `sendToUser()` also reach the clients of every other server
   * sharing the broker (other processes, other hosts), and this server delivers theirs. Local clients
   * get a message straight away, never twice. See docs/scaling.md. Default: none, everything is local
   * (and costs exactly what it did without the option).
   */
  readonly adapter?: ServerAdapter;
  /**
   * The class of the accepted connections: `WebSocket` (the default) or a subclass of it, constructed
   * as `new WebSocket(null)` (as in `ws` 8). Its instances are what 'connection', `clients` and the
   * `handleUpgrade` callback give (the server's type parameter is inferred from it).
   */
  readonly WebSocket?: new (
    url: null,
  ) => W;
}

/** Options of `server.close()`. */
export interface CloseOptions {
  /** Close code sent to every client. Default 1001 "going away" (§7.4.1). */
  readonly code?: number;
  readonly reason?: string;
  /** How long to wait for clients to finish the closing handshake before terminating them. Default: closeTimeout. */
  readonly timeout?: number;
}

/** What a WebSocketServer can be attached to (the `server` option). */
export type AttachableServer = HttpServer | HttpsServer | Http2SecureServer | Http2Server;

/** The events of a WebSocketServer and their listener arguments (`ws`'s, plus two of ours). */
export interface WebSocketServerEvents<W extends WebSocket = WebSocket> {
  /**
   * A client is connected, with its request ({@link ServerRequest}). Further arguments are those an
   * application passes to its own `server.emit('connection', ws, request, client)` from a
   * `handleUpgrade` callback (the client-authentication pattern of `ws`'s README).
   */
  // biome-ignore lint/suspicious/noExplicitAny: whatever the application emits, typed as @types/ws types it
  connection: [ws: W, request: ServerRequest, ...extra: any[]];
  /** The listener (standalone) or the attached server is listening. */
  listening: [];
  /** The listener failed (e.g. `EADDRINUSE`). */
  error: [error: Error];
  /** `close()` finished. */
  close: [];
  /** A hook of the application threw or returned an invalid value; the client got a 500 (or 1011). */
  hookError: [error: WebSocketError, request: ServerRequest | undefined];
  /** An opening handshake did not become a WebSocket (for logs and metrics). */
  handshakeRejected: [rejection: HandshakeRejection];
  /**
   * Just before the 101 is written (HTTP/1.1 only), as in `ws`: `headers` is the response's lines
   * without CRLFs (status line first); push fields such as `'Set-Cookie: a=b'`. A line that is not
   * `Name: value` with a token name and no CR/LF, or a changed status line, answers 500 instead
   * ('hookError').
   */
  headers: [headers: string[], request: ServerRequest];
  /**
   * A malformed upgrade request (the 400, 405 or 426 of RFC 6455 §4.2.1, `error.status` says which),
   * as in `ws`: with a listener, the server does not answer; the listener writes its own response to
   * `socket` and ends it (the server destroys it after `handshakeTimeout` otherwise).
   */
  wsClientError: [error: HandshakeError, socket: Duplex, request: ServerRequest];
}
