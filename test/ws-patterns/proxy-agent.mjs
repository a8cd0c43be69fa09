// Pattern: connect through an HTTP proxy with a custom `http.Agent` (https-proxy-agent). The proxy
// here is a minimal CONNECT tunnel on loopback.
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { HttpsProxyAgent } from 'https-proxy-agent';
import WebSocket, { WebSocketServer } from 'ws';

setTimeout(() => process.exit(2), 10_000).unref();
const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
await new Promise((resolve) => wss.on('listening', resolve));
wss.on('connection', (ws) => ws.on('message', (data) => ws.send(`echo ${data}`)));

const proxy = createServer();
proxy.on('connect', (request, clientSocket, head) => {
  console.log('proxy CONNECT', request.url === `127.0.0.1:${wss.address().port}`);
  const [host, port] = request.url.split(':');
  const upstream = connect(Number(port), host, () => {
    clientSocket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    upstream.write(head);
    upstream.pipe(clientSocket);
    clientSocket.pipe(upstream);
  });
  upstream.on('error', () => clientSocket.destroy());
  clientSocket.on('error', () => upstream.destroy());
});
await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));

const agent = new HttpsProxyAgent(`http://127.0.0.1:${proxy.address().port}`);
const ws = new WebSocket(`ws://127.0.0.1:${wss.address().port}`, { agent });
ws.on('error', console.error);
ws.on('open', () => ws.send('through the proxy'));
ws.on('message', (data) => {
  console.log('received: %s', data);
  ws.close();
});
ws.on('close', (code) => {
  console.log('closed', code);
  wss.close();
  proxy.close();
});
