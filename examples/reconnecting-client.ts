/**
 * A client that stays connected: keep-alive detects a dead server (no answer to a Ping within
 * `timeout`), and every close other than one we asked for leads to a new attempt, after a delay that
 * doubles each time (with jitter, so that a thousand clients do not come back in the same
 * millisecond when the server restarts) and resets once a connection opens.
 *
 *   npx tsx examples/reconnecting-client.ts [ws://127.0.0.1:8081]
 *
 * The reconnect loop is written by hand here. TODO(issue 9): the library is getting a
 * `ReconnectingWebSocket` (src/client/reconnecting.ts, in progress); once it is exported, this
 * example should show it instead, with the loop below kept as the "how it works" version.
 */
import { pathToFileURL } from 'node:url';
import { WebSocket } from '../src/index.ts';

export interface ReconnectOptions {
  /** First delay before reconnecting, in ms; doubled after each failure. Default 250. */
  readonly minDelay?: number;
  /** Longest delay, in ms. Default 10 s. */
  readonly maxDelay?: number;
  /** Heartbeats: a Ping every `interval` ms, give up after `timeout` ms of silence. */
  readonly keepAlive?: { readonly interval: number; readonly timeout: number };
  readonly onOpen?: (ws: WebSocket, attempt: number) => void;
  readonly onMessage?: (text: string, ws: WebSocket) => void;
  readonly onClose?: (code: number, retryIn: number | null) => void;
}

/** Connects to `url` and keeps reconnecting until `stop()` is called. */
export function connectForever(url: string, options: ReconnectOptions = {}): { stop(): void } {
  const minDelay = options.minDelay ?? 250;
  const maxDelay = options.maxDelay ?? 10_000;
  let delay = minDelay;
  let attempt = 0;
  let stopped = false;
  let current: WebSocket | null = null;
  let timer: NodeJS.Timeout | null = null;

  const connect = () => {
    attempt++;
    const ws = new WebSocket(url, {
      keepAlive: options.keepAlive ?? { interval: 5000, timeout: 5000 },
      handshakeTimeout: 5000,
    });
    current = ws;
    ws.on('open', () => {
      delay = minDelay; // a success resets the back-off
      options.onOpen?.(ws, attempt);
    });
    ws.on('message', (data: Buffer) => options.onMessage?.(data.toString(), ws));
    ws.on('error', () => {}); // 'close' follows, and is where we decide to retry
    ws.on('close', (code: number) => {
      current = null;
      if (stopped) {
        options.onClose?.(code, null);
        return;
      }
      // Full jitter: a random delay in [delay/2, delay].
      const wait = Math.round(delay / 2 + Math.random() * (delay / 2));
      delay = Math.min(delay * 2, maxDelay);
      options.onClose?.(code, wait);
      timer = setTimeout(connect, wait);
    });
  };
  connect();
  return {
    stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      current?.close(1000, 'bye');
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const url = process.argv[2] ?? 'ws://127.0.0.1:8081';
  const client = connectForever(url, {
    onOpen: (ws, attempt) => {
      console.log(`connected (attempt ${attempt})`);
      ws.send(`hello from attempt ${attempt}`);
    },
    onMessage: (text) => console.log(`< ${text}`),
    onClose: (code, retryIn) =>
      console.log(retryIn === null ? `closed (${code})` : `closed (${code}); retrying in ${retryIn} ms`),
  });
  process.once('SIGINT', () => client.stop());
}
