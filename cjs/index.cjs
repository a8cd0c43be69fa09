'use strict';
// The CommonJS entry point: `require('sockwire')` returns the WebSocket class, whose statics include
// the server (`WebSocket.Server`, `WebSocket.WebSocketServer`) as `require('ws')` does, and every
// named export is a property too (`const { WebSocketServer } = require('sockwire')`).
//
// sockwire is written as ES modules only, one copy of the code: this file loads them with Node's
// require(esm), unflagged since Node 20.19 and 22.12 (the versions package.json `engines` allows),
// so CommonJS and ESM programs share the same classes and `instanceof` holds across them.
const sockwire = require('../dist/index.js');

const WebSocket = sockwire.default;
for (const name of Object.keys(sockwire)) {
  if (name !== 'default' && !(name in WebSocket)) {
    Object.defineProperty(WebSocket, name, { value: sockwire[name], enumerable: true });
  }
}
module.exports = WebSocket;
