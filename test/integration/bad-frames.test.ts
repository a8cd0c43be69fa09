/**
 * Protocol violations on the wire (RFC 6455 §5, §7.1.7, §7.4): hand-made frames sent over a raw
 * socket after a valid handshake. For each, the exact Close code the endpoint answers with, and that
 * the TCP connection then ends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from '../../src/index.ts';
import { BINARY, CLOSE, CONTINUATION, PING, TEXT } from '../helpers/opcodes.ts';
import {
  closePayload,
  encodeMaskedFrame,
  type Listening,
  listen,
  nextConnection,
  once,
  type RawPeer,
  type RawServer,
  rawHandshake,
  rawServer,
  WAIT_MS,
  withTimeout,
} from './helpers.ts';

let listening: Listening;
const serverErrors: unknown[] = [];

beforeAll(async () => {
  listening = await listen({ maxPayload: 1000 });
  listening.server.on('connection', (ws: WebSocket) => {
    ws.on('error', (error) => serverErrors.push(error));
  });
});

afterAll(async () => {
  await withTimeout(listening.server.close({ timeout: 500 }), WAIT_MS, 'server.close');
});

/** Sends `frames` after a handshake; returns the Close frame the server answers with. */
async function violate(...frames: Buffer[]): Promise<{ code: number | undefined; peer: RawPeer }> {
  const peer = await rawHandshake(listening.port);
  try {
    for (const frame of frames) peer.write(frame);
    const close = await peer.readCloseFrame();
    expect(close.masked).toBe(false); // §5.1: a server never masks
    // The server closes the TCP connection after failing the WebSocket connection (§7.1.1, §7.1.7).
    await peer.waitEnded();
    return { code: close.closeCode, peer };
  } finally {
    peer.destroy();
  }
}

describe('server: bad frames from a client', () => {
  it('accepts a valid masked frame first (sanity check of the raw helpers)', async () => {
    const accepted = nextConnection(listening.server);
    const peer = await rawHandshake(listening.port);
    const ws = await accepted;
    const message = once<[Buffer, boolean]>(ws, 'message');
    peer.write(encodeMaskedFrame(TEXT, 'raw hello'));
    const [data, isBinary] = await message;
    expect(data.toString()).toBe('raw hello');
    expect(isBinary).toBe(false);
    // A clean close from the raw side: the server echoes 1000 and ends the connection.
    peer.write(encodeMaskedFrame(CLOSE, closePayload(1000, 'ok')));
    const close = await peer.readCloseFrame();
    expect(close.closeCode).toBe(1000);
    await peer.waitEnded();
    peer.destroy();
  });

  it.each([
    ['reserved data opcode 0x3', 0x3],
    ['reserved data opcode 0x7', 0x7],
    ['reserved control opcode 0xB', 0xb],
    ['reserved control opcode 0xF', 0xf],
  ])('%s → 1002', async (_name, opcode) => {
    expect((await violate(encodeMaskedFrame(opcode, 'x'))).code).toBe(1002);
  });

  it.each([
    ['RSV1', 4],
    ['RSV2', 2],
    ['RSV3', 1],
  ])('%s set without a negotiated extension → 1002', async (_name, rsv) => {
    expect((await violate(encodeMaskedFrame(TEXT, 'x', { rsv }))).code).toBe(1002);
  });

  it('fragmented ping (FIN clear) → 1002', async () => {
    expect((await violate(encodeMaskedFrame(PING, 'p', { fin: false }))).code).toBe(1002);
  });

  it('126-byte ping → 1002', async () => {
    expect((await violate(encodeMaskedFrame(PING, Buffer.alloc(126, 0x61)))).code).toBe(1002);
  });

  it('unmasked client frame → 1002', async () => {
    expect((await violate(encodeMaskedFrame(TEXT, 'naked', { maskKey: null }))).code).toBe(1002);
  });

  it('continuation without a start → 1002', async () => {
    expect((await violate(encodeMaskedFrame(CONTINUATION, 'orphan'))).code).toBe(1002);
  });

  it('new text frame inside a fragmented message → 1002', async () => {
    const { code } = await violate(
      encodeMaskedFrame(TEXT, 'first', { fin: false }),
      encodeMaskedFrame(TEXT, 'second'),
    );
    expect(code).toBe(1002);
  });

  it('new binary frame inside a fragmented message → 1002', async () => {
    const { code } = await violate(
      encodeMaskedFrame(BINARY, Buffer.from([1]), { fin: false }),
      encodeMaskedFrame(BINARY, Buffer.from([2])),
    );
    expect(code).toBe(1002);
  });

  it('a ping between fragments is fine (control frames may interleave, §5.4)', async () => {
    const accepted = nextConnection(listening.server);
    const peer = await rawHandshake(listening.port);
    const ws = await accepted;
    const message = once<[Buffer, boolean]>(ws, 'message');
    peer.write(
      Buffer.concat([
        encodeMaskedFrame(TEXT, 'frag', { fin: false }),
        encodeMaskedFrame(PING, 'mid'),
        encodeMaskedFrame(CONTINUATION, 'ment'),
      ]),
    );
    const pong = await peer.readFrame();
    expect(pong.opcode).toBe(0xa);
    expect(pong.payload.toString()).toBe('mid');
    expect((await message)[0].toString()).toBe('fragment');
    peer.destroy();
  });

  it('invalid UTF-8 in a text message → 1007', async () => {
    expect((await violate(encodeMaskedFrame(TEXT, Buffer.from([0x68, 0xc3, 0x28])))).code).toBe(1007);
  });

  it('invalid UTF-8 split across fragments → 1007 (fail fast on the first bad fragment)', async () => {
    // 0xF4 0x90 is already out of range (> U+10FFFF): fails in the first fragment, never completed.
    const { code } = await violate(encodeMaskedFrame(TEXT, Buffer.from([0x61, 0xf4, 0x90]), { fin: false }));
    expect(code).toBe(1007);
  });

  it('invalid UTF-8 in a close reason → 1007', async () => {
    const { code } = await violate(encodeMaskedFrame(CLOSE, closePayload(1000, Buffer.from([0xff, 0xfe]))));
    expect(code).toBe(1007);
  });

  it('a close frame with a 1-byte payload → 1002', async () => {
    expect((await violate(encodeMaskedFrame(CLOSE, Buffer.from([0x03])))).code).toBe(1002);
  });

  it('message over maxPayload (1000) → 1009, single frame', async () => {
    expect((await violate(encodeMaskedFrame(BINARY, Buffer.alloc(1001)))).code).toBe(1009);
  });

  it('message over maxPayload (1000) → 1009, across fragments', async () => {
    const { code } = await violate(
      encodeMaskedFrame(BINARY, Buffer.alloc(600), { fin: false }),
      encodeMaskedFrame(CONTINUATION, Buffer.alloc(600)),
    );
    expect(code).toBe(1009);
  });

  it('a message of exactly maxPayload bytes is accepted', async () => {
    const accepted = nextConnection(listening.server);
    const peer = await rawHandshake(listening.port);
    const ws = await accepted;
    const message = once<[Buffer]>(ws, 'message');
    peer.write(encodeMaskedFrame(BINARY, Buffer.alloc(1000, 7)));
    expect((await message)[0].length).toBe(1000);
    peer.destroy();
  });

  it('a declared length over maxPayload → 1009 before the payload arrives', async () => {
    // Only the header claims 1 MiB; nothing else is sent: the server must not wait for the payload.
    const header = encodeMaskedFrame(BINARY, Buffer.alloc(0), { declaredLength: 1024 * 1024 });
    expect((await violate(header)).code).toBe(1009);
  });

  it.each([999, 1004, 1005, 1006, 1015, 1016, 2999, 5000])(
    'close code %i on the wire → 1002',
    async (code) => {
      expect((await violate(encodeMaskedFrame(CLOSE, closePayload(code)))).code).toBe(1002);
    },
  );

  it.each([1000, 1001, 1003, 1007, 1011, 1014, 3000, 4999])(
    'close code %i on the wire is echoed',
    async (code) => {
      expect((await violate(encodeMaskedFrame(CLOSE, closePayload(code)))).code).toBe(code);
    },
  );

  it('the server reported the violations as errors with a close code, and kept running', async () => {
    expect(serverErrors.length).toBeGreaterThan(10);
    for (const error of serverErrors) {
      expect(error).toBeInstanceOf(Error);
      expect([1002, 1007, 1009]).toContain((error as { closeCode?: number }).closeCode);
    }
    const accepted = nextConnection(listening.server);
    const client = new WebSocket(listening.url);
    await once(client, 'open');
    await accepted;
    const closed = once(client, 'close');
    client.close(1000);
    await closed;
  });
});

describe('client: bad frames from a server', () => {
  let server: RawServer;
  let peerPromise: Promise<RawPeer>;
  let resolvePeer: (peer: RawPeer) => void;

  beforeAll(async () => {
    server = await rawServer((peer) => resolvePeer(peer));
  });

  afterAll(async () => {
    await server.close();
  });

  function expectPeer(): void {
    peerPromise = new Promise((resolve) => {
      resolvePeer = resolve;
    });
  }

  /** Connects our client, sends it `frames` from the raw server, returns what the client answers. */
  async function violateClient(...frames: Buffer[]) {
    expectPeer();
    const ws = new WebSocket(server.url);
    const errors: Error[] = [];
    ws.on('error', (error: Error) => errors.push(error));
    const closed = once<[number, Buffer]>(ws, 'close');
    await once(ws, 'open');
    const peer = await withTimeout(peerPromise);
    for (const frame of frames) peer.write(frame);
    const close = await peer.readCloseFrame();
    // §7.1.7 + §7.1.1: the client that failed the connection closes the TCP connection too.
    await peer.waitEnded();
    const [eventCode] = await closed;
    peer.destroy();
    return { close, eventCode, errors };
  }

  it('a masked frame from the server → the client sends a masked Close 1002', async () => {
    const { close, eventCode, errors } = await violateClient(
      encodeMaskedFrame(TEXT, 'masked by server', { maskKey: Uint8Array.of(1, 2, 3, 4) }),
    );
    expect(close.masked).toBe(true); // §5.3: the client masks its Close frame too
    expect(close.closeCode).toBe(1002);
    // No Close frame was received from the server: the client's close code is 1006 (§7.1.5).
    expect(eventCode).toBe(1006);
    expect(errors).toHaveLength(1);
    expect((errors[0] as { closeCode?: number }).closeCode).toBe(1002);
  });

  it('invalid UTF-8 from the server → Close 1007', async () => {
    const { close } = await violateClient(
      encodeMaskedFrame(TEXT, Buffer.from([0xc0, 0xaf]), { maskKey: null }),
    );
    expect(close.closeCode).toBe(1007);
  });

  it('a reserved opcode from the server → Close 1002', async () => {
    const { close } = await violateClient(encodeMaskedFrame(0x5, 'x', { maskKey: null }));
    expect(close.closeCode).toBe(1002);
  });

  it('a valid unmasked message and a server-initiated close work with the raw server', async () => {
    expectPeer();
    const ws = new WebSocket(server.url);
    const closed = once<[number, Buffer]>(ws, 'close');
    await once(ws, 'open');
    const peer = await withTimeout(peerPromise);
    const message = once<[Buffer, boolean]>(ws, 'message');
    peer.write(encodeMaskedFrame(TEXT, 'from raw server', { maskKey: null }));
    expect((await message)[0].toString()).toBe('from raw server');
    peer.write(encodeMaskedFrame(CLOSE, closePayload(4005, 'raw bye'), { maskKey: null }));
    const answer = await peer.readCloseFrame();
    expect(answer.masked).toBe(true);
    expect(answer.closeCode).toBe(4005);
    // §7.1.1: the server closes TCP first; the client waits for it.
    peer.socket.end();
    const [code, reason] = await closed;
    expect(code).toBe(4005);
    expect(reason.toString()).toBe('raw bye');
    peer.destroy();
  });
});
