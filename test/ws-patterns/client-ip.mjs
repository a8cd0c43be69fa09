// Pattern: the client's IP address from the socket, or from X-Forwarded-For behind a proxy.
import WebSocket, { WebSocketServer } from 'ws';

setTimeout(() => process.exit(2), 10_000).unref();
const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
await new Promise((resolve) => wss.on('listening', resolve));
wss.on('connection', function connection(ws, req) {
  const ip = req.socket.remoteAddress;
  const forwarded = req.headers['x-forwarded-for']?.split(',')[0].trim();
  console.log('ip', ip, 'forwarded', forwarded, 'url', req.url, 'method', req.method);
  ws.on('error', console.error);
  ws.close();
});
for (const headers of [{}, { 'X-Forwarded-For': '203.0.113.7, 10.0.0.1' }]) {
  const ws = new WebSocket(`ws://127.0.0.1:${wss.address().port}/where`, { headers });
  await new Promise((resolve) => ws.on('close', resolve));
}
wss.close();
