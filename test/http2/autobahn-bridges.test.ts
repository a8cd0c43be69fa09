/**
 * The two bridges that let Autobahn|Testsuite (HTTP/1.1 only) judge our RFC 8441 path
 * (`npm run autobahn -- --http2`, autobahn/h2-bridge-*.ts): they must pass the WebSocket bytes
 * unchanged, masking included (RFC 8441 §5 keeps RFC 6455 framing), carry the negotiated subprotocol
 * and extensions across, and map the endings as RFC 8441 §6 says (FIN ↔ END_STREAM, RST ↔
 * RST_STREAM CANCEL). Otherwise the Autobahn verdicts would judge the bridges, not sockwire.
 *
 * Each bridge runs as the runner starts it (a child process on port 0); the peers are real: a raw
 * node:net socket in wstest's place, our server on an h2c node:http2 server, our client.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttp2Server, type ServerHttp2Stream } from 'node:http2';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from '../../src/index.ts';

const AUTOBAHN = fileURLToPath(new URL('../../autobahn/', import.meta.url));
const cert = readFileSync(new URL('../fixtures/localhost-cert.pem', import.meta.url));
/** RFC 6455 §5.7: a single-frame masked text message "Hello". */
const MASKED_HELLO = Buffer.from('818537fa213d7f9f4d5158', 'hex');
/** RFC 6455 §5.7: a single-frame unmasked text message "Hello". */
const HELLO = Buffer.from('810548656c6c6f', 'hex');
/** RFC 6455 §1.3's key and accept value. */
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';
const WAIT_MS = 5000;

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** Starts a bridge as the runner does and resolves with the port it printed. */
async function startBridge(file: string, target: number): Promise<number> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', `${AUTOBAHN}${file}`, '0', String(target)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  cleanups.push(() => child.kill('SIGKILL'));
  return await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} printed no ready line`)), 15_000);
    let out = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      out += chunk;
      const m = /^ready \S+:(\d+) /m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited with ${code}`));
    });
  });
}

function listening(server: Server | ReturnType<typeof createHttp2Server>): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

/** Collects a socket's bytes; `until(n)` resolves once n bytes are there. */
function collect(socket: Socket) {
  let bytes = Buffer.alloc(0);
  const waiters: (() => void)[] = [];
  socket.on('data', (chunk: Buffer) => {
    bytes = Buffer.concat([bytes, chunk]);
    for (const waiter of waiters.splice(0)) waiter();
  });
  return {
    get bytes() {
      return bytes;
    },
    until(test: (bytes: Buffer) => boolean): Promise<Buffer> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out; got ${bytes.toString('hex')}`)), WAIT_MS);
        const check = () => {
          if (test(bytes)) {
            clearTimeout(timer);
            resolve(bytes);
          } else waiters.push(check);
        };
        check();
      });
    },
  };
}

const withTimeout = <T>(promise: Promise<T>, what: string): Promise<T> =>
  Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: timed out`)), WAIT_MS)),
  ]);

describe('autobahn/h2-bridge-server.ts: an HTTP/1.1 client to our server over RFC 8441', () => {
  it('answers the Upgrade with the §4.2.2 accept key and our server’s choices, passes frames unchanged, maps END_STREAM to FIN', async () => {
    const h2 = createHttp2Server();
    const wss = new WebSocketServer({
      server: h2,
      perMessageDeflate: true,
      handleProtocols: (protocols: Set<string>) => (protocols.has('chat') ? 'chat' : false),
    });
    cleanups.push(() => {
      wss.close();
      h2.close();
    });
    const received: string[] = [];
    const versions: string[] = [];
    const streams: ServerHttp2Stream[] = [];
    wss.on('connection', (ws: WebSocket, request: { httpVersion: string; stream?: ServerHttp2Stream }) => {
      versions.push(request.httpVersion);
      if (request.stream) streams.push(request.stream);
      ws.on('message', (data: Buffer) => {
        received.push(String(data));
        ws.send(data, { binary: false, compress: false });
      });
    });
    const bridgePort = await startBridge('h2-bridge-server.ts', await listening(h2));

    const socket = connect(bridgePort, '127.0.0.1');
    cleanups.push(() => socket.destroy());
    const wire = collect(socket);
    /** Whether our server's stream was still open when the FIN came: the FIN is its END_STREAM. */
    let streamOpenAtFin: boolean | undefined;
    socket.on('end', () => {
      streamOpenAtFin = streams[0]?.closed === false;
    });
    socket.write(
      'GET /echo?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: other, chat\r\n` +
        'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n',
    );
    const head = (await wire.until((b) => b.includes('\r\n\r\n'))).toString('latin1');
    expect(head).toMatch(/^HTTP\/1\.1 101 /);
    expect(head).toContain(`Sec-WebSocket-Accept: ${ACCEPT}\r\n`);
    expect(head).toContain('Sec-WebSocket-Protocol: chat\r\n');
    expect(head).toMatch(/\r\nSec-WebSocket-Extensions: permessage-deflate[^\r]*\r\n/);
    const start = head.indexOf('\r\n\r\n') + 4;

    socket.write(MASKED_HELLO);
    const echoed = await wire.until((b) => b.length >= start + HELLO.length);
    expect(echoed.subarray(start)).toEqual(HELLO);
    expect(received).toEqual(['Hello']);
    expect(versions).toEqual(['2.0']);

    // A masked Close 1000: our server answers it and ends its half of the stream (§7.1.1), which
    // the bridge hands on as a FIN.
    socket.write(Buffer.from('88820000000003e8', 'hex'));
    await wire.until((b) => b.length >= start + HELLO.length + 4);
    expect(wire.bytes.subarray(start + HELLO.length)).toEqual(Buffer.from('880203e8', 'hex'));
    const stream = streams[0]!;
    // 'end' while the stream is still open is the peer's END_STREAM; after a reset, 'end' comes with the close.
    const streamEnded = new Promise<boolean>((resolve) => stream.once('end', () => resolve(!stream.closed)));
    await withTimeout(
      new Promise<void>((resolve) =>
        streamOpenAtFin !== undefined ? resolve() : socket.once('end', () => resolve()),
      ),
      'FIN after the closing handshake',
    );
    // Not our server's reset of a lingering stream (1 s later), which the bridge would also end with a FIN.
    expect(streamOpenAtFin).toBe(true);
    // And our FIN reaches our server as END_STREAM.
    socket.end();
    expect(await withTimeout(streamEnded, 'END_STREAM after the FIN')).toBe(true);
  });
});

describe('autobahn/h2-bridge-client.ts: our client over RFC 8441 to an HTTP/1.1 server', () => {
  it('carries the offer to the server and its choice back, the masked bytes unchanged, and a TCP reset as a reset', async () => {
    const requests: string[] = [];
    const frames: Buffer[] = [];
    let peer: Socket | undefined;
    const server = createServer({ noDelay: true }, (socket) => {
      peer = socket;
      socket.on('error', () => {});
      let buffered = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        if (requests.length === 0) {
          const end = buffered.indexOf('\r\n\r\n');
          if (end === -1) return;
          const request = buffered.subarray(0, end).toString('latin1');
          requests.push(request);
          buffered = buffered.subarray(end + 4);
          const key = /\r\nSec-WebSocket-Key: (\S+)/i.exec(request)?.[1] ?? '';
          const accept = createHash('sha1')
            .update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
            .digest('base64');
          // The 101 and the first frame in one write: the bridge must pass on what follows the head.
          socket.write(
            Buffer.concat([
              Buffer.from(
                'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
                  `Sec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: chat\r\n\r\n`,
              ),
              HELLO,
            ]),
          );
        }
        if (buffered.length > 0) frames.push(buffered);
        buffered = Buffer.alloc(0);
      });
    });
    cleanups.push(() => server.close());
    const bridgePort = await startBridge('h2-bridge-client.ts', await listening(server));

    const ws = new WebSocket(`wss://127.0.0.1:${bridgePort}/runCase?case=1`, ['other', 'chat'], {
      http2: 'require',
      ca: cert,
      perMessageDeflate: false,
      // RFC 6455 §5.7's masking key, so the bytes on the wire are the RFC's vector.
      generateMask: (mask: Buffer) => mask.set([0x37, 0xfa, 0x21, 0x3d]),
    });
    cleanups.push(() => ws.terminate());
    const versions: string[] = [];
    ws.on('upgrade', (response: { httpVersion: string }) => versions.push(response.httpVersion));
    const message = withTimeout(
      new Promise<Buffer>((resolve) => ws.once('message', (data: Buffer) => resolve(data))),
      'first message',
    );
    const closed = withTimeout(
      new Promise<number>((resolve) => ws.once('close', (code: number) => resolve(code))),
      'close',
    );
    ws.on('error', () => {});
    expect(String(await message)).toBe('Hello');
    expect(versions).toEqual(['2.0']);
    expect(ws.protocol).toBe('chat');
    const [request] = requests;
    expect(request).toMatch(/^GET \/runCase\?case=1 HTTP\/1\.1\r\n/);
    expect(request).toContain('\r\nSec-WebSocket-Protocol: other, chat');
    expect(request).toContain('\r\nSec-WebSocket-Version: 13');

    ws.send('Hello');
    const deadline = Date.now() + WAIT_MS;
    while (Buffer.concat(frames).length < MASKED_HELLO.length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(Buffer.concat(frames)).toEqual(MASKED_HELLO);

    // A TCP reset from the HTTP/1.1 side reaches our client as RST_STREAM CANCEL (RFC 8441 §6): an
    // abnormal closure, 1006, with no closing handshake.
    peer?.resetAndDestroy();
    expect(await closed).toBe(1006);
  });
});
