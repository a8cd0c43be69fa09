/**
 * wss:// with the committed self-signed fixture (CN=localhost, SAN localhost, 127.0.0.1, ::1; valid
 * until 2126): standalone TLS server, attached to node:https, and certificate checks on the client.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer, get, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HandshakeError, type VerifyClientInfo, WebSocket, WebSocketServer } from '../../src/index.ts';
import { type Listening, listen, once, WAIT_MS, withTimeout } from './helpers.ts';

const fixtures = new URL('../fixtures/', import.meta.url);
const cert = readFileSync(new URL('localhost-cert.pem', fixtures));
const key = readFileSync(new URL('localhost-key.pem', fixtures));

async function expectEcho(url: string, options: Record<string, unknown>): Promise<void> {
  const ws = new WebSocket(url, options);
  await once(ws, 'open');
  const echo = once<[Buffer, boolean]>(ws, 'message');
  const big = Buffer.alloc(200_000, 0x5a);
  const bigEcho = new Promise<Buffer>((resolve) => {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) resolve(data);
    });
  });
  ws.send('over tls');
  const [data, isBinary] = await echo;
  expect(data.toString()).toBe('over tls');
  expect(isBinary).toBe(false);
  ws.send(big);
  expect((await withTimeout(bigEcho)).equals(big)).toBe(true);
  const closed = once<[number, Buffer]>(ws, 'close');
  ws.close(4000, 'tls bye');
  expect((await closed)[0]).toBe(4000);
}

function echoOn(server: WebSocketServer): void {
  server.on('connection', (ws: WebSocket) => {
    ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  });
}

describe('standalone wss:// server', () => {
  let listening: Listening;
  const secure: boolean[] = [];

  beforeAll(async () => {
    listening = await listen({
      tls: { key, cert },
      verifyClient: (info: VerifyClientInfo) => {
        secure.push(info.secure);
        return true;
      },
    });
    echoOn(listening.server);
  });

  afterAll(async () => {
    await withTimeout(listening.server.close({ timeout: 500 }), WAIT_MS);
  });

  it('our client with ca: cert connects to wss://localhost:port and echoes', async () => {
    await expectEcho(`wss://localhost:${listening.port}`, { ca: cert });
    expect(secure).toContain(true);
  });

  it('wss://127.0.0.1:port works too (IP SAN, no SNI)', async () => {
    await expectEcho(`wss://127.0.0.1:${listening.port}`, { ca: cert });
  });

  it('wss://[::1]:port works against a server on ::1 (IP SAN)', async (context) => {
    let v6: Listening;
    try {
      v6 = await listen({ host: '::1', tls: { key, cert } });
    } catch (error) {
      console.warn(`skipping: cannot listen on ::1 (${String(error)})`);
      context.skip();
      return;
    }
    try {
      echoOn(v6.server);
      expect(v6.url).toBe(`wss://[::1]:${v6.port}`);
      await expectEcho(v6.url, { ca: cert });
    } finally {
      await withTimeout(v6.server.close({ timeout: 500 }), WAIT_MS);
    }
  });

  it('a client without ca fails: the certificate is not trusted', async () => {
    const ws = new WebSocket(`wss://localhost:${listening.port}`);
    const errors: unknown[] = [];
    ws.on('error', (error: unknown) => errors.push(error));
    const [code] = await once<[number]>(ws, 'close');
    expect(code).toBe(1006);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(HandshakeError);
    expect((errors[0] as HandshakeError).status).toBe(0);
    const cause = (errors[0] as { cause?: { code?: string } }).cause;
    expect(cause?.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
  });

  it('a host name the certificate does not cover fails (servername mismatch)', async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${listening.port}`, { ca: cert, servername: 'example.com' });
    const errors: unknown[] = [];
    ws.on('error', (error: unknown) => errors.push(error));
    const [code] = await once<[number]>(ws, 'close');
    expect(code).toBe(1006);
    expect(errors).toHaveLength(1);
    expect((errors[0] as { cause?: { code?: string } }).cause?.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('rejectUnauthorized: false connects without ca', async () => {
    await expectEcho(`wss://localhost:${listening.port}`, { rejectUnauthorized: false });
  });

  it('a plain ws:// client against the TLS server fails without hurting it', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${listening.port}`, { handshakeTimeout: 2000 });
    const errors: unknown[] = [];
    ws.on('error', (error: unknown) => errors.push(error));
    const [code] = await once<[number]>(ws, 'close');
    expect(code).toBe(1006);
    expect(errors).toHaveLength(1);
    await expectEcho(`wss://localhost:${listening.port}`, { ca: cert });
  });
});

describe('attached to a node:https server', () => {
  let https: HttpsServer;
  let server: WebSocketServer;
  let port: number;

  beforeAll(async () => {
    https = createHttpsServer({ key, cert }, (_req, res) => res.end('https ok'));
    server = new WebSocketServer({ server: https });
    echoOn(server);
    https.listen(0, '127.0.0.1');
    await once(https, 'listening');
    port = (https.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await withTimeout(server.close({ timeout: 500 }), WAIT_MS);
    https.closeAllConnections();
    await new Promise<void>((resolve) => https.close(() => resolve()));
  });

  it('our client connects over wss:// and echoes', async () => {
    await expectEcho(`wss://localhost:${port}/secure`, { ca: cert });
  });

  it('normal HTTPS requests still work', async () => {
    const body = await withTimeout(
      new Promise<string>((resolve, reject) => {
        get(
          { host: '127.0.0.1', port, path: '/', ca: cert, servername: 'localhost', agent: false },
          (res) => {
            let text = '';
            res.on('data', (chunk: Buffer) => {
              text += chunk.toString();
            });
            res.on('end', () => resolve(`${res.statusCode} ${text}`));
          },
        ).on('error', reject);
      }),
    );
    expect(body).toBe('200 https ok');
  });
});
