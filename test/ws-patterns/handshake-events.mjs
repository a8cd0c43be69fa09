// Pattern: add a cookie to the 101 with the server's 'headers' event and read it in the client's
// 'upgrade'; refuse with verifyClient and read the answer in 'unexpected-response'.
import WebSocket, { WebSocketServer } from 'ws';

setTimeout(() => process.exit(2), 10_000).unref();
const wss = new WebSocketServer({
  port: 0,
  host: '127.0.0.1',
  verifyClient: ({ req }) => req.url !== '/private',
});
await new Promise((resolve) => wss.on('listening', resolve));
wss.on('headers', (headers, request) =>
  headers.push(`Set-Cookie: session=${request.url.slice(1)}; HttpOnly`),
);
wss.on('connection', (ws) => ws.close());

const base = `ws://127.0.0.1:${wss.address().port}`;
const welcome = new WebSocket(`${base}/abc`);
welcome.on('upgrade', (response) => {
  console.log('upgrade', response.statusCode, response.headers['set-cookie']);
});
welcome.on('close', (code) => {
  console.log('welcome closed', code);
  const refused = new WebSocket(`${base}/private`);
  refused.on('unexpected-response', (request, response) => {
    console.log('unexpected-response', response.statusCode, typeof request.method);
    response.resume();
    response.on('end', () => refused.terminate());
  });
  refused.on('error', () => console.log('refused error'));
  refused.on('close', (code) => {
    console.log('refused closed', code);
    wss.close();
  });
});
