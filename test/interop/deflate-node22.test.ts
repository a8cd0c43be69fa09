/**
 * permessage-deflate with Node 22's built-in WebSocket client (undici) against our server. Node 22
 * offers "permessage-deflate; client_max_window_bits" (checked below on a raw socket), inflates what
 * it receives and sends its own messages uncompressed. The Node 22 binary is installed into .cache/
 * by scripts/install-node.sh, as in node22.test.ts.
 */
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ServerOptions, WebSocket } from '../../src/index.ts';
import { installNode22, runNode22 } from '../helpers/node22.ts';
import { type Listening, listen, rawServer, WAIT_MS, withTimeout } from '../integration/helpers.ts';

let node22: string | null = null;

const sha = (data: Buffer | string) => createHash('sha256').update(data).digest('hex').slice(0, 16);

/** Sends text/binary messages of several sizes, reports what comes back (length + hash), closes. */
const CLIENT = `
import { createHash } from 'node:crypto';
const sha = (data) => createHash('sha256').update(data).digest('hex').slice(0, 16);
const out = (value) => process.stdout.write(JSON.stringify(value) + '\\n');
const ws = new WebSocket(process.env.WS_URL);
ws.binaryType = 'arraybuffer';
const json = (size) => { let t = ''; for (let i = 0; t.length < size; i++) t += '{"id":' + i + ',"v":"value-' + (i % 50) + '"},'; return t.slice(0, size); };
const bytes = (size) => { const b = new Uint8Array(size); for (let i = 0; i < size; i++) b[i] = (i * 31 + (i >> 8)) & 0xff; return b; };
const sent = [json(10), json(2000), json(70000), json(1 << 20), bytes(10), bytes(5000), 'ünïcödé 🎉 日本語'.repeat(300)];
let received = 0;
ws.addEventListener('open', () => {
  out({ event: 'open', extensions: ws.extensions });
  for (const message of sent) ws.send(message);
});
ws.addEventListener('message', (event) => {
  const data = typeof event.data === 'string' ? Buffer.from(event.data) : Buffer.from(event.data);
  out({ event: 'message', type: typeof event.data === 'string' ? 'text' : 'binary', length: data.length, sha: sha(data) });
  if (++received === sent.length) ws.close(1000, 'done');
});
ws.addEventListener('close', (event) => out({ event: 'close', code: event.code, reason: event.reason }));
ws.addEventListener('error', () => out({ event: 'error' }));
`;

/** The same messages as the script, computed here. */
function expectedMessages(): { type: string; length: number; sha: string }[] {
  const json = (size: number) => {
    let t = '';
    for (let i = 0; t.length < size; i++) t += `{"id":${i},"v":"value-${i % 50}"},`;
    return t.slice(0, size);
  };
  const bytes = (size: number) => {
    const b = Buffer.alloc(size);
    for (let i = 0; i < size; i++) b[i] = (i * 31 + (i >> 8)) & 0xff;
    return b;
  };
  const messages: (string | Buffer)[] = [
    json(10),
    json(2000),
    json(70000),
    json(1 << 20),
    bytes(10),
    bytes(5000),
    'ünïcödé 🎉 日本語'.repeat(300),
  ];
  return messages.map((m) => {
    const data = typeof m === 'string' ? Buffer.from(m) : m;
    return { type: typeof m === 'string' ? 'text' : 'binary', length: data.length, sha: sha(data) };
  });
}

let listening: Listening | undefined;
afterEach(async () => {
  if (listening) await withTimeout(listening.server.close({ timeout: 500 }), WAIT_MS);
  listening = undefined;
});

beforeAll(() => {
  node22 = installNode22('its deflate interop test').path;
}, 150_000);

describe('Node 22 built-in WebSocket (undici) ↔ sockwire server, permessage-deflate', () => {
  it('offers "permessage-deflate; client_max_window_bits" (raw request)', async (context) => {
    if (node22 === null) return context.skip();
    let offer: string | undefined = 'not seen';
    const server = await rawServer(
      async (peer) => {
        const request = await peer.readHttp();
        offer = request.headers['sec-websocket-extensions'];
        peer.destroy();
      },
      { handshake: false },
    );
    try {
      await runNode22(
        node22!,
        `const ws = new WebSocket(process.env.WS_URL); ws.onerror = () => {}; ws.onclose = () => process.exit(0);`,
        { WS_URL: server.url },
      );
    } finally {
      await server.close();
    }
    expect(offer).toBe('permessage-deflate; client_max_window_bits');
  });

  it.for<[string, NonNullable<ServerOptions['perMessageDeflate']>, string]>([
    ['true', true, 'permessage-deflate'],
    [
      'no context takeover, 10-bit windows, threshold 0',
      {
        serverNoContextTakeover: true,
        clientNoContextTakeover: true,
        serverMaxWindowBits: 10,
        clientMaxWindowBits: 10,
        threshold: 0,
      },
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=10',
    ],
  ])(
    'perMessageDeflate: %s → negotiated, echoes intact and compressed',
    async ([, option, answer], context) => {
      if (node22 === null) return context.skip();
      listening = await listen({ perMessageDeflate: option });
      const seen: unknown[] = [];
      let extensions = '';
      let socket: Socket | undefined;
      listening.server.on('connection', (ws: WebSocket, req: { socket: unknown }) => {
        extensions = ws.extensions;
        socket = req.socket as Socket;
        ws.on('message', (data: Buffer, isBinary: boolean) => {
          seen.push({ type: isBinary ? 'binary' : 'text', length: data.length, sha: sha(data) });
          ws.send(data, { binary: isBinary });
        });
        ws.on('close', (code: number, reason: Buffer) =>
          seen.push({ close: code, reason: reason.toString() }),
        );
      });
      const { lines, code, stderr } = await runNode22(node22!, CLIENT, { WS_URL: listening.url });
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(extensions).toBe(answer);
      const expected = expectedMessages();
      expect(lines).toEqual([
        { event: 'open', extensions: answer },
        ...expected.map((m) => ({ event: 'message', ...m })),
        { event: 'close', code: 1000, reason: 'done' },
      ]);
      expect(seen).toEqual([...expected, { close: 1000, reason: 'done' }]);
      // The echoes went compressed: ~1.1 MiB of mostly JSON text in far fewer bytes.
      const total = expected.reduce((n, m) => n + m.length, 0);
      expect(socket!.bytesWritten).toBeLessThan(total / 4);
    },
  );
});
