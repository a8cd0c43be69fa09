/**
 * The protocol versions of the opening handshake (`Sec-WebSocket-Version`), written once here for
 * the HTTP/1.1 and the HTTP/2 (RFC 8441 §5) handshakes, client and server.
 */

/**
 * The version of RFC 6455. §4.1 item 9: "The request MUST include a header field with the name
 * |Sec-WebSocket-Version|. The value of this header field MUST be 13." §4.2.1 item 6: the server
 * expects "A |Sec-WebSocket-Version| header field, with a value of 13."
 */
export const WEBSOCKET_VERSION = '13';

/**
 * The last draft's version (draft-ietf-hybi-thewebsocketprotocol-08..12), whose framing and handshake
 * are RFC 6455's except that the origin comes in `Sec-WebSocket-Origin`. `ws` speaks it too, client
 * and server; only over HTTP/1.1 (RFC 8441 builds on RFC 6455 alone).
 */
export const DRAFT_VERSION = '8';

/**
 * The versions an HTTP/1.1 server understands, most preferred first: §4.2.2 lets a server list every
 * version it understands in `Sec-WebSocket-Version` when it refuses one (the example of §4.4 lists
 * "13, 8, 7").
 */
export const SUPPORTED_VERSIONS: readonly string[] = Object.freeze([WEBSOCKET_VERSION, DRAFT_VERSION]);
