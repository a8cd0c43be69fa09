/**
 * Heartbeats: the server pings every client every `interval` ms and drops those that stay silent
 * `timeout` ms after a ping (a laptop that went to sleep, a cable pulled out: TCP alone would not
 * notice for minutes). Run reconnecting-client.ts against it, then stop and restart this server: the
 * client reconnects by itself.
 *
 *   npx tsx examples/heartbeat-server.ts        # ws://127.0.0.1:8081 (PORT overrides)
 */
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { WebSocketServer } from '../src/index.ts';

export interface HeartbeatOptions {
  readonly port?: number;
  readonly interval?: number;
  readonly timeout?: number;
  /** Where to print connections and closes. Default console.log. */
  readonly log?: (line: string) => void;
}

/** Starts the server; resolves once it listens. */
export async function startHeartbeatServer(options: HeartbeatOptions = {}): Promise<WebSocketServer> {
  const server = new WebSocketServer({
    port: options.port ?? 8081,
    host: '127.0.0.1',
    // `keepAlive` (src/websocket/keep-alive.ts): a Ping every `interval` ms; no sign of life `timeout` ms after
    // it and the connection is aborted ('close' with 1006). One shared timer serves every client.
    keepAlive: { interval: options.interval ?? 5000, timeout: options.timeout ?? 5000 },
  });
  let next = 1;
  const log = options.log ?? console.log;
  server.on('connection', (ws) => {
    const id = next++;
    log(`+ client ${id} (${server.clients.size} connected)`);
    ws.send(`hello client ${id}`);
    ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
    ws.on('close', (code: number) => log(`- client ${id} closed with ${code}`));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  return server;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const server = await startHeartbeatServer({ port: Number(process.env.PORT ?? 8081) });
  const { port } = server.address() as AddressInfo;
  console.log(`heartbeat server on ws://127.0.0.1:${port} (ping every 5 s, drop after 5 s of silence)`);
  console.log(`Run: npx tsx examples/reconnecting-client.ts ws://127.0.0.1:${port}`);
  console.log('then stop this server with Ctrl-C and start it again: the client reconnects.');
  // 1012 "service restart" tells clients to come back (IANA registry, §11.7).
  process.once('SIGINT', () => void server.close({ code: 1012 }).then(() => process.exit(0)));
}
