// Types for `require('sockwire')`: the WebSocket class with every named export as a static.
import sockwire = require('../dist/index.js');

declare const WebSocket: typeof sockwire.default & Omit<typeof sockwire, 'default'>;
export = WebSocket;
