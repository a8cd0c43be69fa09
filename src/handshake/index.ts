/**
 * The opening handshake (RFC 6455 §4), pure: an incremental HTTP/1.1 head parser, header grammar
 * helpers, and the server and client checks. No sockets, no timers; SHA-1 and randomness are passed
 * in as functions.
 */

export { computeAcceptKey, generateKey, isValidKey, WEBSOCKET_GUID } from './accept-key.ts';
export { decodeBase64, encodeBase64 } from './base64.ts';
export {
  buildUpgradeRequest,
  type UpgradeRequestOptions,
  type UpgradeResponse,
  validateUpgradeResponse,
} from './client.ts';
export { assertFieldName, assertFieldValue, formatHeaderFields } from './header-lines.ts';
export {
  asciiEqualsIgnoreCase,
  containsToken,
  type ExtensionOffer,
  isTchar,
  isToken,
  isValidHostField,
  parseExtensions,
  parseSubprotocols,
  parseTokenList,
  serializeExtensions,
} from './headers.ts';
export {
  DEFAULT_HTTP_HEAD_LIMITS,
  HeaderMap,
  type HeadParseResult,
  type HttpHeadLimits,
  HttpHeadParser,
  type RequestHead,
  type ResponseHead,
} from './http.ts';
export {
  type AcceptOptions,
  acceptResponseLines,
  buildAcceptResponse,
  buildRejectResponse,
  joinResponseLines,
  rejectionHeaders,
  selectSubprotocol,
  UNSUPPORTED_VERSION_MESSAGE,
  type UpgradeRequest,
  type ValidateUpgradeOptions,
  validateUpgradeRequest,
} from './server.ts';
