// Pattern: a client sends text and a typed array; a server logs what it receives and greets.
import WebSocket, { WebSocketServer } from 'ws';

setTimeout(() => process.exit(2), 10_000).unref();
const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
await new Promise((resolve) => wss.on('listening', resolve));
const serverLog = [];
const clientLog = [];

wss.on('connection', function connection(ws) {
  ws.on('error', console.error);
  ws.on('message', function message(data, isBinary) {
    serverLog.push(
      `received ${isBinary ? [...data].join(',') : data} (binary ${isBinary}, ${data.length} bytes)`,
    );
    if (isBinary) ws.close(1000, 'done');
  });
  ws.send('something');
});

const ws = new WebSocket(`ws://127.0.0.1:${wss.address().port}/path`);
ws.on('error', console.error);
ws.on('open', function open() {
  ws.send('something');
  const array = new Float32Array(5);
  for (let i = 0; i < array.length; ++i) array[i] = i / 2;
  ws.send(array);
});
ws.on('message', function message(data) {
  clientLog.push(`received: ${data}`);
});
ws.on('close', (code, reason) => {
  // Each side's lines in order; the two sides run concurrently, so they are printed apart.
  console.log('server:', serverLog);
  console.log('client:', clientLog, 'closed', code, reason.toString());
  wss.close(() => console.log('server closed'));
});
