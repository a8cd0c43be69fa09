/**
 * The client side of the opening handshake (RFC 6455 §4.1), through Node's `http.request()` as in
 * `ws` (so that `agent`, `createConnection`, `finishRequest`, 'redirect' and 'unexpected-response'
 * behave as there). This module orchestrates; each step lives beside it:
 *
 *   parse URL (§3, target.ts) ─▶ offer (handshake.ts) ─▶ [RFC 8441 over HTTP/2 (src/http2/client.ts)]
 *     ─▶ http.request (upgrade-request.ts) over our TCP/TLS/proxy connector (transport.ts) or the
 *     agent's ─▶ 'upgrade' ─▶ validateUpgradeResponse (101, accept key, subprotocol, extensions)
 *     ─▶ WebSocket OPEN (open-client.ts); a 3xx with `followRedirects` starts over (redirect.ts)
 *
 * One deadline (`handshakeTimeout`) covers it all. Any failure before OPEN ends in one 'error' (a
 * HandshakeError with the HTTP status, or 0 when no response arrived) and one 'close' with 1006.
 */
import type { Buffer } from 'node:buffer';
import { type ClientRequest, request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
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
import { resolveDeflateOptions } from '../extensions/permessage-deflate/index.ts';
import { generateKey } from '../handshake/accept-key.ts';
import { validateUpgradeResponse } from '../handshake/client.ts';
import { connectHttp2, type Http2Handle } from '../http2/client.ts';
import { validateClientOptions } from '../options-validation.ts';
import { installDialer } from '../websocket/dialer.ts';
import { failHandshake, handshakeProgress } from '../websocket/internal.ts';
import type { AttachOptions } from '../websocket/types.ts';
import type { WebSocket } from '../websocket/websocket.ts';
import { assertSubprotocols, clientAttachOptions, clientOffer, maskKeysFrom } from './handshake.ts';
import { openClient } from './open-client.ts';
import type { ClientOptions } from './options.ts';
import { type Hop, nextHop } from './redirect.ts';
import { takeHost, takeProxyAuthorization, withUrlAuthorization } from './request-headers.ts';
import { readErrorBody, responseHeadOf } from './response.ts';
import { clientUrl, parseTarget, REDIRECT_STATUSES } from './target.ts';
import {
  asHandshakeError,
  connectorFor,
  type PendingSockets,
  parseProxy,
  tlsOptionsFor,
} from './transport.ts';
import { upgradeRequestOptions } from './upgrade-request.ts';

/**
 * Starts connecting `ws`; returns a function that aborts the attempt.
 * @throws {InvalidArgumentError} for an invalid URL, subprotocol list, proxy or header value, and
 *   {@link InvalidOptionError} for an invalid option, synchronously, as the browser constructor
 *   throws a SyntaxError.
 */
export function connectClient(
  ws: WebSocket,
  url: string | URL,
  protocols: readonly string[],
  options: ClientOptions,
): () => void {
  validateClientOptions(options); // throws InvalidOptionError naming the option
  const target = parseTarget(url);
  assertSubprotocols(protocols);
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
  const offer = clientOffer(protocols, resolveDeflateOptions(options.perMessageDeflate, true));
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
  const firstHop: Hop = { url: clientUrl(url), target, headers, host: customHost };
  const maxRedirects = options.followRedirects === true ? (options.maxRedirects ?? DEFAULTS.maxRedirects) : 0;
  const maskKeys = maskKeysFrom(options.generateMask, generateMaskKey);
  let redirects = 0;
  let settled = false;
  /** The proxy's TCP socket, then TLS over it, while the tunnel opens: destroyed on failure. */
  const pending: PendingSockets = new Set();
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
    for (const socket of pending) socket.destroy();
    pending.clear();
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

  /** RFC 6455 §4.1: one opening handshake over Node's HTTP client, to `hop.url`. */
  const attempt = (hop: Hop) => {
    const key = generateKey(randomBytes);
    const createConnection =
      options.createConnection ?? connectorFor(hop.target, proxy, proxyAuthorization, options, pending, fail);
    const requestOptions = upgradeRequestOptions(hop, key, offer, options, createConnection);
    const req = (hop.target.secure ? httpsRequest : httpRequest)(requestOptions);
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
        const validated = validateUpgradeResponse(responseHead, { key, ...offer }, sha1);
        attach = clientAttachOptions(validated, offer, options, maskKeys, hop.url);
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
          next = followRedirect(hop, status, location);
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
          new HandshakeError(ErrorCode.UnexpectedResponse, status, `Unexpected server response: ${status}`, {
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

  /** Counts a redirect and prepares the request that follows it (not sent yet). */
  const followRedirect = (hop: Hop, status: number, location: string) => {
    // Counted before it is checked, as `ws` counts it (its `_redirects` is maxRedirects + 1 when the
    // limit stops it): the count is what the `_redirects` accessor reports.
    redirects++;
    ws[handshakeProgress](redirects);
    const next = nextHop(hop, status, location, redirects, maxRedirects);
    return { req: attempt(next), url: next.url };
  };

  let starting = true;
  try {
    if (options.http2 === 'prefer' || options.http2 === 'require') {
      http2 = connectHttp2({
        ws,
        url: firstHop.url,
        policy: options.http2,
        secure: target.secure,
        unsupported:
          target.socketPath !== undefined ? 'ws+unix://' : proxy !== undefined ? 'a proxy' : undefined,
        host: target.host,
        port: target.port,
        authority: customHost ?? target.hostHeader,
        path: target.path,
        offer,
        options: headers === undefined ? options : { ...options, headers },
        tlsOptions: tlsOptionsFor(target, options),
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
          if (starting) return send(attempt(firstHop), firstHop.url);
          let req: ClientRequest;
          try {
            req = attempt(firstHop);
          } catch (error) {
            fail(error instanceof WebSocketError ? error : new InvalidStateError(String(error)));
            return;
          }
          send(req, firstHop.url);
        },
      });
    } else {
      send(attempt(firstHop), firstHop.url);
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

// The WebSocket does not import its client (src/websocket/dialer.ts): loading this module installs it.
installDialer<WebSocket>({ url: clientUrl, dial: connectClient });
