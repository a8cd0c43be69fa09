/**
 * Autobahn over HTTP/2, server direction: `wstest -m fuzzingclient` speaks HTTP/1.1 only, so this
 * bridge takes its Upgrade and carries the connection over an RFC 8441 extended CONNECT stream to our
 * echo server (autobahn/echo-server.ts with AUTOBAHN_HTTP2=1, on an h2c `node:http2` server):
 *
 *   wstest ──HTTP/1.1 Upgrade──▶ bridge ──HEADERS :method CONNECT, :protocol websocket──▶ our server
 *          ◀──101 + Accept ─────        ◀──:status 200 [+ sec-websocket-extensions/-protocol]──
 *          ◀══ WebSocket frames, byte for byte, both ways (h2-bridge-wire.ts splice) ══▶
 *
 * The 101's Sec-WebSocket-Accept is computed here from wstest's key (RFC 6455 §4.2.2; RFC 8441 §5 has
 * no key on HTTP/2); the subprotocol and extensions are the ones our server's 200 selected, so wstest
 * judges our negotiation. One HTTP/2 connection per wstest connection, as one TCP connection each.
 *
 *   npx tsx autobahn/h2-bridge-server.ts LISTEN_PORT TARGET_PORT
 *
 * Prints `ready ws://127.0.0.1:PORT -> h2c://127.0.0.1:TARGET` once it listens.
 */
import {
  type ClientHttp2Session,
  connect as connectHttp2,
  constants,
  type IncomingHttpHeaders,
} from 'node:http2';
import { createServer, type Socket } from 'node:net';
import { acceptFor, type Head, readHead, splice } from './h2-bridge-wire.ts';
import { exitWithParent } from './impl.ts';

const listenPort = Number(process.argv[2]);
const targetPort = Number(process.argv[3]);
if (!Number.isInteger(listenPort) || listenPort < 0 || !Number.isInteger(targetPort) || targetPort <= 0) {
  console.error('usage: h2-bridge-server.ts LISTEN_PORT TARGET_PORT');
  process.exit(2);
}
exitWithParent();

/** Answers wstest with a plain HTTP/1.1 status and closes. */
function refuse(socket: Socket, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** Header fields of wstest's Upgrade that RFC 8441 §5 carries over to the CONNECT unchanged. */
const PASSED_ON = ['sec-websocket-protocol', 'sec-websocket-extensions', 'origin'] as const;

async function bridge(socket: Socket): Promise<void> {
  socket.on('error', () => {}); // a reset during the head: nothing to forward it to yet
  let head: Head;
  try {
    head = await readHead(socket);
  } catch {
    socket.destroy();
    return;
  }
  const [method, path] = head.startLine.split(' ');
  const key = head.fields.get('sec-websocket-key');
  if (method !== 'GET' || path === undefined || key === undefined) {
    refuse(socket, 400, 'Bad Request');
    return;
  }
  const session: ClientHttp2Session = connectHttp2(`http://127.0.0.1:${targetPort}`);
  session.on('error', () => {});
  // The session lives as long as its one stream.
  const headers: Record<string, string> = {
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':scheme': 'http',
    ':path': path,
    ':authority': head.fields.get('host') ?? `127.0.0.1:${targetPort}`,
    'sec-websocket-version': head.fields.get('sec-websocket-version') ?? '13',
  };
  for (const name of PASSED_ON) {
    const value = head.fields.get(name);
    if (value !== undefined) headers[name] = value;
  }
  // RFC 8441 §3: a client MAY send an extended CONNECT only after the server's SETTINGS said
  // SETTINGS_ENABLE_CONNECT_PROTOCOL = 1; node:http2 refuses to send one before.
  session.once('remoteSettings', (settings) => {
    if (settings.enableConnectProtocol !== true) {
      console.error('bridge: the server does not allow extended CONNECT');
      refuse(socket, 502, 'Bad Gateway');
      session.destroy();
      return;
    }
    const stream = session.request(headers, { endStream: false });
    stream.on('close', () => session.close());
    stream.once('error', () => {
      if (!socket.destroyed) refuse(socket, 502, 'Bad Gateway');
    });
    let spliced = false;
    socket.once('close', () => {
      // wstest went away during the handshake; after it, splice() maps the ending.
      if (!spliced && !stream.closed) stream.close(constants.NGHTTP2_CANCEL);
    });
    stream.once('response', (response: IncomingHttpHeaders) => {
      const status = Number(response[':status']);
      if (status < 200 || status > 299) {
        refuse(socket, status, 'Refused');
        stream.close();
        return;
      }
      const lines = [
        'HTTP/1.1 101 Switching Protocols',
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Accept: ${acceptFor(key)}`,
      ];
      const protocol = response['sec-websocket-protocol'];
      const extensions = response['sec-websocket-extensions'];
      if (typeof protocol === 'string') lines.push(`Sec-WebSocket-Protocol: ${protocol}`);
      if (typeof extensions === 'string') lines.push(`Sec-WebSocket-Extensions: ${extensions}`);
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.rest.length > 0) stream.write(head.rest);
      spliced = true;
      splice(socket, stream);
    });
  });
  session.once('close', () => {
    if (!socket.destroyed && !socket.writableEnded) socket.resetAndDestroy();
  });
}

const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => void bridge(socket));
server.listen(listenPort, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : listenPort;
  console.log(`ready ws://127.0.0.1:${port} -> h2c://127.0.0.1:${targetPort}`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(0));
