// Pattern: CommonJS, the older `WebSocket.Server` spelling and the readyState constants.
const WebSocket = require('ws');
const { WebSocketServer } = require('ws');

setTimeout(() => process.exit(2), 10_000).unref();
console.log('statics:', WebSocket.Server === WebSocketServer, WebSocket.WebSocket === WebSocket);
console.log('constants:', WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED);
const wss = new WebSocket.Server({ port: 0, host: '127.0.0.1' }, () => {
  const ws = new WebSocket(`ws://127.0.0.1:${wss.address().port}`);
  console.log('state while connecting:', ws.readyState === ws.CONNECTING);
  ws.on('open', () => {
    console.log('open:', ws.readyState === WebSocket.OPEN);
    ws.send(Buffer.from([1, 2, 3]));
  });
  ws.on('message', (data, isBinary) => {
    console.log('echo:', [...data].join(','), isBinary);
    ws.close(4000, 'bye');
    console.log('closing:', ws.readyState === WebSocket.CLOSING);
  });
  ws.on('close', (code, reason) => {
    console.log('closed:', code, reason.toString(), ws.readyState === WebSocket.CLOSED);
    wss.close();
  });
});
wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
