/**
 * Symbols for the methods that the server and the client call on a WebSocket. They are not part of
 * the public API: symbol keys keep them out of autocompletion and out of reach of accidental use.
 */

/** Binds a socket whose opening handshake succeeded. */
export const attachSocket: unique symbol = Symbol('sockwire.attachSocket');
/** Fails a CONNECTING client whose opening handshake failed. */
export const failHandshake: unique symbol = Symbol('sockwire.failHandshake');
/**
 * Tells a CONNECTING client how its HTTP/1.1 handshake is going: the redirects followed so far and the
 * request in flight (read back through the `_redirects` and `_req` accessors that mirror `ws`).
 */
export const handshakeProgress: unique symbol = Symbol('sockwire.handshakeProgress');
/** Queues already-encoded frame bytes (server broadcast/publish: one encoding for every client). */
export const sendEncoded: unique symbol = Symbol('sockwire.sendEncoded');
/** The WebSocketServer that accepted a server-side WebSocket (pub/sub delegates to its topic registry). */
export const acceptingServer: unique symbol = Symbol('sockwire.acceptingServer');
/**
 * Hands the pieces of uncompressed messages to a listener as they arrive, instead of emitting whole
 * messages (the Connection's `streamMessages`; for WebSocketStream), or, given null, stops.
 */
export const receiveParts: unique symbol = Symbol('sockwire.receiveParts');
