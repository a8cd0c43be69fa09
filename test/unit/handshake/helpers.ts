import { HandshakeError } from '../../../src/errors.ts';
import { HttpHeadParser, type RequestHead, type ResponseHead } from '../../../src/handshake/http.ts';

/** The injected SHA-1, from node:crypto (only the pure core must avoid it). */
export { sha1 } from '../../helpers/bytes.ts';

export const encoder = new TextEncoder();

/** Bytes of a string whose characters are all < 0x100 (ISO-8859-1, one byte per character). */
export function latin1Bytes(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** The RFC 6455 §1.3 sample client handshake. */
export const SAMPLE_REQUEST =
  'GET /chat HTTP/1.1\r\n' +
  'Host: server.example.com\r\n' +
  'Upgrade: websocket\r\n' +
  'Connection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
  'Origin: http://example.com\r\n' +
  'Sec-WebSocket-Protocol: chat, superchat\r\n' +
  'Sec-WebSocket-Version: 13\r\n' +
  '\r\n';

/** The RFC 6455 §1.3 sample server handshake. */
export const SAMPLE_RESPONSE =
  'HTTP/1.1 101 Switching Protocols\r\n' +
  'Upgrade: websocket\r\n' +
  'Connection: Upgrade\r\n' +
  'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n' +
  'Sec-WebSocket-Protocol: chat\r\n' +
  '\r\n';

export function parseRequest(text: string): RequestHead {
  const result = HttpHeadParser.forRequests().push(latin1Bytes(text));
  if (!result.done) throw new Error('request head incomplete');
  return result.head;
}

export function parseResponse(text: string): ResponseHead {
  const result = HttpHeadParser.forResponses().push(latin1Bytes(text));
  if (!result.done) throw new Error('response head incomplete');
  return result.head;
}

/** Runs `fn`, expects a HandshakeError, and returns it for further assertions. */
export function catchHandshakeError(fn: () => unknown): HandshakeError {
  try {
    fn();
  } catch (error) {
    if (error instanceof HandshakeError) return error;
    throw error;
  }
  throw new Error('expected a HandshakeError, but nothing was thrown');
}
