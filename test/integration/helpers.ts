/**
 * Helpers for integration tests over real loopback sockets: start a server on port 0, wait for an
 * event with a bounded timeout, and talk raw bytes (hand-made handshakes and frames) to either end.
 *
 * The frame encoder and parser here are deliberately independent of src/frame, so that a bug there
 * cannot hide itself: they can also build frames the library would refuse to (reserved opcodes, RSV
 * bits, oversized control frames, unmasked client frames).
 */
import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { createServer as createNetServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { afterEach } from 'vitest';
import { type ServerOptions, WebSocket, WebSocketServer } from '../../src/index.ts';
import { sha1 } from '../helpers/bytes.ts';

export const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Default bound for every wait, in ms: generous, so no test depends on the machine's speed. */
export const WAIT_MS = 5000;

export function acceptKeyFor(key: string): string {
  return Buffer.from(sha1(key + WS_GUID)).toString('base64');
}

/** Waits for `event` on `emitter`, resolving with its arguments, or rejects after `timeoutMs`. */
export function once<T extends unknown[] = unknown[]>(
  emitter: EventEmitter,
  event: string,
  timeoutMs: number = WAIT_MS,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const listener = (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args as T);
    };
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for '${event}'`));
    }, timeoutMs);
    emitter.once(event, listener);
  });
}

/** Rejects after `timeoutMs` unless `promise` settles first. */
export function withTimeout<T>(
  promise: Promise<T>,
  timeoutMs: number = WAIT_MS,
  what = 'promise',
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms: ${what}`)), timeoutMs);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * What to undo after each test of the file: push a cleanup (close a server, a client…) as you start
 * something; after the test they run last first, each bounded by {@link WAIT_MS}.
 */
export function cleanupsAfterEach(): (() => unknown)[] {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse())
      await withTimeout(Promise.resolve(cleanup()), WAIT_MS);
  });
  return cleanups;
}

export interface Listening {
  readonly server: WebSocketServer;
  readonly port: number;
  readonly url: string;
}

/** Starts a standalone WebSocketServer on 127.0.0.1 (or `host`), port 0. */
export async function listen(options: Omit<ServerOptions, 'port'> = {}): Promise<Listening> {
  const host = options.host ?? '127.0.0.1';
  const server = new WebSocketServer({ ...options, host, port: 0 });
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const scheme = options.tls === undefined ? 'ws' : 'wss';
  return { server, port: address.port, url: `${scheme}://${hostPart}:${address.port}` };
}

/** Connects a client and waits for 'open'. */
export async function connectOpen(url: string, ...rest: unknown[]): Promise<WebSocket> {
  const ws = new (WebSocket as unknown as new (...args: unknown[]) => WebSocket)(url, ...rest);
  await once(ws, 'open');
  return ws;
}

/** Waits for a server's next 'connection'. */
export async function nextConnection(server: WebSocketServer): Promise<WebSocket> {
  const [ws] = await once<[WebSocket]>(server, 'connection');
  return ws;
}

/** Connects a client and returns both ends once open. */
export async function pair(
  listening: Listening,
  ...rest: unknown[]
): Promise<{ client: WebSocket; peer: WebSocket }> {
  const accepted = nextConnection(listening.server);
  const client = await connectOpen(listening.url, ...rest);
  const peer = await accepted;
  return { client, peer };
}

/** Closes a client (if not closed) and waits for its 'close'. */
export async function closeQuietly(ws: WebSocket | undefined): Promise<void> {
  if (ws === undefined || ws.readyState === WebSocket.CLOSED) return;
  const closed = once(ws, 'close', WAIT_MS).catch(() => undefined);
  ws.terminate();
  await closed;
}

// --- raw frames --------------------------------------------------------------------------------

export interface RawFrameOptions {
  readonly fin?: boolean;
  /** RSV bits as a 3-bit number: 4 = RSV1, 2 = RSV2, 1 = RSV3. */
  readonly rsv?: number;
  /** Masking key; `null` sends the frame unmasked. Default: a fixed key. */
  readonly maskKey?: Uint8Array | null;
  /** Override the declared payload length (e.g. to claim 126 bytes for a ping). */
  readonly declaredLength?: number;
}

const DEFAULT_MASK = Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);

/** Builds one frame by hand (masked, as a client sends, unless `maskKey: null`). */
export function encodeMaskedFrame(
  opcode: number,
  payload: Uint8Array | string = new Uint8Array(0),
  options: RawFrameOptions = {},
): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload);
  const fin = options.fin ?? true;
  const rsv = options.rsv ?? 0;
  const maskKey = options.maskKey === undefined ? DEFAULT_MASK : options.maskKey;
  const length = options.declaredLength ?? data.length;
  const parts: number[] = [(fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0f)];
  const maskBit = maskKey === null ? 0 : 0x80;
  if (length <= 125) {
    parts.push(maskBit | length);
  } else if (length <= 0xffff) {
    parts.push(maskBit | 126, length >>> 8, length & 0xff);
  } else {
    const high = Math.floor(length / 0x100000000);
    const low = length >>> 0;
    parts.push(maskBit | 127);
    for (const word of [high, low])
      parts.push(word >>> 24, (word >>> 16) & 0xff, (word >>> 8) & 0xff, word & 0xff);
  }
  if (maskKey !== null) parts.push(...maskKey);
  const body = Buffer.from(data);
  if (maskKey !== null) for (let i = 0; i < body.length; i++) body[i] = body[i]! ^ maskKey[i % 4]!;
  return Buffer.concat([Buffer.from(parts), body]);
}

/** A close frame payload: 2-byte code then the reason bytes. */
export function closePayload(code: number, reason: Uint8Array | string = ''): Buffer {
  const head = Buffer.alloc(2);
  head.writeUInt16BE(code);
  return Buffer.concat([head, typeof reason === 'string' ? Buffer.from(reason) : Buffer.from(reason)]);
}

export interface ParsedFrame {
  readonly fin: boolean;
  readonly rsv: number;
  readonly opcode: number;
  readonly masked: boolean;
  readonly payload: Buffer;
  /** For Close frames: the status code, or undefined without one. */
  readonly closeCode: number | undefined;
  readonly closeReason: string;
}

/** Parses one frame from the front of `buffer`; returns null until it is complete. */
export function parseFrame(buffer: Buffer): { frame: ParsedFrame; size: number } | null {
  if (buffer.length < 2) return null;
  const b0 = buffer[0]!;
  const b1 = buffer[1]!;
  let at = 2;
  let length = b1 & 0x7f;
  if (length === 126) {
    if (buffer.length < 4) return null;
    length = buffer.readUInt16BE(2);
    at = 4;
  } else if (length === 127) {
    if (buffer.length < 10) return null;
    length = Number(buffer.readBigUInt64BE(2));
    at = 10;
  }
  const masked = (b1 & 0x80) !== 0;
  let maskKey: Buffer | null = null;
  if (masked) {
    if (buffer.length < at + 4) return null;
    maskKey = buffer.subarray(at, at + 4);
    at += 4;
  }
  if (buffer.length < at + length) return null;
  const payload = Buffer.from(buffer.subarray(at, at + length));
  if (maskKey !== null) for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ maskKey[i % 4]!;
  const opcode = b0 & 0x0f;
  const isClose = opcode === 0x8;
  return {
    frame: {
      fin: (b0 & 0x80) !== 0,
      rsv: (b0 >>> 4) & 7,
      opcode,
      masked,
      payload,
      closeCode: isClose && payload.length >= 2 ? payload.readUInt16BE(0) : undefined,
      closeReason: isClose && payload.length > 2 ? payload.subarray(2).toString('utf8') : '',
    },
    size: at + length,
  };
}

// --- raw peer ----------------------------------------------------------------------------------

export interface HttpHead {
  readonly statusLine: string;
  readonly status: number;
  /** Lowercase names; repeated fields joined with ', '. */
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * A raw TCP peer that buffers everything it receives, so a test can read an HTTP head, frames, or
 * wait for the connection to end, each with a bounded wait.
 */
export class RawPeer {
  readonly socket: Socket;
  #buffer = Buffer.alloc(0);
  #ended = false;
  #closed = false;
  #waiters: (() => void)[] = [];

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#wake();
    });
    socket.on('end', () => {
      this.#ended = true;
      this.#wake();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#ended = true;
      this.#wake();
    });
    socket.on('error', () => {
      // a reset shows up as 'close'
    });
  }

  get buffered(): Buffer {
    return this.#buffer;
  }
  /** True once the peer ended its side (FIN) or the socket closed. */
  get ended(): boolean {
    return this.#ended;
  }
  get closed(): boolean {
    return this.#closed;
  }

  write(data: Uint8Array | string): void {
    this.socket.write(data);
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** Waits until `check()` returns a value (not undefined), re-checking whenever bytes arrive. */
  async waitFor<T>(check: () => T | undefined, what: string, timeoutMs: number = WAIT_MS): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const value = check();
      if (value !== undefined) return value;
      if (this.#closed) throw new Error(`connection closed while waiting for ${what}`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Reads an HTTP response (or request) head and, when Content-Length is given, its body. */
  async readHttp(timeoutMs: number = WAIT_MS): Promise<HttpHead> {
    const end = await this.waitFor(
      () => {
        const at = this.#buffer.indexOf('\r\n\r\n');
        return at === -1 ? (this.#ended ? -1 : undefined) : at;
      },
      'an HTTP head',
      timeoutMs,
    ).catch((error: unknown) => {
      const at = this.#buffer.indexOf('\r\n\r\n');
      if (at !== -1) return at;
      throw error;
    });
    if (end === -1)
      throw new Error(`connection ended before an HTTP head: ${this.#buffer.toString('latin1')}`);
    const headText = this.#buffer.subarray(0, end).toString('latin1');
    this.#buffer = this.#buffer.subarray(end + 4);
    const [statusLine = '', ...lines] = headText.split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    let body = '';
    const contentLength = headers['content-length'];
    if (contentLength !== undefined) {
      const length = Number(contentLength);
      await this.waitFor(
        () => (this.#buffer.length >= length || this.#ended ? true : undefined),
        'the body',
        timeoutMs,
      ).catch(() => undefined);
      body = this.#buffer.subarray(0, length).toString('utf8');
      this.#buffer = this.#buffer.subarray(Math.min(length, this.#buffer.length));
    }
    const status = Number(statusLine.split(' ')[1]);
    return { statusLine, status, headers, body };
  }

  /** Reads the next frame. */
  async readFrame(timeoutMs: number = WAIT_MS): Promise<ParsedFrame> {
    return this.waitFor(
      () => {
        const parsed = parseFrame(this.#buffer);
        if (parsed === null) return undefined;
        this.#buffer = this.#buffer.subarray(parsed.size);
        return parsed.frame;
      },
      'a frame',
      timeoutMs,
    );
  }

  /** Reads frames until a Close frame and returns it. */
  async readCloseFrame(timeoutMs: number = WAIT_MS): Promise<ParsedFrame> {
    while (true) {
      const frame = await this.readFrame(timeoutMs);
      if (frame.opcode === 0x8) return frame;
    }
  }

  /** Waits until the other side ends the TCP connection (FIN or reset). */
  async waitEnded(timeoutMs: number = WAIT_MS): Promise<void> {
    await this.waitFor(() => (this.#ended ? true : undefined), 'the connection to end', timeoutMs).catch(
      (error: unknown) => {
        if (!this.#ended) throw error;
      },
    );
  }

  /** Waits until the socket is fully closed. */
  async waitClosed(timeoutMs: number = WAIT_MS): Promise<void> {
    if (this.#closed) return;
    await once(this.socket, 'close', timeoutMs);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Opens a raw TCP connection and waits until it is connected. */
/**
 * Sends a raw request (a string is sent as latin1, one byte per character, so that tests can send
 * any octet) and returns the HTTP answer; unless it is a 101, waits until the server has ended the
 * connection (a refused socket must not stay open).
 */
export async function ask(port: number, request: string | Buffer): Promise<HttpHead> {
  const peer = await rawConnect(port);
  try {
    peer.write(typeof request === 'string' ? Buffer.from(request, 'latin1') : request);
    const head = await peer.readHttp();
    if (head.status !== 101) await peer.waitEnded();
    return head;
  } finally {
    peer.destroy();
  }
}

export async function rawConnect(port: number, host = '127.0.0.1'): Promise<RawPeer> {
  const socket = netConnect({ port, host });
  const peer = new RawPeer(socket);
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    }),
    WAIT_MS,
    `connect to ${host}:${port}`,
  );
  return peer;
}

export function randomKey(): string {
  return randomBytes(16).toString('base64');
}

/** A standard upgrade request, with fields to replace (`null` removes one). */
export function upgradeRequest(
  options: {
    readonly method?: string;
    readonly path?: string;
    readonly key?: string;
    readonly headers?: Record<string, string | null>;
  } = {},
): string {
  const fields: Record<string, string | null> = {
    Host: '127.0.0.1',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': options.key ?? randomKey(),
    'Sec-WebSocket-Version': '13',
    ...options.headers,
  };
  let text = `${options.method ?? 'GET'} ${options.path ?? '/'} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(fields)) if (value !== null) text += `${name}: ${value}\r\n`;
  return `${text}\r\n`;
}

/** Connects raw, sends a valid upgrade request and checks the 101 answer. */
export async function rawHandshake(port: number, path = '/'): Promise<RawPeer> {
  const peer = await rawConnect(port);
  const key = randomKey();
  peer.write(upgradeRequest({ key, path }));
  const head = await peer.readHttp();
  if (head.status !== 101) throw new Error(`expected 101, got ${head.statusLine}`);
  if (head.headers['sec-websocket-accept'] !== acceptKeyFor(key)) throw new Error('bad accept key');
  return peer;
}

// --- raw server (to test the client) -------------------------------------------------------------

export interface RawServer {
  readonly server: Server;
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * A `net` server that hands every accepted socket, wrapped in a RawPeer, to `onPeer`. With
 * `handshake: true` it first reads the request head and answers a valid 101.
 */
export async function rawServer(
  onPeer: (peer: RawPeer, request: HttpHead) => void | Promise<void>,
  options: { readonly handshake?: boolean; readonly host?: string } = {},
): Promise<RawServer> {
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const peer = new RawPeer(socket);
    void (async () => {
      const request =
        options.handshake === false
          ? { statusLine: '', status: 0, headers: {}, body: '' }
          : await peer.readHttp().catch(() => null);
      if (request === null) return;
      if (options.handshake !== false) {
        const key = request.headers['sec-websocket-key'] ?? '';
        socket.write(
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            `Sec-WebSocket-Accept: ${acceptKeyFor(key)}\r\n\r\n`,
        );
      }
      await onPeer(peer, request);
    })().catch(() => socket.destroy());
  });
  const host = options.host ?? '127.0.0.1';
  server.listen(0, host);
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    server,
    port: address.port,
    url: `ws://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Collects every 'message' of a WebSocket as `[data, isBinary]`. */
export function collectMessages(ws: WebSocket): { data: unknown; isBinary: boolean }[] {
  const messages: { data: unknown; isBinary: boolean }[] = [];
  ws.on('message', (data: unknown, isBinary: boolean) => messages.push({ data, isBinary }));
  return messages;
}

/** Waits for `count` messages on `ws` and returns them. */
export function nextMessages(
  ws: WebSocket,
  count: number,
  timeoutMs: number = WAIT_MS,
): Promise<{ data: Buffer; isBinary: boolean }[]> {
  return new Promise((resolve, reject) => {
    const messages: { data: Buffer; isBinary: boolean }[] = [];
    const onMessage = (data: Buffer, isBinary: boolean) => {
      messages.push({ data, isBinary });
      if (messages.length === count) {
        clearTimeout(timer);
        ws.off('message', onMessage);
        resolve(messages);
      }
    };
    const timer = setTimeout(() => {
      ws.off('message', onMessage);
      reject(new Error(`timed out after ${timeoutMs} ms with ${messages.length}/${count} messages`));
    }, timeoutMs);
    ws.on('message', onMessage);
  });
}
