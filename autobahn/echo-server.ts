/**
 * Autobahn echo server: the agent that `wstest -m fuzzingclient` tests (our server side).
 * Echoes every message as received: text stays text, binary stays binary.
 *
 *   npx tsx autobahn/echo-server.ts [PORT]        (or AUTOBAHN_PORT=PORT; default 9002)
 *   AUTOBAHN_IMPL=ws npx tsx autobahn/echo-server.ts   (the `ws` stand-in)
 *
 * Prints `ready ws://127.0.0.1:PORT (IMPL)` once it listens; the runner waits for that line.
 *
 * With AUTOBAHN_HTTP2=1 (`npm run autobahn -- --http2`) it serves RFC 8441 instead: the same
 * WebSocketServer on an h2c `node:http2` server (`server` option), which autobahn/h2-bridge-server.ts
 * reaches with extended CONNECT streams on wstest's behalf. Only sockwire speaks RFC 8441 here.
 */
import { createServer as createHttp2Server } from 'node:http2';
import { exitWithParent, loadImpl, MAX_PAYLOAD } from './impl.ts';

const port = Number(process.argv[2] ?? process.env.AUTOBAHN_PORT ?? 9002);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`echo-server: invalid port ${process.argv[2] ?? process.env.AUTOBAHN_PORT}`);
  process.exit(2);
}

exitWithParent();
const impl = await loadImpl();
const http2 = process.env.AUTOBAHN_HTTP2 === '1';
if (http2 && impl.name !== 'sockwire') {
  console.error(`echo-server: AUTOBAHN_HTTP2=1 needs sockwire (${impl.name} has no RFC 8441 server)`);
  process.exit(2);
}
const h2server = http2 ? createHttp2Server({ settings: { enableConnectProtocol: true } }) : undefined;
const wss = new impl.WebSocketServer({
  ...(h2server ? { server: h2server } : { port, host: '127.0.0.1' }),
  maxPayload: MAX_PAYLOAD,
  ...impl.extraOptions,
});

const ready = (actual: number) =>
  console.log(`ready ${http2 ? 'h2c' : 'ws'}://127.0.0.1:${actual} (${impl.name})`);
if (h2server) {
  h2server.listen(port, '127.0.0.1', () => {
    const address = h2server.address();
    ready(typeof address === 'object' && address ? address.port : port);
  });
} else {
  wss.on('listening', () => {
    // ws has address(); fall back to the requested port for implementations without it.
    const address = (wss as { address?: () => unknown }).address?.();
    ready(
      address && typeof address === 'object' && 'port' in address ? (address as { port: number }).port : port,
    );
  });
}

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
