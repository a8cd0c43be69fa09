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
/** Delivers a socket event ('data', 'end', 'close') from the shared listener functions. */
export const socketEvent: unique symbol = Symbol('sockwire.socketEvent');
/** Queues already-encoded frame bytes (server broadcast/publish: one encoding for every client). */
export const sendEncoded: unique symbol = Symbol('sockwire.sendEncoded');
/** The WebSocketServer that accepted a server-side WebSocket (pub/sub delegates to its topic registry). */
export const acceptingServer: unique symbol = Symbol('sockwire.acceptingServer');
/**
 * Runs the transport-independent part of a server handshake (path, origin, maxConnections,
 * verifyClient, subprotocol, permessage-deflate, accept) for a request that HTTP/1.1 or HTTP/2 validated.
 */
export const negotiateHandshake: unique symbol = Symbol('sockwire.negotiateHandshake');
/**
 * Refuses a handshake that the transport refused before {@link negotiateHandshake} (an invalid RFC
 * 8441 request, an HTTP/2 connection over its stream limit), through the server's one refusal path:
 * the same answer, linger and 'handshakeRejected' event as every other refusal.
 */
export const refuseHandshake: unique symbol = Symbol('sockwire.refuseHandshake');
