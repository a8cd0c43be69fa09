/**
 * The server's answer to the client's opening handshake, in the shapes users of `ws` expect: an
 * `http.IncomingMessage` for the 'upgrade' event (also for RFC 8441 streams, which have no such
 * object of their own), our `ResponseHead` for the one validation path, and a bounded copy of a
 * refusal's body for the HandshakeError.
 */
import { Buffer } from 'node:buffer';
import { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { HeaderMap, type ResponseHead } from '../handshake/http.ts';

/** Our view of Node's parsed response (one validation path for every transport). */
export function responseHeadOf(response: IncomingMessage): ResponseHead {
  const rawHeaders = Object.freeze(response.rawHeaders.slice());
  return {
    httpVersion: response.httpVersion,
    statusCode: response.statusCode ?? 0,
    statusText: response.statusMessage ?? '',
    headers: new HeaderMap(rawHeaders),
    rawHeaders,
  };
}

/**
 * An `http.IncomingMessage` built from a response head that Node's HTTP client did not parse (an
 * RFC 8441 stream): `statusCode`, `statusMessage`, `httpVersion`, `rawHeaders`, and `headers` in
 * Node's shape (lower-case names, `set-cookie` as an array). It has no body.
 */
export function toIncomingMessage(head: ResponseHead, socket: Duplex): IncomingMessage {
  const response = new IncomingMessage(socket as Socket);
  const [major = '1', minor = '1'] = head.httpVersion.split('.');
  response.httpVersion = head.httpVersion;
  response.httpVersionMajor = Number(major);
  response.httpVersionMinor = Number(minor);
  response.statusCode = head.statusCode;
  response.statusMessage = head.statusText;
  // Node computes `headers` from `rawHeaders` on first read, with its own rules for duplicates.
  response.rawHeaders = head.rawHeaders.slice();
  response.complete = true;
  response.push(null);
  return response;
}

/** The most of a refused handshake's body kept on the HandshakeError. */
export const MAX_ERROR_BODY = 16 * 1024;
/** How long to wait for that body once the status line and headers are in. */
export const ERROR_BODY_WAIT_MS = 1000;

/**
 * Reads up to {@link MAX_ERROR_BODY} bytes of `response`'s body, for at most
 * {@link ERROR_BODY_WAIT_MS}: an error body explains a refusal, but a server that keeps the
 * connection open must not hold the 'error' event back for long.
 */
export function readErrorBody(response: IncomingMessage, done: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let length = 0;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    response.off('data', onData);
    done(Buffer.concat(chunks, Math.min(length, MAX_ERROR_BODY)));
  };
  const onData = (chunk: Buffer) => {
    chunks.push(chunk);
    length += chunk.length;
    if (length >= MAX_ERROR_BODY) finish();
  };
  const timer = setTimeout(finish, ERROR_BODY_WAIT_MS);
  timer.unref();
  response.on('data', onData);
  response.once('end', finish);
  response.once('close', finish);
  response.once('error', finish);
}
