/**
 * permessage-deflate interop with `ws` (devDependency), each parameter combination in each
 * direction: our server ← ws client, and our client → ws server, with the same `perMessageDeflate`
 * options on both ends (names as in `ws`). For each: the exact negotiated Sec-WebSocket-Extensions
 * value on both ends, and round trips (threshold 0, so every message is compressed) of empty, tiny,
 * 1 KiB, 64 KiB and 1 MiB messages of compressible JSON-like text and of random bytes.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WS, { WebSocketServer as WSS, type PerMessageDeflateOptions as WsDeflateOptions } from 'ws';
import { WebSocket } from '../../src/index.ts';
import { type Listening, listen, once, WAIT_MS, withTimeout } from '../integration/helpers.ts';

const KIB = 1024;
const MIB = 1024 * 1024;

interface DeflateConfig {
  serverNoContextTakeover?: boolean;
  clientNoContextTakeover?: boolean;
  serverMaxWindowBits?: number;
  clientMaxWindowBits?: number | boolean;
}

/**
 * [name, options (both ends), the response sockwire's server gives to a ws client's offer, the
 * response a ws server gives to sockwire's client's offer].
 */
const CASES: [string, DeflateConfig, string, string][] = [
  ['defaults', {}, 'permessage-deflate', 'permessage-deflate'],
  [
    'serverNoContextTakeover',
    { serverNoContextTakeover: true },
    'permessage-deflate; server_no_context_takeover',
    'permessage-deflate; server_no_context_takeover',
  ],
  [
    'clientNoContextTakeover',
    { clientNoContextTakeover: true },
    'permessage-deflate; client_no_context_takeover',
    'permessage-deflate; client_no_context_takeover',
  ],
  ...[9, 10, 15].map((bits): [string, DeflateConfig, string, string] => [
    `serverMaxWindowBits ${bits}`,
    { serverMaxWindowBits: bits },
    `permessage-deflate; server_max_window_bits=${bits}`,
    `permessage-deflate; server_max_window_bits=${bits}`,
  ]),
  ...[9, 10, 15].map((bits): [string, DeflateConfig, string, string] => [
    `clientMaxWindowBits ${bits}`,
    { clientMaxWindowBits: bits },
    `permessage-deflate; client_max_window_bits=${bits}`,
    `permessage-deflate; client_max_window_bits=${bits}`,
  ]),
  ['clientMaxWindowBits true', { clientMaxWindowBits: true }, 'permessage-deflate', 'permessage-deflate'],
  [
    'both no context takeover + 9-bit windows',
    {
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
      serverMaxWindowBits: 9,
      clientMaxWindowBits: 9,
    },
    'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=9',
    'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=9',
  ],
  [
    'both no context takeover + 10/12-bit windows',
    {
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
      serverMaxWindowBits: 10,
      clientMaxWindowBits: 12,
    },
    'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12',
    'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12',
  ],
  [
    'server no context takeover + client 9-bit window',
    { serverNoContextTakeover: true, clientMaxWindowBits: 9 },
    'permessage-deflate; server_no_context_takeover; client_max_window_bits=9',
    'permessage-deflate; server_no_context_takeover; client_max_window_bits=9',
  ],
];

/** Compressible, JSON-like text of exactly `size` bytes (ASCII). */
function jsonText(size: number, seed = 0): string {
  let text = '';
  for (let i = seed; text.length < size; i++)
    text += `{"id":${i},"user":"user-${i % 113}","tags":["a","b"],"active":${i % 2 === 0}},`;
  return text.slice(0, size);
}

/** `ws` accepts `clientMaxWindowBits: true` at runtime (its docs say so); its types only say number. */
function wsOptions(config: DeflateConfig): WsDeflateOptions {
  return { ...config, threshold: 0 } as WsDeflateOptions;
}

const SIZES = [0, 1, KIB, 64 * KIB, MIB];

/** The messages each round trip sends: text then binary of each size, plus a repeat (context takeover). */
function messages(): { data: Buffer; isBinary: boolean }[] {
  const out: { data: Buffer; isBinary: boolean }[] = [];
  for (const size of SIZES) {
    out.push({ data: Buffer.from(jsonText(size, size)), isBinary: false });
    out.push({ data: randomBytes(size), isBinary: true });
  }
  out.push({ data: Buffer.from(jsonText(64 * KIB, 64 * KIB)), isBinary: false }); // same as before
  out.push({ data: Buffer.from('multibyte: 日本語 🎉 ñ €'.repeat(500)), isBinary: false });
  return out;
}

type Receiver = { on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): unknown };

function nextMessages(
  ws: Receiver,
  count: number,
  timeoutMs = 15_000,
): Promise<{ data: Buffer; isBinary: boolean }[]> {
  return withTimeout(
    new Promise((resolve) => {
      const received: { data: Buffer; isBinary: boolean }[] = [];
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        received.push({ data: Buffer.from(data), isBinary });
        if (received.length === count) resolve(received);
      });
    }),
    timeoutMs,
    `${count} messages`,
  );
}

function expectSame(
  received: { data: Buffer; isBinary: boolean }[],
  sent: { data: Buffer; isBinary: boolean }[],
) {
  expect(received.length).toBe(sent.length);
  for (const [i, message] of received.entries()) {
    expect(message.isBinary, `message ${i}`).toBe(sent[i]!.isBinary);
    expect(message.data.length, `message ${i}`).toBe(sent[i]!.data.length);
    expect(message.data.equals(sent[i]!.data), `message ${i}`).toBe(true);
  }
}

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

async function wsServer(
  options: ConstructorParameters<typeof WSS>[0],
): Promise<{ server: WSS; url: string }> {
  const server = new WSS({ ...options, host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return { server, url: `ws://127.0.0.1:${port}` };
}

async function ourServer(config: DeflateConfig): Promise<Listening> {
  const listening = await listen({ perMessageDeflate: { ...config, threshold: 0 } });
  cleanups.push(() => withTimeout(listening.server.close({ timeout: 200 }), WAIT_MS, 'server.close'));
  return listening;
}

describe.each(CASES)('permessage-deflate %s', (_name, config, ourAnswer, wsAnswer) => {
  it('sockwire server ← ws client: negotiated header and round trips', async () => {
    const listening = await ourServer(config);
    const accepted = once<[WebSocket]>(listening.server, 'connection');
    const client = new WS(listening.url, { perMessageDeflate: wsOptions(config) });
    cleanups.push(() => client.terminate());
    const upgraded = once<[IncomingMessage]>(client, 'upgrade');
    const opened = once(client, 'open');
    const [response] = await upgraded;
    await opened;
    const [peer] = await accepted;
    expect(peer.extensions).toBe(ourAnswer);
    expect(response.headers['sec-websocket-extensions']).toBe(ourAnswer);
    expect(client.extensions).toBe('permessage-deflate');
    // The server echoes; the ws client sends, so both directions compress.
    peer.on('message', (data: Buffer, isBinary: boolean) => peer.send(data, { binary: isBinary }));
    const sent = messages();
    const atServer = nextMessages(peer, sent.length);
    const echoed = nextMessages(client, sent.length);
    const socket = (client as unknown as { _socket: Socket })._socket;
    const readBefore = socket.bytesRead;
    for (const { data, isBinary } of sent) client.send(data, { binary: isBinary });
    expectSame(await atServer, sent);
    expectSame(await echoed, sent);
    // What came back was compressed: far less than the ~1.2 MiB of text alone (random bytes do not shrink).
    const randomTotal = sent.filter((m) => m.isBinary).reduce((n, m) => n + m.data.length, 0);
    expect(socket.bytesRead - readBefore).toBeLessThan(randomTotal + 400 * KIB);
    const closed = once<[number, Buffer]>(client, 'close');
    peer.close(1000, 'done');
    expect((await closed)[0]).toBe(1000);
  });

  it('sockwire client → ws server: negotiated header and round trips', async () => {
    const { server, url } = await wsServer({ perMessageDeflate: wsOptions(config) });
    let responseHeaders: string[] = [];
    server.on('headers', (headers: string[]) => {
      responseHeaders = [...headers];
    });
    const accepted = once<[WS]>(server, 'connection');
    const client = new WebSocket(url, { perMessageDeflate: { ...config, threshold: 0 } });
    cleanups.push(() => client.terminate());
    await once(client, 'open');
    const [peer] = await accepted;
    expect(client.extensions).toBe(wsAnswer);
    expect(responseHeaders).toContain(`Sec-WebSocket-Extensions: ${wsAnswer}`);
    expect(peer.extensions).toBe('permessage-deflate');
    peer.on('message', (data: Buffer, isBinary: boolean) => peer.send(data, { binary: isBinary }));
    const sent = messages();
    const atServer = nextMessages(peer, sent.length);
    const echoed = nextMessages(client, sent.length);
    const socket = (peer as unknown as { _socket: Socket })._socket;
    const readBefore = socket.bytesRead;
    for (const { data, isBinary } of sent) client.send(data, { binary: isBinary });
    expectSame(await atServer, sent);
    expectSame(await echoed, sent);
    // What our client sent was compressed.
    const randomTotal = sent.filter((m) => m.isBinary).reduce((n, m) => n + m.data.length, 0);
    expect(socket.bytesRead - readBefore).toBeLessThan(randomTotal + 400 * KIB);
    const closed = once<[number, Buffer]>(client, 'close');
    peer.close(1000, 'done');
    expect((await closed)[0]).toBe(1000);
  });
});

/** 100 compressible messages, numbered, 2–12 KiB each. */
function burst(): string[] {
  return Array.from(
    { length: 100 },
    (_, i) => `${String(i).padStart(3, '0')} ${jsonText(2 * KIB + i * 100, i)}`,
  );
}

/** Records messages and the close, in order, as `m000`…, `close 1000`. */
function record(ws: { on(event: string, listener: (...args: never[]) => void): unknown }): string[] {
  const events: string[] = [];
  ws.on('message', (data: Buffer) => events.push(`m${data.subarray(0, 3).toString()}`));
  ws.on('close', (code: number) => events.push(`close ${code}`));
  return events;
}

const expectedEvents = (code: number) => [
  ...Array.from({ length: 100 }, (_, i) => `m${String(i).padStart(3, '0')}`),
  `close ${code}`,
];

describe('close right after a burst of compressed messages: every message arrives before the close', () => {
  it('sockwire client → ws server', async () => {
    const { server, url } = await wsServer({ perMessageDeflate: true });
    const accepted = once<[WS]>(server, 'connection');
    const client = new WebSocket(url);
    cleanups.push(() => client.terminate());
    await once(client, 'open');
    const [peer] = await accepted;
    const events = record(peer);
    const closed = once(peer, 'close');
    for (const message of burst()) client.send(message);
    client.close(1000);
    await closed;
    expect(events).toEqual(expectedEvents(1000));
  });

  it('sockwire server → ws client', async () => {
    const listening = await ourServer({});
    const accepted = once<[WebSocket]>(listening.server, 'connection');
    const client = new WS(listening.url, { perMessageDeflate: true });
    cleanups.push(() => client.terminate());
    const events = record(client);
    const closed = once(client, 'close');
    const [peer] = await accepted;
    for (const message of burst()) peer.send(message);
    peer.close(4000);
    await closed;
    expect(events).toEqual(expectedEvents(4000));
  });

  // Regression: messages still being inflated when the Close arrived used to be dropped.
  it('ws client → sockwire server', async () => {
    const listening = await ourServer({});
    const accepted = once<[WebSocket]>(listening.server, 'connection');
    const client = new WS(listening.url, { perMessageDeflate: true });
    cleanups.push(() => client.terminate());
    const opened = once(client, 'open');
    const [peer] = await accepted;
    await opened;
    const events = record(peer);
    const closed = once(peer, 'close');
    for (const message of burst()) client.send(message);
    client.close(1000);
    await closed;
    expect(events).toEqual(expectedEvents(1000));
  });

  // Regression: messages still being inflated when the Close arrived used to be dropped.
  it('ws server → sockwire client', async () => {
    const { server, url } = await wsServer({ perMessageDeflate: true });
    const accepted = once<[WS]>(server, 'connection');
    const client = new WebSocket(url);
    cleanups.push(() => client.terminate());
    const events = record(client);
    const closed = once(client, 'close');
    const [peer] = await accepted;
    for (const message of burst()) peer.send(message);
    peer.close(4000);
    await closed;
    expect(events).toEqual(expectedEvents(4000));
  });
});
