import { type AddressInfo, createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, WebSocket, WebSocketServer } from '../../src/index.ts';
import { KeepAliveScheduler } from '../../src/websocket/keep-alive.ts';
import { acceptKeyFor } from './helpers.ts';

const servers: WebSocketServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close({ timeout: 100 })));
});

async function start(options: ConstructorParameters<typeof WebSocketServer>[0] = {}) {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  servers.push(server);
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('close', () => reject(new Error('closed before open')));
  });
}

describe('keep-alive (RFC 6455 §5.5.2, §5.5.3)', () => {
  it('interval only: sends unsolicited Pongs', async () => {
    const url = await start({ keepAlive: { interval: 40 } });
    const client = new WebSocket(url, { perMessageDeflate: false });
    const pongs: Buffer[] = [];
    client.on('pong', (data) => pongs.push(data));
    await opened(client);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(pongs.length).toBeGreaterThanOrEqual(2);
    expect(pongs.every((p) => p.length === 0)).toBe(true);
    client.close();
  });

  it('interval + timeout: Pings with a counter are answered and the connection stays open', async () => {
    const url = await start({ keepAlive: { interval: 40, timeout: 100 } });
    const client = new WebSocket(url, { perMessageDeflate: false });
    const pings: number[] = [];
    client.on('ping', (data) => pings.push(data.readUInt32BE(0)));
    await opened(client);
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(pings.length).toBeGreaterThanOrEqual(3);
    expect(pings).toEqual([...pings].sort((a, b) => a - b)); // increasing counter
    expect(client.readyState).toBe(WebSocket.OPEN);
    client.close();
  });

  it('aborts a silent peer within interval + timeout with 1006 and WS_ERR_KEEPALIVE_TIMEOUT', async () => {
    const url = await start();
    // Our client pings; the server's socket is paused so nothing comes back (a half-open peer).
    const server = servers[0]!;
    server.once('connection', (_ws, request) => (request.socket as Socket).pause());
    const client = new WebSocket(url, {
      perMessageDeflate: false,
      keepAlive: { interval: 50, timeout: 100 },
    });
    const errors: unknown[] = [];
    client.on('error', (error) => errors.push(error));
    await opened(client);
    const openedAt = performance.now();
    const code = await new Promise<number>((resolve) => client.once('close', resolve));
    const elapsed = performance.now() - openedAt;
    expect(code).toBe(1006);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: ErrorCode.KeepAliveTimeout });
    // Not a speed assertion: the bound the option promises, with the sweep period as slack.
    expect(elapsed).toBeGreaterThanOrEqual(100);
    expect(elapsed).toBeLessThan(50 + 100 + 1000);
  });

  it('any frame counts as a sign of life, not only the matching Pong', async () => {
    // A raw server that completes the handshake, never answers Pings, but sends a text frame every 20 ms.
    const raw = createServer((socket) => {
      let timer: NodeJS.Timeout | undefined;
      socket.once('data', (head) => {
        const key = /sec-websocket-key: *(\S+)/i.exec(head.toString('latin1'))?.[1] ?? '';
        const accept = acceptKeyFor(key);
        socket.write(
          `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
        );
        timer = setInterval(() => socket.write(Buffer.from([0x81, 0x01, 0x2e])), 20);
      });
      socket.on('close', () => clearInterval(timer));
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    try {
      const port = (raw.address() as AddressInfo).port;
      const client = new WebSocket(`ws://127.0.0.1:${port}`, {
        perMessageDeflate: false,
        keepAlive: { interval: 30, timeout: 60 },
      });
      const pongs: Buffer[] = [];
      client.on('pong', (data) => pongs.push(data));
      await opened(client);
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(pongs).toHaveLength(0); // no Pong ever came back...
      expect(client.readyState).toBe(WebSocket.OPEN); // ...yet the messages kept it alive
      client.terminate();
    } finally {
      raw.close();
    }
  });

  it('one shared scheduler serves every connection with the same settings, and stops when they close', async () => {
    const url = await start({ keepAlive: { interval: 1000, timeout: 500 } });
    const clients = Array.from({ length: 20 }, () => new WebSocket(url, { perMessageDeflate: false }));
    await Promise.all(clients.map(opened));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(KeepAliveScheduler.for({ interval: 1000, timeout: 500 }).size).toBe(20);
    await Promise.all(
      clients.map((client) => {
        client.close();
        return new Promise((resolve) => client.once('close', resolve));
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(KeepAliveScheduler.for({ interval: 1000, timeout: 500 }).size).toBe(0);
  });

  it('rejects invalid settings with a RangeError', () => {
    expect(() => KeepAliveScheduler.for({ interval: -1 })).toThrow(RangeError);
    expect(() => KeepAliveScheduler.for({ interval: 10, timeout: Number.NaN })).toThrow(RangeError);
  });
});
