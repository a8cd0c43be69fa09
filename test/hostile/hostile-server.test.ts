/**
 * The client against hostile or careless servers (issue 12), over loopback sockets: redirects that
 * would carry credentials somewhere they were not given for.
 */
import { readFileSync } from 'node:fs';
import { createServer as createNetServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { HandshakeError, WebSocket } from '../../src/index.ts';
import { once, WAIT_MS, withTimeout } from '../integration/helpers.ts';

const fixtures = new URL('../fixtures/', import.meta.url);
const cert = readFileSync(new URL('localhost-cert.pem', fixtures));
const key = readFileSync(new URL('localhost-key.pem', fixtures));

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await withTimeout(cleanup(), WAIT_MS);
});

interface SeenRequest {
  readonly secure: boolean;
  readonly requestLine: string;
  /** Header names lower-cased. */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * One port that speaks both TLS and cleartext HTTP (a TLS ClientHello starts with byte 0x16), so that
 * a redirect can change only the scheme. Every request is recorded and answered with
 * `answer(request, port)` (a full HTTP response head), then the connection is ended.
 */
async function dualServer(
  answer: (request: SeenRequest, port: number) => string,
): Promise<{ port: number; requests: SeenRequest[] }> {
  const requests: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  let port = 0;
  const serve = (socket: Socket, secure: boolean, first: Buffer | null) => {
    let buffer = first ?? Buffer.alloc(0);
    const onData = (chunk: Buffer | null) => {
      if (chunk !== null) buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      const [requestLine = '', ...lines] = buffer.subarray(0, end).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const request = { secure, requestLine, headers };
      requests.push(request);
      socket.end(answer(request, port));
    };
    socket.on('data', onData);
    onData(null);
  };
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const tls: TlsServer = createTlsServer({ key, cert }, (socket) => {
    track(socket);
    serve(socket, true, null);
  });
  tls.listen(0, '127.0.0.1');
  await once(tls, 'listening');
  const tlsPort = (tls.address() as { port: number }).port;
  const front: Server = createNetServer((socket) => {
    track(socket);
    socket.once('data', (first: Buffer) => {
      if (first[0] !== 0x16) {
        serve(socket, false, first);
        return;
      }
      // TLS: relay the bytes to the TLS server, which decrypts and records the request.
      const back = netConnect({ host: '127.0.0.1', port: tlsPort });
      track(back);
      back.write(first);
      socket.pipe(back);
      back.pipe(socket);
      socket.on('close', () => back.destroy());
      back.on('close', () => socket.destroy());
    });
  });
  front.listen(0, '127.0.0.1');
  await once(front, 'listening');
  port = (front.address() as { port: number }).port;
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all([
      new Promise((resolve) => front.close(resolve)),
      new Promise((resolve) => tls.close(resolve)),
    ]);
  });
  return { port, requests };
}

const redirect = (location: string) =>
  `HTTP/1.1 302 Found\r\nLocation: ${location}\r\nContent-Length: 0\r\n\r\n`;
const FORBIDDEN = 'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n';

const CREDENTIALS = {
  Authorization: 'Bearer secret',
  Cookie: 'sid=1',
  'Proxy-Authorization': 'Basic cHJveHk6cGFzcw==',
  'X-Trace': 'abc',
};

/** Connects and resolves with the HandshakeError the client reports (and checks the 1006 close). */
async function handshakeError(url: string, options: Record<string, unknown>): Promise<HandshakeError> {
  const ws = new WebSocket(url, options);
  const closed = once<[number]>(ws, 'close');
  const [error] = await once<[Error]>(ws, 'error');
  expect((await closed)[0]).toBe(1006);
  expect(error).toBeInstanceOf(HandshakeError);
  return error as HandshakeError;
}

describe('redirects and credentials (issue 12 item 6)', () => {
  it('refuses a wss:// → ws:// redirect to the same host and port: HandshakeError 302, nothing sent in cleartext', async () => {
    const server = await dualServer((request, port) =>
      request.secure ? redirect(`ws://localhost:${port}/plain`) : FORBIDDEN,
    );
    const error = await handshakeError(`wss://localhost:${server.port}/`, {
      ca: cert,
      followRedirects: true,
      headers: CREDENTIALS,
    });
    expect(error.code).toBe('WS_ERR_INVALID_REDIRECT');
    expect(error.status).toBe(302);
    expect(error.message).toMatch(/wss:\/\/ to ws:\/\//);
    expect(server.requests.map((request) => request.secure)).toEqual([true]);
    expect(server.requests[0]!.headers.authorization).toBe('Bearer secret');
  });

  it('strips Authorization, Cookie and Proxy-Authorization when only the scheme changes (ws:// → wss://)', async () => {
    const server = await dualServer((request, port) =>
      request.secure ? FORBIDDEN : redirect(`wss://localhost:${port}/secure`),
    );
    const error = await handshakeError(`ws://localhost:${server.port}/`, {
      ca: cert,
      followRedirects: true,
      headers: CREDENTIALS,
    });
    expect(error.status).toBe(403);
    const [first, second] = server.requests;
    expect(first!.secure).toBe(false);
    expect(first!.headers.cookie).toBe('sid=1');
    expect(second!.secure).toBe(true);
    expect(second!.requestLine).toBe('GET /secure HTTP/1.1');
    expect(second!.headers.authorization).toBeUndefined();
    expect(second!.headers.cookie).toBeUndefined();
    expect(second!.headers['proxy-authorization']).toBeUndefined();
    expect(second!.headers['x-trace']).toBe('abc');
  });

  it('strips Proxy-Authorization too when the port changes, and keeps every header on the same origin', async () => {
    const other = await dualServer(() => FORBIDDEN);
    const server = await dualServer((request) =>
      request.requestLine.startsWith('GET /a ') ? redirect('/b') : redirect(`ws://127.0.0.1:${other.port}/c`),
    );
    const error = await handshakeError(`ws://127.0.0.1:${server.port}/a`, {
      followRedirects: true,
      headers: CREDENTIALS,
    });
    expect(error.status).toBe(403);
    // Same scheme, host and port: the credentials were given for it.
    expect(server.requests[1]!.requestLine).toBe('GET /b HTTP/1.1');
    expect(server.requests[1]!.headers.authorization).toBe('Bearer secret');
    expect(server.requests[1]!.headers.cookie).toBe('sid=1');
    expect(server.requests[1]!.headers['x-trace']).toBe('abc');
    // Proxy-Authorization is for a proxy (RFC 9110 §11.7.2): no server gets it, this one neither.
    expect(server.requests[0]!.headers['proxy-authorization']).toBeUndefined();
    expect(server.requests[1]!.headers['proxy-authorization']).toBeUndefined();
    // Another port: none of them.
    const moved = other.requests[0]!;
    expect(moved.headers.authorization).toBeUndefined();
    expect(moved.headers.cookie).toBeUndefined();
    expect(moved.headers['proxy-authorization']).toBeUndefined();
    expect(moved.headers['x-trace']).toBe('abc');
  });
});
