/**
 * The connection under a client's handshake when no `agent` or `createConnection` is given: TLS
 * settings for wss://, and a tunnel through an HTTP proxy (RFC 9110 §9.3.6 CONNECT).
 */
// Through the module objects (not named imports, which ESM binds once): instrumentation that wraps
// net.connect or tls.connect (APM agents, tests) sees our connections, as it sees `ws`'s.
import { Buffer } from 'node:buffer';
import type { RequestOptions } from 'node:http';
import net, { isIP, type NetConnectOpts, type Socket } from 'node:net';
import tls, { type ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import {
  ErrorCode,
  HandshakeError,
  InvalidArgumentError,
  toHandshakeFailure,
  WebSocketError,
} from '../errors.ts';
import { escapeControlCharacters } from '../handshake/client.ts';
import { type HeadParseResult, HttpHeadParser, type ResponseHead } from '../handshake/http.ts';
import { basicCredentials, type Target } from './target.ts';
import { USER_TLS_OPTIONS } from './tls-options.ts';

/** The client options the connection itself uses. */
export type TransportOptions = Pick<
  TlsConnectionOptions,
  (typeof USER_TLS_OPTIONS)[number] | 'servername'
> & {
  readonly family?: number;
  readonly localAddress?: string;
};

/**
 * An `http://[user:pass@]host:port` proxy URL.
 * @throws {InvalidArgumentError} for a URL that does not parse or whose scheme is not http:.
 */
export function parseProxy(input: string | URL): URL {
  let proxy: URL;
  try {
    proxy = new URL(String(input));
  } catch {
    throw new InvalidArgumentError(`invalid proxy URL: ${String(input)}`);
  }
  if (proxy.protocol !== 'http:') {
    throw new InvalidArgumentError(`unsupported proxy scheme "${proxy.protocol}": use http://host:port`);
  }
  return proxy;
}

/**
 * The sockets of a proxy tunnel while it opens (TCP to the proxy, then TLS over it): the attempt
 * destroys them if it fails before the tunnel is handed to the request.
 */
export type PendingSockets = Set<Socket>;

/**
 * Our own connection for `http.request()` (`createConnection`), when no `agent` or
 * `createConnection` is given: a Unix socket for ws+unix://, TCP or TLS, or a tunnel through `proxy`
 * whose sockets stay in `pending` until it is ready (failures go to `fail`).
 * @throws Never (connection errors are emitted by the socket, or go to `fail` for a tunnel).
 */
export function connectorFor(
  target: Target,
  proxy: URL | undefined,
  proxyAuthorization: string | undefined,
  options: TransportOptions,
  pending: PendingSockets,
  fail: (error: WebSocketError) => void,
): NonNullable<RequestOptions['createConnection']> {
  return (connectOptions, created) => {
    if (target.socketPath !== undefined) return net.connect({ path: target.socketPath });
    if (proxy === undefined) {
      const common = connectOptions as TlsConnectionOptions;
      if (!target.secure) return net.connect({ ...(common as object), noDelay: true } as NetConnectOpts);
      return tls.connect({ ...common, ...tlsOptionsFor(target, options) });
    }
    const untrack: (() => void)[] = [];
    const track = (socket: Socket) => {
      pending.add(socket);
      const onError = (error: Error) => fail(asHandshakeError(error));
      const onClose = () =>
        fail(new HandshakeError(ErrorCode.ProxyFailed, 0, 'the proxy closed the connection'));
      socket.on('error', onError);
      socket.on('close', onClose);
      untrack.push(() => {
        socket.off('error', onError);
        socket.off('close', onClose);
      });
    };
    const ready = (socket: Socket) => {
      for (const each of untrack) each();
      pending.clear();
      created(null, socket);
    };
    openTunnel(proxy, proxyAuthorization, target, options, track, ready, fail);
    return undefined;
  };
}

/**
 * Errors of the connection or of Node's HTTP client, as a HandshakeError with no status (our own
 * errors as they are).
 * @throws Never.
 */
export function asHandshakeError(error: Error): WebSocketError {
  if (error instanceof WebSocketError) return error;
  if ((error as NodeJS.ErrnoException).code === 'HPE_HEADER_OVERFLOW') {
    return new HandshakeError(
      ErrorCode.HeadTooLarge,
      0,
      "the server's response head is larger than Node's maxHeaderSize (16 KiB unless set)",
      { cause: error },
    );
  }
  return toHandshakeFailure(error, error.message);
}

/**
 * Opens a tunnel through an HTTP proxy (RFC 9110 §9.3.6 CONNECT), then TLS over it for wss://:
 *
 *   TCP to proxy ─▶ "CONNECT host:port HTTP/1.1" [Proxy-Authorization: Basic …] ─▶ 2xx ─▶ (TLS) ─▶ ready
 *
 * A refusal (any non-2xx status, e.g. 407 or 403) fails with a HandshakeError carrying that status.
 */
export function openTunnel(
  proxy: URL,
  proxyAuthorization: string | undefined,
  target: Target,
  options: TransportOptions,
  track: (socket: Socket) => void,
  ready: (socket: Socket) => void,
  fail: (error: WebSocketError) => void,
): void {
  const raw = net.connect({
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
      fail(toHandshakeFailure(error, 'bad proxy response'));
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
          ErrorCode.ProxyFailed,
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
    const secure = tls.connect({ ...tlsOptionsFor(target, options), socket: raw });
    track(secure);
    secure.once('secureConnect', () => ready(secure));
  };
  raw.on('data', onData);
  raw.once('connect', () => raw.write(head));
}

/** TLS settings for a wss:// target (directly or through a proxy tunnel). */
export function tlsOptionsFor(target: Target, options: TransportOptions): TlsConnectionOptions {
  const tlsOptions: TlsConnectionOptions = {
    ALPNProtocols: ['http/1.1'],
    // RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted in "HostName"."
    // `servername: ''` sends no SNI at all (as in `ws` and Node).
    ...(options.servername !== undefined
      ? { servername: options.servername }
      : isIP(target.host) === 0
        ? { servername: target.host }
        : {}),
  };
  for (const name of USER_TLS_OPTIONS) {
    if (options[name] !== undefined) Object.assign(tlsOptions, { [name]: options[name] });
  }
  return tlsOptions;
}
