/**
 * The options of a client WebSocket (`new WebSocket(url, protocols, options)`): types only, so that
 * the WebSocket, the client and the HTTP/2 client share them without importing one another.
 */
import type { Buffer } from 'node:buffer';
import type { Agent, ClientRequest, RequestOptions } from 'node:http';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type { PerMessageDeflateOptions } from '../extensions/permessage-deflate/index.ts';
import type { ConnectionSettings } from '../websocket/types.ts';

/**
 * The `http2` client option: `false` (default) speaks HTTP/1.1 only; `'prefer'` uses RFC 8441 when
 * the server offers it over TLS and falls back to HTTP/1.1 otherwise (like .NET's
 * `HttpVersionPolicy.RequestVersionOrLower`); `'require'` fails instead of falling back.
 */
export type Http2Policy = 'prefer' | 'require' | false;

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

/**
 * The options of a client WebSocket; every field is optional, with its default documented. `W` is
 * the WebSocket `finishRequest` receives: src/index.ts exports this type with the WebSocket class
 * filled in; here it is a parameter, so that this module does not import the WebSocket, which
 * imports these options.
 */
export interface ClientOptions<W extends object = object> extends ConnectionSettings, PassThroughOptions {
  /**
   * Extra request headers (`Authorization`, `User-Agent`, …). Cookies go here too, as one
   * `Cookie: a=1; b=2` field (RFC 6265 §5.4): there is no cookie jar; read `Set-Cookie` from the
   * 'upgrade' event's response (`response.headers['set-cookie']`) if the server sets any. An `Authorization` here wins over the
   * URL's `user:pass@`. `Proxy-Authorization` is never sent to the server: with `proxy` it goes on
   * the CONNECT request, without one it is dropped.
   */
  readonly headers?: Readonly<Record<string, string>>;
  /** The `Origin` header (§4.1 item 8); browsers send it, other clients usually do not. */
  readonly origin?: string;
  /** How long the connection and opening handshake may take, in ms. Default 30 s (as .NET; `ws` has none). */
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
  // A method, not a function-typed property: its parameters are bivariant, so that the client's
  // modules take any ClientOptions<W> as a ClientOptions.
  finishRequest?(request: ClientRequest, websocket: W): void;
  /**
   * Fills the 4-byte masking key of each frame the client sends (RFC 6455 §5.3), as in `ws`.
   * Default: random bytes from `crypto`. Only for tests or peers that need fixed keys: §10.3 asks
   * for unpredictable keys, so that a script cannot choose the bytes an intermediary sees.
   */
  readonly generateMask?: (mask: Buffer) => void;
  /**
   * The `Sec-WebSocket-Version` to send: 13 (RFC 6455 §4.1 item 9, the default) or, as in `ws`, 8:
   * the last draft (hybi-08), with the same framing; `origin` then goes in `Sec-WebSocket-Origin`.
   */
  readonly protocolVersion?: 8 | 13;
}
