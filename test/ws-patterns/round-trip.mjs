// Pattern: measure round-trip time by sending `Date.now()` (a number) to an echo server.
import WebSocket, { WebSocketServer } from 'ws';

setTimeout(() => process.exit(2), 10_000).unref();
const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
await new Promise((resolve) => wss.on('listening', resolve));
wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));

const ws = new WebSocket(`ws://127.0.0.1:${wss.address().port}`);
let rounds = 0;
ws.on('error', console.error);
ws.on('open', function open() {
  console.log('connected');
  ws.send(Date.now());
});
ws.on('close', function close() {
  console.log('disconnected');
  wss.close();
});
ws.on('message', function message(data, isBinary) {
  const roundTrip = Date.now() - data;
  console.log(
    'round-trip time is a number of ms:',
    Number.isFinite(roundTrip) && roundTrip >= 0,
    'binary',
    isBinary,
  );
  if (++rounds === 3) ws.close();
  else setTimeout(() => ws.send(Date.now()), 20);
});
