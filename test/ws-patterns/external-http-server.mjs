// Pattern: a WebSocket server on an existing HTTP server that also answers plain requests.
import { createServer, get } from 'node:http';
import WebSocket, { WebSocketServer } from 'ws';

setTimeout(() => process.exit(2), 10_000).unref();
const server = createServer((_request, response) => response.end('plain http'));
const wss = new WebSocketServer({ server });
wss.on('connection', function connection(ws, request) {
  ws.on('error', console.error);
  ws.on('message', (data) => console.log('received: %s', data));
  ws.send(`hello ${request.url}`);
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  get(`http://127.0.0.1:${port}/`, (response) => {
    response.setEncoding('utf8');
    response.on('data', (text) => console.log('http:', response.statusCode, text));
    const ws = new WebSocket(`ws://127.0.0.1:${port}/chat?room=1`);
    ws.on('message', (data) => {
      console.log('client received: %s', data);
      ws.send('bye');
      ws.close();
    });
    ws.on('close', (code) => {
      console.log('closed', code);
      wss.close();
      server.close();
    });
  });
});
