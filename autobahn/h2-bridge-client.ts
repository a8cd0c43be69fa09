/**
 * Autobahn over HTTP/2, client direction: our client (autobahn/client-agent.ts with AUTOBAHN_HTTP2=1,
 * `http2: 'require'`) opens RFC 8441 streams to this raw `node:http2` TLS server, which carries each one
 * over its own HTTP/1.1 Upgrade to `wstest -m fuzzingserver`:
 *
 *   our client ──HEADERS :method CONNECT, :protocol websocket──▶ bridge ──GET + Upgrade, own key──▶ wstest
 *              ◀──:status 200 [+ sec-websocket-extensions/-protocol]──  ◀──101 (Accept checked)─────
 *              ◀══ WebSocket frames, byte for byte, both ways (h2-bridge-wire.ts splice) ══▶
 *
 * The server advertises SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3), which our client requires.
 * The subprotocols and extensions our client offered go to wstest unchanged, and what wstest selected
 * comes back in the 200, so wstest judges our client's negotiation. TLS because our client speaks
 * HTTP/2 over TLS only (ALPN h2); the certificate is the test fixture for 127.0.0.1/localhost.
 *
 *   npx tsx autobahn/h2-bridge-client.ts LISTEN_PORT WSTEST_PORT
 *
 * Prints `ready https://127.0.0.1:PORT -> ws://127.0.0.1:WSTEST_PORT` once it listens.
 */
import { readFileSync } from 'node:fs';
import { createSecureServer, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { connect } from 'node:net';
import { acceptFor, BRIDGE_CERT, BRIDGE_KEY, type Head, newKey, readHead, splice } from './h2-bridge-wire.ts';
import { exitWithParent } from './impl.ts';

const listenPort = Number(process.argv[2]);
const wstestPort = Number(process.argv[3]);
if (!Number.isInteger(listenPort) || listenPort < 0 || !Number.isInteger(wstestPort) || wstestPort <= 0) {
  console.error('usage: h2-bridge-client.ts LISTEN_PORT WSTEST_PORT');
  process.exit(2);
}
exitWithParent();

/** Header fields of the CONNECT that go on to wstest's Upgrade unchanged (RFC 8441 §5). */
const PASSED_ON = [
  ['sec-websocket-protocol', 'Sec-WebSocket-Protocol'],
  ['sec-websocket-extensions', 'Sec-WebSocket-Extensions'],
  ['origin', 'Origin'],
] as const;

function answer(stream: ServerHttp2Stream, status: number): void {
  if (stream.destroyed || stream.headersSent) return;
  stream.respond({ ':status': status }, { endStream: true });
}

function bridge(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
  stream.on('error', () => {});
  const path = headers[':path'];
  if (headers[':method'] !== 'CONNECT' || headers[':protocol'] !== 'websocket' || typeof path !== 'string') {
    answer(stream, 400);
    return;
  }
  const key = newKey();
  const lines = [
    `GET ${path} HTTP/1.1`,
    `Host: 127.0.0.1:${wstestPort}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${key}`,
    `Sec-WebSocket-Version: ${headers['sec-websocket-version'] ?? '13'}`,
  ];
  for (const [name, field] of PASSED_ON) {
    const value = headers[name];
    if (typeof value === 'string') lines.push(`${field}: ${value}`);
  }
  const socket = connect({ port: wstestPort, host: '127.0.0.1', allowHalfOpen: true, noDelay: true });
  let spliced = false;
  socket.on('error', () => {});
  socket.once('close', () => {
    if (!spliced) answer(stream, 502);
  });
  stream.once('close', () => {
    if (!spliced) socket.destroy();
  });
  socket.once('connect', () => socket.write(`${lines.join('\r\n')}\r\n\r\n`));
  readHead(socket).then(
    (head: Head) => {
      if (stream.destroyed) {
        socket.destroy();
        return;
      }
      const status = Number(head.startLine.split(' ')[1]);
      // RFC 6455 §4.1: the client checks the 101 and the accept key before it speaks WebSocket.
      if (status !== 101 || head.fields.get('sec-websocket-accept') !== acceptFor(key)) {
        answer(stream, status >= 200 && status <= 599 && status !== 101 ? status : 502);
        socket.destroy();
        return;
      }
      const response: Record<string, string | number> = { ':status': 200 };
      const protocol = head.fields.get('sec-websocket-protocol');
      const extensions = head.fields.get('sec-websocket-extensions');
      if (protocol !== undefined) response['sec-websocket-protocol'] = protocol;
      if (extensions !== undefined) response['sec-websocket-extensions'] = extensions;
      stream.respond(response);
      if (head.rest.length > 0) stream.write(head.rest);
      spliced = true;
      splice(socket, stream);
    },
    () => {
      answer(stream, 502);
      socket.destroy();
    },
  );
}

const server = createSecureServer({
  cert: readFileSync(BRIDGE_CERT),
  key: readFileSync(BRIDGE_KEY),
  settings: { enableConnectProtocol: true },
});
server.on('stream', bridge);
server.on('sessionError', () => {});
server.listen(listenPort, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : listenPort;
  console.log(`ready https://127.0.0.1:${port} -> ws://127.0.0.1:${wstestPort}`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(0));
