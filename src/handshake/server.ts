/**
 * The server side of the opening handshake (RFC 6455 §4.2): validate the client's request (§4.2.1)
 * here, then answer 101 Switching Protocols or an HTTP error (§4.2.2, server-response.ts).
 *
 * ```
 *   RequestHead ──▶ validateUpgradeRequest ──▶ UpgradeRequest ──▶ (choose subprotocol, extensions)
 *                          │ HandshakeError(code, status)                  │
 *                          ▼                                               ▼
 *      buildRejectResponse(status, message, rejectionHeaders(error))   buildAcceptResponse
 * ```
 */

import { ErrorCode, type ErrorCodeString, HandshakeError } from '../errors.ts';
import { isValidKey } from './accept-key.ts';
import { requestBodyFraming } from './body-framing.ts';
import {
  asciiEqualsIgnoreCase,
  containsToken,
  type ExtensionOffer,
  isValidHostField,
  parseExtensions,
  parseSubprotocols,
} from './headers.ts';
import type { RequestHead } from './http.ts';
import { DRAFT_VERSION, SUPPORTED_VERSIONS } from './version.ts';

/**
 * Message of the {@link HandshakeError} (`WS_ERR_UNSUPPORTED_VERSION`) thrown when
 * `Sec-WebSocket-Version` is missing or not one of {@link SUPPORTED_VERSIONS}: the text `ws` answers
 * with. {@link rejectionHeaders} recognises the error by its code and adds
 * `Sec-WebSocket-Version: 13, 8`.
 */
export const UNSUPPORTED_VERSION_MESSAGE = 'Missing or invalid Sec-WebSocket-Version header';

/** A validated client handshake (RFC 6455 §4.2.1). */
export interface UpgradeRequest {
  /** `Sec-WebSocket-Key`, to be passed to {@link buildAcceptResponse}. */
  readonly key: string;
  /** `Host`. */
  readonly host: string;
  /** The request target, e.g. `/chat?room=1` (the /resource name/ of RFC 6455 §3). */
  readonly path: string;
  /** `Origin`, when sent (browsers always send it; RFC 6455 §4.2.1 item 7, §10.2). */
  readonly origin: string | undefined;
  /** Subprotocols offered in `Sec-WebSocket-Protocol`, in the client's order of preference. */
  readonly protocols: readonly string[];
  /** Extensions offered in `Sec-WebSocket-Extensions`, in order. */
  readonly extensions: readonly ExtensionOffer[];
  /** The whole request head, for anything else the application wants to look at. */
  readonly head: RequestHead;
}

function reject(code: ErrorCodeString, status: number, message: string): HandshakeError {
  return new HandshakeError(code, status, message);
}

/** Whether `httpVersion` ("major.minor") is at least 1.1. */
function isHttp11OrHigher(httpVersion: string): boolean {
  const dot = httpVersion.indexOf('.');
  const major = Number(httpVersion.slice(0, dot));
  const minor = Number(httpVersion.slice(dot + 1));
  return dot > 0 && (major > 1 || (major === 1 && minor >= 1));
}

/**
 * Whether the request target has origin-form (`/path?query`) or absolute-form
 * (`scheme://authority/path`), the two forms a GET may use (RFC 9112 §3.2.1, RFC 9112 §3.2.2: "a server MUST
 * accept the absolute-form in requests"). The head parser already allowed only VCHARs.
 *
 * The absolute-form is held to what llhttp (Node's parser) accepts, so that a proxy in front and
 * this server agree: the scheme is letters only (RFC 3986 §3.1 also allows digits, "+", "-" and
 * ".", but RFC 6455 §4.2.1 only asks for "an absolute HTTP/HTTPS URI", and ws/wss are letters
 * too), followed by "//" and a non-empty authority of RFC 3986 §3.2 characters (`unreserved /
 * pct-encoded / sub-delims / ":" / "@" / "[" / "]"`), ending at "/", "?" or the end. RFC 9110
 * §4.2.1: "A sender MUST NOT generate an "http" URI with an empty host identifier. A recipient that
 * processes such a URI reference MUST reject it as invalid."
 */
function isValidTarget(target: string): boolean {
  if (target.charCodeAt(0) === 0x2f) return true; // "/"
  let i = 0;
  while (i < target.length && isAlpha(target.charCodeAt(i))) i++;
  if (i === 0 || !target.startsWith('://', i)) return false;
  const authorityStart = i + 3;
  let end = authorityStart;
  for (; end < target.length; end++) {
    const c = target.charCodeAt(end);
    if (c === 0x2f || c === 0x3f) break; // "/" or "?"
    if (!isAuthorityChar(c)) return false;
  }
  return end > authorityStart;
}

function isAlpha(code: number): boolean {
  const lower = code | 0x20;
  return lower >= 0x61 && lower <= 0x7a;
}

/** RFC 3986 §3.2: unreserved, "%", sub-delims, ":", "@", "[" and "]". */
function isAuthorityChar(code: number): boolean {
  if (isAlpha(code) || (code >= 0x30 && code <= 0x39)) return true;
  // - . _ ~ % ! $ & ' ( ) * + , ; = : @ [ ]
  return "-._~%!$&'()*+,;=:@[]".includes(String.fromCharCode(code));
}

/** Options of {@link validateUpgradeRequest}. */
export interface ValidateUpgradeOptions {
  /**
   * The transport already found this to be an upgrade request (node:http sets
   * `IncomingMessage.upgrade` when it saw `Connection: upgrade` and `Upgrade`): then a missing
   * `Upgrade` field is a malformed upgrade (400), never a plain request (426). Its parser may have
   * dropped fields past `server.maxHeadersCount`.
   */
  readonly upgradeRequested?: boolean;
}

/**
 * Validates a client's opening handshake (RFC 6455 §4.2.1) and extracts what the server needs.
 *
 * Checks, in this order (the first failure wins). The statuses and the texts of the ones `ws` also
 * makes are `ws`'s, so that an application (and its tests) see the same answers:
 * 1. a request with neither an `Upgrade` field nor `Connection: upgrade` is plain HTTP → 426
 *    `Upgrade Required` (RFC 9110 §15.5.22), unless `options.upgradeRequested`;
 * 2. method is `GET` → else 405 `Invalid HTTP method`;
 * 3. `Upgrade` contains `websocket` → else 400 `Invalid Upgrade header`; `Connection` contains
 *    `upgrade` → else 400;
 * 4. HTTP version ≥ 1.1 → else 400; no body (RFC 9112 §6.3 framing valid, no `Content-Length`
 *    other than 0, no `Transfer-Encoding`) → else 400;
 * 5. exactly one valid `Host` → else 400; a valid request target → else 400;
 * 6. `Sec-WebSocket-Key` decodes to 16 bytes → else 400 `Missing or invalid Sec-WebSocket-Key header`;
 * 7. `Sec-WebSocket-Version` is `13` or `8` → else 400 {@link UNSUPPORTED_VERSION_MESSAGE}, answered
 *    with `Sec-WebSocket-Version: 13, 8` ({@link rejectionHeaders});
 * 8. `Sec-WebSocket-Protocol` is well-formed → else 400 `Invalid Sec-WebSocket-Protocol header`;
 *    `Sec-WebSocket-Extensions` is well-formed → else 400
 *    `Invalid or unacceptable Sec-WebSocket-Extensions header`.
 *
 * @param head - A request head from {@link HttpHeadParser.forRequests}.
 * @param options - What the transport already knows of the request.
 * @returns The validated request.
 * @throws {HandshakeError} With `status` 400, 405 or 426 and the code of the failed check
 * (`WS_ERR_UPGRADE_REQUIRED`, `WS_ERR_INVALID_METHOD`, `WS_ERR_INVALID_UPGRADE_HEADER`,
 * `WS_ERR_INVALID_CONNECTION_HEADER`, `WS_ERR_INVALID_HTTP_VERSION`, `WS_ERR_MALFORMED_HTTP`,
 * `WS_ERR_INVALID_KEY`, `WS_ERR_UNSUPPORTED_VERSION`, `WS_ERR_INVALID_SUBPROTOCOL`,
 * `WS_ERR_INVALID_EXTENSIONS`): answer with
 * {@link buildRejectResponse}`(error.status, error.message, rejectionHeaders(error))`.
 */
export function validateUpgradeRequest(
  head: RequestHead,
  options: ValidateUpgradeOptions = {},
): UpgradeRequest {
  const { headers } = head;

  const upgrade = headers.get('upgrade');
  const connection = headers.get('connection');
  // Neither field: a plain HTTP request to a WebSocket-only endpoint, whatever its method. RFC 9110
  // §15.5.22: "The 426 (Upgrade Required) status code indicates that the server refuses to perform
  // the request using the current protocol but might be willing to do so after the client upgrades
  // to a different protocol." With only one of the two fields the client did try to upgrade, if
  // badly (RFC 9110 §7.8: "A sender of Upgrade MUST also send an "Upgrade"
  // connection option in the Connection header field"): that is a 400 below, §4.2.1 items 3–4.
  if (upgrade === undefined && !containsToken(connection, 'upgrade') && options.upgradeRequested !== true) {
    throw reject(ErrorCode.UpgradeRequired, 426, 'Upgrade Required');
  }

  // §4.2.1 item 1: "An HTTP/1.1 or higher GET request, including a "Request-URI" [RFC2616] that
  // should be interpreted as a /resource name/ defined in Section 3 (or an absolute HTTP/HTTPS URI
  // containing the /resource name/)." Methods are case-sensitive (RFC 9110 §9.1: "The method token
  // is case-sensitive").
  if (head.method !== 'GET') throw reject(ErrorCode.InvalidMethod, 405, 'Invalid HTTP method');
  // §4.2.1 item 3: "An |Upgrade| header field containing the value "websocket", treated as an ASCII
  // case-insensitive value."
  if (!containsToken(upgrade, 'websocket')) {
    throw reject(ErrorCode.InvalidUpgradeHeader, 400, 'Invalid Upgrade header');
  }
  // §4.2.1 item 4: "A |Connection| header field that includes the token "Upgrade", treated as an
  // ASCII case-insensitive value."
  if (!containsToken(connection, 'upgrade')) {
    throw reject(
      ErrorCode.InvalidConnectionHeader,
      400,
      'Bad Request: the Connection header must contain "Upgrade"',
    );
  }

  if (!isHttp11OrHigher(head.httpVersion)) {
    throw reject(
      ErrorCode.InvalidHttpVersion,
      400,
      'Bad Request: the WebSocket opening handshake requires HTTP/1.1 or higher',
    );
  }
  // RFC 9110 §9.3.1: "content received in a GET request has no generally defined semantics". Here
  // the bytes after the head are WebSocket frames: a body would be read as frames, while a proxy
  // that honours Content-Length or chunked would forward them as a body (request smuggling). The
  // framing itself is checked too, for heads that did not come through our parser.
  if (requestBodyFraming(head.rawHeaders) !== 0) {
    throw reject(
      ErrorCode.MalformedHttp,
      400,
      'Bad Request: a WebSocket opening handshake must not have a body (no Content-Length other than 0, no Transfer-Encoding)',
    );
  }

  // §4.2.1 item 2: "A |Host| header field containing the server's authority." RFC 9112 §3.2: "A
  // server MUST respond with a 400 (Bad Request) status code to any HTTP/1.1 request message that
  // lacks a Host header field and to any request message that contains more than one Host header
  // field line or a Host header field with an invalid field value."
  let hostCount = 0;
  for (let i = 0; i < head.rawHeaders.length; i += 2) {
    if (asciiEqualsIgnoreCase(head.rawHeaders[i]!, 'host')) hostCount++;
  }
  const host = headers.get('host');
  if (host === undefined) throw reject(ErrorCode.MalformedHttp, 400, 'Bad Request: missing Host header');
  if (hostCount > 1) throw reject(ErrorCode.MalformedHttp, 400, 'Bad Request: more than one Host header');
  if (!isValidHostField(host)) throw reject(ErrorCode.MalformedHttp, 400, 'Bad Request: invalid Host header');
  if (!isValidTarget(head.target)) {
    throw reject(ErrorCode.MalformedHttp, 400, 'Bad Request: invalid request target');
  }

  // §4.2.1 item 5: "A |Sec-WebSocket-Key| header field with a base64-encoded (see Section 4 of
  // [RFC4648]) value that, when decoded, is 16 bytes in length." Checked before the version, as
  // `ws` does: a pre-RFC client (hixie-76 sends Sec-WebSocket-Key1/Key2 and no version) is told
  // what it lacks first.
  const key = headers.get('sec-websocket-key');
  if (key === undefined || !isValidKey(key)) {
    throw reject(ErrorCode.InvalidKey, 400, 'Missing or invalid Sec-WebSocket-Key header');
  }

  // §4.2.1 item 6: "A |Sec-WebSocket-Version| header field, with a value of 13." §4.2.2: "If this
  // version does not match a version understood by the server, the server MUST abort the WebSocket
  // handshake described in this section and instead send an appropriate HTTP error code (such as
  // 426 Upgrade Required) and a |Sec-WebSocket-Version| header field indicating the version(s) the
  // server is capable of understanding." 400, as `ws` answers (426 is an example, and RFC 9110
  // §15.5.22 would then require an `Upgrade: websocket` the client already sent); the
  // Sec-WebSocket-Version field comes from {@link rejectionHeaders}.
  const version = headers.get('sec-websocket-version');
  if (version === undefined || !SUPPORTED_VERSIONS.includes(version)) {
    throw reject(ErrorCode.UnsupportedVersion, 400, UNSUPPORTED_VERSION_MESSAGE);
  }

  // §4.2.1 items 8–9 (optional fields): the parsers' 400s, with `ws`'s texts (the parser's detail
  // stays in `cause`).
  const protocolField = headers.get('sec-websocket-protocol');
  const protocols =
    protocolField === undefined
      ? []
      : reworded(() => parseSubprotocols(protocolField), 'Invalid Sec-WebSocket-Protocol header');
  const extensionField = headers.get('sec-websocket-extensions');
  const extensions =
    extensionField === undefined
      ? []
      : reworded(
          () => parseExtensions(extensionField),
          'Invalid or unacceptable Sec-WebSocket-Extensions header',
        );

  return Object.freeze({
    key,
    host,
    path: head.target,
    // §4.2.1 item 7: "Optionally, an |Origin| header field. This header field is sent by all
    // browser clients." Version 8 clients sent it as `Sec-WebSocket-Origin` (hybi-08 §4.1).
    origin: headers.get(version === DRAFT_VERSION ? 'sec-websocket-origin' : 'origin'),
    protocols: Object.freeze(protocols),
    extensions: Object.freeze(extensions),
    head,
  });
}

/**
 * Runs a header parser; its HandshakeError is thrown again with `message` (the original, whose code
 * it keeps, as `cause`).
 */
function reworded<T>(parse: () => T, message: string): T {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof HandshakeError)) throw error;
    throw new HandshakeError(error.code, error.status, message, { cause: error });
  }
}

/**
 * The extra header fields a rejection must carry, given the error {@link validateUpgradeRequest}
 * threw:
 * - an unsupported version (`WS_ERR_UNSUPPORTED_VERSION`): `Sec-WebSocket-Version: 13, 8`
 *   (RFC 6455 §4.2.2);
 * - 426: `Upgrade: websocket` (RFC 9110 §15.5.22: "The server MUST send an Upgrade header field in a
 *   426 response to indicate the required protocol(s)");
 * - 405: `Allow: GET` (RFC 9110 §15.5.6: "The origin server MUST generate an Allow header field in
 *   a 405 response containing a list of the target resource's currently supported methods").
 *
 * @param error - The error thrown by {@link validateUpgradeRequest} (or by the head parser).
 * @returns Header fields to pass to {@link buildRejectResponse}; empty when none are needed.
 * @throws Never.
 */
export function rejectionHeaders(error: HandshakeError): Record<string, string> {
  if (error.status === 405) return { Allow: 'GET' };
  const headers: Record<string, string> = {};
  if (error.status === 426) headers.Upgrade = 'websocket';
  if (error.code === ErrorCode.UnsupportedVersion) {
    headers['Sec-WebSocket-Version'] = SUPPORTED_VERSIONS.join(', ');
  }
  return headers;
}
