// Pattern: permessage-deflate tuned on the server with zlib options, as most deployments copy it.
import WebSocket, { WebSocketServer } from 'ws';

setTimeout(() => process.exit(2), 10_000).unref();
const wss = new WebSocketServer({
  port: 0,
  host: '127.0.0.1',
  perMessageDeflate: {
    zlibDeflateOptions: { chunkSize: 1024, memLevel: 7, level: 3 },
    zlibInflateOptions: { chunkSize: 10 * 1024 },
    clientNoContextTakeover: true,
    serverNoContextTakeover: true,
    serverMaxWindowBits: 10,
    concurrencyLimit: 10,
    threshold: 1024,
  },
});
await new Promise((resolve) => wss.on('listening', resolve));
wss.on('connection', (ws) => {
  ws.on('error', console.error);
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});

const client = new WebSocket(`ws://127.0.0.1:${wss.address().port}`);
client.on('error', console.error);
client.on('open', () => {
  console.log('negotiated:', client.extensions.startsWith('permessage-deflate'));
  client.send('small');
  client.send('compressible '.repeat(500));
});
const replies = [];
client.on('message', (data) => {
  replies.push(data.length);
  if (replies.length === 2) {
    console.log('echo lengths', replies.join(' '));
    client.close();
  }
});
client.on('close', (code) => {
  console.log('closed', code);
  // The client may turn compression off.
  const plain = new WebSocket(`ws://127.0.0.1:${wss.address().port}`, { perMessageDeflate: false });
  plain.on('open', () => {
    console.log('without deflate:', JSON.stringify(plain.extensions));
    plain.close();
  });
  plain.on('close', () => wss.close());
});
