/**
 * Interop with the `ws` package (devDependency): a `ws` client against our server, and our client
 * against a `ws` server. Text, binary, 1 MiB, fragmented messages, ping/pong and close codes, both ways.
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket as WsClient, WebSocketServer as WsServer } from 'ws';
import { WebSocket, type WebSocketServer } from '../../src/index.ts';
import { type Listening, listen, once, WAIT_MS, withTimeout } from '../integration/helpers.ts';

type AnySocket = WebSocket | WsClient;

function nextMessage(ws: AnySocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return withTimeout(
    new Promise((resolve) => {
      (ws as WebSocket).once('message', (data: Buffer, isBinary: boolean) => resolve({ data, isBinary }));
    }),
    10_000,
    'a message',
  );
}

function closeOf(ws: AnySocket): Promise<{ code: number; reason: string }> {
  return withTimeout(
    new Promise((resolve) => {
      (ws as WebSocket).once('close', (code: number, reason: Buffer) =>
        resolve({ code, reason: reason.toString() }),
      );
    }),
    WAIT_MS,
    'close',
  );
}

function pattern(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + 3) & 0xff;
  return bytes;
}

describe('ws client ↔ sockwire server', () => {
  let listening: Listening;
  let server: WebSocketServer;

  beforeAll(async () => {
    listening = await listen();
    server = listening.server;
  });
  afterAll(async () => {
    await withTimeout(server.close({ timeout: 500 }), WAIT_MS);
  });

  async function connect(protocols?: string[]): Promise<{ client: WsClient; peer: WebSocket }> {
    const accepted = once<[WebSocket]>(server, 'connection');
    const client = new WsClient(listening.url, protocols);
    await once(client, 'open');
    const [peer] = await accepted;
    return { client, peer };
  }

  it('text and binary, both directions, keep their type', async () => {
    const { client, peer } = await connect();
    let message = nextMessage(peer);
    client.send('from ws ✓');
    expect(await message).toEqual({ data: Buffer.from('from ws ✓'), isBinary: false });
    message = nextMessage(peer);
    client.send(Buffer.from([0, 255, 1]));
    expect(await message).toEqual({ data: Buffer.from([0, 255, 1]), isBinary: true });
    message = nextMessage(client);
    peer.send('from sockwire ✓');
    expect(await message).toEqual({ data: Buffer.from('from sockwire ✓'), isBinary: false });
    message = nextMessage(client);
    peer.send(Buffer.from([9, 8]));
    expect(await message).toEqual({ data: Buffer.from([9, 8]), isBinary: true });
    client.terminate();
  });

  it('1 MiB binary both directions', async () => {
    const { client, peer } = await connect();
    const big = pattern(1024 * 1024);
    let message = nextMessage(peer);
    client.send(big);
    const up = await message;
    expect(up.isBinary).toBe(true);
    expect(up.data.equals(big)).toBe(true);
    message = nextMessage(client);
    peer.send(big);
    const down = await message;
    expect(down.data.equals(big)).toBe(true);
    client.terminate();
  });

  it('fragmented messages both directions', async () => {
    const { client, peer } = await connect();
    let message = nextMessage(peer);
    client.send('frag', { fin: false });
    client.send('ment', { fin: false });
    client.send('ed', { fin: true });
    expect(await message).toEqual({ data: Buffer.from('fragmented'), isBinary: false });
    message = nextMessage(client);
    peer.send(Buffer.from([1]), { fin: false });
    peer.send(Buffer.from([2, 3]), { fin: true });
    expect(await message).toEqual({ data: Buffer.from([1, 2, 3]), isBinary: true });
    client.terminate();
  });

  it('ping/pong both directions with payload', async () => {
    const { client, peer } = await connect();
    const pongAtWs = once<[Buffer]>(client, 'pong');
    const pingAtUs = once<[Buffer]>(peer, 'ping');
    client.ping('ws-ping');
    expect((await pingAtUs)[0].toString()).toBe('ws-ping');
    expect((await pongAtWs)[0].toString()).toBe('ws-ping');
    const pongAtUs = once<[Buffer]>(peer, 'pong');
    const pingAtWs = once<[Buffer]>(client, 'ping');
    peer.ping('us-ping');
    expect((await pingAtWs)[0].toString()).toBe('us-ping');
    expect((await pongAtUs)[0].toString()).toBe('us-ping');
    client.terminate();
  });

  it('subprotocol negotiation', async () => {
    const { client, peer } = await connect(['p1', 'p2']);
    expect(client.protocol).toBe('p1');
    expect(peer.protocol).toBe('p1');
    client.terminate();
  });

  it('ws closes with 4001 "ws done": our server sees it', async () => {
    const { client, peer } = await connect();
    const atUs = closeOf(peer);
    const atWs = closeOf(client);
    client.close(4001, 'ws done');
    expect(await atUs).toEqual({ code: 4001, reason: 'ws done' });
    expect((await atWs).code).toBe(4001);
  });

  it('our server closes with 4002 "server done": ws sees it', async () => {
    const { client, peer } = await connect();
    const atWs = closeOf(client);
    const atUs = closeOf(peer);
    peer.close(4002, 'server done');
    expect(await atWs).toEqual({ code: 4002, reason: 'server done' });
    expect((await atUs).code).toBe(4002);
  });

  it('server.close() → ws sees 1001', async () => {
    const local = await listen();
    const client = new WsClient(local.url);
    await once(client, 'open');
    const atWs = closeOf(client);
    await withTimeout(local.server.close());
    expect((await atWs).code).toBe(1001);
  });
});

describe('sockwire client ↔ ws server', () => {
  let wsServer: WsServer;
  let url: string;
  const peers: WsClient[] = [];

  beforeAll(async () => {
    wsServer = new WsServer({ host: '127.0.0.1', port: 0 });
    await once(wsServer, 'listening');
    url = `ws://127.0.0.1:${(wsServer.address() as AddressInfo).port}`;
    wsServer.on('connection', (ws) => peers.push(ws));
  });
  afterAll(async () => {
    for (const client of wsServer.clients) client.terminate();
    await withTimeout(new Promise<void>((resolve) => wsServer.close(() => resolve())), WAIT_MS);
  });

  async function connect(protocols?: string[]): Promise<{ client: WebSocket; peer: WsClient }> {
    const accepted = once<[WsClient]>(wsServer, 'connection');
    const client = protocols === undefined ? new WebSocket(url) : new WebSocket(url, protocols);
    await once(client, 'open');
    const [peer] = await accepted;
    return { client, peer };
  }

  it('text and binary, both directions, keep their type', async () => {
    const { client, peer } = await connect();
    let message = nextMessage(peer);
    client.send('from sockwire');
    expect(await message).toEqual({ data: Buffer.from('from sockwire'), isBinary: false });
    message = nextMessage(peer);
    client.send(new Uint8Array([4, 5, 6]));
    expect(await message).toEqual({ data: Buffer.from([4, 5, 6]), isBinary: true });
    message = nextMessage(client);
    peer.send('from ws');
    expect(await message).toEqual({ data: Buffer.from('from ws'), isBinary: false });
    message = nextMessage(client);
    peer.send(Buffer.from([7]));
    expect(await message).toEqual({ data: Buffer.from([7]), isBinary: true });
    client.terminate();
  });

  it('1 MiB binary and a 1 MiB text both directions', async () => {
    const { client, peer } = await connect();
    const big = pattern(1024 * 1024);
    let message = nextMessage(peer);
    client.send(big);
    expect((await message).data.equals(big)).toBe(true);
    message = nextMessage(client);
    peer.send(big);
    expect((await message).data.equals(big)).toBe(true);
    const text = 'ü'.repeat(512 * 1024);
    message = nextMessage(client);
    peer.send(text);
    const down = await message;
    expect(down.isBinary).toBe(false);
    expect(down.data.toString()).toBe(text);
    client.terminate();
  });

  it('fragmented messages both directions', async () => {
    const { client, peer } = await connect();
    let message = nextMessage(peer);
    client.send('a', { fin: false });
    client.send('b', { fin: false });
    client.send('c');
    expect(await message).toEqual({ data: Buffer.from('abc'), isBinary: false });
    message = nextMessage(client);
    peer.send('x', { fin: false });
    peer.send('yz', { fin: true });
    expect(await message).toEqual({ data: Buffer.from('xyz'), isBinary: false });
    client.terminate();
  });

  it('ping/pong both directions with payload', async () => {
    const { client, peer } = await connect();
    const pingAtWs = once<[Buffer]>(peer, 'ping');
    const pongAtUs = once<[Buffer]>(client, 'pong');
    client.ping(Buffer.from([1, 2, 3]));
    expect([...(await pingAtWs)[0]]).toEqual([1, 2, 3]);
    expect([...(await pongAtUs)[0]]).toEqual([1, 2, 3]);
    const pingAtUs = once<[Buffer]>(client, 'ping');
    const pongAtWs = once<[Buffer]>(peer, 'pong');
    peer.ping('from ws');
    expect((await pingAtUs)[0].toString()).toBe('from ws');
    expect((await pongAtWs)[0].toString()).toBe('from ws');
    client.terminate();
  });

  it('subprotocol negotiation', async () => {
    const { client } = await connect(['chat', 'superchat']);
    expect(client.protocol).toBe('chat');
    client.terminate();
  });

  it('our client closes with 4003 "client done": ws sees it', async () => {
    const { client, peer } = await connect();
    const atWs = closeOf(peer);
    const atUs = closeOf(client);
    client.close(4003, 'client done');
    expect(await atWs).toEqual({ code: 4003, reason: 'client done' });
    // ws echoes code and reason.
    expect(await atUs).toEqual({ code: 4003, reason: 'client done' });
  });

  it('ws closes with 1000 "bye": our client sees it', async () => {
    const { client, peer } = await connect();
    const atUs = closeOf(client);
    peer.close(1000, 'bye');
    expect(await atUs).toEqual({ code: 1000, reason: 'bye' });
  });

  it('ws closes without a code: our client sees 1005', async () => {
    const { client, peer } = await connect();
    const atUs = closeOf(client);
    peer.close();
    expect((await atUs).code).toBe(1005);
  });
});
