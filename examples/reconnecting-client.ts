/**
 * A client that stays connected, with `ReconnectingWebSocket`: when the connection drops (the server
 * restarts, the network goes away) it reconnects after a random delay whose cap doubles with each
 * failed attempt ("full jitter": a thousand clients that lost the same server do not all come back
 * in the same millisecond), and resets once a connection has stayed open `stableAfter` ms (5 s: a
 * server that accepts and drops at once sees growing delays). `keepAlive` detects a server that
 * silently died (no answer to a Ping within `timeout`), which TCP alone would not notice for minutes.
 * Messages sent while disconnected wait in a bounded queue and go out on the next connection.
 *
 *   npx tsx examples/reconnecting-client.ts [ws://127.0.0.1:8081]
 *
 * Run heartbeat-server.ts, start this, then stop and restart the server.
 */
import { pathToFileURL } from 'node:url';
import { ReconnectingWebSocket } from '../src/index.ts';

export interface StayConnectedOptions {
  /** Cap of the first retry delay, in ms. Default 250 here (the library's default is 1 s). */
  readonly minDelay?: number;
  /** Longest delay between attempts, in ms. Default 10 s. */
  readonly maxDelay?: number;
  /** Heartbeats: a Ping every `interval` ms, give up after `timeout` ms of silence. */
  readonly keepAlive?: { readonly interval: number; readonly timeout: number };
}

/** Connects to `url` and keeps reconnecting until `close()` is called on the result. */
export function stayConnected(url: string, options: StayConnectedOptions = {}): ReconnectingWebSocket {
  return new ReconnectingWebSocket(url, {
    minDelay: options.minDelay ?? 250,
    maxDelay: options.maxDelay ?? 10_000,
    keepAlive: options.keepAlive ?? { interval: 5000, timeout: 5000 },
    handshakeTimeout: 5000,
    // The default policy reconnects after anything but 1000, 1008 or a 4xx answer to the handshake
    // (retrying would not help there); pass `shouldReconnect` to decide otherwise.
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const url = process.argv[2] ?? 'ws://127.0.0.1:8081';
  const ws = stayConnected(url);
  // A pending reconnect keeps the process alive (keepProcessAlive, default true): nothing to hold.
  let connections = 0;
  ws.on('open', () => {
    connections++;
    console.log(`connected (${connections === 1 ? 'first time' : `reconnection ${connections - 1}`})`);
    ws.send(`hello from connection ${connections}`);
  });
  ws.on('message', (data: Buffer) => console.log(`< ${data.toString()}`));
  ws.on('reconnecting', (attempt: number, delay: number) =>
    console.log(`reconnect attempt ${attempt} in ${Math.round(delay)} ms`),
  );
  ws.on('error', (error: Error) => console.log(`(${error.message})`));
  ws.on('close', (code: number) => {
    console.log(`stopped (${code})`);
  });
  process.once('SIGINT', () => ws.close(1000, 'bye'));
}
