// Pattern: a WebSocket as a Node.js Duplex stream, piped both ways.
import { PassThrough } from 'node:stream';
import WebSocket, { createWebSocketStream, WebSocketServer } from 'ws';

setTimeout(() => process.exit(2), 10_000).unref();
const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
await new Promise((resolve) => wss.on('listening', resolve));
wss.on('connection', (ws) => {
  ws.on('message', (data) => {
    ws.send(data.toString().toUpperCase());
    if (data.toString() === 'end') ws.close();
  });
});

const ws = new WebSocket(`ws://127.0.0.1:${wss.address().port}`);
const duplex = createWebSocketStream(ws, { encoding: 'utf8' });
duplex.on('error', console.error);
const input = new PassThrough();
let output = '';
duplex.on('data', (chunk) => {
  output += chunk;
});
duplex.on('close', () => {
  console.log('echoed:', output);
  wss.close();
});
input.pipe(duplex);
input.write('one ');
input.write('two ');
// Ending the input ends the Duplex's writable side: with the server's close ending the readable
// side, the Duplex is done and emits 'close' (with only write('end'), it would stay half open).
setTimeout(() => input.end('end'), 50);
