/**
 * One server process of bench/cluster: sockwire or Socket.IO, with a Redis adapter or none. Clients
 * subscribe to the topic / join the room 'bench'. On stdin, `go <count> <intervalMs>` publishes
 * `count` 64-byte text messages stamped with the time (ms since the epoch, sub-millisecond), in
 * bursts of 50 per turn of the event loop when `intervalMs` is 0. Prints `ready <port>`.
 *
 *   ROLE=sockwire|socketio  ADAPTER=redis|none  REDIS_URL=redis://127.0.0.1:P
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';

const role = process.env.ROLE ?? 'sockwire';
const useRedis = process.env.ADAPTER === 'redis';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** 64 bytes: the time, a '|', padding. */
const stamp = () => `${performance.timeOrigin + performance.now()}|`.padEnd(64, '.');

const SOCKET_IO: string = 'socket.io';
const SOCKET_IO_REDIS_ADAPTER: string = '@socket.io/redis-adapter';

/** The part of Socket.IO's server this benchmark uses. */
interface SocketIoSocket {
  on(event: 'join', listener: (room: string, ack?: () => void) => void): void;
  join(room: string): Promise<void> | void;
}
interface SocketIoServer {
  adapter(factory: unknown): void;
  on(event: 'connection', listener: (socket: SocketIoSocket) => void): void;
  to(room: string): { emit(event: string, data: string): void };
}
interface SocketIoModule {
  Server: new (server: unknown, options: object) => SocketIoServer;
}
interface SocketIoRedisAdapterModule {
  createAdapter(pub: unknown, sub: unknown): unknown;
}

let publish: (text: string) => void;
const http = createServer();

if (role === 'sockwire') {
  const { WebSocketServer } = await import('../../src/index.ts');
  const { createRedisAdapter } = await import('../../packages/redis-adapter/src/index.ts');
  const adapter = useRedis ? await createRedisAdapter({ url: redisUrl }) : undefined;
  const wss = new WebSocketServer({ server: http, ...(adapter ? { adapter } : {}) });
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      ws.subscribe(String(data).slice(4)); // 'sub <topic>'
      ws.send('#ok');
    });
  });
  publish = (text) => wss.publish('bench', text);
} else {
  // Socket.IO is installed for this benchmark only (npm install --prefix bench/cluster), so the
  // repository type-checks without it: the modules are loaded by name, typed by what is used here.
  const { Server } = (await import(SOCKET_IO)) as SocketIoModule;
  const io = new Server(http, { transports: ['websocket'], serveClient: false });
  if (useRedis) {
    const { createClient } = await import('redis');
    const { createAdapter } = (await import(SOCKET_IO_REDIS_ADAPTER)) as SocketIoRedisAdapterModule;
    const pub = createClient({ url: redisUrl });
    const sub = pub.duplicate();
    await Promise.all([pub.connect(), sub.connect()]);
    io.adapter(createAdapter(pub, sub));
  }
  io.on('connection', (socket) => {
    socket.on('join', (room: string, ack?: () => void) => {
      void socket.join(room);
      ack?.();
    });
  });
  publish = (text) => io.to('bench').emit('m', text);
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const [command, countText, intervalText] = line.split(' ');
  if (command !== 'go') return;
  const count = Number(countText);
  const interval = Number(intervalText);
  let sent = 0;
  const next = () => {
    const burst = interval === 0 ? 50 : 1;
    for (let i = 0; i < burst && sent < count; i++, sent++) publish(stamp());
    if (sent < count) setTimeout(next, interval);
    else console.log('sent');
  };
  next();
});

http.listen(0, '127.0.0.1', () => console.log(`ready ${(http.address() as AddressInfo).port}`));
