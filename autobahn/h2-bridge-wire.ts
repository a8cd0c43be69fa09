/**
 * What both Autobahn HTTP/2 bridges share (autobahn/h2-bridge-server.ts, autobahn/h2-bridge-client.ts):
 * reading an HTTP/1.1 head off a raw socket, the RFC 6455 accept key, and splicing a TCP socket to an
 * HTTP/2 stream so that bytes pass unchanged and each side's way of ending maps onto the other's.
 *
 * Written with node:net, node:http2 and node:crypto only, on purpose: the bridges must not use
 * sockwire's own handshake or framing code, or a bug there could hide itself. They never look inside
 * the WebSocket frames (RFC 8441 §5 keeps RFC 6455 framing, masking included, on the stream), so what
 * wstest sees is what our implementation wrote.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants, type Http2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures');
/**
 * The TLS certificate of the client-direction bridge: the committed self-signed test certificate
 * (SAN localhost, 127.0.0.1, ::1), which the client agent trusts as its `ca`.
 */
export const BRIDGE_CERT = join(FIXTURES, 'localhost-cert.pem');
/** The private key of {@link BRIDGE_CERT}. */
export const BRIDGE_KEY = join(FIXTURES, 'localhost-key.pem');

/** A head larger than this is not a WebSocket handshake: the bridge gives up on it. */
const MAX_HEAD = 16 * 1024;

/** An HTTP/1.1 head: the start line, the header fields (names lowercased) and the bytes after it. */
export interface Head {
  readonly startLine: string;
  readonly fields: ReadonlyMap<string, string>;
  /** Bytes that arrived after the blank line (frames the peer sent right behind its head). */
  readonly rest: Buffer;
}

/**
 * Reads one HTTP/1.1 head from `socket`, then leaves the socket paused with no 'data' listener.
 * Repeated fields are joined with ", " (RFC 9110 §5.3).
 * @throws {Error} (as a rejection) when the socket ends or errors first, or the head is too large.
 */
export function readHead(socket: Socket): Promise<Head> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onError);
      socket.off('close', onEnd);
      socket.pause();
    };
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) {
        if (buffered.length > MAX_HEAD) {
          cleanup();
          reject(new Error(`no end of the HTTP head within ${MAX_HEAD} bytes`));
        }
        return;
      }
      cleanup();
      const lines = buffered.subarray(0, end).toString('latin1').split('\r\n');
      const fields = new Map<string, string>();
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        if (colon <= 0) continue;
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        const before = fields.get(name);
        fields.set(name, before === undefined ? value : `${before}, ${value}`);
      }
      resolve({ startLine: lines[0] ?? '', fields, rest: buffered.subarray(end + 4) });
    };
    const onEnd = () => {
      cleanup();
      reject(new Error('the connection ended before the HTTP head was complete'));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.on('error', onError);
  });
}

/** RFC 6455 §4.2.2 item 5.4: base64 of the SHA-1 of the key and this GUID. */
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key` (RFC 6455 §4.2.2). */
export function acceptFor(key: string): string {
  return createHash('sha1')
    .update(key + GUID)
    .digest('base64');
}

/** A fresh `Sec-WebSocket-Key`: 16 random bytes, base64 (RFC 6455 §4.1 item 7). */
export function newKey(): string {
  return randomBytes(16).toString('base64');
}

/**
 * Splices `socket` (HTTP/1.1, after the handshake) and `stream` (RFC 8441, after the 200) together.
 * Bytes pass unchanged and with backpressure both ways. Endings map as RFC 8441 §6 says a TCP
 * connection's map onto a stream: "Orderly TCP-level closures are represented as END_STREAM flags.
 * RST exceptions are represented with the RST_STREAM frame with the CANCEL error code":
 *
 * - FIN from the socket ('end') → END_STREAM on the stream, and END_STREAM → FIN: each half closes on
 *   its own, so the side that closes first (what Autobahn's closing-behaviour checks look at) stays so;
 * - the socket reset or failing → RST_STREAM CANCEL; the stream reset with an error code (or its
 *   session gone) → a TCP RST to the socket;
 * - the stream closed with NO_ERROR before the peer ended its half (RFC 9113 §8.1, a server that has
 *   sent its complete response) → the socket is closed as a TCP server closes it: FIN, then gone.
 *
 * Both must have `allowHalfOpen` semantics (the socket made with `allowHalfOpen: true`), or Node would
 * answer a FIN with a FIN at once and hide which side closed first.
 */
export function splice(socket: Socket, stream: Http2Stream): void {
  socket.setNoDelay(true);
  socket.on('error', () => {
    if (!stream.closed) stream.close(constants.NGHTTP2_CANCEL);
  });
  socket.on('close', (hadError) => {
    // A socket that closed after both FINs leaves the stream closing by itself (both halves ended).
    if (hadError && !stream.closed) stream.close(constants.NGHTTP2_CANCEL);
  });
  stream.on('error', () => {
    if (!socket.destroyed) socket.resetAndDestroy();
  });
  stream.on('close', () => {
    if (socket.destroyed) return;
    if (stream.rstCode !== undefined && stream.rstCode !== constants.NGHTTP2_NO_ERROR) {
      socket.resetAndDestroy();
      return;
    }
    // Let the bytes the stream delivered reach the socket, then close it: nothing more can be
    // carried from the socket to a closed stream.
    socket.end(() => socket.destroy());
  });
  socket.pipe(stream);
  stream.pipe(socket);
  socket.resume();
}
