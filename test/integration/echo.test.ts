/**
 * The public API end to end over loopback: our client ↔ our standalone server.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CloseEvent, MessageEvent, WebSocket } from '../../src/index.ts';
import {
  closeQuietly,
  type Listening,
  listen,
  nextConnection,
  nextMessages,
  once,
  pair,
  WAIT_MS,
  withTimeout,
} from './helpers.ts';

let listening: Listening;
const open: WebSocket[] = [];

beforeAll(async () => {
  listening = await listen();
  // An echo server: every message goes back with the same type.
  listening.server.on('connection', (ws: WebSocket) => {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(data, { binary: isBinary });
    });
  });
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((ws) => closeQuietly(ws)));
});

afterAll(async () => {
  await withTimeout(listening.server.close({ timeout: 500 }), WAIT_MS, 'server.close');
});

async function client(...rest: unknown[]): Promise<{ client: WebSocket; peer: WebSocket }> {
  const both = await pair(listening, ...rest);
  open.push(both.client);
  return both;
}

describe('echo', () => {
  it('keeps text as text and binary as binary', async () => {
    const { client: ws } = await client();
    const replies = nextMessages(ws, 2);
    ws.send('héllo ✓');
    ws.send(Buffer.from([0, 1, 2, 255]));
    const [text, binary] = await replies;
    expect(text!.isBinary).toBe(false);
    expect(text!.data.toString('utf8')).toBe('héllo ✓');
    expect(binary!.isBinary).toBe(true);
    expect(Buffer.isBuffer(binary!.data)).toBe(true);
    expect([...binary!.data]).toEqual([0, 1, 2, 255]);
  });

  it.each([0, 1, 125, 126, 127, 65535, 65536, 1024 * 1024])(
    'echoes a %i-byte binary message intact',
    async (size) => {
      const { client: ws } = await client();
      const payload = Buffer.alloc(size);
      for (let i = 0; i < size; i++) payload[i] = (i * 31 + 7) & 0xff;
      const reply = nextMessages(ws, 1, 10_000);
      ws.send(payload);
      const [message] = await reply;
      expect(message!.isBinary).toBe(true);
      expect(message!.data.length).toBe(size);
      expect(message!.data.equals(payload)).toBe(true);
    },
  );

  it.each([0, 125, 126, 65535, 65536])('echoes a %i-byte text message intact', async (size) => {
    const { client: ws } = await client();
    const text = 'abcdefghij'.repeat(Math.ceil(size / 10)).slice(0, size);
    const reply = nextMessages(ws, 1);
    ws.send(text);
    const [message] = await reply;
    expect(message!.isBinary).toBe(false);
    expect(message!.data.toString('utf8')).toBe(text);
  });

  it('delivers many messages in order', async () => {
    const { client: ws } = await client();
    const count = 2000;
    const replies = nextMessages(ws, count, 15_000);
    for (let i = 0; i < count; i++) ws.send(`message ${i}`);
    const messages = await replies;
    expect(messages.map((m) => m.data.toString())).toEqual(
      Array.from({ length: count }, (_, i) => `message ${i}`),
    );
  });

  it('reassembles a fragmented send (fin: false, then fin: true)', async () => {
    const { client: ws, peer } = await client();
    const received = nextMessages(peer, 2);
    ws.send('Hel', { fin: false });
    ws.send('lo, ', { fin: false });
    ws.send('world', { fin: true });
    ws.send(Buffer.from([1, 2]), { fin: false });
    ws.send(Buffer.from([3]), { fin: true });
    const [text, binary] = await received;
    expect(text!.isBinary).toBe(false);
    expect(text!.data.toString()).toBe('Hello, world');
    expect(binary!.isBinary).toBe(true);
    expect([...binary!.data]).toEqual([1, 2, 3]);
  });

  it('ping gets a pong with the same payload, both directions', async () => {
    const { client: ws, peer } = await client();
    const serverSawPing = once<[Buffer]>(peer, 'ping');
    const clientSawPong = once<[Buffer]>(ws, 'pong');
    ws.ping('client-ping');
    expect((await serverSawPing)[0].toString()).toBe('client-ping');
    expect((await clientSawPong)[0].toString()).toBe('client-ping');

    const clientSawPing = once<[Buffer]>(ws, 'ping');
    const serverSawPong = once<[Buffer]>(peer, 'pong');
    peer.ping(Buffer.from([9, 8, 7]));
    expect([...(await clientSawPing)[0]]).toEqual([9, 8, 7]);
    expect([...(await serverSawPong)[0]]).toEqual([9, 8, 7]);

    const unsolicited = once<[Buffer]>(peer, 'pong');
    ws.pong('heartbeat');
    expect((await unsolicited)[0].toString()).toBe('heartbeat');
  });

  it('ping with an empty payload', async () => {
    const { client: ws } = await client();
    const pong = once<[Buffer]>(ws, 'pong');
    ws.ping();
    expect((await pong)[0].length).toBe(0);
  });

  it('client close(code, reason) is seen by the server, and both close events fire once', async () => {
    const { client: ws, peer } = await client();
    let clientCloses = 0;
    let serverCloses = 0;
    ws.on('close', () => clientCloses++);
    peer.on('close', () => serverCloses++);
    const serverClose = once<[number, Buffer]>(peer, 'close');
    const clientClose = once<[number, Buffer]>(ws, 'close');
    ws.close(4321, 'client says bye');
    expect(ws.readyState).toBe(WebSocket.CLOSING);
    const [serverCode, serverReason] = await serverClose;
    const [clientCode, clientReason] = await clientClose;
    expect(serverCode).toBe(4321);
    expect(serverReason.toString()).toBe('client says bye');
    // The initiator reports the peer's Close frame, which echoes the code and the reason (§5.5.1).
    expect(clientCode).toBe(4321);
    expect(clientReason.toString()).toBe('client says bye');
    expect(ws.readyState).toBe(WebSocket.CLOSED);
    expect(peer.readyState).toBe(WebSocket.CLOSED);
    // Give any duplicate a chance to show up (bounded: a few turns of the event loop).
    await new Promise((resolve) => setTimeout(resolve, 50));
    ws.close(); // no-op once closed
    expect(clientCloses).toBe(1);
    expect(serverCloses).toBe(1);
  });

  it('server close(code, reason) is seen by the client', async () => {
    const { client: ws, peer } = await client();
    const clientClose = once<[number, Buffer]>(ws, 'close');
    const serverClose = once<[number, Buffer]>(peer, 'close');
    peer.close(1000, 'server done');
    const [code, reason] = await clientClose;
    expect(code).toBe(1000);
    expect(reason.toString()).toBe('server done');
    const [serverCode] = await serverClose;
    expect(serverCode).toBe(1000);
  });

  it('close() without a code is seen as 1005', async () => {
    const { client: ws, peer } = await client();
    const serverClose = once<[number, Buffer]>(peer, 'close');
    ws.close();
    const [code, reason] = await serverClose;
    expect(code).toBe(1005);
    expect(reason.length).toBe(0);
  });

  it('terminate() gives 1006 on both sides', async () => {
    const { client: ws, peer } = await client();
    const serverClose = once<[number]>(peer, 'close');
    const clientClose = once<[number]>(ws, 'close');
    ws.terminate();
    expect((await clientClose)[0]).toBe(1006);
    expect((await serverClose)[0]).toBe(1006);
  });

  it('readyState goes CONNECTING → OPEN → CLOSING → CLOSED', async () => {
    const accepted = nextConnection(listening.server);
    const ws = new WebSocket(listening.url);
    open.push(ws);
    expect(ws.readyState).toBe(WebSocket.CONNECTING);
    expect(ws.readyState).toBe(0);
    await once(ws, 'open');
    expect(ws.readyState).toBe(WebSocket.OPEN);
    expect(ws.readyState).toBe(1);
    await accepted;
    ws.close(1000);
    expect(ws.readyState).toBe(WebSocket.CLOSING);
    expect(ws.readyState).toBe(2);
    await once(ws, 'close');
    expect(ws.readyState).toBe(WebSocket.CLOSED);
    expect(ws.readyState).toBe(3);
  });

  it('bufferedAmount is a number and the send callback is called without error', async () => {
    const { client: ws } = await client();
    expect(typeof ws.bufferedAmount).toBe('number');
    const error = await withTimeout(
      new Promise<Error | undefined>((resolve) => ws.send('with callback', (e) => resolve(e))),
    );
    expect(error).toBeUndefined();
    expect(typeof ws.bufferedAmount).toBe('number');
    expect(ws.bufferedAmount).toBeGreaterThanOrEqual(0);
  });

  it('send() after close calls back with an error', async () => {
    const { client: ws } = await client();
    const closed = once(ws, 'close');
    ws.close(1000);
    await closed;
    const error = await withTimeout(
      new Promise<Error | undefined>((resolve) => ws.send('late', (e) => resolve(e))),
    );
    expect(error).toBeInstanceOf(Error);
  });

  it('send() while CONNECTING throws WS_ERR_INVALID_STATE', async () => {
    const ws = new WebSocket(listening.url);
    open.push(ws);
    expect(() => ws.send('too early')).toThrow(expect.objectContaining({ code: 'WS_ERR_INVALID_STATE' }));
    expect(() => ws.ping()).toThrow(expect.objectContaining({ code: 'WS_ERR_INVALID_STATE' }));
    await once(ws, 'open');
  });

  it('close(1005) and a 124-byte reason throw WS_ERR_INVALID_ARGUMENT and leave the connection open', async () => {
    const { client: ws, peer } = await client();
    expect(() => ws.close(1005)).toThrow(expect.objectContaining({ code: 'WS_ERR_INVALID_ARGUMENT' }));
    expect(() => ws.close(1000, 'x'.repeat(124))).toThrow(
      expect.objectContaining({ code: 'WS_ERR_INVALID_ARGUMENT' }),
    );
    expect(() => ws.close(1006)).toThrow(expect.objectContaining({ code: 'WS_ERR_INVALID_ARGUMENT' }));
    expect(() => ws.close(2999)).toThrow(expect.objectContaining({ code: 'WS_ERR_INVALID_ARGUMENT' }));
    expect(ws.readyState).toBe(WebSocket.OPEN);
    // Still usable after the rejected calls.
    const reply = nextMessages(ws, 1);
    ws.send('still open');
    expect((await reply)[0]!.data.toString()).toBe('still open');
    // The longest legal reason (123 bytes) is fine and reaches the peer intact.
    const closed = once<[number, Buffer]>(peer, 'close');
    ws.close(1000, 'y'.repeat(123));
    const [code, reason] = await closed;
    expect(code).toBe(1000);
    expect(reason.toString()).toBe('y'.repeat(123));
  });

  it('ping() with more than 125 bytes throws', async () => {
    const { client: ws } = await client();
    expect(() => ws.ping(Buffer.alloc(126))).toThrow();
    expect(ws.readyState).toBe(WebSocket.OPEN);
  });
});

describe('async iteration', () => {
  it('yields strings for text and Buffers for binary, and ends after a normal close', async () => {
    const { client: ws, peer } = await client();
    peer.send('one');
    peer.send(Buffer.from([1, 2, 3]));
    peer.send('three');
    peer.close(1000, 'end');
    const received: (string | Buffer)[] = [];
    await withTimeout(
      (async () => {
        for await (const message of ws) received.push(message);
      })(),
      WAIT_MS,
      'for await to end',
    );
    expect(received).toHaveLength(3);
    expect(received[0]).toBe('one');
    expect(Buffer.isBuffer(received[1])).toBe(true);
    expect([...(received[1] as Buffer)]).toEqual([1, 2, 3]);
    expect(received[2]).toBe('three');
  });

  it('throws after an abnormal close', async () => {
    const { client: ws, peer } = await client();
    peer.send('only');
    const received: (string | Buffer)[] = [];
    const loop = (async () => {
      for await (const message of ws) {
        received.push(message);
        peer.terminate();
      }
    })();
    await expect(withTimeout(loop)).rejects.toThrow();
    expect(received).toEqual(['only']);
  });
});

describe('WHATWG API', () => {
  it('onmessage gets event.data as a string for text; addEventListener("close") gets the code', async () => {
    const { client: ws, peer } = await client();
    const event = await withTimeout(
      new Promise<MessageEvent>((resolve) => {
        ws.onmessage = ((e: MessageEvent) => resolve(e)) as never;
        peer.send('whatwg text');
      }),
    );
    expect(event).toBeInstanceOf(MessageEvent);
    expect(event.type).toBe('message');
    expect(event.data).toBe('whatwg text');
    expect(ws.onmessage).not.toBeNull();
    ws.onmessage = null;
    expect(ws.onmessage).toBeNull();

    const closeEvent = new Promise<CloseEvent>((resolve) => {
      ws.addEventListener('close', (e: CloseEvent) => resolve(e));
    });
    peer.close(4002, 'whatwg bye');
    const e = await withTimeout(closeEvent);
    expect(e).toBeInstanceOf(CloseEvent);
    expect(e.type).toBe('close');
    expect(e.code).toBe(4002);
    expect(e.reason).toBe('whatwg bye');
    expect(e.wasClean).toBe(true);
  });

  it('onopen fires and removeEventListener stops delivery', async () => {
    const accepted = nextConnection(listening.server);
    const ws = new WebSocket(listening.url);
    open.push(ws);
    const opened = new Promise<string>((resolve) => {
      ws.onopen = ((e: { type: string }) => resolve(e.type)) as never;
    });
    expect(await withTimeout(opened)).toBe('open');
    const peer = await accepted;
    const seen: unknown[] = [];
    const listener = (e: MessageEvent) => seen.push(e.data);
    ws.addEventListener('message', listener);
    const first = nextMessages(ws, 1);
    peer.send('a');
    await first;
    ws.removeEventListener('message', listener);
    const second = nextMessages(ws, 1);
    peer.send('b');
    await second;
    expect(seen).toEqual(['a']);
  });

  it("binaryType = 'arraybuffer' delivers ArrayBuffers to WHATWG listeners, Buffers to on('message')", async () => {
    const { client: ws, peer } = await client();
    ws.binaryType = 'arraybuffer';
    const viaEmitter = once<[unknown, boolean]>(ws, 'message');
    const viaWhatwg = new Promise<unknown>((resolve) => {
      ws.onmessage = ((e: MessageEvent) => resolve(e.data)) as never;
    });
    peer.send(Buffer.from([10, 20, 30]));
    const [data, isBinary] = await viaEmitter;
    expect(isBinary).toBe(true);
    // Node-style listeners always get a Buffer, so that their declared type is exact.
    expect(Buffer.isBuffer(data)).toBe(true);
    expect([...(data as Buffer)]).toEqual([10, 20, 30]);
    const whatwgData = await withTimeout(viaWhatwg);
    expect(whatwgData).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(whatwgData as ArrayBuffer)]).toEqual([10, 20, 30]);
  });

  it('the ready-state constants match the standard', () => {
    expect([WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED]).toEqual([0, 1, 2, 3]);
  });
});

describe('subprotocol and url', () => {
  it('the default server picks the first offered subprotocol; url is what was given', async () => {
    const { client: ws, peer } = await client(['chat.v2', 'chat.v1']);
    expect(ws.protocol).toBe('chat.v2');
    expect(peer.protocol).toBe('chat.v2');
    expect(ws.url).toBe(listening.url);
  });
});
