/**
 * Idle keep-alive cost: 10,000 connections held open for a while, with and without keep-alive,
 * measuring the server process's CPU time (not wall time, so other load on the machine matters
 * little). `npx tsx bench/keepalive.ts [--conns 10000] [--seconds 10] [--interval 1000]`
 *
 * The server runs in this process; the clients (sockwire clients, which answer Pings) in a child.
 */
import { fork } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { WebSocket, WebSocketServer } from '../src/index.ts';

const { values } = parseArgs({
  options: {
    conns: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '10' },
    interval: { type: 'string', default: '1000' },
    child: { type: 'string' },
  },
});

if (values.child !== undefined) {
  // Client process: open the connections, report when all are open, stay idle.
  const [port, count] = values.child.split(':').map(Number) as [number, number];
  let open = 0;
  const sockets: WebSocket[] = [];
  const openBatch = (from: number) => {
    for (let i = from; i < Math.min(count, from + 500); i++) {
      const ws = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
      ws.on('open', () => {
        if (++open === count) process.send?.('open');
      });
      ws.on('error', () => {});
      sockets.push(ws);
    }
    if (from + 500 < count) setTimeout(openBatch, 20, from + 500);
  };
  openBatch(0);
  process.on('message', () => process.exit(0));
} else {
  const conns = Number(values.conns);
  const seconds = Number(values.seconds);
  const interval = Number(values.interval);
  const rows: string[] = [];
  for (const [label, keepAlive] of [
    ['off', undefined],
    [`pong every ${interval} ms`, { interval }],
    [`ping every ${interval} ms, timeout ${interval / 2} ms`, { interval, timeout: interval / 2 }],
  ] as const) {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1', ...(keepAlive ? { keepAlive } : {}) });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    const port = (server.address() as AddressInfo).port;
    const child = fork(new URL(import.meta.url).pathname, ['--child', `${port}:${conns}`], {
      execArgv: ['--import', 'tsx'],
    });
    await new Promise((resolve) => child.once('message', resolve));
    await new Promise((resolve) => setTimeout(resolve, 1000)); // settle
    const before = process.cpuUsage();
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    const used = process.cpuUsage(before);
    const wall = performance.now() - started;
    const cpuPercent = ((used.user + used.system) / 1000 / wall) * 100;
    rows.push(`| ${label} | ${conns} | ${server.clients.size} | ${cpuPercent.toFixed(2)} % |`);
    child.send('exit');
    await new Promise((resolve) => child.once('exit', resolve));
    await server.close({ timeout: 1000 });
  }
  console.log(`Idle server CPU over ${seconds} s (share of one core), Node ${process.version}:\n`);
  console.log('| keep-alive | connections | still open | server CPU |');
  console.log('|---|---|---|---|');
  for (const row of rows) console.log(row);
}
