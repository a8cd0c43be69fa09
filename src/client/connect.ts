/**
 * The client side of the opening handshake (RFC 6455 §4.1), through Node's `http.request()` as in
 * `ws` (so that `agent`, `createConnection`, `finishRequest`, 'redirect' and 'unexpected-response'
 * behave as there):
 *
 *   parse URL (§3) ─▶ request fields from buildUpgradeRequest ─▶ http.request over our TCP/TLS/proxy
 *     connector (or the agent's) ─▶ 'upgrade' ─▶ validateUpgradeResponse (101, accept key,
 *     subprotocol, extensions) ─▶ WebSocket OPEN; a 3xx with `followRedirects` starts over (§4.1)
 *
 * Any failure before OPEN ends in one 'error' (a HandshakeError with the HTTP status, or 0 when no
 * response arrived) and one 'close' with 1006.
 */
import {
  type ClientRequest,
  request as httpRequest,
  type IncomingMessage,
  type RequestOptions,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
// Through the module objects: instrumentation that wraps net.connect or tls.connect sees our
// connections, as it sees `ws`'s (named imports are bound once, in ESM).
import net, { type NetConnectOpts, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import tls, { type ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { generateMaskKey, randomBytes, sha1 } from '../crypto.ts';
import { DEFAULTS } from '../defaults.ts';
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
  createNegotiatedDeflate,
  EXTENSION_NAME,
  type PerMessageDeflateOptions,
  resolveDeflateOptions,
  sharedClientLimiter,
} from '../extensions/permessage-deflate/index.ts';
import { generateKey } from '../handshake/accept-key.ts';
import { buildUpgradeRequest, validateUpgradeResponse } from '../handshake/client.ts';
import type { ExtensionOffer } from '../handshake/headers.ts';
import { isToken } from '../handshake/headers.ts';
import { connectHttp2, type Http2Handle } from '../http2/client.ts';
import { failHandshake, handshakeProgress } from '../internal.ts';
import { validateClientOptions } from '../options-validation.ts';
import type { AttachOptions, WebSocket } from '../websocket.ts';
import { openClient } from './open-client.ts';
import type { ClientOptions } from './options.ts';
import {
  headerFields,
  takeHost,
  takeProxyAuthorization,
  withoutCredentials,
  withUrlAuthorization,
} from './request-headers.ts';
import { readErrorBody, responseHeadOf } from './response.ts';
import { clientUrl, parseTarget, REDIRECT_STATUSES, redirectTarget, type Target, urlPort } from './target.ts';
import { openTunnel, parseProxy, tlsOptionsFor } from './transport.ts';

export type { ClientOptions } from './options.ts';
// `new WebSocket()` reports the URL as the client connects to it.
export { clientUrl } from './target.ts';

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
  const maxRedirects = options.followRedirects === true ? (options.maxRedirects ?? DEFAULTS.maxRedirects) : 0;
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
    if (request !== null) {
      const socket = request.socket;
      request.destroy();
      // Once the response is complete, destroy() leaves the socket open (Node >= 14.3, as `ws`
      // notes): close it too, or a keep-alive answer would hold the server's connection.
      socket?.destroy();
    }
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
  }, options.handshakeTimeout ?? DEFAULTS.clientHandshakeTimeout);
  timer.unref();

  /** Our own connection (TCP, TLS, or a tunnel through `proxy`), when no agent or createConnection is given. */
  const connector =
    (target: Target): NonNullable<RequestOptions['createConnection']> =>
    (connectOptions, created) => {
      if (target.socketPath !== undefined) return net.connect({ path: target.socketPath });
      if (proxy === undefined) {
        const common = connectOptions as TlsConnectionOptions;
        if (!target.secure) return net.connect({ ...(common as object), noDelay: true } as NetConnectOpts);
        return tls.connect({ ...common, ...tlsOptionsFor(target, options) });
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
      ...(options.protocolVersion === 8 ? { version: 8 as const } : {}),
      ...(headers === undefined ? {} : { headers }),
    });
    const requestOptions: RequestOptions & TlsConnectionOptions & { readonly keepAlive?: undefined } = {
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
      // Our `keepAlive` is the WebSocket heartbeat, not net's TCP keep-alive flag of the same name.
      keepAlive: undefined,
      agent: options.agent,
      createConnection:
        options.agent !== undefined ? undefined : (options.createConnection ?? connector(target)),
    };
    const req = (target.secure ? httpsRequest : httpRequest)(requestOptions);
    request = req;
    ws[handshakeProgress](redirects, req);
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
        const maxPayload = options.maxPayload ?? DEFAULTS.maxPayload;
        attach = {
          role: 'client',
          protocol: validated.protocol,
          extensions: responseHead.headers.get('sec-websocket-extensions') ?? '',
          maxPayload,
          closeTimeout: options.closeTimeout ?? DEFAULTS.closeTimeout,
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
        let next: { req: ClientRequest; url: string };
        try {
          next = followRedirect(currentUrl, target, headers, host, status, location);
        } catch (error) {
          fail(toHandshakeFailure(error));
          return;
        }
        send(next.req, next.url);
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
    return req;
  };

  /**
   * Sends a request `attempt` prepared. Called outside any catch: what the application's 'redirect'
   * listener or `finishRequest` throws is its own exception, uncaught as in `ws`, not a handshake
   * failure to swallow.
   */
  const send = (req: ClientRequest, currentUrl: string) => {
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
    // Counted before it is checked, as `ws` counts it (its `_redirects` is maxRedirects + 1 when the
    // limit stops it): the count is what the `_redirects` accessor reports.
    redirects++;
    ws[handshakeProgress](redirects);
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
    if (redirects > maxRedirects) {
      throw new HandshakeError(
        ErrorCode.HandshakeFailed,
        status,
        'Maximum redirects exceeded', // ws's words: applications match them
      );
    }
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
    const req = attempt(
      next.url,
      next.target,
      withUrlAuthorization(kept, next.target),
      sameHost ? host : undefined,
    );
    return { req, url: next.url };
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
          if (starting) return send(attempt(clientUrl(url), target, headers, customHost), clientUrl(url));
          let req: ClientRequest;
          try {
            req = attempt(clientUrl(url), target, headers, customHost);
          } catch (error) {
            fail(error instanceof WebSocketError ? error : new InvalidStateError(String(error)));
            return;
          }
          send(req, clientUrl(url));
        },
      });
    } else {
      send(attempt(clientUrl(url), target, headers, customHost), clientUrl(url));
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
  return createNegotiatedDeflate(
    parameters,
    options,
    'client',
    maxPayload,
    sharedClientLimiter(options.concurrencyLimit ?? DEFAULTS.deflateConcurrencyLimit),
  );
}
