/**
 * Server peer for ws-compatible implementations (`ws` and `sockwire`).
 * Only the ws-compatible surface is used, so both run the same code.
 */
import {
  announceReady,
  BROADCAST_PAYLOAD,
  parseBroadcast,
  parseServerArgs,
  serveControl,
  yieldTick,
} from './common.ts';

type Data = Buffer | ArrayBuffer | Buffer[];

export interface PeerSocket {
  on(event: 'message', cb: (data: Data, isBinary: boolean) => void): unknown;
  on(event: 'error', cb: (err: Error) => void): unknown;
  on(event: 'close', cb: () => void): unknown;
  send(data: Data | string, opts?: { binary: boolean }): void;
  close(): void;
  readonly extensions?: unknown;
}

export interface PeerServer {
  on(event: 'listening', cb: () => void): unknown;
  on(event: 'connection', cb: (ws: PeerSocket) => void): unknown;
  on(event: 'error', cb: (err: Error) => void): unknown;
  address(): unknown;
  readonly clients: Set<PeerSocket>;
  /** sockwire: encodes the frame once and writes it to every client. */
  broadcast?(data: Data, options: { binary: boolean }): unknown;
  close(): void;
}

export interface PeerModule {
  WebSocketServer: new (opts: Record<string, unknown>) => PeerServer;
}

function byteLength(data: Data): number {
  if (Array.isArray(data)) return data.reduce((s, b) => s + b.length, 0);
  return data.byteLength;
}

function asText(data: Data): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data as ArrayBuffer).toString('utf8');
}

export function runWsLikeServer(mod: PeerModule): void {
  const opts = parseServerArgs(process.argv.slice(2));
  // A long accept queue: the soak's churn opens connections in bursts of hundreds.
  const serverOpts: Record<string, unknown> = {
    port: 0,
    host: '127.0.0.1',
    backlog: 4096,
    maxPayload: opts.maxPayload,
  };
  if (opts.mode === 'deflate') serverOpts.perMessageDeflate = true;
  let wss: PeerServer;
  try {
    wss = new mod.WebSocketServer(serverOpts);
  } catch (err) {
    // An implementation that rejects `perMessageDeflate` simply lacks the feature.
    if (opts.mode !== 'deflate') throw err;
    process.stdout.write(`UNAVAILABLE perMessageDeflate rejected: ${(err as Error).message}\n`);
    process.exit(3);
  }
  let connections = 0;
  wss.on('error', (err) => {
    process.stderr.write(`server error: ${err.stack ?? String(err)}\n`);
    process.exit(2);
  });
  wss.on('listening', () => {
    const addr = wss.address() as { port: number };
    announceReady(addr.port);
  });
  wss.on('connection', (ws) => {
    connections++;
    ws.on('error', () => {});
    ws.on('close', () => {
      connections--;
    });
    if (opts.mode === 'echo' || opts.mode === 'deflate' || opts.mode === 'handshake') {
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    } else if (opts.mode === 'sink') {
      let bytes = 0;
      let msgs = 0;
      ws.on('message', (data, isBinary) => {
        if (isBinary) {
          bytes += byteLength(data);
          msgs++;
        } else {
          ws.send(JSON.stringify({ bytes, msgs }));
          bytes = 0;
          msgs = 0;
        }
      });
    } else {
      ws.on('message', (data, isBinary) => {
        if (isBinary) return;
        const n = parseBroadcast(asText(data));
        if (n === 0) return;
        void (async () => {
          for (let k = 0; k < n; k++) {
            // Each library's idiomatic broadcast: sockwire's encode-once broadcast(), else a send() loop.
            if (wss.broadcast) wss.broadcast(BROADCAST_PAYLOAD, { binary: true });
            else for (const c of wss.clients) c.send(BROADCAST_PAYLOAD, { binary: true });
            await yieldTick();
          }
        })();
      });
    }
  });
  const g = globalThis as { gc?: () => void };
  serveControl(
    {
      connections: () => connections,
      gc: () => g.gc?.(),
    },
    () => wss.close(),
  );
}
