// Pattern: read `ws.extensions` after a negotiation with parameters. A known difference: sockwire
// gives the negotiated Sec-WebSocket-Extensions value, as browsers do; ws gives only the names.
import WebSocket, { WebSocketServer } from 'ws';

setTimeout(() => process.exit(2), 10_000).unref();
const wss = new WebSocketServer({
  port: 0,
  host: '127.0.0.1',
  perMessageDeflate: { serverNoContextTakeover: true, serverMaxWindowBits: 10 },
});
await new Promise((resolve) => wss.on('listening', resolve));
const client = new WebSocket(`ws://127.0.0.1:${wss.address().port}`);
client.on('open', () => {
  console.log('extensions:', client.extensions);
  client.close();
});
client.on('close', () => wss.close());
