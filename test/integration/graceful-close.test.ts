/**
 * WebSocketServer.close(): stops accepting, sends a Close frame (default 1001, §7.4.1) to every
 * client, waits for the closing handshakes, and terminates whoever does not answer in time.
 */
import { describe, expect, it } from 'vitest';
import { WebSocket } from '../../src/index.ts';
import { listen, once, rawConnect, rawHandshake, WAIT_MS, withTimeout } from './helpers.ts';

describe('server.close()', () => {
  it('sends 1001 to every client, resolves, emits close, and refuses new connections', async () => {
    const { server, url, port } = await listen();
    const clients: WebSocket[] = [];
    for (let i = 0; i < 3; i++) {
      const accepted = once(server, 'connection');
      const ws = new WebSocket(url);
      await once(ws, 'open');
      await accepted;
      clients.push(ws);
    }
    expect(server.clients.size).toBe(3);
    const closes = clients.map((ws) => once<[number, Buffer]>(ws, 'close'));
    const serverClosed = once(server, 'close');
    const callbackCalled = new Promise<Error | undefined>((resolve) => {
      void server.close((error) => resolve(error));
    });
    await withTimeout(server.close(), WAIT_MS, 'server.close()');
    for (const closed of closes) expect((await closed)[0]).toBe(1001);
    await serverClosed;
    expect(await withTimeout(callbackCalled)).toBeUndefined();
    expect(server.clients.size).toBe(0);
    // The listener is closed: a new TCP connection is refused.
    await expect(rawConnect(port)).rejects.toThrow();
  });

  it('close({ code: 4000, reason: "bye" }) sends that code and reason', async () => {
    const { server, url } = await listen();
    const ws = new WebSocket(url);
    await once(ws, 'open');
    const closed = once<[number, Buffer]>(ws, 'close');
    await withTimeout(server.close({ code: 4000, reason: 'bye' }));
    const [code, reason] = await closed;
    expect(code).toBe(4000);
    expect(reason.toString()).toBe('bye');
  });

  it('with a client that never answers the Close, still resolves after the timeout (500 ms)', async () => {
    const { server, port } = await listen();
    const accepted = once<[WebSocket]>(server, 'connection');
    const silent = await rawHandshake(port); // never answers, never closes
    const [peer] = await accepted;
    const peerClosed = once<[number]>(peer, 'close');
    const closing = server.close({ code: 4000, reason: 'bye', timeout: 500 });
    // The Close frame does reach the silent client.
    const frame = await silent.readCloseFrame();
    expect(frame.closeCode).toBe(4000);
    expect(frame.closeReason).toBe('bye');
    await withTimeout(closing, WAIT_MS, 'server.close() with a silent client');
    // Terminated without a closing handshake: 1006 on the server side.
    expect((await peerClosed)[0]).toBe(1006);
    await silent.waitClosed();
    expect(silent.ended).toBe(true);
    silent.destroy();
  });

  it('destroys sockets still in their opening handshake', async () => {
    const { server, port } = await listen();
    const half = await rawConnect(port);
    half.write('GET / HTTP/1.1\r\nHost: x\r\n');
    // Connections are accepted in order: once a later one has its 101, the server holds `half` too.
    const later = await rawHandshake(port);
    await withTimeout(server.close({ timeout: 500 }));
    later.destroy();
    await half.waitClosed();
    expect(half.closed).toBe(true);
  });

  it('close() twice returns the same promise', async () => {
    const { server } = await listen();
    const first = server.close();
    const second = server.close();
    expect(second).toBe(first);
    await withTimeout(first);
  });
});
