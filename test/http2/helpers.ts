/**
 * Helpers for the RFC 8441 tests: an `http2.createSecureServer` with the committed self-signed
 * fixtures, `allowHTTP1: true`, a WebSocketServer attached to it, and counters of TCP connections
 * and HTTP/2 sessions (to check that many WebSockets share one connection).
 */
import { readFileSync } from 'node:fs';
import {
  createSecureServer,
  type Http2SecureServer,
  type SecureServerOptions,
  type ServerHttp2Stream,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { type ServerOptions, WebSocket, WebSocketServer } from '../../src/index.ts';
import { once } from '../integration/helpers.ts';

const fixtures = new URL('../fixtures/', import.meta.url);
export const key = readFileSync(new URL('localhost-key.pem', fixtures));
export const cert = readFileSync(new URL('localhost-cert.pem', fixtures));

export interface H2Fixture {
  readonly server: Http2SecureServer;
  readonly wss: WebSocketServer;
  readonly port: number;
  readonly url: string;
  /** TCP connections accepted by the server ('connection'). */
  readonly counts: { tcp: number; sessions: number };
  close(): Promise<void>;
}

/** An echo server (unless `echo: false`) on both HTTP/1.1 and HTTP/2, on port 0. */
export async function startH2(
  options: Omit<ServerOptions, 'port' | 'server' | 'noServer'> = {},
  serverOptions: SecureServerOptions = {},
  echo = true,
): Promise<H2Fixture> {
  const server = createSecureServer({
    key,
    cert,
    allowHTTP1: true,
    settings: { enableConnectProtocol: true },
    ...serverOptions,
  });
  const counts = { tcp: 0, sessions: 0 };
  server.on('connection', () => counts.tcp++);
  server.on('session', () => counts.sessions++);
  trackSessions(server);
  const wss = new WebSocketServer({ ...options, server });
  if (echo) {
    wss.on('connection', (ws: WebSocket) => {
      ws.on('message', (data, isBinary) => {
        const text = isBinary ? '' : data.toString();
        if (text.startsWith('close:')) {
          const [, code, reason] = text.split(':');
          ws.close(Number(code), reason);
        } else {
          ws.send(data, { binary: isBinary });
        }
      });
    });
  }
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    wss,
    port,
    url: `wss://localhost:${port}`,
    counts,
    async close() {
      await wss.close({ timeout: 500 });
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Sessions kept open by clients: close them too.
        for (const session of sessions.get(server) ?? []) session.destroy();
      });
    },
  };
}

const sessions = new WeakMap<Http2SecureServer, Set<import('node:http2').ServerHttp2Session>>();
/** Remembers server sessions so that `close()` can end them. */
export function trackSessions(server: Http2SecureServer): void {
  const set = new Set<import('node:http2').ServerHttp2Session>();
  sessions.set(server, set);
  server.on('session', (session) => {
    set.add(session);
    session.once('close', () => set.delete(session));
  });
}

/** The `stream` behind a server-side request passed to 'connection' over HTTP/2. */
export function streamOf(request: unknown): ServerHttp2Stream | undefined {
  return (request as { stream?: ServerHttp2Stream }).stream;
}

/** Opens a client and waits for 'open' (rejects on 'error'). */
export function openClient(url: string, ...rest: unknown[]): Promise<WebSocket> {
  const ws = new (WebSocket as unknown as new (...args: unknown[]) => WebSocket)(url, ...rest);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** The client's 'error' (and the socket) when the handshake fails. */
export function clientError(url: string, ...rest: unknown[]): Promise<Error> {
  const ws = new (WebSocket as unknown as new (...args: unknown[]) => WebSocket)(url, ...rest);
  return new Promise((resolve, reject) => {
    ws.once('open', () => reject(new Error('unexpectedly opened')));
    ws.once('error', resolve);
  });
}

export function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return once<[Buffer, boolean]>(ws, 'message').then(([data, isBinary]) => ({ data, isBinary }));
}

export function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return once<[number, Buffer]>(ws, 'close').then(([code, reason]) => ({ code, reason: String(reason) }));
}
