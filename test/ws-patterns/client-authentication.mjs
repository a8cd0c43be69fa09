// Pattern: authenticate in the HTTP server's 'upgrade' hook; answer 401 by hand or hand over to
// handleUpgrade and emit 'connection' with an extra argument.
import { createServer } from 'node:http';
import WebSocket, { WebSocketServer } from 'ws';

setTimeout(() => process.exit(2), 10_000).unref();
function onSocketError(error) {
  console.error(error);
}
function authenticate(request, next) {
  const token = new URL(request.url, 'ws://base.url').searchParams.get('token');
  setImmediate(() => (token === 'secret' ? next(null, 'alice') : next(new Error('who are you?'))));
}

const server = createServer();
const wss = new WebSocketServer({ noServer: true });
wss.on('connection', function connection(ws, _request, client) {
  ws.on('error', console.error);
  ws.on('message', (data) => {
    console.log(`Received message ${data} from user ${client}`);
    ws.close();
  });
});

server.on('upgrade', function upgrade(request, socket, head) {
  socket.on('error', onSocketError);
  authenticate(request, function next(error, client) {
    if (error || !client) {
      socket.write('HTTP/1.1 401 Unauthorized\r\n\r\n');
      socket.destroy();
      return;
    }
    socket.removeListener('error', onSocketError);
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request, client));
  });
});

server.listen(0, '127.0.0.1', () => {
  const base = `ws://127.0.0.1:${server.address().port}`;
  const refused = new WebSocket(`${base}/?token=wrong`);
  refused.on('error', (error) => console.log('refused:', error instanceof Error));
  refused.on('close', (code) => {
    console.log('refused closed', code);
    const accepted = new WebSocket(`${base}/?token=secret`);
    accepted.on('open', () => accepted.send('hi'));
    accepted.on('close', (code) => {
      console.log('accepted closed', code);
      wss.close();
      server.close();
    });
  });
});
