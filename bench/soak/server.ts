/**
 * Soak-test server peer: an echo server (sockwire from src/, or ws), controlled over stdin.
 * Prints `READY <port>`; answers `stats` with one JSON line (after a full GC): memory, CPU, open
 * connections and the active handles by type; exits on `exit` or when stdin closes.
 */
import { createInterface } from 'node:readline';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

interface EchoSocket {
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): void;
  on(event: 'error', listener: () => void): void;
  send(data: Buffer, options: { binary: boolean }): void;
}
interface EchoServer {
  on(event: 'connection', listener: (ws: EchoSocket) => void): void;
  on(event: 'listening', listener: () => void): void;
  address(): unknown;
  clients: Set<unknown>;
  close(): unknown;
}

const impl = process.argv[process.argv.indexOf('--impl') + 1] ?? 'sockwire';
const options = { port: 0, host: '127.0.0.1', backlog: 4096 };
let server: EchoServer;
if (impl === 'ws') {
  const { WebSocketServer } = await import('ws');
  server = new WebSocketServer({ ...options, perMessageDeflate: false }) as unknown as EchoServer;
} else {
  const { WebSocketServer } = await import('../../src/index.ts');
  server = new WebSocketServer(options) as unknown as EchoServer;
}
server.on('connection', (ws) => {
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
server.on('listening', () => {
  const address = server.address() as { port: number };
  process.stdout.write(`READY ${address.port}\n`);
});

function handles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

createInterface({ input: process.stdin })
  .on('line', (line) => {
    const command = line.trim();
    if (command === 'stats') {
      for (let i = 0; i < 3; i++) gc();
      const memory = process.memoryUsage();
      const cpu = process.cpuUsage();
      process.stdout.write(
        `${JSON.stringify({
          type: 'stats',
          rss: memory.rss,
          heapUsed: memory.heapUsed,
          external: memory.external,
          arrayBuffers: memory.arrayBuffers,
          connections: server.clients.size,
          cpuSeconds: (cpu.user + cpu.system) / 1e6,
          handles: handles(),
        })}\n`,
      );
    } else if (command === 'exit') {
      process.exit(0);
    }
  })
  .on('close', () => process.exit(0));
