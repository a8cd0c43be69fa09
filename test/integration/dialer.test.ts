/**
 * The WebSocket does not import the client that dials it (src/websocket/dialer.ts): loaded alone, a
 * `new WebSocket(url)` throws a clear error; once the package entry point is loaded (it loads the
 * client, which installs itself), the same class connects. This file imports src/websocket/websocket.ts
 * first, on purpose: the index is imported only in the last test.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, InvalidStateError } from '../../src/errors.ts';
import { WebSocket } from '../../src/websocket/websocket.ts';

describe('the dialer of new WebSocket(url)', () => {
  it('throws a clear InvalidStateError when the WebSocket module is loaded without the client', () => {
    let thrown: unknown;
    try {
      new WebSocket('ws://127.0.0.1:1/');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidStateError);
    expect((thrown as InvalidStateError).code).toBe(ErrorCode.InvalidState);
    expect((thrown as Error).message).toMatch(
      /needs the client, which is not loaded: import the WebSocket from 'sockwire'/,
    );
  });

  it('a WebSocket made without a URL (the server side) needs no client', () => {
    const ws = new WebSocket();
    expect(ws.readyState).toBe(WebSocket.CONNECTING);
    expect(ws.url).toBe('');
  });

  it('once the entry point is loaded, the same class connects over loopback', async () => {
    const { WebSocketServer } = await import('../../src/index.ts');
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    const { port } = server.address() as { port: number };
    server.on('connection', (socket) =>
      socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary })),
    );
    try {
      const ws = new WebSocket(`http://127.0.0.1:${port}/`);
      expect(ws.url).toBe(`ws://127.0.0.1:${port}/`); // §3: the dialer's URL rules apply
      const echo = await new Promise<string>((resolve, reject) => {
        ws.on('error', reject);
        ws.on('open', () => ws.send('hello'));
        ws.on('message', (data) => resolve(data.toString()));
      });
      expect(echo).toBe('hello');
      const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
      ws.close();
      expect(await closed).toBe(1005);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
