/**
 * A standalone wss:// server and peers that open TCP connections but never send a ClientHello (or
 * never finish the TLS handshake). `handshakeTimeout` runs from accept and covers the TLS handshake
 * and the request head together; such sockets count toward `maxConnections`; `server.close()`
 * destroys them at once. (Before: Node's own 120 s TLS timeout applied, nothing counted them, and
 * one of them held close() until it left.)
 */
import { readFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from '../../src/index.ts';
import { type Listening, listen, once, WAIT_MS, withTimeout } from '../integration/helpers.ts';
import { closeServer } from './support.ts';

const fixtures = new URL('../fixtures/', import.meta.url);
const cert = readFileSync(new URL('localhost-cert.pem', fixtures));
const key = readFileSync(new URL('localhost-key.pem', fixtures));

let listening: Listening | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await closeServer(listening);
  listening = undefined;
});

async function wssEcho(options: { handshakeTimeout?: number; maxConnections?: number }): Promise<Listening> {
  const started = await listen({ tls: { key, cert }, ...options });
  started.server.on('connection', (ws: WebSocket) => {
    ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  });
  return started;
}

/** A raw TCP connection that sends nothing at all (no ClientHello). */
async function silentPeer(port: number): Promise<{ socket: Socket; closed: Promise<number> }> {
  const socket = netConnect({ port, host: '127.0.0.1' });
  sockets.push(socket);
  socket.on('error', () => {});
  const opened = Date.now();
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - opened)));
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('close', () => reject(new Error('closed before connecting')));
    }),
    WAIT_MS,
    'connect',
  );
  return { socket, closed };
}

/** Resolves with the close delay, or null when the socket is still open after `ms`. */
function closedWithin(closed: Promise<number>, ms: number): Promise<number | null> {
  return Promise.race([closed, new Promise<null>((resolve) => setTimeout(resolve, ms, null))]);
}

/** A wss:// client's attempt: 'open', or the error that ended it. */
async function tryConnect(url: string): Promise<'open' | Error> {
  const ws = new WebSocket(url, { rejectUnauthorized: false });
  return withTimeout(
    new Promise<'open' | Error>((resolve) => {
      ws.once('open', () => {
        ws.terminate();
        resolve('open');
      });
      ws.once('error', (error: Error) => resolve(error));
    }),
    WAIT_MS,
    'a wss:// client to open or fail',
  );
}

describe('standalone wss:// server: the TLS handshake is inside handshakeTimeout', () => {
  it('20 TCP sockets that never send a ClientHello are dropped at handshakeTimeout (500 ms)', async () => {
    listening = await wssEcho({ handshakeTimeout: 500 });
    const peers = await Promise.all(Array.from({ length: 20 }, () => silentPeer(listening!.port)));
    // 8× the timeout before calling it "not dropped" (Node's own TLS timeout is 120 s).
    const delays = await Promise.all(peers.map((peer) => closedWithin(peer.closed, 4000)));
    expect(delays.filter((delay) => delay === null)).toHaveLength(0);
    // Meanwhile, and after, a real client is served.
    expect(await tryConnect(listening.url)).toBe('open');
  });

  it('a TLS client that finishes the handshake but sends no request head is dropped at the same deadline', async () => {
    listening = await wssEcho({ handshakeTimeout: 500 });
    const socket = tlsConnect({ port: listening.port, host: '127.0.0.1', rejectUnauthorized: false });
    sockets.push(socket);
    socket.on('error', () => {});
    await once(socket, 'secureConnect');
    const closed = once(socket, 'close', 4000);
    await expect(closed).resolves.toBeDefined();
  });

  it('sockets in their TLS handshake count toward maxConnections, and free their slot when they leave', async () => {
    listening = await wssEcho({ handshakeTimeout: 60_000, maxConnections: 2 });
    const silent = await Promise.all([silentPeer(listening.port), silentPeer(listening.port)]);
    // Full: a third TCP connection is closed at once (no HTTP answer is possible before TLS)…
    const third = await silentPeer(listening.port).catch(() => null);
    if (third !== null) expect(await closedWithin(third.closed, 4000)).not.toBeNull();
    // …and a real client cannot get in.
    expect(await tryConnect(listening.url)).toBeInstanceOf(Error);
    // The silent ones leave: room again.
    for (const peer of silent) peer.socket.destroy();
    await Promise.all(silent.map((peer) => peer.closed));
    await withTimeout(
      (async () => {
        while ((await tryConnect(listening!.url)) !== 'open') await new Promise((r) => setTimeout(r, 50));
      })(),
      WAIT_MS,
      'a client to get in once the silent sockets left',
    );
  });

  it('with maxConnections 1, clients are served one after the other (the TLS slot is the connection slot)', async () => {
    listening = await wssEcho({ maxConnections: 1 });
    for (let i = 0; i < 3; i++) {
      const ws = new WebSocket(listening.url, { rejectUnauthorized: false });
      await once(ws, 'open');
      const echoed = once<[Buffer]>(ws, 'message');
      ws.send(`round ${i}`);
      expect((await echoed)[0].toString()).toBe(`round ${i}`);
      const closed = once(ws, 'close');
      ws.close();
      await closed;
      // The server side may see the close a moment later: wait until its slot is free.
      await withTimeout(
        (async () => {
          while (listening!.server.clients.size > 0) await new Promise((r) => setTimeout(r, 10));
        })(),
      );
    }
  });

  it('server.close() destroys sockets still in their TLS handshake at once', async () => {
    listening = await wssEcho({ handshakeTimeout: 60_000 });
    const peers = await Promise.all(Array.from({ length: 5 }, () => silentPeer(listening!.port)));
    const server = listening.server;
    listening = undefined;
    await withTimeout(server.close({ timeout: 1000 }), 3000, 'server.close({ timeout: 1000 })');
    const delays = await Promise.all(peers.map((peer) => closedWithin(peer.closed, 2000)));
    expect(delays.filter((delay) => delay === null)).toHaveLength(0);
  });
});
