// Pattern: the server pings every client on an interval and terminates those that did not answer
// the previous ping. The silent peer here is a raw TCP socket that completes the handshake and
// then never answers a frame.
import { connect } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';

setTimeout(() => process.exit(2), 10_000).unref();
function heartbeat() {
  this.isAlive = true;
}
const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
await new Promise((resolve) => wss.on('listening', resolve));
wss.on('connection', function connection(ws, request) {
  ws.isAlive = true;
  ws.on('error', console.error);
  ws.on('pong', heartbeat);
  ws.on('close', (code) => {
    console.log(request.url, 'closed on the server with', code);
    if (request.url === '/silent') {
      console.log('the answering peer is still open:', alive.readyState === WebSocket.OPEN);
      alive.close();
    } else {
      wss.close();
    }
  });
});
const interval = setInterval(function ping() {
  wss.clients.forEach(function each(ws) {
    if (ws.isAlive === false) {
      ws.terminate();
      return;
    }
    ws.isAlive = false;
    ws.ping();
  });
}, 100);
wss.on('close', function close() {
  clearInterval(interval);
  console.log('server closed, interval cleared');
});

const port = wss.address().port;
const alive = new WebSocket(`ws://127.0.0.1:${port}/alive`);
const silent = connect(port, '127.0.0.1', () => {
  silent.write(
    'GET /silent HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
});
silent.resume(); // reads and drops every frame, Pings included: it never answers one
