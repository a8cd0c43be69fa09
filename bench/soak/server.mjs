/**
 * Soak-test server peer: an echo server (sockwire as built in dist/, or ws), controlled over stdin.
 * Prints `READY <port>`; answers `stats` with one JSON line (after a full GC): memory, CPU, open
 * connections and the active handles by type; exits on `exit` or when stdin closes.
 *
 *   node bench/soak/server.mjs --impl sockwire --sockwire file:///…/dist/index.js
 *   node bench/soak/server.mjs --impl ws
 *
 * Plain JavaScript, run by plain `node`, unlike the rest of bench/: the soak compares the servers'
 * RSS, and a TypeScript loader in the process would count in it. Under tsx, which handles each of
 * sockwire's hundred-odd ES modules and `ws`'s few CommonJS ones differently, sockwire's server
 * started 7–15 MiB above `ws`'s; under plain `node` the difference is 2–3 MiB, what sockwire's
 * import costs.
 */
import { createInterface } from 'node:readline';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

const argument = (name) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? undefined : process.argv[at + 1];
};
const impl = argument('impl') ?? 'sockwire';
const options = { port: 0, host: '127.0.0.1', backlog: 4096 };
let server;
if (impl === 'ws') {
  const { WebSocketServer } = await import('ws');
  server = new WebSocketServer({ ...options, perMessageDeflate: false });
} else {
  const url = argument('sockwire');
  if (url === undefined) throw new Error('--sockwire <file: URL of dist/index.js> is required');
  const { WebSocketServer } = await import(url);
  server = new WebSocketServer(options);
}
server.on('connection', (ws) => {
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
server.on('listening', () => {
  process.stdout.write(`READY ${server.address().port}\n`);
});

function handles() {
  const counts = {};
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
