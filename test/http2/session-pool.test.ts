/**
 * The client's HTTP/2 session pool against a server whose SETTINGS_MAX_CONCURRENT_STREAMS leaves no
 * room (issue 12 item 7): 0 (RFC 9113 §6.5.2 allows it "for short durations", e.g. while draining),
 * or every stream in use. The client used to open TLS connection after TLS connection in a loop.
 */
import type { ServerHttp2Session } from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_SESSIONS_PER_ORIGIN, SESSION_IDLE_TIMEOUT } from '../../src/http2/session-pool.ts';
import { ErrorCode, HandshakeError, type WebSocket } from '../../src/index.ts';
import {
  cert,
  clientError,
  closed,
  type H2Fixture,
  nextMessage,
  openClient,
  startH2,
  streamOf,
} from './helpers.ts';

let fixture: H2Fixture | null = null;
const clients: WebSocket[] = [];

afterEach(async () => {
  for (const ws of clients.splice(0)) ws.terminate();
  await fixture?.close();
  fixture = null;
});

const tls = { ca: cert };

async function open(url: string, options: Record<string, unknown>): Promise<WebSocket> {
  const ws = await openClient(url, { ...tls, ...options });
  clients.push(ws);
  return ws;
}

/** Whether the server side of the next WebSocket runs over HTTP/2 (an RFC 8441 stream). */
function nextTransport(f: H2Fixture): Promise<'h2' | 'http/1.1'> {
  return new Promise((resolve) => {
    f.wss.once('connection', (_ws: WebSocket, request: unknown) =>
      resolve(streamOf(request) === undefined ? 'http/1.1' : 'h2'),
    );
  });
}

describe('HTTP/2 session pool: bounded per origin (issue 12 item 7)', () => {
  it(`'prefer' with SETTINGS_MAX_CONCURRENT_STREAMS = 0: at most ${MAX_SESSIONS_PER_ORIGIN} HTTP/2 connections, then HTTP/1.1`, async () => {
    fixture = await startH2({}, { settings: { enableConnectProtocol: true, maxConcurrentStreams: 0 } });
    const transport = nextTransport(fixture);
    const ws = await open(fixture.url, { http2: 'prefer', handshakeTimeout: 3000 });
    expect(await transport).toBe('http/1.1');
    ws.send('over HTTP/1.1');
    expect(String((await nextMessage(ws)).data)).toBe('over HTTP/1.1');
    expect(fixture.counts.sessions).toBeLessThanOrEqual(MAX_SESSIONS_PER_ORIGIN);
    expect(fixture.counts.tcp).toBeLessThanOrEqual(MAX_SESSIONS_PER_ORIGIN + 1);
  });

  it("'require' with SETTINGS_MAX_CONCURRENT_STREAMS = 0: waits, then WS_ERR_HANDSHAKE_TIMEOUT at handshakeTimeout", async () => {
    fixture = await startH2({}, { settings: { enableConnectProtocol: true, maxConcurrentStreams: 0 } });
    let live = 0;
    fixture.server.on('session', (session) => {
      live++;
      session.once('close', () => live--);
    });
    const error = await clientError(fixture.url, { ...tls, http2: 'require', handshakeTimeout: 1000 });
    expect(error).toBeInstanceOf(HandshakeError);
    expect((error as HandshakeError).code).toBe(ErrorCode.HandshakeTimeout);
    expect(error.message).toMatch(/SETTINGS_MAX_CONCURRENT_STREAMS/);
    expect(fixture.counts.tcp).toBeLessThanOrEqual(MAX_SESSIONS_PER_ORIGIN);
    // Nobody waits any more: the client closes its idle sessions as usual.
    expect(live).toBeGreaterThan(0);
    const deadline = Date.now() + 3 * SESSION_IDLE_TIMEOUT;
    while (live > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(live).toBe(0);
  });

  it("'require': a SETTINGS update that allows streams lets the waiting attempt through", async () => {
    fixture = await startH2({}, { settings: { enableConnectProtocol: true, maxConcurrentStreams: 0 } });
    const sessions: ServerHttp2Session[] = [];
    fixture.server.on('session', (session) => sessions.push(session));
    const opening = open(fixture.url, { http2: 'require', handshakeTimeout: 5000 });
    // Once the client has stopped opening connections, the server makes room on the first one.
    await new Promise((resolve) => setTimeout(resolve, 300));
    sessions[0]!.settings({ maxConcurrentStreams: 10 });
    const ws = await opening;
    ws.send('through');
    expect(String((await nextMessage(ws)).data)).toBe('through');
    expect(fixture.counts.sessions).toBeLessThanOrEqual(MAX_SESSIONS_PER_ORIGIN);
  });

  it("'require' with every stream in use: waits for one to close, then opens on HTTP/2", async () => {
    fixture = await startH2({}, { settings: { enableConnectProtocol: true, maxConcurrentStreams: 1 } });
    const full = await Promise.all(
      Array.from({ length: MAX_SESSIONS_PER_ORIGIN }, () => open(fixture!.url, { http2: 'require' })),
    );
    expect(fixture.counts.sessions).toBe(MAX_SESSIONS_PER_ORIGIN);
    let opened = false;
    const waiting = open(fixture.url, { http2: 'require', handshakeTimeout: 5000 }).then((ws) => {
      opened = true;
      return ws;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(opened).toBe(false);
    const first = full[0]!;
    const done = closed(first);
    first.close();
    await done;
    const ws = await waiting;
    ws.send('freed');
    expect(String((await nextMessage(ws)).data)).toBe('freed');
    expect(fixture.counts.sessions).toBe(MAX_SESSIONS_PER_ORIGIN);
  });

  it("'prefer' with every stream in use: HTTP/1.1 at once, no extra HTTP/2 connection", async () => {
    fixture = await startH2({}, { settings: { enableConnectProtocol: true, maxConcurrentStreams: 1 } });
    await Promise.all(
      Array.from({ length: MAX_SESSIONS_PER_ORIGIN }, () => open(fixture!.url, { http2: 'require' })),
    );
    const transport = nextTransport(fixture);
    await open(fixture.url, { http2: 'prefer' });
    expect(await transport).toBe('http/1.1');
    expect(fixture.counts.sessions).toBe(MAX_SESSIONS_PER_ORIGIN);
  });
});
