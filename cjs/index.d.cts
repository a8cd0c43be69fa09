// Types for `require('sockwire')`: the WebSocket class with every named export as a static, and the
// name `WebSocket` as the instance type, so `import WebSocket = require('sockwire')` reads like `ws`.
import sockwire = require('../dist/index.js');

declare const WebSocket: typeof sockwire.default & Omit<typeof sockwire, 'default'>;
type WebSocket = sockwire.WebSocket;
export = WebSocket;
