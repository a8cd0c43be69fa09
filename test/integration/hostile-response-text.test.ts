/**
 * A hostile server or proxy must not put control characters (C0, DEL, C1: terminal escapes, a
 * forged newline in a log) into the client's error.message: they come back escaped as \xNN.
 */
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { escapeControlCharacters } from '../../src/handshake/client.ts';
import { type HandshakeError, WebSocket } from '../../src/index.ts';
import { once, WAIT_MS, withTimeout } from './helpers.ts';

const servers: Server[] = [];
const sockets = new Set<Socket>();

afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A raw server that answers the first request head with `response` (latin1 bytes) and closes. */
async function answering(response: string): Promise<number> {
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    let head = '';
    socket.on('data', (chunk) => {
      head += chunk.toString('latin1');
      if (head.includes('\r\n\r\n')) socket.end(Buffer.from(response, 'latin1'));
    });
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as { port: number }).port;
}

function clientError(url: string, options: object): Promise<HandshakeError> {
  const ws = new WebSocket(url, options);
  return withTimeout(
    new Promise((resolve, reject) => {
      ws.once('open', () => reject(new Error('unexpectedly opened')));
      ws.once('error', (error) => resolve(error as HandshakeError));
    }),
    WAIT_MS,
    'client error',
  );
}

/** Every C0 control but CR and LF, DEL and C1 controls: what the head parser may let through. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the point.
const CONTROLS = /[\x00-\x1f\x7f-\x9f]/;

describe('escapeControlCharacters', () => {
  it('escapes C0, DEL and C1 as \\xNN and leaves everything else alone', () => {
    expect(escapeControlCharacters('a\tb\x1b[31m\x7f\x85\x9b\u00a0é€')).toBe(
      'a\\x09b\\x1b[31m\\x7f\\x85\\x9b\u00a0é€',
    );
    expect(escapeControlCharacters('plain text')).toBe('plain text');
  });
});

describe('client error messages built from a hostile response', () => {
  it("a proxy's reason phrase with an 8-bit terminal escape (C1 CSI), a tab and NEL is escaped", async () => {
    // The head parser refuses C0 controls other than HTAB in a reason phrase; obs-text (0x80–0xFF)
    // is allowed (RFC 9112 §4) and decodes to C1 controls.
    const port = await answering('HTTP/1.1 407 \x9b2J\tFake\x85line\r\nContent-Length: 0\r\n\r\n');
    const error = await clientError('ws://127.0.0.1:1/', { proxy: `http://127.0.0.1:${port}` });
    expect(error.status).toBe(407);
    expect(error.message).not.toMatch(CONTROLS);
    expect(error.message).toContain('\\x9b2J\\x09Fake\\x85line');
  });

  it('an unparsable redirect Location with C1 controls is escaped', async () => {
    const port = await answering(
      'HTTP/1.1 302 Found\r\nLocation: http://[\x85\x9b31m\r\nContent-Length: 0\r\n\r\n',
    );
    const error = await clientError(`ws://127.0.0.1:${port}/`, { followRedirects: true });
    expect(error.status).toBe(302);
    expect(error.message).not.toMatch(CONTROLS);
    expect(error.message).toContain('http://[\\x85\\x9b31m');
  });
});
