/**
 * `createWebSocketStream(ws, options)`: a `stream.Duplex` over a WebSocket, as `ws` exports it.
 * Everything goes through the public API over loopback: messages in and out, backpressure both
 * ways, the closing handshake behind `end()`, `destroy()`, and errors from either side.
 */
import { once as onceEvent } from 'node:events';
import { Duplex, pipeline, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import WebSocketDefault, {
  createWebSocketStream,
  HandshakeError,
  InvalidStateError,
  WebSocket,
  WebSocketError,
} from '../../src/index.ts';
import {
  cleanupsAfterEach,
  closeQuietly,
  type Listening,
  listen,
  nextConnection,
  once,
  type ParsedFrame,
  pair,
  rawServer,
  WAIT_MS,
  withTimeout,
} from './helpers.ts';

const cleanups = cleanupsAfterEach();

async function server(options: Parameters<typeof listen>[0] = {}): Promise<Listening> {
  const listening = await listen(options);
  cleanups.push(() => listening.server.close({ timeout: 200 }));
  return listening;
}

/** A client and its server-side peer, both open; the client is terminated after the test. */
async function openPair(listening: Listening): Promise<{ client: WebSocket; peer: WebSocket }> {
  const both = await pair(listening);
  cleanups.push(() => closeQuietly(both.client));
  return both;
}

/** Records the names of `events` on `emitter`, in order. */
function record(emitter: Duplex, events: readonly string[]): string[] {
  const seen: string[] = [];
  for (const event of events) emitter.on(event, () => seen.push(event));
  return seen;
}

/** Reads chunks until `done(chunks)` holds (then the Duplex is destroyed), within WAIT_MS. */
async function readUntil<T>(duplex: Duplex, done: (chunks: T[]) => boolean): Promise<T[]> {
  const chunks: T[] = [];
  const reading = (async () => {
    for await (const chunk of duplex) {
      chunks.push(chunk as T);
      if (done(chunks)) break;
    }
  })();
  await withTimeout(reading, WAIT_MS, `chunks from the Duplex (${chunks.length} so far)`);
  return chunks;
}

describe('createWebSocketStream: the export', () => {
  it('is a named export and a static of the default export, as in ws', () => {
    expect(WebSocketDefault.createWebSocketStream).toBe(createWebSocketStream);
  });

  it('returns a Duplex even before the WebSocket has a connection', () => {
    const ws = new WebSocket();
    expect(createWebSocketStream(ws)).toBeInstanceOf(Duplex);
  });

  it('forces a byte-stream writable side and keeps the readable options given', () => {
    const duplex = createWebSocketStream(new WebSocket(), {
      objectMode: true,
      readableObjectMode: true,
      readableHighWaterMark: 3,
    });
    expect(duplex.writableObjectMode).toBe(false);
    expect(duplex.readableObjectMode).toBe(true);
    expect(duplex.readableHighWaterMark).toBe(3);
  });
});

describe('createWebSocketStream: data', () => {
  it('writes become binary messages, and messages are read as Buffers', async () => {
    const listening = await server();
    const { client, peer } = await openPair(listening);
    const duplex = createWebSocketStream(client);
    const received = once<[Buffer, boolean]>(peer, 'message');
    duplex.write('hello');
    const [data, isBinary] = await received;
    expect(data.toString()).toBe('hello');
    expect(isBinary).toBe(true);

    // A byte stream: message boundaries are not kept (see readableObjectMode below).
    peer.send('text');
    peer.send(Buffer.from([1, 2, 3]));
    const chunks = await readUntil<Buffer>(duplex, (read) => Buffer.concat(read).length === 7);
    expect(Buffer.concat(chunks)).toEqual(Buffer.from([...Buffer.from('text'), 1, 2, 3]));
  });

  it('readableObjectMode gives one chunk per message: a string for text, a Buffer for binary', async () => {
    const listening = await server();
    const { client, peer } = await openPair(listening);
    const duplex = createWebSocketStream(client, { readableObjectMode: true });
    peer.send('a');
    peer.send('b');
    peer.send(Buffer.from('c'));
    const chunks = await readUntil<unknown>(duplex, (read) => read.length === 3);
    expect(chunks).toEqual(['a', 'b', Buffer.from('c')]);
  });

  it('passes the options to the Duplex: encoding, allowHalfOpen', async () => {
    const listening = await server();
    listening.server.on('connection', (ws: WebSocket) => {
      ws.send(Buffer.from('hi'));
      ws.close();
    });
    const client = new WebSocket(listening.url);
    cleanups.push(() => closeQuietly(client));
    const duplex = createWebSocketStream(client, { encoding: 'utf8', allowHalfOpen: false });
    const [chunk] = await once<[unknown]>(duplex, 'data');
    expect(chunk).toBe('hi');
    // allowHalfOpen false: the end of the readable side ends the writable side too, then 'close'.
    await once(duplex, 'close');
    expect(duplex.writableFinished).toBe(true);
  });

  it('writes made while CONNECTING wait for the open connection', async () => {
    const listening = await server();
    const accepted = nextConnection(listening.server);
    const client = new WebSocket(listening.url);
    cleanups.push(() => closeQuietly(client));
    expect(client.readyState).toBe(WebSocket.CONNECTING);
    const duplex = createWebSocketStream(client);
    const written = new Promise<Error | null | undefined>((resolve) => duplex.write('early', resolve));
    const peer = await accepted;
    const [data] = await once<[Buffer]>(peer, 'message');
    expect(data.toString()).toBe('early');
    expect(await withTimeout(written)).toBeFalsy();
  });

  it('pipes: what one side writes, the other side reads, in order', async () => {
    const listening = await server();
    const { client, peer } = await openPair(listening);
    const clientStream = createWebSocketStream(client);
    const peerStream = createWebSocketStream(peer);
    const chunks = Array.from({ length: 50 }, (_, i) => Buffer.alloc(1000 + i, i));
    const received: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        received.push(chunk);
        callback();
      },
    });
    const piped = new Promise<void>((resolve, reject) =>
      pipeline(peerStream, sink, (error) => (error ? reject(error) : resolve())),
    );
    for (const chunk of chunks) clientStream.write(chunk);
    clientStream.end();
    await withTimeout(piped, WAIT_MS, 'the pipeline');
    expect(Buffer.concat(received)).toEqual(Buffer.concat(chunks));
  });
});

describe('createWebSocketStream: backpressure', () => {
  it('pauses the WebSocket while the readable buffer is full, and resumes it when read', async () => {
    const listening = await server();
    const { client, peer } = await openPair(listening);
    // One chunk per message, so the test can count them; the high-water mark counts messages then.
    const duplex = createWebSocketStream(client, { readableObjectMode: true, readableHighWaterMark: 4 });
    const count = 64;
    // 1 MiB in all: more than one read from the socket, so pausing leaves messages in TCP.
    for (let i = 0; i < count; i++) peer.send(Buffer.alloc(16 * 1024, i));
    // Nobody reads: once more than the high-water mark is buffered, the WebSocket stops reading.
    await withTimeout(
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (client.isPaused) resolve();
          else setImmediate(check);
        };
        check();
      }),
      WAIT_MS,
      'the WebSocket to pause',
    );
    expect(duplex.readableLength).toBeGreaterThanOrEqual(4);
    expect(duplex.readableLength).toBeLessThan(count);
    const received = await readUntil<Buffer>(duplex, (read) => read.length === count);
    expect(received.map((chunk) => chunk[0])).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(client.isPaused).toBe(false);
  });

  it("a write's callback waits for the send's callback, so the Duplex buffers behind a slow socket", async () => {
    const listening = await server();
    const { client, peer } = await openPair(listening);
    const sendCallbacks: ((error?: Error) => void)[] = [];
    const send = client.send.bind(client);
    client.send = ((data: Buffer, callback: (error?: Error) => void) =>
      send(data, (error) => sendCallbacks.push(() => callback(error)))) as typeof client.send;
    const duplex = createWebSocketStream(client, { highWaterMark: 2 });
    let written = 0;
    duplex.write('ab', () => written++);
    expect(duplex.write('cd', () => written++)).toBe(false); // 4 bytes held: over the high-water mark
    const [first] = await once<[Buffer]>(peer, 'message');
    expect(first.toString()).toBe('ab');
    await withTimeout(
      new Promise<void>((resolve) => {
        const check = (): void => (sendCallbacks.length > 0 ? resolve() : void setImmediate(check));
        check();
      }),
    );
    expect(written).toBe(0); // sent, but the send's callback has not run yet
    sendCallbacks.shift()!();
    expect(written).toBe(1);
    const drained = once(duplex, 'drain');
    const [second] = await once<[Buffer]>(peer, 'message');
    expect(second.toString()).toBe('cd');
    await withTimeout(
      new Promise<void>((resolve) => {
        const check = (): void => (sendCallbacks.length > 0 ? resolve() : void setImmediate(check));
        check();
      }),
    );
    sendCallbacks.shift()!();
    await drained;
    expect(written).toBe(2);
  });

  it('a peer that does not read holds the writer back, and gets every byte once it reads', async () => {
    const listening = await server();
    const { client, peer } = await openPair(listening);
    peer.pause();
    const duplex = createWebSocketStream(client);
    const chunk = Buffer.alloc(64 * 1024, 7);
    const total = 256; // 16 MiB: more than loopback socket buffers hold
    let received = 0;
    peer.on('message', (data: Buffer) => {
      received += data.length;
    });
    let refusals = 0;
    for (let i = 0; i < total; i++) if (!duplex.write(chunk)) refusals++;
    expect(refusals).toBeGreaterThan(0);
    const finished = onceEvent(duplex, 'finish');
    duplex.end();
    peer.resume();
    await withTimeout(finished, WAIT_MS, "the Duplex's 'finish'");
    await withTimeout(
      new Promise<void>((resolve) => {
        const check = (): void => (received === total * chunk.length ? resolve() : void setTimeout(check, 5));
        check();
      }),
      WAIT_MS,
      'every byte at the peer',
    );
  });
});

describe('createWebSocketStream: closing', () => {
  it('end() sends a Close frame (code 1005 at the peer) and the Duplex closes after the handshake', async () => {
    const listening = await server();
    const { client, peer } = await openPair(listening);
    const duplex = createWebSocketStream(client);
    const events = record(duplex, ['finish', 'end', 'close']);
    const peerClosed = once<[number, Buffer]>(peer, 'close');
    const closed = once(duplex, 'close');
    duplex.resume();
    duplex.end();
    const [code] = await peerClosed;
    expect(code).toBe(1005);
    await closed;
    expect(events).toEqual(['finish', 'end', 'close']);
    expect(client.readyState).toBe(WebSocket.CLOSED);
    expect(duplex.destroyed).toBe(true);
  });

  it('reading again while CLOSING resumes the paused WebSocket, so the closing handshake completes', async () => {
    const listening = await server();
    const { client, peer } = await openPair(listening);
    const duplex = createWebSocketStream(client, { readableHighWaterMark: 1024 });
    peer.send(Buffer.alloc(16 * 1024));
    await once(client, 'message');
    expect(client.isPaused).toBe(true); // the readable buffer is over its high-water mark
    const closed = once(duplex, 'close');
    duplex.end();
    expect(client.readyState).toBe(WebSocket.CLOSING);
    // The peer's Close answer is only read once the WebSocket reads again.
    duplex.resume();
    await closed;
    expect(client.readyState).toBe(WebSocket.CLOSED);
  });

  it('end() while CONNECTING closes once open', async () => {
    const listening = await server();
    const accepted = nextConnection(listening.server);
    const client = new WebSocket(listening.url);
    cleanups.push(() => closeQuietly(client));
    const duplex = createWebSocketStream(client);
    const closed = once(duplex, 'close');
    duplex.resume();
    duplex.end();
    const peer = await accepted;
    const [code] = await once<[number, Buffer]>(peer, 'close');
    expect(code).toBe(1005);
    await closed;
  });

  it('end() against a peer that never answers the Close finishes and closes at the close timeout', async () => {
    const raw = await rawServer(() => {
      // Completes the handshake, then ignores everything (no Close answer, no TCP close).
    });
    cleanups.push(() => raw.close());
    const client = new WebSocket(raw.url, { closeTimeout: 100 });
    cleanups.push(() => closeQuietly(client));
    const duplex = createWebSocketStream(client);
    const events = record(duplex, ['finish', 'end', 'close']);
    const closed = once(duplex, 'close');
    duplex.resume();
    duplex.end();
    const [code] = await once<[number, Buffer]>(client, 'close');
    expect(code).toBe(1006);
    await closed;
    // ws never calls back its _final here (its socket is destroyed, never 'finish'ed): no 'close' there.
    expect(events).toEqual(['finish', 'end', 'close']);
  });

  it("the peer's Close ends the readable side; with allowHalfOpen the Duplex waits for end()", async () => {
    const listening = await server();
    const { client, peer } = await openPair(listening);
    const duplex = createWebSocketStream(client);
    const events = record(duplex, ['end', 'finish', 'close']);
    peer.send('last');
    peer.close(4000);
    const chunks: Buffer[] = [];
    duplex.on('data', (chunk: Buffer) => chunks.push(chunk));
    await once(duplex, 'end');
    expect(chunks.map(String)).toEqual(['last']);
    expect(duplex.destroyed).toBe(false);
    expect(duplex.writable).toBe(true);
    duplex.end();
    await once(duplex, 'close');
    expect(events).toEqual(['end', 'finish', 'close']);
  });

  it('end() after the WebSocket closed finishes at once; reading to the end then destroys', async () => {
    const listening = await server();
    const { client, peer } = await openPair(listening);
    const duplex = createWebSocketStream(client);
    const events = record(duplex, ['finish', 'end', 'close']);
    peer.send('bye');
    peer.close();
    await once(client, 'close');
    expect(duplex.destroyed).toBe(false);
    duplex.end();
    await once(duplex, 'finish');
    expect(duplex.destroyed).toBe(false); // the message is still to be read
    duplex.resume();
    await once(duplex, 'close');
    expect(events).toEqual(['finish', 'end', 'close']);
  });

  it('destroy() terminates the connection (1006 at the peer) and emits close after the socket is gone', async () => {
    const listening = await server();
    const { client, peer } = await openPair(listening);
    const duplex = createWebSocketStream(client);
    const events = record(duplex, ['error', 'close']);
    const peerClosed = once<[number, Buffer]>(peer, 'close');
    const closed = once(duplex, 'close');
    duplex.destroy();
    const [code] = await peerClosed;
    expect(code).toBe(1006);
    await closed;
    expect(client.readyState).toBe(WebSocket.CLOSED);
    expect(events).toEqual(['close']);
  });

  it('destroy(error) emits that error, then close', async () => {
    const listening = await server();
    const { client } = await openPair(listening);
    const duplex = createWebSocketStream(client);
    const error = new Error('stop');
    const errored = once<[Error]>(duplex, 'error');
    const closed = once(duplex, 'close');
    duplex.destroy(error);
    const [emitted] = await errored;
    expect(emitted).toBe(error);
    await closed;
  });

  it('destroy() of a closed WebSocket emits close on the next tick', async () => {
    const listening = await server();
    const { client } = await openPair(listening);
    const duplex = createWebSocketStream(client);
    client.terminate();
    await once(client, 'close');
    duplex.destroy();
    expect(duplex.listenerCount('close')).toBe(0);
    await once(duplex, 'close');
  });

  it('destroy() while CONNECTING aborts the handshake and reports it', async () => {
    const listening = await server();
    const client = new WebSocket(listening.url);
    cleanups.push(() => closeQuietly(client));
    const duplex = createWebSocketStream(client);
    const errored = once<[Error]>(duplex, 'error');
    const closed = once(duplex, 'close');
    duplex.destroy();
    const [error] = await errored;
    expect(error).toBeInstanceOf(WebSocketError); // the WebSocket's own report of the aborted attempt
    await closed;
    expect(client.readyState).toBe(WebSocket.CLOSED);
  });
});

describe('createWebSocketStream: errors', () => {
  it('a write after the WebSocket closed errors and destroys the Duplex', async () => {
    const listening = await server();
    const { client, peer } = await openPair(listening);
    const duplex = createWebSocketStream(client);
    peer.close();
    await once(client, 'close');
    const errored = once<[Error]>(duplex, 'error');
    const closed = once(duplex, 'close');
    duplex.write('too late');
    const [error] = await errored;
    expect(error).toBeInstanceOf(InvalidStateError);
    expect(error.message).toBe('WebSocket is not open: readyState 3 (CLOSED)');
    expect(duplex.destroyed).toBe(true);
    await closed;
  });

  it('a write while CLOSING errors with the state, and the closing handshake still completes', async () => {
    const listening = await server();
    const { client, peer } = await openPair(listening);
    const duplex = createWebSocketStream(client);
    const peerClosed = once<[number, Buffer]>(peer, 'close');
    const closed = once(duplex, 'close');
    client.close(4001);
    const errored = once<[Error]>(duplex, 'error');
    duplex.write('after close()');
    const [error] = await errored;
    expect(error.message).toBe('WebSocket is not open: readyState 2 (CLOSING)');
    expect(duplex.destroyed).toBe(true);
    const [code] = await peerClosed;
    expect(code).toBe(4001); // not cut to 1006: the Close frame already left
    await closed;
  });

  it("a protocol error of the peer is re-emitted, and the WebSocket's Close frame still leaves (1002)", async () => {
    let closeFrame: Promise<ParsedFrame> | undefined;
    const raw = await rawServer((peer) => {
      peer.write(Buffer.from([0x83, 0x00])); // a reserved opcode (§5.2): the client fails (§7.1.7)
      closeFrame = peer.readCloseFrame();
    });
    cleanups.push(() => raw.close());
    const client = new WebSocket(raw.url);
    cleanups.push(() => closeQuietly(client));
    const duplex = createWebSocketStream(client);
    const closed = once(duplex, 'close');
    const [error] = await once<[Error]>(duplex, 'error');
    expect(error.message).toMatch(/opcode/i);
    const frame = await closeFrame!;
    expect(frame.payload.readUInt16BE(0)).toBe(1002);
    await closed;
  });

  it('the handshake failing errors the Duplex; pending writes and end() never report success', async () => {
    const listening = await server({ verifyClient: () => false });
    const client = new WebSocket(listening.url);
    cleanups.push(() => closeQuietly(client));
    const duplex = createWebSocketStream(client);
    const events = record(duplex, ['finish', 'close']);
    let writeCalledBack = false;
    duplex.write('never sent', () => {
      writeCalledBack = true;
    });
    duplex.end();
    const closed = once(duplex, 'close');
    const [error] = await once<[Error]>(duplex, 'error');
    expect(error).toBeInstanceOf(HandshakeError);
    expect((error as HandshakeError).status).toBe(401);
    await closed;
    expect(events).toEqual(['close']);
    expect(writeCalledBack).toBe(false);
  });

  it('an error without a listener on the Duplex is thrown, as an unhandled stream error is', async () => {
    const raw = await rawServer((peer) => {
      peer.write(Buffer.from([0x83, 0x00])); // a reserved opcode (§5.2)
    });
    cleanups.push(() => raw.close());
    const client = new WebSocket(`ws://127.0.0.1:${raw.port}`);
    cleanups.push(() => closeQuietly(client));
    const previous = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    try {
      const uncaught = new Promise<Error>((resolve) => process.once('uncaughtException', resolve));
      createWebSocketStream(client);
      const error = await withTimeout(uncaught, WAIT_MS, 'the uncaught error');
      expect(error.message).toMatch(/opcode/i);
    } finally {
      process.removeAllListeners('uncaughtException');
      for (const listener of previous) process.on('uncaughtException', listener);
    }
  });
});
