// Pattern: two noServer WebSocket servers behind one HTTP server, routed by path in 'upgrade'.
import { createServer } from 'node:http';
import WebSocket, { WebSocketServer } from 'ws';

setTimeout(() => process.exit(2), 10_000).unref();
const server = createServer();
const wss1 = new WebSocketServer({ noServer: true });
const wss2 = new WebSocketServer({ noServer: true });
wss1.on('connection', (ws) => ws.send('from wss1'));
wss2.on('connection', (ws) => ws.send('from wss2'));

server.on('upgrade', function upgrade(request, socket, head) {
  const { pathname } = new URL(request.url, 'ws://base.url');
  if (pathname === '/foo') {
    wss1.handleUpgrade(request, socket, head, (ws) => wss1.emit('connection', ws, request));
  } else if (pathname === '/bar') {
    wss2.handleUpgrade(request, socket, head, (ws) => wss2.emit('connection', ws, request));
  } else {
    socket.destroy();
  }
});

function visit(path) {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.address().port}${path}`);
    ws.on('message', (data) => {
      console.log(path, 'received: %s', data);
      ws.close();
    });
    ws.on('error', () => console.log(path, 'error'));
    ws.on('close', (code) => {
      console.log(path, 'closed', code);
      resolve();
    });
  });
}

server.listen(0, '127.0.0.1', async () => {
  await visit('/foo');
  await visit('/bar');
  await visit('/baz');
  wss1.close();
  wss2.close();
  server.close();
});
