// Pattern: a client sends text and a typed array; a server logs what it receives and greets.
import WebSocket, { WebSocketServer } from 'ws';

setTimeout(() => process.exit(2), 10_000).unref();
const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
await new Promise((resolve) => wss.on('listening', resolve));

wss.on('connection', function connection(ws) {
  ws.on('error', console.error);
  ws.on('message', function message(data, isBinary) {
    console.log(
      'server received: %s (binary %s, %d bytes)',
      isBinary ? [...data].join(',') : data,
      isBinary,
      data.length,
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
  console.log('client received: %s', data);
});
ws.on('close', (code, reason) => {
  console.log('client closed', code, reason.toString());
  wss.close(() => console.log('server closed'));
});
