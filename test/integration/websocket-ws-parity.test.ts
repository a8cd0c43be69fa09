/**
 * The WebSocket class behaves as `ws` does where code written for `ws` depends on it (issue 13): the
 * shape of its properties, what send()/ping()/pong() accept and do after close, the WHATWG listener
 * rules, pause() inside 'open', autoPong, binaryType and compressed messages before a Close.
 */
import { openAsBlob, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CloseEvent, type MessageEvent, WebSocket, type WebSocketEvent } from '../../src/index.ts';
import {
  closeQuietly,
  type Listening,
  listen,
  nextMessages,
  once,
  pair,
  WAIT_MS,
  withTimeout,
} from './helpers.ts';

let listening: Listening;
let deflate: Listening;
const open: WebSocket[] = [];

beforeAll(async () => {
  listening = await listen();
  deflate = await listen({ perMessageDeflate: { threshold: 0 } });
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((ws) => closeQuietly(ws)));
});
afterAll(async () => {
  await withTimeout(
    Promise.all([listening.server.close({ timeout: 500 }), deflate.server.close({ timeout: 500 })]),
    WAIT_MS,
  );
});

async function client(
  on: Listening = listening,
  ...rest: unknown[]
): Promise<{ client: WebSocket; peer: WebSocket }> {
  const both = await pair(on, ...rest);
  open.push(both.client, both.peer);
  return both;
}

/** A client closed before its handshake completed: 'error' then 'close', never 'open'. */
function abortedClient(): WebSocket {
  const ws = new WebSocket(listening.url);
  open.push(ws);
  return ws;
}

function callbackError(register: (callback: (error?: Error) => void) => void): Promise<Error | undefined> {
  return withTimeout(new Promise((resolve) => register(resolve)), WAIT_MS, 'the callback');
}

describe('property shape (as ws and the WHATWG interface)', () => {
  it('CONNECTING…CLOSED are enumerable, read-only, non-configurable values on the class and the prototype', () => {
    const values = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 };
    for (const [name, value] of Object.entries(values)) {
      for (const target of [WebSocket, WebSocket.prototype]) {
        expect(Object.getOwnPropertyDescriptor(target, name)).toEqual({
          value,
          writable: false,
          enumerable: true,
          configurable: false,
        });
      }
    }
  });

  it('the attributes are enumerable, configurable accessors on the prototype', () => {
    const readOnly = ['bufferedAmount', 'extensions', 'isPaused', 'protocol', 'readyState', 'url'];
    const readWrite = ['binaryType', 'onopen', 'onmessage', 'onclose', 'onerror'];
    for (const name of [...readOnly, ...readWrite]) {
      const descriptor = Object.getOwnPropertyDescriptor(WebSocket.prototype, name);
      expect(descriptor, name).toBeDefined();
      expect([name, descriptor!.enumerable, descriptor!.configurable]).toEqual([name, true, true]);
      expect([name, typeof descriptor!.get]).toEqual([name, 'function']);
      expect([name, typeof descriptor!.set]).toEqual([
        name,
        readWrite.includes(name) ? 'function' : 'undefined',
      ]);
    }
  });
});

describe('send(), ping() and pong() arguments', () => {
  it('a number is sent as text (send) or as its digits (ping, pong)', async () => {
    const { client: ws, peer } = await client();
    const message = nextMessages(peer, 1);
    const ping = once<[Buffer]>(peer, 'ping');
    const pong = once<[Buffer]>(peer, 'pong');
    ws.send(42);
    ws.ping(0);
    ws.pong(7.5);
    const [received] = await message;
    expect([received!.isBinary, received!.data.toString()]).toEqual([false, '42']);
    expect((await ping)[0].toString()).toBe('0');
    expect((await pong)[0].toString()).toBe('7.5');
  });

  it('no argument sends an empty binary message, an empty Ping and an empty Pong', async () => {
    const { client: ws, peer } = await client();
    const message = nextMessages(peer, 1);
    const ping = once<[Buffer]>(peer, 'ping');
    const pong = once<[Buffer]>(peer, 'pong');
    ws.send();
    ws.ping();
    ws.pong();
    const [received] = await message;
    expect([received!.isBinary, received!.data.length]).toEqual([true, 0]);
    expect((await ping)[0].length).toBe(0);
    expect((await pong)[0].length).toBe(0);
  });

  it('a callback may take the place of the optional arguments', async () => {
    const { client: ws, peer } = await client();
    const pings: string[] = [];
    const pongs: string[] = [];
    peer.on('ping', (data) => pings.push(data.toString()));
    peer.on('pong', (data) => pongs.push(data.toString()));
    expect(await callbackError((cb) => ws.ping(cb))).toBeUndefined();
    expect(await callbackError((cb) => ws.ping('a', cb))).toBeUndefined();
    expect(await callbackError((cb) => ws.ping('b', true, cb))).toBeUndefined();
    expect(await callbackError((cb) => ws.pong(cb))).toBeUndefined();
    expect(await callbackError((cb) => ws.pong('hi', cb))).toBeUndefined();
    expect(await callbackError((cb) => ws.pong('c', false, cb))).toBeUndefined();
    expect(await callbackError((cb) => ws.send('d', cb))).toBeUndefined();
    const echoed = nextMessages(peer, 1);
    ws.send('last');
    await echoed; // everything before it arrived too (one connection, in order)
    expect(pings).toEqual(['', 'a', 'b']);
    expect(pongs).toEqual(['', 'hi', 'c']);
  });

  it('server.broadcast() sends a number as text too, as send() does', async () => {
    const { client: ws } = await client();
    const received = nextMessages(ws, 1);
    listening.server.broadcast(7);
    const [message] = await received;
    expect([message!.isBinary, message!.data.toString()]).toEqual([false, '7']);
  });

  it('a Blob is read and sent in order with what is sent around it', async () => {
    const { client: ws, peer } = await client();
    const received = nextMessages(peer, 3);
    ws.send('before');
    ws.send(new Blob([Buffer.from([1, 2, 3])]));
    ws.send('after');
    const messages = await received;
    expect(messages.map((m) => [m.isBinary, [...m.data]])).toEqual([
      [false, [...Buffer.from('before')]],
      [true, [1, 2, 3]],
      [false, [...Buffer.from('after')]],
    ]);
    const ping = once<[Buffer]>(peer, 'ping');
    expect(await callbackError((cb) => ws.ping(new Blob(['blob ping']), cb))).toBeUndefined();
    expect((await ping)[0].toString()).toBe('blob ping');
  });

  it('a Blob is sent in order over a compressed connection too', async () => {
    const { client: ws, peer } = await client(deflate);
    const received = nextMessages(peer, 3);
    ws.send('one');
    ws.send(new Blob(['two']), { binary: false });
    ws.send('three');
    expect((await received).map((m) => m.data.toString())).toEqual(['one', 'two', 'three']);
  });
});

describe('after close (as ws: callbacks get an error, bufferedAmount counts what was refused)', () => {
  it('while CONNECTING, send(), ping() and pong() throw (with or without a callback)', () => {
    const ws = abortedClient();
    ws.on('error', () => {});
    expect(() => ws.send('x')).toThrow(/not open/);
    expect(() => ws.send('x', () => {})).toThrow(/not open/);
    expect(() => ws.ping(() => {})).toThrow(/not open/);
    expect(() => ws.pong()).toThrow(/not open/);
  });

  it.each(['close', 'terminate'] as const)(
    '%s() while CONNECTING: CLOSING at once, then error and close in a later tick (listeners added after the call hear them)',
    async (method) => {
      const ws = new WebSocket(listening.url);
      ws[method]();
      expect(ws.readyState).toBe(WebSocket.CLOSING);
      const events: string[] = [];
      ws.on('open', () => events.push('open'));
      ws.on('error', (error) => events.push(`error: ${error.message}`));
      const [code] = await withTimeout(once(ws, 'close'), WAIT_MS, 'close');
      expect(code).toBe(1006);
      expect(events).toEqual(['error: WebSocket was closed before the connection was established']);
      expect(ws.readyState).toBe(WebSocket.CLOSED);
    },
  );

  it('after a failed connect: readyState is CLOSING during error, CLOSED during close; sends add to bufferedAmount', async () => {
    const ws = abortedClient();
    const seen: unknown[] = [];
    const closed = new Promise<void>((resolve) => {
      ws.on('error', () => {
        seen.push(['error', ws.readyState, ws.bufferedAmount]);
        ws.send('hi');
        ws.send();
        ws.ping('ab');
        seen.push(['sent in error', ws.bufferedAmount]);
        ws.on('close', () => {
          seen.push(['close', ws.readyState]);
          ws.pong('hi');
          ws.send(Buffer.alloc(3));
          seen.push(['sent in close', ws.bufferedAmount]);
          resolve();
        });
      });
    });
    ws.close();
    await withTimeout(closed);
    expect(seen).toEqual([
      ['error', WebSocket.CLOSING, 0],
      ['sent in error', 4],
      ['close', WebSocket.CLOSED],
      ['sent in close', 9],
    ]);
  });

  it("close() and terminate() in a failed connect's 'error' listener do nothing more; 'close' follows once", async () => {
    for (const method of ['close', 'terminate'] as const) {
      const ws = abortedClient();
      const thrown: unknown[] = [];
      let closes = 0;
      ws.on('error', () => {
        try {
          ws[method]();
        } catch (error) {
          thrown.push(error);
        }
      });
      ws.on('close', () => closes++);
      const closed = once(ws, 'close');
      ws.close();
      await closed;
      await new Promise((resolve) => setImmediate(resolve));
      expect([method, thrown, closes, ws.readyState]).toEqual([method, [], 1, WebSocket.CLOSED]);
    }
  });

  it('after a failed connect, the callbacks get an error that names the state, and nothing throws', async () => {
    const ws = abortedClient();
    ws.on('error', () => {});
    const closed = once(ws, 'close');
    ws.close();
    await closed;
    for (const call of [
      (cb: (error?: Error) => void) => ws.send('x', cb),
      (cb: (error?: Error) => void) => ws.ping(cb),
      (cb: (error?: Error) => void) => ws.pong('y', cb),
    ]) {
      const error = await callbackError(call);
      expect(error).toBeInstanceOf(Error);
      expect(error!.message).toBe('WebSocket is not open: readyState 3 (CLOSED)');
      expect((error as { code?: string }).code).toBe('WS_ERR_INVALID_STATE');
    }
  });

  it('on an open connection after close(): CLOSING, then CLOSED, and the bytes are counted', async () => {
    const { peer } = await client();
    peer.close();
    expect(peer.bufferedAmount).toBe(0);
    const closing = await callbackError((cb) => peer.send('hi', cb));
    expect(closing!.message).toBe('WebSocket is not open: readyState 2 (CLOSING)');
    expect(peer.bufferedAmount).toBe(2);
    if (peer.readyState !== WebSocket.CLOSED) await once(peer, 'close');
    const closed = await callbackError((cb) => peer.ping('hi', cb));
    expect(closed!.message).toBe('WebSocket is not open: readyState 3 (CLOSED)');
    expect(peer.bufferedAmount).toBe(4);
  });
});

describe('WHATWG listeners', () => {
  it('an on… handler and addEventListener are separate listeners, even with the same function', async () => {
    const { client: ws, peer } = await client();
    const calls: string[] = [];
    const f = (event: WebSocketEvent) => calls.push(event.type);
    ws.onmessage = f as never;
    ws.onclose = f as never;
    ws.addEventListener('close', f);
    expect(ws.onmessage).toBe(f);
    expect(ws.onclose).toBe(f);
    const closed = once(ws, 'close');
    peer.send('m');
    await nextMessages(ws, 1);
    peer.close();
    await closed;
    expect(calls).toEqual(['message', 'close', 'close']);
  });

  it('addEventListener(type, f) then onclose = f: both are called; removeEventListener leaves the handler', async () => {
    const { client: ws, peer } = await client();
    const calls: string[] = [];
    const f = function (this: unknown, event: CloseEvent) {
      calls.push(`${event.type} ${event.code} ${this === ws}`);
    };
    ws.addEventListener('close', f);
    ws.onclose = f as never;
    ws.addEventListener('close', f); // the same (type, callback) again is ignored
    ws.removeEventListener('close', f);
    ws.addEventListener('close', f);
    ws.onclose = null;
    ws.onclose = f as never;
    expect(ws.listenerCount('close')).toBe(2);
    const closed = once(ws, 'close');
    peer.close(4001);
    await closed;
    expect(calls).toEqual(['close 4001 true', 'close 4001 true']);
  });

  it('handleEvent objects are called with the object as this, and can be removed', async () => {
    const { client: ws, peer } = await client();
    const seen: unknown[] = [];
    const listener = {
      handleEvent(this: unknown, event: MessageEvent) {
        seen.push([event.data, this === listener]);
      },
    };
    ws.addEventListener('message', listener);
    ws.addEventListener('message', listener);
    expect(ws.listenerCount('message')).toBe(1);
    peer.send('first');
    await nextMessages(ws, 1);
    ws.removeEventListener('message', listener);
    expect(ws.listenerCount('message')).toBe(0);
    peer.send('second');
    await nextMessages(ws, 1);
    expect(seen).toEqual([['first', true]]);
  });

  it('a once listener can be added again after it fired', async () => {
    const { client: ws, peer } = await client();
    const seen: unknown[] = [];
    const f = (event: MessageEvent) => seen.push(event.data);
    ws.addEventListener('message', f, { once: true });
    peer.send('a');
    await nextMessages(ws, 1);
    ws.addEventListener('message', f, { once: true });
    peer.send('b');
    peer.send('c');
    await nextMessages(ws, 2);
    expect(seen).toEqual(['a', 'b']);
  });

  it('events carry type and target; the error event has message and error', async () => {
    const ws = abortedClient();
    const events: WebSocketEvent[] = [];
    ws.addEventListener('error', (event: WebSocketEvent) => events.push(event));
    ws.addEventListener('close', (event: WebSocketEvent) => events.push(event));
    const closed = once(ws, 'close');
    ws.close();
    await closed;
    expect(events.map((e) => [e.type, e.target === ws])).toEqual([
      ['error', true],
      ['close', true],
    ]);
    const error = events[0] as WebSocketEvent & { message: string; error: unknown };
    expect(error.error).toBeInstanceOf(Error);
    expect(error.message).toBe((error.error as Error).message);
  });
});

describe('WHATWG event objects and types (as ws)', () => {
  it("addEventListener() takes only 'open', 'message', 'error' and 'close', the WebSocket interface's events", () => {
    const ws = abortedClient();
    ws.on('error', () => {});
    ws.addEventListener('ping', () => {});
    ws.addEventListener('foo', () => {});
    expect([ws.listenerCount('ping'), ws.listenerCount('foo')]).toEqual([0, 0]);
    for (const type of ['open', 'message', 'error', 'close']) ws.addEventListener(type, () => {});
    expect(['open', 'message', 'error', 'close'].map((type) => ws.listenerCount(type))).toEqual([1, 1, 2, 1]);
    ws.close();
  });

  it('event attributes are enumerable accessors on the prototypes, as WebIDL attributes', async () => {
    const { client: ws, peer } = await client();
    const message = new Promise<MessageEvent>((resolve) => {
      ws.onmessage = ((event: MessageEvent) => resolve(event)) as never;
    });
    peer.send('x');
    const event = await withTimeout(message);
    expect(Object.keys(event)).toEqual([]);
    const keys: string[] = [];
    for (const key in event) keys.push(key);
    expect(keys.sort()).toEqual(['data', 'target', 'type']);
    expect([event.type, event.data, event.target === ws]).toEqual(['message', 'x', true]);
  });
});

describe('pause() and resume()', () => {
  it("pause() in an 'open' listener holds the messages until resume()", async () => {
    const accepted = new Promise<WebSocket>((resolve) => {
      listening.server.once('connection', (peer: WebSocket) => {
        peer.send('early');
        resolve(peer);
      });
    });
    const ws = new WebSocket(listening.url);
    open.push(ws);
    const received: string[] = [];
    ws.on('message', (data) => received.push(data.toString()));
    let pausedAtOpen: boolean | undefined;
    ws.on('open', () => {
      pausedAtOpen = ws.isPaused; // the socket waiting for the 'open' listeners is no pause
      ws.pause();
    });
    await once(ws, 'open');
    open.push(await accepted);
    expect(pausedAtOpen).toBe(false);
    expect(ws.isPaused).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 100)); // time for 'early' to arrive if it were read
    expect(received).toEqual([]);
    const delivered = nextMessages(ws, 1);
    ws.resume();
    expect(ws.isPaused).toBe(false);
    await delivered;
    expect(received).toEqual(['early']);
  });

  it('pause() while CONNECTING or CLOSED does nothing (as ws)', async () => {
    const ws = abortedClient();
    ws.on('error', () => {});
    ws.pause();
    expect(ws.isPaused).toBe(false);
    const closed = once(ws, 'close');
    ws.close();
    await closed;
    ws.pause();
    expect(ws.isPaused).toBe(false);
  });
});

describe('autoPong', () => {
  it('autoPong: false emits ping but sends no Pong; the default answers', async () => {
    const { client: quiet, peer: quietPeer } = await client(listening, { autoPong: false });
    const pings = once<[Buffer]>(quiet, 'ping');
    let ponged = false;
    quietPeer.on('pong', () => {
      ponged = true;
    });
    quietPeer.ping('are you there');
    expect((await pings)[0].toString()).toBe('are you there');
    // A message sent after the Ping arrives after any Pong would have: none came.
    const after = nextMessages(quietPeer, 1);
    quiet.send('after');
    await after;
    expect(ponged).toBe(false);

    const { peer } = await client();
    const pong = once<[Buffer]>(peer, 'pong');
    peer.ping('default');
    expect((await pong)[0].toString()).toBe('default');
  });

  it('the server option autoPong: false applies to accepted sockets', async () => {
    const quietServer = await listen({ autoPong: false });
    try {
      const { client: ws, peer } = await pair(quietServer);
      open.push(ws, peer);
      let ponged = false;
      ws.on('pong', () => {
        ponged = true;
      });
      const ping = once(peer, 'ping');
      ws.ping('x');
      await ping;
      const after = nextMessages(ws, 1);
      peer.send('after');
      await after;
      expect(ponged).toBe(false);
    } finally {
      await withTimeout(quietServer.server.close({ timeout: 500 }), WAIT_MS);
    }
  });
});

describe('binaryType', () => {
  it("accepts 'nodebuffer', 'arraybuffer', 'fragments' and 'blob'; ignores any other value (as ws)", () => {
    const ws = abortedClient();
    ws.on('error', () => {});
    expect(ws.binaryType).toBe('nodebuffer');
    ws.binaryType = 'blob';
    expect(ws.binaryType).toBe('blob');
    ws.binaryType = 'foo' as never;
    expect(ws.binaryType).toBe('blob');
    ws.binaryType = 'fragments';
    ws.binaryType = '' as never;
    expect(ws.binaryType).toBe('fragments');
    ws.binaryType = 'arraybuffer';
    expect(ws.binaryType).toBe('arraybuffer');
    ws.close();
  });

  it("'blob' delivers a Blob to WHATWG listeners", async () => {
    const { client: ws, peer } = await client();
    ws.binaryType = 'blob';
    const data = new Promise<unknown>((resolve) => {
      ws.onmessage = ((event: MessageEvent) => resolve(event.data)) as never;
    });
    peer.send(Buffer.from([4, 5, 6]));
    const blob = await withTimeout(data);
    expect(blob).toBeInstanceOf(Blob);
    expect([...new Uint8Array(await (blob as Blob).arrayBuffer())]).toEqual([4, 5, 6]);
  });
});

describe('permessage-deflate and closing', () => {
  it('send() callbacks cut short by terminate() during compression: typed errors, in order, while CLOSING, before close', async () => {
    const { client: ws } = await client(deflate, { perMessageDeflate: { threshold: 0 } });
    const seen: unknown[] = [];
    const record = (name: string) => (error?: Error) =>
      seen.push([name, ws.readyState, error?.message, (error as { code?: string } | undefined)?.code]);
    ws.send('x'.repeat(1000), record('compressing'));
    ws.send('queued behind it', record('queued'));
    const closed = once(ws, 'close');
    ws.terminate();
    await closed;
    const lost = 'The socket was closed while data was being compressed'; // ws's words
    expect(seen).toEqual([
      ['compressing', WebSocket.CLOSING, lost, 'WS_ERR_CONNECTION_LOST'],
      ['queued', WebSocket.CLOSING, lost, 'WS_ERR_CONNECTION_LOST'],
    ]);
  });

  it('send() callbacks cut short by terminate() while a Blob is read: typed errors, in order, while CLOSING', async () => {
    const { client: ws } = await client();
    const seen: unknown[] = [];
    const record = (name: string) => (error?: Error) =>
      seen.push([name, ws.readyState, error?.message, (error as { code?: string } | undefined)?.code]);
    ws.send(new Blob(['foo']), record('blob'));
    ws.send('bar');
    ws.send('baz', record('behind it'));
    const closed = once(ws, 'close');
    ws.terminate();
    await closed;
    const lost = 'The socket was closed while the blob was being read'; // ws's words
    expect(seen).toEqual([
      ['blob', WebSocket.CLOSING, lost, 'WS_ERR_CONNECTION_LOST'],
      ['behind it', WebSocket.CLOSING, lost, 'WS_ERR_CONNECTION_LOST'],
    ]);
  });

  it("a Blob that cannot be read: 'error', its callback errs, and the connection closes with 1011", async () => {
    const file = join(tmpdir(), `sockwire-blob-${process.pid}-${Date.now()}.txt`);
    writeFileSync(file, 'x'.repeat(64));
    try {
      const blob = await openAsBlob(file);
      writeFileSync(file, 'x'.repeat(32)); // the Blob's snapshot is gone: reading it fails
      const { client: ws, peer } = await client();
      const error = once<[Error]>(ws, 'error');
      const callback = callbackError((cb) => ws.send(blob, cb));
      const after = callbackError((cb) => ws.send('after it', cb));
      const peerClosed = once<[number]>(peer, 'close');
      const [emitted] = await error;
      expect((emitted as { code?: string }).code).toBe('WS_ERR_INVALID_ARGUMENT');
      expect(emitted.cause).toBeInstanceOf(Error);
      expect(await callback).toBe(emitted);
      expect(await after).toBeInstanceOf(Error); // never sent: the Close went first
      expect((await peerClosed)[0]).toBe(1011);
    } finally {
      unlinkSync(file);
    }
  });

  it("a message that arrived before the peer's Close is delivered while OPEN, and the reply goes before the Close answer", async () => {
    for (const on of [listening, deflate]) {
      const { client: ws, peer } = await client(on, { perMessageDeflate: { threshold: 0 } });
      const state = new Promise<[number, Error | undefined]>((resolve) => {
        peer.on('message', () => {
          const readyState = peer.readyState;
          peer.send('reply', (error) => resolve([readyState, error]));
        });
      });
      const reply = nextMessages(ws, 1);
      const closed = once<[number]>(ws, 'close');
      ws.send('request');
      ws.close(1000);
      expect(await withTimeout(state)).toEqual([WebSocket.OPEN, undefined]);
      expect((await reply)[0]!.data.toString()).toBe('reply');
      expect((await closed)[0]).toBe(1000);
    }
  });
});
