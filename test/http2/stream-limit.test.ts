/**
 * `maxStreamsPerSession`: the WebSockets one HTTP/2 connection may carry (RFC 8441 streams). Without
 * it one TCP connection held thousands of WebSockets, so per-IP or per-connection limits in front of
 * the server did not limit WebSockets. Extra extended CONNECTs are answered 429 on their stream; the
 * session and its other streams stay up, and a closed WebSocket frees its slot.
 */
import { type ClientHttp2Session, type ClientHttp2Stream, connect as http2Connect } from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import { HandshakeError, type WebSocket } from '../../src/index.ts';
import { closePayload, encodeMaskedFrame, once } from '../integration/helpers.ts';
import { cert, clientError, type H2Fixture, openClient, startH2 } from './helpers.ts';

let fixture: H2Fixture | null = null;
const sessions: ClientHttp2Session[] = [];
const clients: WebSocket[] = [];

afterEach(async () => {
  for (const ws of clients.splice(0)) ws.terminate();
  for (const session of sessions.splice(0)) session.destroy();
  await fixture?.close();
  fixture = null;
});

async function rawSession(): Promise<ClientHttp2Session> {
  const session = http2Connect(`https://localhost:${fixture!.port}`, { ca: cert });
  sessions.push(session);
  await once(session, 'remoteSettings');
  return session;
}

function connect(session: ClientHttp2Session): ClientHttp2Stream {
  return session.request({
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':scheme': 'https',
    ':path': '/',
    ':authority': `localhost:${fixture!.port}`,
    'sec-websocket-version': '13',
  });
}

/** The stream's `:status`, and its body once ended (for refusals). */
async function answer(stream: ClientHttp2Stream): Promise<{ status: number; body: Promise<string> }> {
  const [headers] = await once<[Record<string, unknown>]>(stream, 'response');
  const status = Number(headers[':status']);
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  const body =
    status === 200 ? Promise.resolve('') : once(stream, 'end').then(() => String(Buffer.concat(chunks)));
  return { status, body };
}

describe('maxStreamsPerSession: WebSockets per HTTP/2 connection (RFC 8441)', () => {
  it('streams over the limit get 429 with a reason; other sessions are not affected; a close frees a slot', async () => {
    fixture = await startH2({ maxStreamsPerSession: 3 });
    const session = await rawSession();
    const streams = Array.from({ length: 5 }, () => connect(session));
    const answers = await Promise.all(streams.map(answer));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 429, 429]);
    for (const refused of answers.filter((a) => a.status === 429)) {
      expect(await refused.body).toMatch(/maxStreamsPerSession/);
    }
    expect(session.destroyed).toBe(false);
    expect(fixture.wss.clients.size).toBe(3);
    // Another HTTP/2 connection has its own budget.
    const other = await rawSession();
    expect((await answer(connect(other))).status).toBe(200);
    // Closing one WebSocket (closing handshake, both halves ended) frees a slot on the first session.
    const accepted = streams[answers.findIndex((a) => a.status === 200)]!;
    const closed = once(accepted, 'close');
    accepted.end(encodeMaskedFrame(0x8, closePayload(1000)));
    accepted.resume();
    await closed;
    expect((await answer(connect(session))).status).toBe(200);
  });

  it('handshakes still being verified count: a slow verifyClient does not let streams pile up', async () => {
    let release: (() => void) | undefined;
    const verified = new Promise<boolean>((resolve) => {
      release = () => resolve(true);
    });
    fixture = await startH2({ maxStreamsPerSession: 2, verifyClient: () => verified });
    const session = await rawSession();
    const pending = [connect(session), connect(session)];
    const third = await answer(connect(session));
    expect(third.status).toBe(429);
    release!();
    const answers = await Promise.all(pending.map(answer));
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
  });

  it('the default is 100 WebSockets per session', { timeout: 20_000 }, async () => {
    fixture = await startH2();
    const session = await rawSession();
    const answers = await Promise.all(Array.from({ length: 101 }, () => answer(connect(session))));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(100);
    expect(statuses.filter((status) => status === 429)).toHaveLength(1);
  });

  it('our client sees a HandshakeError with status 429 when its pooled session is full', async () => {
    fixture = await startH2({ maxStreamsPerSession: 2 });
    const options = { ca: cert, http2: 'require' };
    for (let i = 0; i < 2; i++) clients.push(await openClient(fixture.url, options));
    const error = await clientError(fixture.url, options);
    expect(error).toBeInstanceOf(HandshakeError);
    expect((error as HandshakeError).status).toBe(429);
  });
});
