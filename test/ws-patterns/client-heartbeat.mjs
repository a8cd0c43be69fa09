// Pattern: the client expects the server's pings and terminates itself when they stop.
import WebSocket, { WebSocketServer } from 'ws';

setTimeout(() => process.exit(2), 10_000).unref();
const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
await new Promise((resolve) => wss.on('listening', resolve));
wss.on('connection', (ws) => {
  let pings = 0;
  const timer = setInterval(() => {
    if (++pings <= 3) ws.ping();
    else clearInterval(timer); // then silence: the client must give up on its own
  }, 50);
  ws.on('close', () => clearInterval(timer));
});

function heartbeat() {
  clearTimeout(this.pingTimeout);
  this.pingTimeout = setTimeout(() => {
    console.log('no ping in time: terminating');
    this.terminate();
  }, 50 + 250);
}
const client = new WebSocket(`ws://127.0.0.1:${wss.address().port}`);
let pings = 0;
client.on('error', console.error);
client.on('open', heartbeat);
client.on('ping', function onPing() {
  pings += 1;
  heartbeat.call(this);
});
client.on('close', function clear(code) {
  clearTimeout(this.pingTimeout);
  console.log('pings received', pings, 'close code', code);
  wss.close();
});
