/**
 * Symbols for the Connection methods that only the shells call (src/websocket, src/server). They are
 * not part of the public API: src/index.ts does not re-export this module, and symbol keys keep the
 * methods out of autocompletion and out of reach of accidental use.
 */

/** Queues frames encoded elsewhere: a server broadcast encodes a message once for every client. */
export const queueEncoded: unique symbol = Symbol('sockwire.connection.queueEncoded');
/** Tells the Connection that its transport is gone (TCP closed or reset). */
export const transportClosed: unique symbol = Symbol('sockwire.connection.transportClosed');
