// Pattern: broadcast by looping over `wss.clients`, to everyone or to everyone else.
import WebSocket, { WebSocketServer } from 'ws';

setTimeout(() => process.exit(2), 10_000).unref();
const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
await new Promise((resolve) => wss.on('listening', resolve));
wss.on('connection', function connection(ws) {
  ws.on('error', console.error);
  ws.on('message', function message(data, isBinary) {
    const everyone = data.toString().startsWith('all:');
    wss.clients.forEach(function each(client) {
      if ((everyone || client !== ws) && client.readyState === WebSocket.OPEN) {
        client.send(data, { binary: isBinary });
      }
    });
  });
});

const names = ['a', 'b', 'c'];
const received = Object.fromEntries(names.map((name) => [name, []]));
let expected = 5; // a's message reaches b and c; b's reaches all three
const clients = await Promise.all(
  names.map(
    (name) =>
      new Promise((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${wss.address().port}`);
        ws.on('message', (data) => {
          received[name].push(data.toString());
          if (--expected === 0) report();
        });
        ws.on('open', () => resolve(ws));
      }),
  ),
);
// Every client is open; wait until the server has each of them in `wss.clients` too.
while (wss.clients.size < names.length) await new Promise((resolve) => setTimeout(resolve, 5));
clients[0].send('others: hello from a');
clients[1].send('all: hello from b');

function report() {
  for (const name of names) console.log(name, 'received', JSON.stringify(received[name].sort()));
  for (const ws of clients) ws.close();
  wss.close();
}
