/**
 * The frame-level bad-input vectors (RFC 6455 §5, §7.1.7, §7.4) through the HTTP/2 path: a raw
 * `node:http2` client opens an RFC 8441 stream and writes hand-made frames on it; the server must
 * answer with the same Close code as over TCP (RFC 8441 §5: client frames are still masked) and end
 * the stream. Plus the extended CONNECT handshake errors (RFC 8441 §4–§5).
 */
import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  createSecureServer,
  connect as http2Connect,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from '../../src/index.ts';
import { BINARY, CLOSE, CONTINUATION, PING, TEXT } from '../helpers/opcodes.ts';
import {
  closePayload,
  encodeMaskedFrame,
  once,
  type ParsedFrame,
  parseFrame,
} from '../integration/helpers.ts';
import { cert, type H2Fixture, key, startH2 } from './helpers.ts';

let fixture: H2Fixture;
let session: ClientHttp2Session;

beforeAll(async () => {
  fixture = await startH2({ maxPayload: 1000 });
  session = http2Connect(`https://localhost:${fixture.port}`, { ca: cert });
  await once(session, 'remoteSettings');
});

afterAll(async () => {
  session.destroy();
  await fixture.close();
});

function connectHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':scheme': 'https',
    ':path': '/',
    ':authority': `localhost:${fixture.port}`,
    'sec-websocket-version': '13',
    ...extra,
  };
}

/** Reads frames from a stream, and whether the server ended its side. */
function collect(stream: ClientHttp2Stream): { frames: ParsedFrame[]; ended: Promise<void> } {
  const frames: ParsedFrame[] = [];
  let buffer = Buffer.alloc(0);
  stream.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (let parsed = parseFrame(buffer); parsed !== null; parsed = parseFrame(buffer)) {
      frames.push(parsed.frame);
      buffer = buffer.subarray(parsed.size);
    }
  });
  const ended = new Promise<void>((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
  });
  return { frames, ended };
}

/** Opens a WebSocket stream, sends `frames`, returns the server's Close frame once it ended the stream. */
async function violate(...frames: Buffer[]): Promise<ParsedFrame> {
  const stream = session.request(connectHeaders());
  const [headers] = await once<[Record<string, unknown>]>(stream, 'response');
  expect(headers[':status']).toBe(200);
  const received = collect(stream);
  for (const frame of frames) stream.write(frame);
  await received.ended; // the server ends its side of the stream after failing the connection
  stream.close();
  const close = received.frames.find((frame) => frame.opcode === CLOSE);
  expect(close).toBeDefined();
  expect(close!.masked).toBe(false); // RFC 6455 §5.1: a server never masks
  return close!;
}

describe('RFC 8441 §5 + RFC 6455 §5: bad frames over an HTTP/2 stream', () => {
  it('a valid masked frame is echoed (sanity check)', async () => {
    const stream = session.request(connectHeaders());
    const received = collect(stream);
    stream.write(encodeMaskedFrame(TEXT, 'hi'));
    await new Promise((resolve) => stream.once('data', resolve));
    expect(received.frames[0]).toMatchObject({ opcode: TEXT, masked: false });
    expect(String(received.frames[0]!.payload)).toBe('hi');
    stream.write(encodeMaskedFrame(CLOSE, closePayload(1000)));
    await received.ended;
    expect(received.frames.at(-1)?.closeCode).toBe(1000);
    stream.close();
  });

  it('an unmasked client frame → 1002 (§5.1 "MUST close the connection upon receiving a frame that is not masked")', async () => {
    expect((await violate(encodeMaskedFrame(TEXT, 'x', { maskKey: null }))).closeCode).toBe(1002);
  });
  it('a reserved opcode (0x3, 0xB) → 1002 (§5.2)', async () => {
    expect((await violate(encodeMaskedFrame(0x3, 'x'))).closeCode).toBe(1002);
    expect((await violate(encodeMaskedFrame(0xb))).closeCode).toBe(1002);
  });
  it('RSV1 without a negotiated extension → 1002 (§5.2)', async () => {
    expect((await violate(encodeMaskedFrame(TEXT, 'x', { rsv: 4 }))).closeCode).toBe(1002);
  });
  it('a fragmented or oversized control frame → 1002 (§5.5)', async () => {
    expect((await violate(encodeMaskedFrame(PING, 'x', { fin: false }))).closeCode).toBe(1002);
    expect((await violate(encodeMaskedFrame(PING, Buffer.alloc(126)))).closeCode).toBe(1002);
  });
  it('a continuation without a message, or a new message inside one → 1002 (§5.4)', async () => {
    expect((await violate(encodeMaskedFrame(CONTINUATION, 'x'))).closeCode).toBe(1002);
    expect(
      (await violate(encodeMaskedFrame(TEXT, 'a', { fin: false }), encodeMaskedFrame(BINARY, 'b'))).closeCode,
    ).toBe(1002);
  });
  it('invalid UTF-8 in a text message → 1007 (§8.1)', async () => {
    expect((await violate(encodeMaskedFrame(TEXT, Uint8Array.of(0xce, 0xba, 0xff)))).closeCode).toBe(1007);
  });
  it('a Close with a code never sent on the wire (1005) → 1002 (§7.4.1)', async () => {
    expect((await violate(encodeMaskedFrame(CLOSE, closePayload(1005)))).closeCode).toBe(1002);
  });
  it('a message over maxPayload → 1009 (§7.4.1)', async () => {
    expect((await violate(encodeMaskedFrame(BINARY, Buffer.alloc(1001)))).closeCode).toBe(1009);
  });
});

describe('RFC 8441 §4–§5: extended CONNECT handshake errors', () => {
  async function statusFor(headers: Record<string, string>): Promise<Record<string, unknown>> {
    const stream = session.request(headers);
    const [response] = await once<[Record<string, unknown>]>(stream, 'response');
    stream.close();
    return response;
  }

  it('a :protocol other than websocket → 400', async () => {
    expect((await statusFor(connectHeaders({ ':protocol': 'webtransport' })))[':status']).toBe(400);
  });
  it('a missing or unsupported sec-websocket-version → 400 naming version 13', async () => {
    const missing = connectHeaders();
    delete missing['sec-websocket-version'];
    const answer = await statusFor(missing);
    expect(answer[':status']).toBe(400);
    expect(answer['sec-websocket-version']).toBe('13');
    const old = await statusFor(connectHeaders({ 'sec-websocket-version': '8' }));
    expect(old[':status']).toBe(400);
    expect(old['sec-websocket-version']).toBe('13');
  });
  it('a malformed sec-websocket-protocol → 400', async () => {
    expect((await statusFor(connectHeaders({ 'sec-websocket-protocol': 'a b, ,' })))[':status']).toBe(400);
  });
  it('Sec-WebSocket-Key is not needed (§5: superseded by :protocol)', async () => {
    expect((await statusFor(connectHeaders()))[':status']).toBe(200);
  });
  it('a plain CONNECT (no :protocol) is left to the application: Node answers 405 with a request handler', async () => {
    const server = createSecureServer({ key, cert, settings: { enableConnectProtocol: true } }, (_req, res) =>
      res.end('page'),
    );
    const wss = new WebSocketServer({ server });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const client = http2Connect(`https://localhost:${port}`, { ca: cert });
    try {
      const tunnel = client.request({ ':method': 'CONNECT', ':authority': 'example.com:443' });
      const [response] = await once<[Record<string, unknown>]>(tunnel, 'response');
      expect(response[':status']).toBe(405);
      // …while WebSocket streams on the same compat-mode server still work.
      const ws = client.request({
        ':method': 'CONNECT',
        ':protocol': 'websocket',
        ':scheme': 'https',
        ':path': '/',
        ':authority': `localhost:${port}`,
        'sec-websocket-version': '13',
      });
      const [accepted] = await once<[Record<string, unknown>]>(ws, 'response');
      expect(accepted[':status']).toBe(200);
      ws.close();
    } finally {
      client.destroy();
      await wss.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
