/**
 * Deployment features of WebSocketServer (issue 6) over real loopback sockets: `allowedOrigins`
 * (403, RFC 6455 §10.2), `verifyClient` attaching a user, `maxConnections` (503 + Retry-After),
 * `broadcast()` (encoded once, uncompressed to deflate clients, RFC 7692 §6), pub/sub topics and the
 * slow-reader policy (skip, or close with 1013).
 */
import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  HandshakeError,
  InvalidStateError,
  type ServerOptions,
  type UpgradeRequestInfo,
  type VerifyClientInfo,
  WebSocket,
  WebSocketServer,
} from '../../src/index.ts';
import {
  acceptKeyFor,
  cleanupsAfterEach,
  type Listening,
  listen,
  nextConnection,
  nextMessages,
  once,
  pair,
  type RawPeer,
  randomKey,
  rawConnect,
  upgradeRequest,
  WAIT_MS,
  withTimeout,
} from './helpers.ts';

const cleanups = cleanupsAfterEach();

async function start(options: Omit<ServerOptions, 'port'> = {}): Promise<Listening> {
  const listening = await listen(options);
  cleanups.push(() => listening.server.close({ timeout: 200 }));
  return listening;
}

function track<T extends WebSocket | RawPeer>(socket: T): T {
  cleanups.push(() => {
    if (socket instanceof WebSocket) socket.terminate();
    else socket.destroy();
  });
  return socket;
}

/** Sends an upgrade request with the given extra headers and returns the response head. */
async function rawUpgrade(port: number, headers: Record<string, string | null> = {}) {
  const peer = track(await rawConnect(port));
  const key = randomKey();
  peer.write(upgradeRequest({ key, headers }));
  const head = await peer.readHttp();
  return { peer, head, key };
}

/** A client whose handshake fails: resolves with the HandshakeError it reports. */
async function failedConnect(url: string, options: Record<string, unknown> = {}): Promise<HandshakeError> {
  const ws = new WebSocket(url, options);
  const closed = once(ws, 'close');
  const [error] = await once<[Error]>(ws, 'error');
  await closed;
  expect(error).toBeInstanceOf(HandshakeError);
  return error as HandshakeError;
}

describe('allowedOrigins (RFC 6455 §10.2)', () => {
  it('array form: an allowed Origin gets 101, another gets 403 before the upgrade, none is allowed', async () => {
    const { port, server } = await start({ allowedOrigins: ['https://app.example'] });
    let connections = 0;
    server.on('connection', () => connections++);
    const allowed = await rawUpgrade(port, { Origin: 'https://app.example' });
    expect(allowed.head.status).toBe(101);
    expect(allowed.head.headers['sec-websocket-accept']).toBe(acceptKeyFor(allowed.key));
    const refused = await rawUpgrade(port, { Origin: 'https://evil.example' });
    expect(refused.head.status).toBe(403);
    expect(refused.head.headers['sec-websocket-accept']).toBeUndefined();
    await refused.peer.waitEnded();
    // Exact match only: another scheme or port is another origin (RFC 6454).
    expect((await rawUpgrade(port, { Origin: 'http://app.example' })).head.status).toBe(403);
    expect((await rawUpgrade(port, { Origin: 'https://app.example:8443' })).head.status).toBe(403);
    // No Origin (a non-browser client): allowed with the array form.
    expect((await rawUpgrade(port)).head.status).toBe(101);
    expect(connections).toBe(2);
  });

  it('our client: a refused origin is a HandshakeError with status 403', async () => {
    const { url } = await start({ allowedOrigins: ['https://app.example'] });
    const error = await failedConnect(url, { origin: 'https://other.example' });
    expect(error.status).toBe(403);
    expect(error.code).toBe(ErrorCode.UnexpectedResponse);
    const ws = track(new WebSocket(url, { origin: 'https://app.example' }));
    await once(ws, 'open');
  });

  it('function form: receives the origin (undefined when absent) and the request; false → 403', async () => {
    const seen: (string | undefined)[] = [];
    const { port } = await start({
      allowedOrigins: (origin, request) => {
        seen.push(origin);
        expect(request.url).toBe('/');
        return origin?.endsWith('.example') ?? false;
      },
    });
    expect((await rawUpgrade(port, { Origin: 'https://a.example' })).head.status).toBe(101);
    expect((await rawUpgrade(port, { Origin: 'https://a.test' })).head.status).toBe(403);
    // The function says no to a request without Origin.
    expect((await rawUpgrade(port)).head.status).toBe(403);
    expect(seen).toEqual(['https://a.example', 'https://a.test', undefined]);
  });

  it('is checked before verifyClient', async () => {
    let verified = 0;
    const { port } = await start({
      allowedOrigins: ['https://app.example'],
      verifyClient: () => {
        verified++;
        return true;
      },
    });
    expect((await rawUpgrade(port, { Origin: 'https://evil.example' })).head.status).toBe(403);
    expect(verified).toBe(0);
  });
});

describe('verifyClient with a user', () => {
  it('{ accept: true, user } sets ws.user and request.user before "connection"', async () => {
    const { server, url } = await start({
      verifyClient: async (info: VerifyClientInfo) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        const token = info.req.headers.authorization;
        if (token !== 'Bearer alice') return { accept: false, status: 401, reason: 'bad token' };
        return { accept: true, user: { name: 'alice' } };
      },
    });
    const connected = once<[WebSocket, UpgradeRequestInfo]>(server, 'connection');
    const client = track(new WebSocket(url, { headers: { Authorization: 'Bearer alice' } }));
    const [peer, request] = await connected;
    expect(peer.user).toEqual({ name: 'alice' });
    expect(request.user).toEqual({ name: 'alice' });
    await once(client, 'open');
    expect(client.user).toBeUndefined(); // client side: never set

    const error = await failedConnect(url, { headers: { Authorization: 'Bearer mallory' } });
    expect(error.status).toBe(401);
  });

  it('plain true leaves ws.user undefined', async () => {
    const listening = await start({ verifyClient: () => true });
    const { client, peer } = await pair(listening);
    track(client);
    expect(peer.user).toBeUndefined();
  });
});

describe('maxConnections (503 + Retry-After)', () => {
  it('answers 503 with Retry-After (default 5 s) over the limit, and accepts again after a close', async () => {
    const listening = await start({ maxConnections: 2 });
    const a = await pair(listening);
    const b = await pair(listening);
    track(a.client);
    track(b.client);
    const refused = await rawUpgrade(listening.port);
    expect(refused.head.status).toBe(503);
    expect(refused.head.headers['retry-after']).toBe('5');
    const error = await failedConnect(listening.url);
    expect(error.status).toBe(503);
    // One leaves: there is room again.
    const closed = once(a.peer, 'close');
    a.client.close();
    await closed;
    const c = await pair(listening);
    track(c.client);
    expect(listening.server.clients.size).toBe(2);
  });

  it('counts handshakes still being verified, and uses the retryAfter option', async () => {
    let release: (() => void) | undefined;
    const { port } = await start({
      maxConnections: 1,
      retryAfter: 30,
      verifyClient: () => new Promise<boolean>((resolve) => (release = () => resolve(true))),
    });
    const firstPeer = track(await rawConnect(port));
    firstPeer.write(upgradeRequest());
    // Wait until the first request is inside verifyClient.
    await withTimeout(
      (async () => {
        while (release === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
      })(),
    );
    const second = await rawUpgrade(port);
    expect(second.head.status).toBe(503);
    expect(second.head.headers['retry-after']).toBe('30');
    release!();
    expect((await firstPeer.readHttp()).status).toBe(101);
  });

  it('a rejected verifyClient frees its slot', async () => {
    let accept = false;
    const { port } = await start({ maxConnections: 1, verifyClient: () => accept });
    expect((await rawUpgrade(port)).head.status).toBe(401);
    expect((await rawUpgrade(port)).head.status).toBe(401);
    accept = true;
    expect((await rawUpgrade(port)).head.status).toBe(101);
  });

  // Was a plain TypeError; now the typed error every constructor throws for an invalid option.
  it('rejects invalid numeric options with an InvalidOptionError naming the option', async () => {
    const invalid = (option: string) =>
      expect.objectContaining({ name: 'InvalidOptionError', code: ErrorCode.InvalidArgument, option });
    expect(() => new WebSocketServer({ noServer: true, maxConnections: -1 })).toThrow(
      invalid('maxConnections'),
    );
    expect(() => new WebSocketServer({ noServer: true, retryAfter: Number.NaN })).toThrow(
      invalid('retryAfter'),
    );
    expect(() => new WebSocketServer({ noServer: true, maxBufferedAmount: -5 })).toThrow(
      invalid('maxBufferedAmount'),
    );
  });
});

async function clients(listening: Listening, count: number) {
  const pairs: { client: WebSocket; peer: WebSocket }[] = [];
  for (let i = 0; i < count; i++) {
    const p = await pair(listening);
    track(p.client);
    pairs.push(p);
  }
  return pairs;
}

/** Raw client connected and upgraded; returns the raw peer and the server side WebSocket. */
async function rawClient(listening: Listening, headers: Record<string, string | null> = {}) {
  const accepted = nextConnection(listening.server);
  const { peer, head } = await rawUpgrade(listening.port, headers);
  expect(head.status).toBe(101);
  return { raw: peer, head, ws: await accepted };
}

/** Fills the server→client direction of a client that does not read until bufferedAmount > bytes. */
async function makeSlow(ws: WebSocket, raw: RawPeer, bytes: number): Promise<void> {
  raw.socket.pause();
  const chunk = Buffer.alloc(1024 * 1024, 0x61);
  for (let i = 0; i < 256 && ws.bufferedAmount <= bytes; i++) {
    ws.send(chunk);
    await new Promise((resolve) => setImmediate(resolve));
  }
  expect(ws.bufferedAmount).toBeGreaterThan(bytes);
}

describe('server.broadcast()', () => {
  it('sends to every open client, text and binary, except the ones excluded', async () => {
    const listening = await start();
    const [a, b, c] = await clients(listening, 3);
    const received = [a!, b!].map((p) => nextMessages(p.client, 2));
    let cGot = 0;
    c!.client.on('message', () => cGot++);
    expect(listening.server.broadcast('hello', { except: c!.peer })).toEqual({ sent: 2, skipped: 1 });
    expect(listening.server.broadcast(Buffer.from([1, 2, 3]), { except: [c!.peer] })).toEqual({
      sent: 2,
      skipped: 1,
    });
    for (const messages of await Promise.all(received)) {
      expect(messages[0]!.isBinary).toBe(false);
      expect(messages[0]!.data.toString()).toBe('hello');
      expect(messages[1]!.isBinary).toBe(true);
      expect([...messages[1]!.data]).toEqual([1, 2, 3]);
    }
    // binary: true for a string, and an empty except list.
    const all = [a!, b!, c!].map((p) => nextMessages(p.client, 1));
    expect(listening.server.broadcast('as bytes', { binary: true, except: [] })).toEqual({
      sent: 3,
      skipped: 0,
    });
    for (const [message] of await Promise.all(all)) expect(message!.isBinary).toBe(true);
    expect(cGot).toBe(1);
  });

  it('large payloads: the same bytes to every client, in order with send()', async () => {
    const listening = await start();
    const pairs = await clients(listening, 2);
    const big = Buffer.alloc(200_000, 7);
    const received = pairs.map((p) => nextMessages(p.client, 3));
    for (const p of pairs) p.peer.send('before');
    listening.server.broadcast(big);
    for (const p of pairs) p.peer.send('after');
    for (const messages of await Promise.all(received)) {
      expect(messages.map((m) => m.data.length)).toEqual([6, 200_000, 5]);
      expect(messages[1]!.data.equals(big)).toBe(true);
    }
  });

  it('goes uncompressed (RSV1 clear) to a client that negotiated permessage-deflate (RFC 7692 §6)', async () => {
    const listening = await start({ perMessageDeflate: { threshold: 0 } });
    const { raw, head, ws } = await rawClient(listening, {
      'Sec-WebSocket-Extensions': 'permessage-deflate',
    });
    expect(head.headers['sec-websocket-extensions']).toContain('permessage-deflate');
    const text = 'x'.repeat(1000);
    expect(listening.server.broadcast(text)).toEqual({ sent: 1, skipped: 0 });
    const frame = await raw.readFrame();
    expect(frame.rsv).toBe(0);
    expect(frame.opcode).toBe(0x1);
    expect(frame.masked).toBe(false);
    expect(frame.payload.toString()).toBe(text);
    // A plain send() on the same connection is compressed (threshold 0): RSV1 set.
    ws.send(text);
    expect((await raw.readFrame()).rsv).toBe(4);
  });

  it('our deflate client receives broadcasts interleaved with compressed messages, in order', async () => {
    const listening = await start({ perMessageDeflate: { threshold: 0 } });
    const { client, peer } = await pair(listening);
    track(client);
    expect(peer.extensions).toContain('permessage-deflate');
    const received = nextMessages(client, 4);
    peer.send('one'); // compressed, goes through the ordered outbox
    listening.server.broadcast('two');
    peer.send('three');
    listening.server.broadcast('four');
    expect((await received).map((m) => m.data.toString())).toEqual(['one', 'two', 'three', 'four']);
  });

  it('skips clients that are closing or in the middle of a fragmented message', async () => {
    const listening = await start();
    const [a, b, c] = await clients(listening, 3);
    a!.peer.send('part', { fin: false });
    b!.peer.close(4000);
    const got = nextMessages(c!.client, 1);
    expect(listening.server.broadcast('x')).toEqual({ sent: 1, skipped: 2 });
    await got;
    a!.peer.send('end', { fin: true });
    const [whole] = await nextMessages(a!.client, 1);
    expect(whole!.data.toString()).toBe('partend');
  });

  it('throws InvalidStateError with clientTracking: false, and for data of a bad type', async () => {
    const { server } = await start({ clientTracking: false });
    expect(() => server.broadcast('x')).toThrow(InvalidStateError);
    const tracked = await start();
    expect(() => tracked.server.broadcast({ not: 'data' } as unknown as string)).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidArgument }),
    );
  });
});

describe('slow readers (maxBufferedAmount, slowReaderPolicy)', () => {
  it("'drop' (default) skips a client whose bufferedAmount is over the limit", async () => {
    const listening = await start({ maxBufferedAmount: 64 * 1024 });
    const slow = await rawClient(listening);
    const [fast] = await clients(listening, 1);
    await makeSlow(slow.ws, slow.raw, 64 * 1024);
    const got = nextMessages(fast!.client, 1);
    expect(listening.server.broadcast('tick')).toEqual({ sent: 1, skipped: 1 });
    await got;
    expect(slow.ws.readyState).toBe(WebSocket.OPEN);
    // The per-call option overrides the server's.
    expect(listening.server.broadcast('tick', { maxBufferedAmount: Number.POSITIVE_INFINITY })).toEqual({
      sent: 2,
      skipped: 0,
    });
  });

  it("'close' closes a slow reader with 1013 Try Again Later", async () => {
    const listening = await start({ maxBufferedAmount: 64 * 1024, slowReaderPolicy: 'close' });
    const slow = await rawClient(listening);
    const [fast] = await clients(listening, 1);
    await makeSlow(slow.ws, slow.raw, 64 * 1024);
    fast!.peer.subscribe('news');
    slow.ws.subscribe('news');
    expect(listening.server.publish('news', 'tick')).toEqual({ sent: 1, skipped: 1 });
    expect(slow.ws.readyState).toBe(WebSocket.CLOSING);
    // Once the slow client reads again, it finds the Close frame after what was queued.
    slow.raw.socket.resume();
    const close = await slow.raw.readCloseFrame(WAIT_MS * 2);
    expect(close.closeCode).toBe(1013);
    expect(fast!.client.readyState).toBe(WebSocket.OPEN);
  });
});

describe('pub/sub topics', () => {
  it('subscribe / unsubscribe / isSubscribed, publish reaches subscribers only', async () => {
    const listening = await start();
    const [a, b, c] = await clients(listening, 3);
    expect(a!.peer.subscribe('chat')).toBe(true);
    expect(a!.peer.subscribe('chat')).toBe(false); // already
    expect(b!.peer.subscribe('chat')).toBe(true);
    expect(c!.peer.subscribe('other')).toBe(true);
    expect(a!.peer.isSubscribed('chat')).toBe(true);
    expect(c!.peer.isSubscribed('chat')).toBe(false);
    expect(listening.server.subscriberCount('chat')).toBe(2);
    let cGot = 0;
    c!.client.on('message', () => cGot++);
    const received = [a!, b!].map((p) => nextMessages(p.client, 1));
    expect(listening.server.publish('chat', 'hi all')).toEqual({ sent: 2, skipped: 0 });
    for (const [message] of await Promise.all(received)) expect(message!.data.toString()).toBe('hi all');
    // A sender excluding itself.
    const bGot = nextMessages(b!.client, 1);
    expect(listening.server.publish('chat', Buffer.from('from a'), { except: a!.peer })).toEqual({
      sent: 1,
      skipped: 1,
    });
    expect((await bGot)[0]!.isBinary).toBe(true);
    expect(b!.peer.unsubscribe('chat')).toBe(true);
    expect(b!.peer.unsubscribe('chat')).toBe(false);
    expect(b!.peer.isSubscribed('chat')).toBe(false);
    expect(listening.server.publish('nobody-here', 'x')).toEqual({ sent: 0, skipped: 0 });
    expect(cGot).toBe(0);
  });

  it('subscriptions are dropped on close, and a closed socket cannot subscribe', async () => {
    const listening = await start();
    const [a, b] = await clients(listening, 2);
    a!.peer.subscribe('t1');
    a!.peer.subscribe('t2');
    b!.peer.subscribe('t1');
    const closed = once(a!.peer, 'close');
    a!.client.close();
    await closed;
    expect(listening.server.subscriberCount('t1')).toBe(1);
    expect(listening.server.subscriberCount('t2')).toBe(0);
    expect(a!.peer.isSubscribed('t1')).toBe(false);
    expect(a!.peer.subscribe('t3')).toBe(false);
    expect(listening.server.subscriberCount('t3')).toBe(0);
    expect(listening.server.publish('t1', 'x')).toEqual({ sent: 1, skipped: 0 });
  });

  it('a client-side WebSocket throws InvalidStateError on subscribe()', async () => {
    const listening = await start();
    const [a] = await clients(listening, 1);
    expect(() => a!.client.subscribe('t')).toThrow(InvalidStateError);
    expect(() => a!.client.isSubscribed('t')).toThrow(InvalidStateError);
    expect(() => a!.client.unsubscribe('t')).toThrow(InvalidStateError);
  });

  it('many subscribe/close cycles leave no empty topic behind', async () => {
    const listening = await start();
    for (let i = 0; i < 5; i++) {
      const [p] = await clients(listening, 1);
      p!.peer.subscribe(`room-${i}`);
      const closed = once(p!.peer, 'close');
      p!.client.close();
      await closed;
    }
    for (let i = 0; i < 5; i++) expect(listening.server.subscriberCount(`room-${i}`)).toBe(0);
  });
});
