/**
 * Where a request's body ends (RFC 9112 §6): the framing of the bytes after the head, which for an
 * opening handshake must be none, since those bytes are WebSocket frames.
 */

import type { HandshakeError } from '../errors.ts';
import { malformedHead } from './head-lines.ts';
import { isTchar } from './headers.ts';

function framingError(reason: string): HandshakeError {
  return malformedHead('request', reason);
}

/**
 * The framing of a request's body (RFC 9112 §6.3), from its header fields: how many bytes of body
 * follow the head (`Content-Length`, 0 when absent), or `'chunked'`. Rejects, with 400, every
 * framing that Node's parser (llhttp) rejects, so that a proxy in front and this server never
 * disagree on where a body ends, which would let a body be read as WebSocket frames (request
 * smuggling):
 * - RFC 9112 §6.1: "A server MAY reject a request that contains both Content-Length and
 *   Transfer-Encoding ... Regardless, the server MUST close the connection after responding to such
 *   a request". We reject.
 * - RFC 9112 §6.3 item 4: "If a Transfer-Encoding header field is present in a request and the
 *   chunked transfer coding is not the final encoding, the message body length cannot be determined
 *   reliably; the server MUST respond with the 400 (Bad Request) status code and then close the
 *   connection." RFC 9112 §6.1: "A sender MUST NOT apply the chunked transfer coding more than once".
 * - RFC 9112 §6.3 item 5: "If a message is received without Transfer-Encoding and with an invalid
 *   Content-Length header field, then the message framing is invalid ... the server MUST respond
 *   with a 400 (Bad Request) status code and then close the connection." RFC 9110 §8.6:
 *   `Content-Length = 1*DIGIT`; a repeated field or a list (`0, 0`) "MAY" be collapsed: like
 *   llhttp we reject it, even with equal values.
 *
 * @param rawHeaders - `[name, value, …]` as received (values without their OWS).
 * @returns The body length in bytes, or `'chunked'`.
 * @throws {HandshakeError} `WS_ERR_MALFORMED_HTTP`, status 400, for any framing above.
 */
export function requestBodyFraming(rawHeaders: readonly string[]): number | 'chunked' {
  let contentLength: string | undefined;
  let codings: string[] | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === 14 && name.toLowerCase() === 'content-length') {
      if (contentLength !== undefined) throw framingError('more than one Content-Length header');
      contentLength = rawHeaders[i + 1]!;
    } else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
      // RFC 9110 §5.3: repeated fields are one comma-separated list, in order.
      codings ??= [];
      for (const element of rawHeaders[i + 1]!.split(',')) codings.push(element);
    }
  }
  if (codings !== undefined) {
    if (contentLength !== undefined) {
      throw framingError('Content-Length together with Transfer-Encoding');
    }
    // RFC 9112 §7: `Transfer-Encoding = #transfer-coding`, `transfer-coding = token *( OWS ";" OWS
    // transfer-parameter )`. Only the coding name is looked at; an empty element is an error here
    // (as in llhttp), not skipped: framing is no place for leniency.
    let chunked = 0;
    for (let k = 0; k < codings.length; k++) {
      const element = codings[k]!;
      const semicolon = element.indexOf(';');
      const name = (semicolon === -1 ? element : element.slice(0, semicolon)).replace(/^[ \t]+|[ \t]+$/g, '');
      let isToken = name !== '';
      for (let j = 0; isToken && j < name.length; j++) isToken = isTchar(name.charCodeAt(j));
      if (!isToken) throw framingError('invalid Transfer-Encoding header');
      if (name.length === 7 && name.toLowerCase() === 'chunked') {
        if (semicolon !== -1 || k !== codings.length - 1 || ++chunked > 1) {
          throw framingError('Transfer-Encoding must end with chunked, applied once');
        }
      }
    }
    if (chunked === 0) throw framingError('Transfer-Encoding must end with chunked, applied once');
    return 'chunked';
  }
  if (contentLength === undefined) return 0;
  if (contentLength === '') throw framingError('empty Content-Length header');
  for (let j = 0; j < contentLength.length; j++) {
    const code = contentLength.charCodeAt(j);
    if (code < 0x30 || code > 0x39) throw framingError('Content-Length is not a decimal number');
  }
  const length = Number(contentLength);
  if (!Number.isSafeInteger(length)) throw framingError('Content-Length is too large');
  return length;
}
