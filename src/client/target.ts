/**
 * Where a client connects (RFC 6455 §3): the ws://, wss:// or ws+unix:// URL taken apart, the URL it
 * reports, redirect targets, and the Basic credentials of a URL's userinfo (RFC 7617).
 */
import { Buffer } from 'node:buffer';
import { ErrorCode, HandshakeError, InvalidArgumentError } from '../errors.ts';
import { escapeControlCharacters } from '../handshake/client.ts';

/** Where to connect and what to ask for, from a `ws://`, `wss://` or `ws+unix://` URL (§3). */
export interface Target {
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

/** The port as `ws` passes it to `createConnection` and agents: the URL's text, else the scheme's default. */
export function urlPort(currentUrl: string, target: Target): string | number {
  if (target.socketPath !== undefined) return target.port;
  const { port } = new URL(currentUrl);
  return port === '' ? target.port : port;
}

/** RFC 9110 §15.4: the redirections that carry a Location to repeat the request at. */
export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** Resolves a redirect's Location against the current URL; http(s) maps to ws(s) (RFC 6455 §3). */
export function redirectTarget(
  location: string,
  currentUrl: string,
  status: number,
): { url: string; target: Target } {
  let next: URL;
  try {
    next = new URL(location, currentUrl);
  } catch (error) {
    throw new HandshakeError(
      ErrorCode.InvalidRedirect,
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
      ErrorCode.InvalidRedirect,
      status,
      `cannot follow a redirect to ${escapeControlCharacters(next.href)}`,
    );
  }
  next.hash = '';
  return { url: next.href, target: parseTarget(next) };
}

/**
 * RFC 6455 §3: ws-URI = "ws:" "//" host [ ":" port ] path [ "?" query ]; wss-URI likewise.
 * @throws {InvalidArgumentError} for a URL that does not parse, has a fragment, or another scheme.
 */
export function parseTarget(input: string | URL): Target {
  let url: URL;
  try {
    url = new URL(String(input));
  } catch {
    throw new InvalidArgumentError(`invalid URL: ${String(input)}`);
  }
  // §3: "Fragment identifiers are meaningless in the context of WebSocket URIs and MUST NOT be used".
  if (url.hash !== '') {
    throw new InvalidArgumentError(`a WebSocket URL must not have a fragment: ${url.href}`);
  }
  if (url.protocol === 'ws+unix:') {
    // ws+unix:/path/to/socket:/request/path, as in `ws`.
    const [socketPath = '', requestPath = '/'] = url.pathname.split(':');
    if (socketPath === '') {
      throw new InvalidArgumentError(`invalid ws+unix URL: ${url.href}`);
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
    throw new InvalidArgumentError(`unsupported URL scheme "${url.protocol}": use ws:// or wss://`);
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

/**
 * `Basic base64(user ":" password)` (RFC 7617 §2), from a URL's percent-encoded username and
 * password, percent-decoded as the WHATWG URL standard's "percent-decode" does: `%XX` becomes the
 * byte, anything else (a malformed escape included) stays as is; the bytes are then UTF-8 (RFC 7617
 * §2.1). Browsers do the same for WebSocket URLs with credentials (the WebSockets standard fetches
 * the URL; WPT websockets/basic-auth.any.js).
 */
export function basicCredentials(username: string, password: string): string {
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
