/**
 * The chat room of `npm start` (examples/chat-server.ts, the same page examples/chat.html) on N
 * worker processes of a node:cluster sharing one port, talking across workers through Redis with
 * @sockwire/redis-adapter. Each browser tab lands on some worker (the cluster's primary deals the
 * connections out, no sticky sessions needed); a message typed in any tab reaches every tab.
 *
 *   redis-server --port 6379 --save '' &         # or any Redis; REDIS_URL overrides
 *   npx tsx examples/cluster-chat.ts             # http://127.0.0.1:8084 (PORT, HOST, WORKERS override)
 *
 * Each message says which worker its sender is on. Kill a worker (`kill <pid>`): its tabs reconnect
 * to another one (the page reloads), the primary starts a replacement, the others never notice.
 * See docs/scaling.md.
 */
import cluster from 'node:cluster';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { createRedisAdapter } from '../packages/redis-adapter/src/index.ts';
import { WebSocketServer } from '../src/index.ts';
import { createChatPageServer } from './chat-server.ts';

const port = Number(process.env.PORT ?? 8084);
const host = process.env.HOST ?? '127.0.0.1';
const workers = Number(process.env.WORKERS ?? Math.min(4, availableParallelism()));
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** The topic every member subscribes to (the Redis channel `sockwire:t:chat`). */
const ROOM = 'chat';

if (cluster.isPrimary) {
  let listening = 0;
  let stopping = false;
  const fork = () => {
    const worker = cluster.fork();
    worker.on('message', (message: { listening?: number; failed?: string }) => {
      if (message.failed !== undefined) {
        console.error(message.failed);
        process.exit(1);
      }
      if (message.listening === undefined || ++listening !== workers) return;
      const url = `http://${host}:${message.listening}`;
      console.log(`sockwire cluster chat on ${url}: ${workers} workers, Redis at ${redisUrl}.`);
      console.log(`open it in several browser tabs; WebSocket endpoint ${url.replace(/^http/, 'ws')}/chat`);
    });
  };
  for (let i = 0; i < workers; i++) fork();
  // A worker that dies is replaced; its clients reconnect to the others meanwhile.
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    console.log(`worker ${worker.process.pid} exited (${signal ?? code}); starting another`);
    fork();
  });
  const stop = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} else {
  let adapter: Awaited<ReturnType<typeof createRedisAdapter>>;
  try {
    adapter = await createRedisAdapter({ url: redisUrl });
  } catch (error) {
    process.send?.({
      failed: `${(error as Error).message}\nstart one with: redis-server --port 6379 --save ''`,
    });
    process.exit(1);
  }
  adapter.on('outage', (cause) => console.warn(`worker ${process.pid}: Redis lost (${cause.message})`));
  adapter.on('restored', ({ dropped }) =>
    console.warn(`worker ${process.pid}: Redis back, ${dropped} dropped`),
  );

  const http = createChatPageServer(); // the page of `npm start` (examples/chat-server.ts)
  const wss = new WebSocketServer({ server: http, path: '/chat', adapter });
  let guests = 0;
  wss.on('connection', (ws) => {
    const name = `guest ${process.pid}-${++guests}`;
    ws.subscribe(ROOM);
    ws.send(`* welcome, you are ${name} (worker ${process.pid})`);
    // publish() reaches the members on this worker at once and, through Redis, those on the others.
    wss.publish(ROOM, `* ${name} joined`);
    ws.on('message', (data) => wss.publish(ROOM, `${name}: ${String(data).slice(0, 1000)}`));
    ws.on('close', () => wss.publish(ROOM, `* ${name} left`));
  });
  http.listen(port, host, () => process.send?.({ listening: (http.address() as AddressInfo).port }));
}
