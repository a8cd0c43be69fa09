/**
 * Autobahn echo server: the agent that `wstest -m fuzzingclient` tests (our server side).
 * Echoes every message as received: text stays text, binary stays binary.
 *
 *   npx tsx autobahn/echo-server.ts [PORT]        (or AUTOBAHN_PORT=PORT; default 9002)
 *   AUTOBAHN_IMPL=ws npx tsx autobahn/echo-server.ts   (the `ws` stand-in)
 *
 * Prints `ready ws://127.0.0.1:PORT (IMPL)` once it listens; the runner waits for that line.
 */
import { exitWithParent, loadImpl, MAX_PAYLOAD } from './impl.ts';

const port = Number(process.argv[2] ?? process.env.AUTOBAHN_PORT ?? 9002);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`echo-server: invalid port ${process.argv[2] ?? process.env.AUTOBAHN_PORT}`);
  process.exit(2);
}

exitWithParent();
const impl = await loadImpl();
const wss = new impl.WebSocketServer({
  port,
  host: '127.0.0.1',
  maxPayload: MAX_PAYLOAD,
  ...impl.extraOptions,
});

wss.on('listening', () => {
  // ws has address(); fall back to the requested port for implementations without it.
  const address = (wss as { address?: () => unknown }).address?.();
  const actual =
    address && typeof address === 'object' && 'port' in address ? (address as { port: number }).port : port;
  console.log(`ready ws://127.0.0.1:${actual} (${impl.name})`);
});

wss.on('error', (err) => {
  console.error(`echo-server: ${err.stack ?? err.message}`);
  process.exit(1);
});

wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  // Protocol errors are what the suite provokes; the library closes the connection itself.
  ws.on('error', () => {});
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    wss.close();
    process.exit(0);
  });
}
