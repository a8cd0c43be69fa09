/**
 * The server side of WebSockets over HTTP/2 (RFC 8441) on a `node:http2` server:
 *
 *   Http2(Secure)Server 'stream' ─▶ extended CONNECT? (RFC 8441 §4) ─no─▶ left to the application
 *                                      │ yes
 *                                      ▼
 *       validateExtendedConnect (RFC 8441 §4, RFC 8441 §5) ─▶ WebSocketServer[negotiateHandshake]
 *                 (path, allowedOrigins, maxConnections, verifyClient, subprotocol, permessage-deflate:
 *                  the same code as the HTTP/1.1 upgrade) ─▶ :status 200 ─▶ the stream is the Duplex
 *                  under the WebSocket ─▶ 'connection' (ws, request with httpVersion '2.0')
 *
 * It sees the WebSocketServer only through the contract of src/server/negotiate.ts
 * (NegotiatingServer, HandshakeResponder), so that the server and this file do not import each other.
 *
 * With `allowHTTP1: true` the same server emits 'upgrade' for HTTP/1.1 clients, which the
 * WebSocketServer's `server` option already handles: one port, both protocols, one set of hooks.
 */
import type {
  Http2SecureServer,
  Http2Server,
  Http2ServerRequest,
  Http2ServerResponse,
  Http2Session,
  OutgoingHttpHeaders,
  ServerHttp2Stream,
} from 'node:http2';
import { constants as h2constants } from 'node:http2';
import type { Duplex } from 'node:stream';
import { DEFAULTS } from '../defaults.ts';
import { ErrorCode, HandshakeError } from '../errors.ts';
import { assertFieldValue, type HeaderFields } from '../handshake/header-lines.ts';
import { isToken } from '../handshake/headers.ts';
import type { UpgradeRequest } from '../handshake/server.ts';
import { WEBSOCKET_VERSION } from '../handshake/version.ts';
import {
  type HandshakeResponder,
  type NegotiatingServer,
  negotiateHandshake,
  refuseHandshake,
} from '../server/negotiate.ts';
import type { UpgradeRequestInfo } from '../server/types.ts';
import type { WebSocket } from '../websocket/websocket.ts';
import {
  CONNECTION_SPECIFIC_FIELDS,
  type Http2HeaderValues,
  isExtendedConnect,
  toRawHeaders,
  validateExtendedConnect,
} from './handshake.ts';

/** The request a WebSocketServer passes to `verifyClient`, `handleProtocols` and 'connection' for HTTP/2. */
export interface Http2UpgradeRequest extends UpgradeRequestInfo {
  readonly method: 'CONNECT';
  readonly httpVersion: '2.0';
  /** The HTTP/2 stream the WebSocket runs on (also `socket`). */
  readonly stream: ServerHttp2Stream;
  /** `:authority` (RFC 8441 §5: it takes the place of `Host`). */
  readonly authority: string;
  /** `:scheme`, normally `https`. */
  readonly scheme: string;
}

/** RFC 9113 §8.2.2: "An endpoint MUST NOT generate an HTTP/2 message containing connection-specific header fields". */
const CONNECTION_SPECIFIC: ReadonlySet<string> = new Set(CONNECTION_SPECIFIC_FIELDS);

const EMPTY = new Uint8Array(0);

/** WebSocket streams (being verified or open) per HTTP/2 session, for `maxStreamsPerSession`. */
const streamCounts = new WeakMap<Http2Session, number>();

function releaseStreamSlot(session: Http2Session): void {
  const count = streamCounts.get(session) ?? 0;
  if (count <= 1) streamCounts.delete(session);
  else streamCounts.set(session, count - 1);
}

/** Answers an RFC 8441 handshake on its stream. */
class Http2Responder implements HandshakeResponder {
  readonly stream: ServerHttp2Stream;
  constructor(stream: ServerHttp2Stream) {
    this.stream = stream;
  }
  get socket(): Duplex {
    return this.stream;
  }
  get secure(): boolean {
    return this.stream.session?.encrypted === true;
  }
  /**
   * RFC 8441 §5: the server answers the CONNECT with a 2xx (`:status` 200) and, as over HTTP/1.1,
   * the selected subprotocol and accepted extensions; no Sec-WebSocket-Accept.
   * @throws {TypeError} for a subprotocol that is not a token or an extensions value with controls.
   */
  accept(_request: UpgradeRequest, protocol: string | undefined, extensions: string | undefined): void {
    const headers: OutgoingHttpHeaders = { ':status': 200 };
    if (protocol !== undefined) {
      if (!isToken(protocol)) throw new TypeError(`Subprotocol ${JSON.stringify(protocol)} is not a token`);
      headers['sec-websocket-protocol'] = protocol;
    }
    if (extensions !== undefined && extensions !== '') {
      assertFieldValue('Sec-WebSocket-Extensions', extensions);
      headers['sec-websocket-extensions'] = extensions;
    }
    this.stream.respond(headers);
  }
  reject(status: number, reason: string, headers: HeaderFields | undefined): void {
    const stream = this.stream;
    if (stream.destroyed || stream.headersSent) return;
    const out: OutgoingHttpHeaders = { ':status': status, 'content-type': 'text/plain; charset=utf-8' };
    for (const [name, value] of Object.entries(headers ?? {})) {
      const lower = name.toLowerCase();
      if (!CONNECTION_SPECIFIC.has(lower)) out[lower] = value;
    }
    stream.respond(out);
    stream.end(reason); // the reason alone, as over HTTP/1.1
    // A peer that never ends its half must not keep the stream (RFC 9113 §8.1: RST_STREAM after a
    // complete response).
    setTimeout(closeStream, DEFAULTS.refusalLingerMs, stream).unref();
  }
}

function closeStream(stream: ServerHttp2Stream): void {
  if (!stream.closed) stream.close(h2constants.NGHTTP2_CANCEL);
}

/**
 * The server ended its half of a WebSocket's stream ('finish'): the WebSocket ends it right after the
 * closing handshake (or after failing the connection), carrying RFC 6455 §7.1.1's "the server SHOULD
 * close the underlying TCP connection first" over to the stream (RFC 8441 §6: "Orderly TCP-level
 * closures are represented as END_STREAM flags"). Give the peer a short grace
 * (`DEFAULTS.http2StreamEndGraceMs`) to end its half too.
 */
function onWebSocketStreamFinish(this: ServerHttp2Stream): void {
  if (!this.closed && !this.readableEnded)
    setTimeout(resetLingeringStream, DEFAULTS.http2StreamEndGraceMs, this).unref();
}

function resetLingeringStream(stream: ServerHttp2Stream): void {
  if (stream.closed || stream.destroyed) return;
  // Our END_STREAM may still wait behind HTTP/2 flow control (RFC 9113 §5.2), and a reset would drop
  // the Close frame queued before it: wait until it has gone (`closeTimeout` still bounds the whole).
  if (stream.state.localClose !== 1) {
    setTimeout(resetLingeringStream, DEFAULTS.http2StreamEndGraceMs, stream).unref();
    return;
  }
  // RFC 9113 §8.1: "A server can send a complete response prior to the client sending an entire
  // request [...] the server MAY request that the client abort transmission of a request without error
  // by sending a RST_STREAM with an error code of NO_ERROR after sending a complete response".
  stream.close(h2constants.NGHTTP2_NO_ERROR);
}

function onHandshakeStreamError(this: Duplex): void {
  this.destroy();
}

/** The WebSocketServers attached to each HTTP/2 server, in attach order (routing by `path`). */
const attached = new WeakMap<
  Http2SecureServer | Http2Server,
  {
    readonly servers: Set<NegotiatingServer>;
    readonly onStream: (stream: ServerHttp2Stream, headers: Http2HeaderValues) => void;
    readonly onConnect: (req: Http2ServerRequest | { readonly headers: object }, second: unknown) => void;
  }
>();

/**
 * Takes RFC 8441 WebSocket streams from a `node:http2` server and hands them to `wss` (which must not
 * be attached to it already; `new WebSocketServer({ server: http2Server })` calls this itself). Sets
 * `enableConnectProtocol: true` in the server's SETTINGS for new sessions (RFC 8441 §3: "Upon receipt
 * of SETTINGS_ENABLE_CONNECT_PROTOCOL with a value of 1, a client MAY use the Extended CONNECT").
 *
 * Every extended CONNECT stream (a CONNECT with `:protocol`) is taken: `:protocol` other than
 * `websocket` is answered 400. Everything else (GET, a plain CONNECT tunnel) is left to the
 * application's 'stream' or 'request' handler; a 'stream' handler should skip streams for which
 * {@link isExtendedConnect} is true. Several WebSocketServers may share one HTTP/2 server, each for
 * its own `path`; a path none serves is answered 400 by the first.
 *
 * @param server - A server from `http2.createSecureServer()` (or `createServer()` for h2c).
 * @param wss - The WebSocketServer that negotiates and emits 'connection' (usually `noServer: true`).
 * @returns A function that detaches `wss` again.
 * @throws {TypeError} (from `server.updateSettings`) when the server rejects the setting.
 */
export function attachHttp2(server: Http2SecureServer | Http2Server, wss: NegotiatingServer): () => void {
  let entry = attached.get(server);
  if (entry === undefined) {
    const servers = new Set<NegotiatingServer>();
    const onStream = (stream: ServerHttp2Stream, headers: Http2HeaderValues) =>
      takeStream(servers, stream, headers);
    // The compatibility API (a 'request' listener) turns every CONNECT into a 'connect' event and
    // answers 405 when nobody listens, which would race with our answer to an extended CONNECT. This
    // listener keeps Node's defaults for everything else as long as the application has none.
    const onConnect = (req: { readonly headers: object }, second: unknown) => {
      if (server.listenerCount('connect') > 1) return;
      if ('stream' in req) {
        if (isExtendedConnect(req.headers as Http2HeaderValues)) return;
        const response = second as Http2ServerResponse;
        response.statusCode = 405;
        response.end();
      } else {
        (second as Duplex).destroy(); // an HTTP/1.1 CONNECT: what node:http does without a listener
      }
    };
    entry = { servers, onStream, onConnect };
    attached.set(server, entry);
    server.on('stream', onStream);
    server.on('connect', onConnect);
  }
  entry.servers.add(wss);
  server.updateSettings({ enableConnectProtocol: true });
  const current = entry;
  return () => {
    current.servers.delete(wss);
    if (current.servers.size > 0 || attached.get(server) !== current) return;
    attached.delete(server);
    server.off('stream', current.onStream);
    server.off('connect', current.onConnect);
  };
}

function takeStream(
  servers: ReadonlySet<NegotiatingServer>,
  stream: ServerHttp2Stream,
  headers: Http2HeaderValues,
): void {
  // RFC 8441 §4: the extended CONNECT is a CONNECT carrying :protocol; anything else is not ours.
  if (!isExtendedConnect(headers)) return;
  stream.on('error', onHandshakeStreamError);
  const responder = new Http2Responder(stream);
  let request: UpgradeRequest;
  try {
    request = validateExtendedConnect(headers);
  } catch (error) {
    // No path to route by yet: the first attached server answers (and reports) it.
    const first = servers.values().next().value;
    if (first === undefined) {
      responder.reject(500, 'Internal Server Error', undefined);
    } else if (error instanceof HandshakeError) {
      const extra =
        error.code === ErrorCode.UnsupportedVersion
          ? { 'sec-websocket-version': WEBSOCKET_VERSION }
          : undefined;
      first[refuseHandshake](responder, error, undefined, extra);
    } else {
      first[refuseHandshake](
        responder,
        new HandshakeError(ErrorCode.HandshakeFailed, 500, 'Internal Server Error'),
        undefined,
        undefined,
      );
    }
    return;
  }
  const info = toRequestInfo(stream, headers, request);
  let chosen: NegotiatingServer | undefined;
  for (const wss of servers) {
    if (wss.shouldHandle(info)) {
      chosen = wss;
      break;
    }
  }
  chosen ??= servers.values().next().value;
  if (chosen === undefined) return;
  const wss = chosen;
  // A limit of our own: the server is the application's, so its SETTINGS_MAX_CONCURRENT_STREAMS
  // (RFC 9113 §5.1.2), which also bounds its plain requests, is left alone. A status rather than
  // RST_STREAM REFUSED_STREAM: RFC 9113 §8.7 makes a refused stream safe to retry, and clients retry
  // it on the same connection, while a 429 (RFC 6585 §4) is a final answer with a reason to read.
  const session = stream.session;
  if (session !== undefined) {
    const count = streamCounts.get(session) ?? 0;
    if (count >= (wss.options.maxStreamsPerSession ?? DEFAULTS.maxStreamsPerSession)) {
      wss[refuseHandshake](
        responder,
        new HandshakeError(
          ErrorCode.TooManyConnections,
          429,
          'Too Many Requests: this HTTP/2 connection carries as many WebSockets as the server allows ' +
            '(maxStreamsPerSession); close one or open them over another connection',
        ),
        info,
        undefined,
      );
      return;
    }
    streamCounts.set(session, count + 1);
    stream.once('close', () => releaseStreamSlot(session));
  }
  wss[negotiateHandshake](info, request, responder, EMPTY, (ws: WebSocket, req) => {
    stream.once('finish', onWebSocketStreamFinish);
    wss.emit('connection', ws, req);
  });
}

function toRequestInfo(
  stream: ServerHttp2Stream,
  headers: Http2HeaderValues,
  request: UpgradeRequest,
): Http2UpgradeRequest {
  const plain: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) plain[name] = Array.isArray(value) ? value : String(value);
  }
  return {
    method: 'CONNECT',
    url: request.path,
    httpVersion: '2.0',
    headers: plain,
    rawHeaders: toRawHeaders(headers),
    socket: stream,
    stream,
    authority: request.host,
    scheme: String(headers[':scheme']),
  };
}
