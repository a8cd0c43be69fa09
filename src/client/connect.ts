/**
 * The client side of the opening handshake (RFC 6455 §4.1) over `net` or `tls`:
 *
 *   parse URL (§3) ─▶ TCP/TLS connect ─▶ write the upgrade request ─▶ HttpHeadParser(response)
 *     ─▶ validateUpgradeResponse (101, accept key, subprotocol, extensions) ─▶ WebSocket OPEN
 *
 * Any failure before OPEN ends in one 'error' (a HandshakeError with the HTTP status, or 0 when no
 * response arrived) and one 'close' with 1006.
 */
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { type ConnectionOptions as TlsConnectionOptions, connect as tlsConnect } from 'node:tls';
import { generateMaskKey, randomBytes, sha1 } from '../crypto.ts';
import { ErrorCode, HandshakeError, InvalidStateError, WebSocketError } from '../errors.ts';
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
import { buildUpgradeRequest, validateUpgradeResponse } from '../handshake/client.ts';
import type { ExtensionOffer } from '../handshake/headers.ts';
import { isToken } from '../handshake/headers.ts';
import { type HeadParseResult, HttpHeadParser, type ResponseHead } from '../handshake/http.ts';
import { attachSocket, failHandshake } from '../internal.ts';
import {
  type AttachOptions,
  type ConnectionSettings,
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_MAX_PAYLOAD,
  type WebSocket,
} from '../websocket.ts';

export interface ClientOptions extends ConnectionSettings {
  /** Extra request headers (`Authorization`, `Cookie`, `User-Agent`, …). */
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
  const target = parseTarget(url);
  // §4.1 item 10: "The elements that comprise this value MUST be non-empty strings with characters in
  // the range U+0021 to U+007E not including separator characters ... and MUST all be unique strings."
  if (new Set(protocols).size !== protocols.length || !protocols.every(isToken)) {
    throw new InvalidStateError(
      `invalid subprotocol list ${JSON.stringify(protocols)}: each must be a unique HTTP token`,
      ErrorCode.InvalidArgument,
    );
  }
  const key = generateKey(randomBytes);
  const deflateOptions = resolveDeflateOptions(options.perMessageDeflate, true);
  const request = buildUpgradeRequest({
    host: target.hostHeader,
    path: target.path,
    key,
    protocols,
    ...(deflateOptions === null ? {} : { extensions: buildDeflateOffer(deflateOptions) }),
    ...(options.origin === undefined ? {} : { origin: options.origin }),
    ...(options.headers === undefined ? {} : { headers: options.headers }),
  });

  const socket = openSocket(target, options);
  let settled = false;
  const fail = (error: WebSocketError) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    socket.destroy();
    ws[failHandshake](error);
  };
  const timer = setTimeout(
    () => fail(new HandshakeError(ErrorCode.HandshakeTimeout, 0, 'opening handshake timed out')),
    options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT,
  );

  const parser = HttpHeadParser.forResponses();
  const onData = (chunk: Buffer) => {
    let result: HeadParseResult<ResponseHead>;
    try {
      result = parser.push(chunk);
      if (!result.done) return;
      const offeredExtensions = deflateOptions === null ? [] : [EXTENSION_NAME];
      const response = validateUpgradeResponse(result.head, { key, protocols, offeredExtensions }, sha1);
      const maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
      const deflate = negotiatedDeflate(
        response.extensions,
        deflateOptions,
        result.head.statusCode,
        maxPayload,
      );
      settled = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      ws.emit('upgrade', result.head);
      ws[attachSocket](socket, result.rest, {
        role: 'client',
        protocol: response.protocol,
        extensions: result.head.headers.get('sec-websocket-extensions') ?? '',
        maxPayload,
        closeTimeout: options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT,
        keepAlive: options.keepAlive,
        deflate,
        generateMaskKey,
        url: String(url),
      });
    } catch (error) {
      fail(
        error instanceof WebSocketError
          ? error
          : new HandshakeError(ErrorCode.HandshakeFailed, 0, 'invalid handshake response', { cause: error }),
      );
    }
  };
  const onError = (error: Error) =>
    fail(new HandshakeError(ErrorCode.HandshakeFailed, 0, error.message, { cause: error }));
  const onClose = () =>
    fail(
      new HandshakeError(
        ErrorCode.HandshakeFailed,
        0,
        'the server closed the connection during the handshake',
      ),
    );

  socket.on(target.secure ? 'secureConnect' : 'connect', () => socket.write(request));
  socket.on('data', onData);
  socket.on('error', onError);
  socket.on('close', onClose);
  return () => fail(new HandshakeError(ErrorCode.HandshakeFailed, 0, 'connection attempt aborted'));
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
  if (extensions.length > 1) {
    throw new HandshakeError(ErrorCode.HandshakeFailed, status, 'permessage-deflate accepted more than once');
  }
  const parameters = acceptDeflateResponse(extensions[0]!, options, status);
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

function openSocket(target: Target, options: ClientOptions): Socket {
  if (target.socketPath !== undefined) return netConnect({ path: target.socketPath });
  const common = {
    host: target.host,
    port: target.port,
    ...(options.family === undefined ? {} : { family: options.family }),
    ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
  };
  if (!target.secure) return netConnect({ ...common, noDelay: true });
  const tlsOptions: TlsConnectionOptions = {
    ...common,
    ALPNProtocols: ['http/1.1'],
    // RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted in "HostName"."
    ...(isIP(target.host) === 0 || options.servername
      ? { servername: options.servername ?? target.host }
      : {}),
  };
  for (const name of [
    'ca',
    'cert',
    'key',
    'passphrase',
    'rejectUnauthorized',
    'checkServerIdentity',
  ] as const) {
    if (options[name] !== undefined) Object.assign(tlsOptions, { [name]: options[name] });
  }
  const socket = tlsConnect(tlsOptions);
  socket.setNoDelay(true);
  return socket;
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
  };
}
