/**
 * An echo server on ws://127.0.0.1:8080 (PORT and HOST override): `npx tsx examples/echo-server.ts`.
 * Every message comes back as it was sent: text as text, binary as binary.
 */
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from '../src/index.ts';

const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? '127.0.0.1';
const server = new WebSocketServer({ port, host });

server.on('listening', () => {
  // The port actually bound (PORT=0 picks a free one).
  const { port } = server.address() as AddressInfo;
  console.log(`sockwire echo server listening on ws://${host}:${port}`);
  console.log(`Talk to it from another terminal: npx tsx examples/console-client.ts ws://${host}:${port}`);
  console.log(
    `or: node -e "const ws=new (require('ws'))('ws://${host}:${port}');ws.on('open',()=>ws.send('hi'));ws.on('message',m=>{console.log(String(m));ws.close()})"`,
  );
  console.log(
    `(or, from Node 22+: new WebSocket('ws://${host}:${port}') in a REPL). Ctrl-C stops the server.`,
  );
});
server.on('connection', (ws, request) => {
  console.log(`+ ${request.socket.remoteAddress ?? '?'} ${request.url}`);
  ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  ws.on('close', (code: number) => console.log(`- closed with ${code}`));
});
server.on('error', (error) => {
  console.error(`cannot listen on ${host}:${port}: ${error.message}`);
  process.exit(1);
});
process.once('SIGINT', () => {
  void server.close().then(() => process.exit(0));
});
