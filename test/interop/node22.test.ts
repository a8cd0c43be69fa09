/**
 * Interop with Node 22's built-in WebSocket client (undici, WHATWG API) against our server. The
 * Node 22 binary is installed into .cache/ by scripts/install-node.sh (test/helpers/node22.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebSocket } from '../../src/index.ts';
import { installNode22, runNode22 } from '../helpers/node22.ts';
import { type Listening, listen, WAIT_MS, withTimeout } from '../integration/helpers.ts';

let node22: string | null = null;
let installError = '';

const CLIENT = `
const out = (value) => process.stdout.write(JSON.stringify(value) + '\\n');
const ws = new WebSocket(process.env.WS_URL, ['v1.interop']);
ws.binaryType = 'arraybuffer';
let received = 0;
ws.addEventListener('open', () => {
  out({ event: 'open', protocol: ws.protocol });
  ws.send('hello from node 22');
  ws.send(new Uint8Array([1, 2, 3, 250]));
  ws.send('x'.repeat(70000));
});
ws.addEventListener('message', (event) => {
  received++;
  if (typeof event.data === 'string') {
    out({ event: 'message', type: 'text', length: event.data.length, head: event.data.slice(0, 40) });
  } else {
    out({ event: 'message', type: 'binary', bytes: [...new Uint8Array(event.data)].slice(0, 8), length: event.data.byteLength });
  }
  if (received === 3) ws.close(4001, 'done');
});
ws.addEventListener('close', (event) => {
  out({ event: 'close', code: event.code, reason: event.reason, wasClean: event.wasClean });
});
ws.addEventListener('error', () => out({ event: 'error' }));
`;

describe('Node 22 built-in WebSocket client ↔ sockwire server', () => {
  let listening: Listening;
  const seen: unknown[] = [];

  beforeAll(async () => {
    ({ path: node22, error: installError } = installNode22('its interop test'));
    listening = await listen();
    listening.server.on('connection', (ws: WebSocket) => {
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        seen.push({
          type: isBinary ? 'binary' : 'text',
          length: data.length,
          head: isBinary ? [...data] : data.toString().slice(0, 40),
        });
        ws.send(data, { binary: isBinary }); // echo
      });
      ws.on('close', (code: number, reason: Buffer) => seen.push({ close: code, reason: reason.toString() }));
    });
  }, 150_000);

  afterAll(async () => {
    await withTimeout(listening.server.close({ timeout: 500 }), WAIT_MS);
  });

  it('echoes text and binary, negotiates the subprotocol, and closes with 4001 "done"', async (context) => {
    if (node22 === null) {
      console.warn(`skipped: ${installError}`);
      context.skip();
      return;
    }
    const { lines, code, stderr } = await runNode22(node22!, CLIENT, { WS_URL: listening.url });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(lines).toEqual([
      { event: 'open', protocol: 'v1.interop' },
      { event: 'message', type: 'text', length: 18, head: 'hello from node 22' },
      { event: 'message', type: 'binary', bytes: [1, 2, 3, 250], length: 4 },
      { event: 'message', type: 'text', length: 70000, head: 'x'.repeat(40) },
      // Our server echoes the code and the reason (§5.5.1).
      { event: 'close', code: 4001, reason: 'done', wasClean: true },
    ]);
    expect(seen).toEqual([
      { type: 'text', length: 18, head: 'hello from node 22' },
      { type: 'binary', length: 4, head: [1, 2, 3, 250] },
      { type: 'text', length: 70000, head: 'x'.repeat(40) },
      { close: 4001, reason: 'done' },
    ]);
  });
});
