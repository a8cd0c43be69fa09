/**
 * Bun's built-in WebSocket server (uWebSockets under the hood).
 * Run with `node_modules/.bin/bun bench/servers/bun-server.ts --mode <mode>`.
 * Broadcast uses Bun's own publish facility (topic subscription).
 */
import {
  announceReady,
  BROADCAST_PAYLOAD,
  parseBroadcast,
  parseServerArgs,
  serveControl,
  yieldTick,
} from './common.ts';

interface BunWs {
  send(data: string | Uint8Array): number;
  subscribe(topic: string): void;
}
interface BunServer {
  readonly port: number;
  upgrade(req: unknown): boolean;
  publish(topic: string, data: string | Uint8Array): number;
  stop(closeActive?: boolean): void;
}
interface BunGlobal {
  serve(opts: Record<string, unknown>): BunServer;
  gc(force: boolean): void;
}
declare const Bun: BunGlobal;

const opts = parseServerArgs(process.argv.slice(2));
let connections = 0;

const server: BunServer = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  fetch(req: unknown, srv: BunServer) {
    if (srv.upgrade(req)) return undefined;
    return new Response('websocket only', { status: 400 });
  },
  websocket: {
    maxPayloadLength: opts.maxPayload,
    perMessageDeflate: opts.mode === 'deflate',
    backpressureLimit: 64 * 1024 * 1024,
    open(ws: BunWs) {
      connections++;
      if (opts.mode === 'broadcast') ws.subscribe('all');
    },
    close() {
      connections--;
    },
    message: makeHandler(),
  },
});

function makeHandler(): (ws: BunWs, msg: string | Uint8Array) => void {
  if (opts.mode === 'echo' || opts.mode === 'deflate' || opts.mode === 'handshake') {
    return (ws, msg) => {
      ws.send(msg);
    };
  }
  if (opts.mode === 'sink') {
    // One sink connection per run: counters can be process-wide.
    let bytes = 0;
    let msgs = 0;
    return (ws, msg) => {
      if (typeof msg === 'string') {
        ws.send(JSON.stringify({ bytes, msgs }));
        bytes = 0;
        msgs = 0;
      } else {
        bytes += msg.byteLength;
        msgs++;
      }
    };
  }
  return (_ws, msg) => {
    if (typeof msg !== 'string') return;
    const n = parseBroadcast(msg);
    if (n === 0) return;
    void (async () => {
      for (let k = 0; k < n; k++) {
        server.publish('all', BROADCAST_PAYLOAD);
        await yieldTick();
      }
    })();
  };
}

announceReady(server.port);
serveControl({ connections: () => connections, gc: () => Bun.gc(true) }, () => server.stop(true));
