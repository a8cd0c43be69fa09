/**
 * A chat room: every message goes to everyone in the room. One port serves both the page (node:http)
 * and the WebSocket endpoint (`/chat`, a WebSocketServer attached to the same http.Server); the page
 * uses the browser's own WebSocket.
 *
 *   npx tsx examples/chat-server.ts       # or `npm start`; http://127.0.0.1:8080 (PORT, HOST override)
 *
 * Open the page in two browser tabs and talk to yourself, or join from a terminal with
 * `npx tsx examples/console-client.ts ws://127.0.0.1:8080/chat`.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import type { WebSocketServer } from '../src/index.ts';
import { type FleckSocket, startFleckServer } from './fleck-style.ts';

const PAGE = readFileSync(new URL('./chat.html', import.meta.url));

export interface ChatServer {
  readonly http: Server;
  readonly wss: WebSocketServer;
  /** e.g. http://127.0.0.1:8080 */
  readonly url: string;
  close(): Promise<void>;
}

/** The HTTP side of the chat: the page at `/`, 404 elsewhere (the WebSocket endpoint attaches to it). */
export function createChatPageServer(): Server {
  return createServer((request, response) => {
    if (request.method === 'GET' && (request.url === '/' || request.url === '/index.html')) {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      response.end(PAGE);
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
}

/** Starts the chat; resolves once it listens. */
export async function startChatServer(port = 8080, host = '127.0.0.1'): Promise<ChatServer> {
  const http = createChatPageServer();

  const room = new Set<FleckSocket>();
  const broadcast = (text: string) => {
    for (const member of room) member.send(text);
  };
  const wss = startFleckServer({ server: http, path: '/chat' }, (socket) => {
    const name = `guest ${socket.connectionInfo.id}`;
    socket.onOpen = () => {
      room.add(socket);
      socket.send(`* welcome, you are ${name}; ${room.size} in the room`);
      broadcast(`* ${name} joined`);
    };
    socket.onMessage = (message) => broadcast(`${name}: ${message.slice(0, 1000)}`);
    socket.onClose = () => {
      room.delete(socket);
      broadcast(`* ${name} left`);
    };
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => resolve());
  });
  const address = http.address() as AddressInfo;
  return {
    http,
    wss,
    url: `http://${host}:${address.port}`,
    async close() {
      await wss.close();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const port = Number(process.env.PORT ?? 8080);
  const host = process.env.HOST ?? '127.0.0.1';
  try {
    const chat = await startChatServer(port, host);
    const ws = chat.url.replace(/^http/, 'ws');
    console.log(`sockwire chat on ${chat.url}: open it in two browser tabs.`);
    console.log(
      `WebSocket endpoint ${ws}/chat; from a terminal: npx tsx examples/console-client.ts ${ws}/chat. Ctrl-C stops.`,
    );
    process.once('SIGINT', () => void chat.close().then(() => process.exit(0)));
  } catch (error) {
    console.error(`cannot listen on ${host}:${port}: ${(error as Error).message}`);
    process.exit(1);
  }
}
