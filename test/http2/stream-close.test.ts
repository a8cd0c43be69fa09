/**
 * The end of a WebSocket's RFC 8441 stream after the closing handshake. RFC 8441 §6: "Orderly TCP-level
 * closures are represented as END_STREAM flags"; §7.1.1: "the server SHOULD close the underlying TCP
 * connection first". So the server ends its half of the stream at once and, when the peer never ends
 * its own (Chromium 150 does not), resets the stream shortly after instead of holding it (and the
 * WebSocket's 'close') until `closeTimeout`. A raw `node:http2` client plays that peer.
 */
import { type ClientHttp2Session, type ClientHttp2Stream, connect as http2Connect } from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from '../../src/index.ts';
import { CLOSE, TEXT } from '../helpers/opcodes.ts';
import {
  closePayload,
  encodeMaskedFrame,
  once,
  type ParsedFrame,
  parseFrame,
} from '../integration/helpers.ts';
import { cert, type H2Fixture, startH2 } from './helpers.ts';

/** Far below the 30 s `closeTimeout` used here: the WebSocket must not close by its close timer. */
const WITHIN_MS = 5_000;

let fixture: H2Fixture | null = null;
let session: ClientHttp2Session | null = null;

afterEach(async () => {
  session?.destroy();
  session = null;
  await fixture?.close();
  fixture = null;
});

async function openStream(): Promise<{
  stream: ClientHttp2Stream;
  frames: ParsedFrame[];
  serverSide: WebSocket;
}> {
  fixture = await startH2({ closeTimeout: 30_000 }, {}, false);
  const arrived = once<[WebSocket]>(fixture.wss, 'connection');
  session = http2Connect(`https://localhost:${fixture.port}`, { ca: cert });
  await once(session, 'remoteSettings');
  const stream = session.request({
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':scheme': 'https',
    ':path': '/',
    ':authority': `localhost:${fixture.port}`,
    'sec-websocket-version': '13',
  });
  const [headers] = await once<[Record<string, unknown>]>(stream, 'response');
  expect(headers[':status']).toBe(200);
  const frames: ParsedFrame[] = [];
  let buffer = Buffer.alloc(0);
  stream.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (let parsed = parseFrame(buffer); parsed !== null; parsed = parseFrame(buffer)) {
      frames.push(parsed.frame);
      buffer = buffer.subarray(parsed.size);
    }
  });
  const [serverSide] = await arrived;
  return { stream, frames, serverSide };
}

describe('RFC 8441 §6 + §7.1.1: the server ends and then resets the stream after the closing handshake', () => {
  it('client-initiated close, peer never ends its half: server ends its half, resets it, emits close', {
    timeout: 15_000,
  }, async () => {
    const { stream, frames, serverSide } = await openStream();
    const serverClosed = once<[number, Buffer]>(serverSide, 'close', WITHIN_MS);
    const streamEnded = once(stream, 'end', WITHIN_MS);
    const streamClosed = once(stream, 'close', WITHIN_MS);
    stream.write(encodeMaskedFrame(CLOSE, closePayload(4000, 'done')));
    // The server answers the Close and ends its half (END_STREAM) at once…
    await streamEnded;
    expect(frames.at(-1)).toMatchObject({ opcode: CLOSE, closeCode: 4000 });
    // …and, since this client never ends its own half, resets the stream without an error code
    // (RFC 9113 §8.1: RST_STREAM NO_ERROR after a complete response) well before closeTimeout.
    const [code, reason] = await serverClosed;
    expect(code).toBe(4000);
    expect(String(reason)).toBe('done');
    await streamClosed;
    expect(stream.rstCode).toBe(0);
    // The session lives on for other streams.
    expect(session!.destroyed).toBe(false);
  });

  it('server-initiated close, peer answers the Close but never ends its half: same outcome', {
    timeout: 15_000,
  }, async () => {
    const { stream, frames, serverSide } = await openStream();
    const serverClosed = once<[number, Buffer]>(serverSide, 'close', WITHIN_MS);
    const streamClosed = once(stream, 'close', WITHIN_MS);
    const gotClose = new Promise<void>((resolve) =>
      stream.on('data', () => {
        if (frames.some((frame) => frame.opcode === CLOSE)) resolve();
      }),
    );
    serverSide.close(1001, 'going away');
    await gotClose;
    stream.write(encodeMaskedFrame(CLOSE, closePayload(1001)));
    expect((await serverClosed)[0]).toBe(1001);
    await streamClosed;
    expect(stream.rstCode).toBe(0);
  });

  it('a peer that ends its half normally is not reset', { timeout: 15_000 }, async () => {
    const { stream, serverSide } = await openStream();
    const serverClosed = once<[number, Buffer]>(serverSide, 'close', WITHIN_MS);
    const streamClosed = once(stream, 'close', WITHIN_MS);
    stream.write(encodeMaskedFrame(TEXT, 'last'));
    stream.end(encodeMaskedFrame(CLOSE, closePayload(1000)));
    expect((await serverClosed)[0]).toBe(1000);
    await streamClosed;
    expect(stream.rstCode).toBe(0);
  });
});
