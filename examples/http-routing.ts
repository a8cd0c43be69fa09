/**
 * WebSocket endpoints on an existing node:http server, routed by path next to ordinary HTTP routes,
 * Express-style: `GET /` and `GET /health` are plain HTTP; `/echo` and `/shout` are two
 * WebSocketServers attached to the same server, each with its own `path`. An upgrade to any other
 * path is answered 400.
 *
 *   npx tsx examples/http-routing.ts     # http://127.0.0.1:8083 (PORT overrides)
 *
 * (With Express itself: `const server = app.listen(8083)` and pass `server` in the same way.)
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { WebSocketServer } from '../src/index.ts';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/** A tiny router: `app.get(path, handler)`, then `app.handle` as the http.Server's request listener. */
function router() {
  const routes = new Map<string, Handler>();
  return {
    get(path: string, handler: Handler) {
      routes.set(`GET ${path}`, handler);
    },
    handle: ((request, response) => {
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      const handler = routes.get(`${request.method} ${path}`);
      if (handler) handler(request, response);
      else response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }) as Handler,
  };
}

export interface RoutedServer {
  readonly http: Server;
  readonly url: string;
  close(): Promise<void>;
}

export async function startRoutedServer(port = 8083): Promise<RoutedServer> {
  const app = router();
  app.get('/', (_request, response) =>
    response
      .writeHead(200, { 'content-type': 'text/plain' })
      .end('WebSocket endpoints: /echo (echo) and /shout (upper case)\n'),
  );
  app.get('/health', (_request, response) =>
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}\n'),
  );
  const http = createServer(app.handle);

  // Two WebSocketServers on one http.Server: each takes only the upgrades for its own path.
  const echo = new WebSocketServer({ server: http, path: '/echo' });
  echo.on('connection', (ws) => {
    ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  });
  const shout = new WebSocketServer({ server: http, path: '/shout' });
  shout.on('connection', (ws) => {
    ws.on('message', (data: Buffer) => ws.send(data.toString().toUpperCase()));
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: bound } = http.address() as AddressInfo;
  return {
    http,
    url: `http://127.0.0.1:${bound}`,
    async close() {
      await Promise.all([echo.close(), shout.close()]);
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const server = await startRoutedServer(Number(process.env.PORT ?? 8083));
  const ws = server.url.replace('http', 'ws');
  console.log(`HTTP on ${server.url} (GET / and /health); WebSockets on ${ws}/echo and ${ws}/shout`);
  console.log(`Try: npx tsx examples/console-client.ts ${ws}/shout`);
  process.once('SIGINT', () => void server.close().then(() => process.exit(0)));
}
