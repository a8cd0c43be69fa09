/**
 * Memory per idle permessage-deflate connection, with and without context takeover (RFC 7692 §7.1.1).
 * Each of N connections exchanges one compressed message, then sits idle; RSS and heap per connection
 * are read after GC. Every configuration runs in a fresh process (RSS never shrinks back reliably):
 * `node --expose-gc --import tsx bench/deflate-memory.ts [--conns 500]`
 * (clients run in this same process, so the figures cover both ends; each end keeps its own zlib state).
 */
import { spawnSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocket, WebSocketServer } from '../src/index.ts';

const { values } = parseArgs({
  options: { conns: { type: 'string', default: '500' }, config: { type: 'string' } },
});
const conns = Number(values.conns);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const message = JSON.stringify(
  Array.from({ length: 200 }, (_, i) => ({ id: i, name: `item ${i}`, ok: i % 2 === 0 })),
);

async function measure(label: string, perMessageDeflate: boolean | object): Promise<string> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate });
  server.on('connection', (ws: WebSocket) =>
    ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary })),
  );
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  gc();
  gc();
  const before = process.memoryUsage();
  const clients: WebSocket[] = [];
  for (let i = 0; i < conns; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, conns - i) }, async () => {
        const ws = new WebSocket(url, { perMessageDeflate: perMessageDeflate !== false });
        clients.push(ws);
        await new Promise<void>((resolve) => ws.once('open', () => resolve()));
        ws.send(message);
        await new Promise((resolve) => ws.once('message', resolve));
      }),
    );
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
  gc();
  gc();
  const after = process.memoryUsage();
  const kib = (bytes: number) => (bytes / conns / 1024).toFixed(1);
  const row = `| ${label} | ${conns} | ${kib(after.rss - before.rss)} KiB | ${kib(after.heapUsed - before.heapUsed)} KiB | ${kib(after.external - before.external)} KiB |`;
  for (const ws of clients) ws.terminate();
  await server.close({ timeout: 500 });
  return row;
}

const configurations: [string, boolean | object][] = [
  ['no compression', false],
  ['deflate, context takeover (default)', true],
  ['deflate, no context takeover (both)', { serverNoContextTakeover: true, clientNoContextTakeover: true }],
  [
    'deflate, takeover, 10-bit windows, memLevel 4',
    { serverMaxWindowBits: 10, clientMaxWindowBits: 10, zlibDeflateOptions: { memLevel: 4 } },
  ],
];

if (values.config !== undefined) {
  const [label, option] = configurations[Number(values.config)]!;
  console.log(await measure(label, option));
} else {
  const rows: string[] = [];
  for (let i = 0; i < configurations.length; i++) {
    const child = spawnSync(
      process.execPath,
      [...process.execArgv, fileURLToPath(import.meta.url), '--conns', String(conns), '--config', String(i)],
      { encoding: 'utf8' },
    );
    rows.push(child.stdout.trim());
  }
  console.log(
    `Per connection (server end + client end in one process), after one ${message.length}-byte message each way, Node ${process.version}:\n`,
  );
  console.log('| configuration | connections | RSS | JS heap | external |');
  console.log('|---|---|---|---|---|');
  for (const row of rows) console.log(row);
}
