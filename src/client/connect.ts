/**
 * The client side of the opening handshake (RFC 6455 §4.1) over `net` or `tls`:
 *
 *   parse URL (§3) ─▶ TCP/TLS connect ─▶ write the upgrade request ─▶ HttpHeadParser(response)
 *     ─▶ validateUpgradeResponse (101, accept key, subprotocol, extensions) ─▶ WebSocket OPEN
 *
 * Any failure before OPEN ends in one 'error' (a HandshakeError with the HTTP status, or 0 when no
 * response arrived) and one 'close' with 1006.
 */
import {
  type Agent,
  type ClientRequest,
  request as httpRequest,
  type IncomingMessage,
  type RequestOptions,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type NetConnectOpts, connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type ConnectionOptions as TlsConnectionOptions, connect as tlsConnect } from 'node:tls';
import { generateMaskKey, randomBytes, sha1 } from '../crypto.ts';
import {
  ErrorCode,
  HandshakeError,
  InvalidOptionError,
  InvalidStateError,
  toHandshakeFailure,
  WebSocketError,
} from '../errors.ts';
import {
  acceptDeflateResponse,
  buildDeflateOffer,
  DEFAULT_CONCURRENCY_LIMIT,
  DEFAULT_DEFLATE_THRESHOLD,
  EXTENSION_NAME,
  PerMessageDeflateCodec,
  type PerMessageDeflateOptions,
  resolveDeflateOptions,
  sharedClientLimiter,
} from '../extensions/permessage-deflate/index.ts';
import { generateKey } from '../handshake/accept-key.ts';
import {
  buildUpgradeRequest,
  escapeControlCharacters,
  validateUpgradeResponse,
} from '../handshake/client.ts';
import { assertFieldValue } from '../handshake/header-lines.ts';
import type { ExtensionOffer } from '../handshake/headers.ts';
import { isToken, isValidHostField } from '../handshake/headers.ts';
import { type HeadParseResult, HttpHeadParser, type ResponseHead } from '../handshake/http.ts';
import { connectHttp2, type Http2Handle, type Http2Policy } from '../http2/client.ts';
import { failHandshake } from '../internal.ts';
import { validateClientOptions } from '../options-validation.ts';
import {
  type AttachOptions,
  type ConnectionSettings,
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_MAX_PAYLOAD,
  type WebSocket,
} from '../websocket.ts';
import { openClient } from './open-client.ts';
import { readErrorBody, responseHeadOf } from './response.ts';
import { USER_TLS_OPTIONS } from './tls-options.ts';

/**
 * The `net`, `tls` and `http.request` options a client passes on to the connection as they are, as
 * `ws` does (it spreads its options into `http.request()`): typed here so that code written for
 * `ws` compiles.
 */
export type PassThroughOptions = Pick<
  TlsConnectionOptions,
  | 'lookup'
  | 'minVersion'
  | 'maxVersion'
  | 'ciphers'
  | 'ecdhCurve'
  | 'sigalgs'
  | 'pfx'
  | 'crl'
  | 'secureContext'
  | 'secureOptions'
  | 'session'
> &
  Pick<RequestOptions, 'maxHeaderSize' | 'signal' | 'insecureHTTPParser' | 'joinDuplicateHeaders'>;

export interface ClientOptions extends ConnectionSettings, PassThroughOptions {
  /**
   * Extra request headers (`Authorization`, `User-Agent`, …). Cookies go here too, as one
   * `Cookie: a=1; b=2` field (RFC 6265 §5.4): there is no cookie jar; read `Set-Cookie` from the
   * 'upgrade' event's response head if the server sets any. An `Authorization` here wins over the
   * URL's `user:pass@`. `Proxy-Authorization` is never sent to the server: with `proxy` it goes on
   * the CONNECT request, without one it is dropped.
   */
  readonly headers?: Readonly<Record<string, string>>;
  /** The `Origin` header (§4.1 item 8); browsers send it, other clients usually do not. */
  readonly origin?: string;
  /** How long the connection and opening handshake may take, in ms. Default 30 s (as .NET and `ws`). */
  readonly handshakeTimeout?: number;
  /** TLS: trusted CA certificates (PEM), replacing the system's store (e.g. for a self-signed server). */
  readonly ca?: TlsConnectionOptions['ca'];
  /** TLS: client certificate and key, for servers that ask for one. */
  readonly cert?: TlsConnectionOptions['cert'];
  readonly key?: TlsConnectionOptions['key'];
  readonly passphrase?: string;
  /** TLS: verify the server's certificate. Default true; false only for tests. */
  readonly rejectUnauthorized?: boolean;
  /** TLS: server name for SNI and certificate checks. Default: the URL's host name. */
  readonly servername?: string;
  readonly checkServerIdentity?: TlsConnectionOptions['checkServerIdentity'];
  /** IP family to resolve the host name to (4 or 6). */
  readonly family?: number;
  /** Local address to connect from. */
  readonly localAddress?: string;
  /**
   * Offer permessage-deflate (RFC 7692): `true` or options, `false` to not offer it. Default: offered,
   * as browsers and `ws` do; a server that does not want it simply declines, at no cost.
   */
  readonly perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /**
   * An HTTP proxy, `http://[user:pass@]host:port`: the client opens a tunnel with `CONNECT host:port`
   * (RFC 9110 §9.3.6), with `Proxy-Authorization: Basic …` when credentials are given (RFC 7617)
   * or the `Proxy-Authorization` of `headers` (which wins), then speaks TLS over the tunnel for wss://. A refusal (non-2xx) is a HandshakeError with the
   * proxy's status. Not used for ws+unix://. Default: none (environment variables are not read).
   */
  readonly proxy?: string | URL;
  /**
   * Follow 301/302/303/307/308 redirects with a Location (http(s) URLs map to ws(s)). Default false,
   * as in `ws`: a redirect is then a HandshakeError with the 3xx status. `Authorization`, `Cookie`
   * and `Proxy-Authorization` headers are not sent on to another scheme, host or port. A redirect
   * from wss:// to ws:// is refused (a HandshakeError with the 3xx status; `ws` follows it).
   */
  readonly followRedirects?: boolean;
  /** With `followRedirects`: how many redirects at most, then a HandshakeError (3xx). Default 10. */
  readonly maxRedirects?: number;
  /**
   * WebSockets over HTTP/2 (RFC 8441) for wss:// URLs: `'prefer'` uses an extended CONNECT stream on
   * a pooled HTTP/2 session when the server allows it and falls back to the HTTP/1.1 Upgrade
   * otherwise; `'require'` fails with a HandshakeError instead (and throws for ws://, ws+unix:// or a
   * proxy). In .NET terms, 'prefer' is `HttpVersion = 2.0` with `RequestVersionOrLower` and
   * 'require' is `RequestVersionExact`. Default false (HTTP/1.1 only, as .NET's ClientWebSocket
   * default `HttpVersion = 1.1`): an HTTP/2 session costs a round trip for its SETTINGS and pays off
   * only when sockets share it. Redirects are not followed over HTTP/2. See docs/http2.md.
   */
  readonly http2?: Http2Policy;
  /**
   * `user:password` for `Authorization: Basic …` (RFC 7617), as in `ws` and `http.request`. The
   * URL's own `user:pass@` wins over it, and an `Authorization` in `headers` wins over both.
   */
  readonly auth?: string;
  /**
   * An `http.Agent` (`https.Agent` for wss://) that opens the connection, as in `ws`: the handshake
   * request goes to `agent.addRequest()`. It replaces `proxy` (use a proxy agent instead).
   */
  readonly agent?: Agent;
  /**
   * Opens the connection instead of `net.connect`/`tls.connect`, as in `ws` and `http.request`:
   * called with the request options (`host`, `port` as in the URL, TLS options…); returns the
   * socket, or calls `callback(error, socket)` later and returns nothing.
   */
  readonly createConnection?: NonNullable<RequestOptions['createConnection']>;
  /**
   * Called with the handshake's `http.ClientRequest` instead of `request.end()`, as in `ws`: add or
   * change header fields, then call `request.end()` yourself.
   */
  readonly finishRequest?: (request: ClientRequest, websocket: WebSocket) => void;
  /**
   * Fills the 4-byte masking key of each frame the client sends (RFC 6455 §5.3), as in `ws`.
   * Default: random bytes from `crypto`. Only for tests or peers that need fixed keys: §10.3 asks
   * for unpredictable keys, so that a script cannot choose the bytes an intermediary sees.
   */
  readonly generateMask?: (mask: Buffer) => void;
}

/** Where to connect and what to ask for, from a `ws://`, `wss://` or `ws+unix://` URL (§3). */
interface Target {
  readonly secure: boolean;
  readonly host: string;
  readonly port: number;
  readonly socketPath: string | undefined;
  /** The Host header: host[:port], IPv6 literals bracketed. */
  readonly hostHeader: string;
  readonly path: string;
  /** `Basic …` from the URL's `user:pass@`, or undefined without userinfo. */
  readonly authorization: string | undefined;
}

const DEFAULT_HANDSHAKE_TIMEOUT = 30_000;

/**
 * Starts connecting `ws`; returns a function that aborts the attempt.
 * @throws {InvalidStateError} (code WS_ERR_INVALID_ARGUMENT) for an invalid URL or subprotocol list,
 *   synchronously, as the browser constructor throws a SyntaxError.
 */
export function connectClient(
  ws: WebSocket,
  url: string | URL,
  protocols: readonly string[],
  options: ClientOptions,
): () => void {
  validateClientOptions(options); // throws InvalidOptionError naming the option
  const target = parseTarget(url);
  // §4.1 item 10: "The elements that comprise this value MUST be non-empty strings with characters in
  // the range U+0021 to U+007E not including separator characters ... and MUST all be unique strings."
  if (new Set(protocols).size !== protocols.length || !protocols.every(isToken)) {
    throw new InvalidStateError(
      `invalid subprotocol list ${JSON.stringify(protocols)}: each must be a unique HTTP token`,
      ErrorCode.InvalidArgument,
    );
  }
  if (
    options.proxy !== undefined &&
    (options.agent !== undefined || options.createConnection !== undefined)
  ) {
    throw new InvalidOptionError(
      'proxy',
      'proxy cannot be combined with agent or createConnection, which open the connection themselves: ' +
        'use a proxy agent, or drop proxy',
    );
  }
  const deflateOptions = resolveDeflateOptions(options.perMessageDeflate, true);
  const proxy = options.proxy === undefined ? undefined : parseProxy(options.proxy);
  // RFC 9110 §11.7.2: Proxy-Authorization "applies only to the next inbound proxy that demanded
  // authentication"; it is taken out of the request headers once, so that no request to a server
  // (HTTP/1.1 through the tunnel or not, HTTP/2, after a redirect) carries the proxy's credentials.
  // It goes on every CONNECT to the proxy (redirects included: same proxy); without a proxy it is
  // dropped (`ws` sends it to the server, where it would only leak).
  const { proxyAuthorization, rest: withoutProxyAuthorization } = takeProxyAuthorization(options.headers);
  // A Host in `headers` replaces the computed one (as in `ws`), on this host and port only.
  const { host: customHost, rest: userHeaders } = takeHost(withoutProxyAuthorization);
  // URL userinfo (or the `auth` option) becomes Authorization: Basic (as `ws` and browsers do); an
  // explicit one wins.
  const headers = withUrlAuthorization(userHeaders, target, options.auth);
  const maxRedirects = options.followRedirects === true ? (options.maxRedirects ?? DEFAULT_MAX_REDIRECTS) : 0;
  const generateMask = options.generateMask;
  const maskKeys =
    generateMask === undefined
      ? generateMaskKey
      : () => {
          const mask = Buffer.alloc(4);
          generateMask(mask);
          return mask;
        };
  let redirects = 0;
  let settled = false;
  /** The proxy's TCP socket, then TLS over it, while the tunnel opens: destroyed on failure. */
  let sockets: Socket[] = [];
  let request: ClientRequest | null = null;
  /** A socket Node handed over with a 101 that is still being validated. */
  let upgraded: Duplex | null = null;
  let http2: Http2Handle | null = null;
  /** Stops everything this attempt started, without any event (the caller reports the failure). */
  const teardown = () => {
    settled = true;
    clearTimeout(timer);
    http2?.abort();
    request?.destroy();
    upgraded?.destroy();
    for (const socket of sockets) socket.destroy();
    sockets = [];
  };
  const fail = (error: WebSocketError) => {
    if (settled) return;
    teardown();
    ws[failHandshake](error);
  };
  // One deadline for the whole opening handshake, proxy tunnel and redirects included. Unreferenced:
  // the socket keeps the process alive while it connects, the deadline alone does not.
  const timer = setTimeout(() => {
    const waitingFor = http2?.waitingFor;
    const why = waitingFor === undefined ? '' : ` (${waitingFor})`;
    fail(new HandshakeError(ErrorCode.HandshakeTimeout, 0, `Opening handshake has timed out${why}`));
  }, options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT);
  timer.unref();

  /** Our own connection (TCP, TLS, or a tunnel through `proxy`), when no agent or createConnection is given. */
  const connector =
    (target: Target): NonNullable<RequestOptions['createConnection']> =>
    (connectOptions, created) => {
      if (target.socketPath !== undefined) return netConnect({ path: target.socketPath });
      if (proxy === undefined) {
        const common = connectOptions as TlsConnectionOptions;
        if (!target.secure) return netConnect({ ...(common as object), noDelay: true } as NetConnectOpts);
        return tlsConnect({ ...common, ...tlsOptionsFor(target, options) });
      }
      const untrack: (() => void)[] = [];
      const track = (socket: Socket) => {
        sockets.push(socket);
        const onError = (error: Error) => fail(asHandshakeError(error));
        const onClose = () =>
          fail(new HandshakeError(ErrorCode.HandshakeFailed, 0, 'the proxy closed the connection'));
        socket.on('error', onError);
        socket.on('close', onClose);
        untrack.push(() => {
          socket.off('error', onError);
          socket.off('close', onClose);
        });
      };
      const ready = (socket: Socket) => {
        for (const each of untrack) each();
        sockets = [];
        created(null, socket);
      };
      openTunnel(proxy, proxyAuthorization, target, options, track, ready, fail);
      return undefined;
    };

  const offeredExtensions = deflateOptions === null ? [] : [EXTENSION_NAME];

  /** RFC 6455 §4.1: one opening handshake over Node's HTTP client, to `currentUrl`. */
  const attempt = (
    currentUrl: string,
    target: Target,
    headers: Readonly<Record<string, string>> | undefined,
    host: string | undefined,
  ) => {
    const key = generateKey(randomBytes);
    // Built (and checked) by the pure core, then handed to Node's HTTP client field by field.
    const head = buildUpgradeRequest({
      host: host ?? target.hostHeader,
      path: target.path,
      key,
      protocols,
      ...(deflateOptions === null ? {} : { extensions: buildDeflateOffer(deflateOptions) }),
      ...(options.origin === undefined ? {} : { origin: options.origin }),
      ...(headers === undefined ? {} : { headers }),
    });
    const requestOptions: RequestOptions & TlsConnectionOptions = {
      // Other net and tls options (`lookup`, `minVersion`, `ciphers`…) reach the connection, as in `ws`.
      ...(options as RequestOptions & TlsConnectionOptions),
      ...(target.secure ? tlsOptionsFor(target, options) : {}),
      method: 'GET',
      protocol: target.secure ? 'https:' : 'http:',
      host: target.host,
      hostname: undefined,
      // Node takes the port as a string too (as `ws` passes it: the URL's text).
      port: urlPort(currentUrl, target) as number,
      path: target.path,
      socketPath: target.socketPath,
      headers: headerFields(head),
      setHost: false,
      auth: undefined,
      timeout: undefined,
      agent: options.agent,
      createConnection:
        options.agent !== undefined ? undefined : (options.createConnection ?? connector(target)),
    };
    const req = (target.secure ? httpsRequest : httpRequest)(requestOptions);
    request = req;
    req.on('error', (error) => {
      if (request === req) fail(asHandshakeError(error));
    });
    req.on('upgrade', (response: IncomingMessage, socket: Duplex, rest: Buffer) => {
      if (settled || request !== req) {
        socket.destroy();
        return;
      }
      request = null;
      upgraded = socket;
      const responseHead = responseHeadOf(response);
      let attach: AttachOptions;
      try {
        const validated = validateUpgradeResponse(responseHead, { key, protocols, offeredExtensions }, sha1);
        const maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
        attach = {
          role: 'client',
          protocol: validated.protocol,
          extensions: responseHead.headers.get('sec-websocket-extensions') ?? '',
          maxPayload,
          closeTimeout: options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT,
          keepAlive: options.keepAlive,
          autoPong: options.autoPong,
          deflate: negotiatedDeflate(validated.extensions, deflateOptions, 101, maxPayload),
          generateMaskKey: maskKeys,
          url: currentUrl,
        };
      } catch (error) {
        fail(toHandshakeFailure(error));
        return;
      }
      settled = true;
      upgraded = null;
      clearTimeout(timer);
      // Outside the catch above: what the application's 'upgrade' or 'open' listener throws is its
      // own exception, uncaught as in `ws`, not a handshake failure to swallow.
      openClient(ws, socket, responseHead, rest, attach, response);
    });
    req.on('response', (response: IncomingMessage) => {
      if (settled || request !== req) {
        response.resume();
        return;
      }
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (options.followRedirects === true && REDIRECT_STATUSES.has(status) && location !== undefined) {
        request = null;
        req.destroy();
        try {
          followRedirect(currentUrl, target, headers, host, status, location);
        } catch (error) {
          fail(toHandshakeFailure(error));
        }
        return;
      }
      // §4.1: "If the status code received from the server is not 101, the client handles the
      // response per HTTP [RFC2616] procedures": as in `ws`, an 'unexpected-response' listener
      // takes the response over (and no 'error' is emitted); without one, the handshake fails.
      if (ws.listenerCount('unexpected-response') > 0) {
        ws.emit('unexpected-response', req, response);
        return;
      }
      readErrorBody(response, (body) =>
        fail(
          new HandshakeError(ErrorCode.HandshakeFailed, status, `Unexpected server response: ${status}`, {
            headers: response.headers,
            body,
          }),
        ),
      );
    });
    // As in `ws`: 'redirect' comes before the new request is sent, so that a listener may still
    // change its header fields (`request.setHeader()`, `request.removeHeader()`).
    if (redirects > 0) ws.emit('redirect', currentUrl, req);
    if (settled || request !== req) return;
    if (options.finishRequest !== undefined) options.finishRequest(req, ws);
    else req.end();
  };

  const followRedirect = (
    currentUrl: string,
    target: Target,
    headers: Readonly<Record<string, string>> | undefined,
    host: string | undefined,
    status: number,
    location: string,
  ) => {
    const next = redirectTarget(location, currentUrl, status);
    // §4.1: for a wss:// URL the client "MUST perform a TLS handshake"; following a redirect to
    // ws:// would repeat the request, credentials and all, in cleartext instead (the same host
    // and port included). Refused, as browsers refuse mixed content.
    if (target.secure && !next.target.secure) {
      throw new HandshakeError(
        ErrorCode.HandshakeFailed,
        status,
        `refusing to follow a redirect from wss:// to ws:// (${next.url}): it would send the ` +
          'request in cleartext; connect to the ws:// URL yourself if that is intended',
      );
    }
    if (redirects >= maxRedirects) {
      throw new HandshakeError(
        ErrorCode.HandshakeFailed,
        status,
        `too many redirects: more than maxRedirects (${maxRedirects})`,
      );
    }
    redirects++;
    const sameHost =
      next.target.host === target.host &&
      next.target.port === target.port &&
      next.target.socketPath === target.socketPath;
    // RFC 9110 §15.4: "Consider removing header fields that were not automatically generated
    // ... where there are security implications; this includes ... Authorization and Cookie."
    // They are kept only on the origin (scheme, host and port: RFC 6454 §4) they were given for.
    const sameOrigin = sameHost && next.target.secure === target.secure;
    // The next URL's own userinfo (a relative Location inherits the current one) adds a Basic
    // Authorization unless one is kept.
    const kept = sameOrigin ? headers : withoutCredentials(headers);
    // A custom Host names the host it was given for (RFC 9110 §7.2): not sent to another one.
    attempt(next.url, next.target, withUrlAuthorization(kept, next.target), sameHost ? host : undefined);
  };

  let starting = true;
  try {
    if (options.http2 === 'prefer' || options.http2 === 'require') {
      const extensionOffer = deflateOptions === null ? undefined : buildDeflateOffer(deflateOptions);
      http2 = connectHttp2({
        ws,
        url: clientUrl(url),
        policy: options.http2,
        secure: target.secure,
        unsupported:
          target.socketPath !== undefined ? 'ws+unix://' : proxy !== undefined ? 'a proxy' : undefined,
        host: target.host,
        port: target.port,
        authority: customHost ?? target.hostHeader,
        path: target.path,
        protocols,
        options: headers === undefined ? options : { ...options, headers },
        tlsOptions: tlsOptionsFor(target, options),
        extensionOffer,
        offeredExtensions: extensionOffer === undefined ? [] : [EXTENSION_NAME],
        negotiateDeflate: (extensions, status, maxPayload) =>
          negotiatedDeflate(extensions, deflateOptions, status, maxPayload),
        settle: () => {
          if (settled) return false;
          settled = true;
          clearTimeout(timer);
          return true;
        },
        fail,
        fallback: () => {
          http2 = null;
          // Decided synchronously (ws:// with 'prefer'): errors are thrown from the constructor as usual.
          if (starting) return attempt(clientUrl(url), target, headers, customHost);
          try {
            attempt(clientUrl(url), target, headers, customHost);
          } catch (error) {
            fail(error instanceof WebSocketError ? error : new InvalidStateError(String(error)));
          }
        },
      });
    } else {
      attempt(clientUrl(url), target, headers, customHost);
    }
    starting = false;
  } catch (error) {
    // A bad header value or path: thrown synchronously from the constructor, nothing left running.
    teardown();
    throw error;
  }
  // close() or terminate() while CONNECTING: the WebSocket reports it itself.
  return () => {
    if (!settled) teardown();
  };
}

/**
 * The URL a client reports (`ws.url`): http:// and https:// become ws:// and wss://, as in `ws`
 * (RFC 6455 §3 defines the ws and wss schemes by the http and https ones); anything else as given.
 */
export function clientUrl(url: string | URL): string {
  const text = String(url);
  if (!/^https?:/i.test(text)) return text;
  try {
    const parsed = new URL(text);
    parsed.protocol = parsed.protocol === 'http:' ? 'ws:' : 'wss:';
    return parsed.href;
  } catch {
    return text; // the constructor throws for it
  }
}

/** Errors of the connection or of Node's HTTP client, as a HandshakeError with no status. */
function asHandshakeError(error: Error): WebSocketError {
  if (error instanceof WebSocketError) return error;
  if ((error as NodeJS.ErrnoException).code === 'HPE_HEADER_OVERFLOW') {
    return new HandshakeError(
      ErrorCode.HeadTooLarge,
      0,
      "the server's response head is larger than Node's maxHeaderSize (16 KiB unless set)",
      { cause: error },
    );
  }
  return new HandshakeError(ErrorCode.HandshakeFailed, 0, error.message, { cause: error });
}

/** The port as `ws` passes it to `createConnection` and agents: the URL's text, else the scheme's default. */
function urlPort(currentUrl: string, target: Target): string | number {
  if (target.socketPath !== undefined) return target.port;
  const { port } = new URL(currentUrl);
  return port === '' ? target.port : port;
}

/**
 * The header fields of a request head built by buildUpgradeRequest, for `http.request`: an object
 * (not raw pairs, which Node sends at once), so that `finishRequest` and 'redirect' listeners can
 * still read and change them; a name given twice (in two cases) keeps both values.
 */
function headerFields(head: string): Record<string, string | string[]> {
  const fields: Record<string, string | string[]> = {};
  const names = new Map<string, string>();
  const lines = head.split('\r\n');
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') break;
    const colon = line.indexOf(':');
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    const first = names.get(name.toLowerCase());
    if (first === undefined) {
      names.set(name.toLowerCase(), name);
      fields[name] = value;
    } else {
      fields[first] = [...[fields[first]!].flat(), value];
    }
  }
  return fields;
}

/**
 * Splits a `Host` field (any case) off the user's headers.
 * @throws {InvalidOptionError} for a value that is not a valid Host (RFC 9110 §7.2: uri-host [ ":" port ]).
 */
function takeHost(headers: Readonly<Record<string, string>> | undefined): {
  host: string | undefined;
  rest: Readonly<Record<string, string>> | undefined;
} {
  if (headers === undefined) return { host: undefined, rest: undefined };
  let host: string | undefined;
  const rest: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() !== 'host') {
      rest[name] = value;
      continue;
    }
    if (!isValidHostField(value)) {
      throw new InvalidOptionError(
        `headers.${name}`,
        `headers.${name} must be host[:port] (RFC 9110 §7.2), got ${JSON.stringify(value)}`,
      );
    }
    host = value;
  }
  return { host, rest };
}

const DEFAULT_MAX_REDIRECTS = 10;
/** RFC 9110 §15.4: the redirections that carry a Location to repeat the request at. */
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** Resolves a redirect's Location against the current URL; http(s) maps to ws(s) (RFC 6455 §3). */
function redirectTarget(
  location: string,
  currentUrl: string,
  status: number,
): { url: string; target: Target } {
  let next: URL;
  try {
    next = new URL(location, currentUrl);
  } catch (error) {
    throw new HandshakeError(
      ErrorCode.HandshakeFailed,
      status,
      `invalid redirect Location: ${escapeControlCharacters(location)}`,
      {
        cause: error,
      },
    );
  }
  if (next.protocol === 'http:') next.protocol = 'ws:';
  else if (next.protocol === 'https:') next.protocol = 'wss:';
  if (next.protocol !== 'ws:' && next.protocol !== 'wss:') {
    throw new HandshakeError(
      ErrorCode.HandshakeFailed,
      status,
      `cannot follow a redirect to ${escapeControlCharacters(next.href)}`,
    );
  }
  next.hash = '';
  return { url: next.href, target: parseTarget(next) };
}

/** Request headers that carry credentials (RFC 9110 §11.6.2, §11.7.2; RFC 6265 §5.4). */
const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set(['authorization', 'cookie', 'proxy-authorization']);

function withoutCredentials(
  headers: Readonly<Record<string, string>> | undefined,
): Readonly<Record<string, string>> | undefined {
  if (headers === undefined) return undefined;
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!CREDENTIAL_HEADERS.has(lower)) kept[name] = value;
  }
  return kept;
}

/**
 * Splits the `Proxy-Authorization` field (any case) off the user's headers.
 * @throws {InvalidStateError} (WS_ERR_INVALID_ARGUMENT) for a value with CR, LF or another control.
 */
function takeProxyAuthorization(headers: Readonly<Record<string, string>> | undefined): {
  proxyAuthorization: string | undefined;
  rest: Readonly<Record<string, string>> | undefined;
} {
  if (headers === undefined) return { proxyAuthorization: undefined, rest: undefined };
  let proxyAuthorization: string | undefined;
  const rest: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() !== 'proxy-authorization') {
      rest[name] = value;
      continue;
    }
    try {
      assertFieldValue(name, value); // checked even when dropped: a bad value is a bug to report
    } catch (error) {
      throw new InvalidStateError((error as Error).message, ErrorCode.InvalidArgument);
    }
    proxyAuthorization = value;
  }
  return { proxyAuthorization, rest };
}

/**
 * `headers` plus `Authorization: Basic …` from the target URL's userinfo, else from the `auth`
 * option (`user:password`, RFC 7617 §2, sent as given in UTF-8, as `http.request` does), unless
 * `headers` already has an Authorization (the explicit one wins, as in `ws` and curl).
 */
function withUrlAuthorization(
  headers: Readonly<Record<string, string>> | undefined,
  target: Target,
  auth?: string,
): Readonly<Record<string, string>> | undefined {
  const authorization =
    target.authorization ??
    (auth === undefined ? undefined : `Basic ${Buffer.from(auth).toString('base64')}`);
  if (authorization === undefined) return headers;
  if (headers !== undefined && Object.keys(headers).some((name) => name.toLowerCase() === 'authorization')) {
    return headers;
  }
  return { ...headers, Authorization: authorization };
}

/**
 * `Basic base64(user ":" password)` (RFC 7617 §2), from a URL's percent-encoded username and
 * password, percent-decoded as the WHATWG URL standard's "percent-decode" does: `%XX` becomes the
 * byte, anything else (a malformed escape included) stays as is; the bytes are then UTF-8 (RFC 7617
 * §2.1). Browsers do the same for WebSocket URLs with credentials (the WebSockets standard fetches
 * the URL; WPT websockets/basic-auth.any.js).
 */
function basicCredentials(username: string, password: string): string {
  const bytes = Buffer.concat([percentDecode(username), Buffer.from(':'), percentDecode(password)]);
  return `Basic ${bytes.toString('base64')}`;
}

function percentDecode(text: string): Buffer {
  const input = Buffer.from(text, 'utf8');
  const out = Buffer.alloc(input.length);
  let length = 0;
  for (let i = 0; i < input.length; i++) {
    const byte = input[i]!;
    if (byte === 0x25 && i + 2 < input.length && isHex(input[i + 1]!) && isHex(input[i + 2]!)) {
      out[length++] = Number.parseInt(String.fromCharCode(input[i + 1]!, input[i + 2]!), 16);
      i += 2;
    } else {
      out[length++] = byte;
    }
  }
  return out.subarray(0, length);
}

function isHex(byte: number): boolean {
  return (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66);
}

/** An `http://[user:pass@]host:port` proxy URL. */
function parseProxy(input: string | URL): URL {
  let proxy: URL;
  try {
    proxy = new URL(String(input));
  } catch {
    throw new InvalidStateError(`invalid proxy URL: ${String(input)}`, ErrorCode.InvalidArgument);
  }
  if (proxy.protocol !== 'http:') {
    throw new InvalidStateError(
      `unsupported proxy scheme "${proxy.protocol}": use http://host:port`,
      ErrorCode.InvalidArgument,
    );
  }
  return proxy;
}

/**
 * Opens a tunnel through an HTTP proxy (RFC 9110 §9.3.6 CONNECT), then TLS over it for wss://:
 *
 *   TCP to proxy ─▶ "CONNECT host:port HTTP/1.1" [Proxy-Authorization: Basic …] ─▶ 2xx ─▶ (TLS) ─▶ ready
 *
 * A refusal (any non-2xx status, e.g. 407 or 403) fails with a HandshakeError carrying that status.
 */
function openTunnel(
  proxy: URL,
  proxyAuthorization: string | undefined,
  target: Target,
  options: ClientOptions,
  track: (socket: Socket) => void,
  ready: (socket: Socket) => void,
  fail: (error: WebSocketError) => void,
): void {
  const raw = netConnect({
    host: proxy.hostname.startsWith('[') ? proxy.hostname.slice(1, -1) : proxy.hostname,
    port: proxy.port === '' ? 80 : Number(proxy.port),
    noDelay: true,
    ...(options.family === undefined ? {} : { family: options.family }),
    ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
  });
  track(raw);
  const authority = `${isIP(target.host) === 6 ? `[${target.host}]` : target.host}:${target.port}`;
  let head = `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n`;
  if (proxyAuthorization !== undefined) {
    // The caller's own field wins over the proxy URL's credentials (as an explicit Authorization
    // wins over URL userinfo): one Proxy-Authorization, never two.
    head += `Proxy-Authorization: ${proxyAuthorization}\r\n`;
  } else if (proxy.username !== '' || proxy.password !== '') {
    // RFC 7617 §2: "the user-id and password are ... concatenated with a single colon" then base64.
    head += `Proxy-Authorization: ${basicCredentials(proxy.username, proxy.password)}\r\n`;
  }
  head += '\r\n';
  const parser = HttpHeadParser.forResponses();
  const onData = (chunk: Buffer) => {
    let result: HeadParseResult<ResponseHead>;
    try {
      result = parser.push(chunk);
    } catch (error) {
      fail(
        error instanceof WebSocketError
          ? error
          : new HandshakeError(ErrorCode.HandshakeFailed, 0, 'bad proxy response'),
      );
      return;
    }
    if (!result.done) return;
    raw.off('data', onData);
    const status = result.head.statusCode;
    // RFC 9110 §9.3.6: "Any 2xx (Successful) response indicates that the sender (and all inbound
    // proxies) will switch to tunnel mode immediately after the response header section".
    if (status < 200 || status > 299) {
      fail(
        new HandshakeError(
          ErrorCode.HandshakeFailed,
          status,
          `the proxy refused to open a tunnel: ${status} ${escapeControlCharacters(result.head.statusText)}`,
        ),
      );
      return;
    }
    raw.pause();
    if (result.rest.length > 0) raw.unshift(Buffer.from(result.rest));
    if (!target.secure) {
      ready(raw);
      raw.resume();
      return;
    }
    const secure = tlsConnect({ ...tlsOptionsFor(target, options), socket: raw });
    track(secure);
    secure.once('secureConnect', () => ready(secure));
  };
  raw.on('data', onData);
  raw.once('connect', () => raw.write(head));
}

/** RFC 7692 §5.1 and §7.1: checks the server's permessage-deflate answer and builds the codec. */
function negotiatedDeflate(
  extensions: readonly ExtensionOffer[],
  options: PerMessageDeflateOptions | null,
  status: number,
  maxPayload: number,
): AttachOptions['deflate'] {
  if (options === null || extensions.length === 0) return undefined;
  // §5.1 (RFC 7692): the server answers with at most one element for this extension.
  // The message is `ws`'s; what exactly was wrong is the `cause`.
  const invalid = (cause: unknown) =>
    new HandshakeError(ErrorCode.HandshakeFailed, status, 'Invalid Sec-WebSocket-Extensions header', {
      cause,
    });
  if (extensions.length > 1) throw invalid(new Error('permessage-deflate accepted more than once'));
  let parameters: ReturnType<typeof acceptDeflateResponse>;
  try {
    parameters = acceptDeflateResponse(extensions[0]!, options, status);
  } catch (error) {
    throw invalid(error);
  }
  return {
    codec: new PerMessageDeflateCodec({
      parameters,
      role: 'client',
      maxPayload,
      limiter: sharedClientLimiter(options.concurrencyLimit ?? DEFAULT_CONCURRENCY_LIMIT),
      zlibDeflateOptions: options.zlibDeflateOptions,
      zlibInflateOptions: options.zlibInflateOptions,
    }),
    threshold: options.threshold ?? DEFAULT_DEFLATE_THRESHOLD,
  };
}

/** TLS settings for a wss:// target (directly or through a proxy tunnel). */
function tlsOptionsFor(target: Target, options: ClientOptions): TlsConnectionOptions {
  const tlsOptions: TlsConnectionOptions = {
    ALPNProtocols: ['http/1.1'],
    // RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted in "HostName"."
    ...(isIP(target.host) === 0 || options.servername
      ? { servername: options.servername ?? target.host }
      : {}),
  };
  for (const name of USER_TLS_OPTIONS) {
    if (options[name] !== undefined) Object.assign(tlsOptions, { [name]: options[name] });
  }
  return tlsOptions;
}

/** RFC 6455 §3: ws-URI = "ws:" "//" host [ ":" port ] path [ "?" query ]; wss-URI likewise. */
function parseTarget(input: string | URL): Target {
  let url: URL;
  try {
    url = new URL(String(input));
  } catch {
    throw new InvalidStateError(`invalid URL: ${String(input)}`, ErrorCode.InvalidArgument);
  }
  // §3: "Fragment identifiers are meaningless in the context of WebSocket URIs and MUST NOT be used".
  if (url.hash !== '') {
    throw new InvalidStateError(
      `a WebSocket URL must not have a fragment: ${url.href}`,
      ErrorCode.InvalidArgument,
    );
  }
  if (url.protocol === 'ws+unix:') {
    // ws+unix:/path/to/socket:/request/path, as in `ws`.
    const [socketPath = '', requestPath = '/'] = url.pathname.split(':');
    if (socketPath === '') {
      throw new InvalidStateError(`invalid ws+unix URL: ${url.href}`, ErrorCode.InvalidArgument);
    }
    return {
      secure: false,
      host: 'localhost',
      port: 0,
      socketPath,
      hostHeader: 'localhost',
      path: requestPath + url.search,
      authorization: urlAuthorization(url),
    };
  }
  const secure = url.protocol === 'wss:' || url.protocol === 'https:';
  if (!secure && url.protocol !== 'ws:' && url.protocol !== 'http:') {
    throw new InvalidStateError(
      `unsupported URL scheme "${url.protocol}": use ws:// or wss://`,
      ErrorCode.InvalidArgument,
    );
  }
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return {
    secure,
    host: hostname,
    port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
    socketPath: undefined,
    hostHeader: url.host,
    path: (url.pathname || '/') + url.search,
    authorization: urlAuthorization(url),
  };
}

/**
 * RFC 6455 §3's ws-URI has no userinfo, but `ws` and browsers accept `ws://user:pass@host/` and send
 * the credentials as Basic authentication (RFC 7617); the userinfo itself is never sent (RFC 9110
 * §4.2.4: it is not part of the request target or Host).
 */
function urlAuthorization(url: URL): string | undefined {
  if (url.username === '' && url.password === '') return undefined;
  return basicCredentials(url.username, url.password);
}
