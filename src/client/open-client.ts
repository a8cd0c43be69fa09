/**
 * The last step of a client's opening handshake, shared by the HTTP/1.1 Upgrade (connect.ts) and
 * RFC 8441 (src/http2/client.ts): 'upgrade', then the socket is attached and 'open' is emitted.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ResponseHead } from '../handshake/http.ts';
import { ReadyState } from '../ready-state.ts';
import { attachSocket } from '../websocket/internal.ts';
import type { AttachOptions } from '../websocket/types.ts';
import type { WebSocket } from '../websocket/websocket.ts';
import { toIncomingMessage } from './response.ts';

/**
 * Emits 'upgrade' with the response (an `http.IncomingMessage`, as in `ws`: Node's own for
 * HTTP/1.1, one built from the head for RFC 8441), then attaches the socket (which emits 'open').
 * Call it outside any try/catch: an exception from the application's listener is the application's
 * and propagates to the socket or stream event that got here, hence uncaught, as in `ws`; it is never
 * a handshake failure. If an 'upgrade' listener throws, the socket is attached all the same, so the
 * connection does not hang in CONNECTING; if the listener closed the WebSocket, the socket is dropped.
 * @throws Whatever an 'upgrade' or 'open' listener throws.
 */
export function openClient(
  ws: WebSocket,
  socket: Duplex,
  head: ResponseHead,
  rest: Uint8Array,
  attach: AttachOptions,
  response?: IncomingMessage,
): void {
  try {
    // Built only for a listener: most clients never look at the response.
    if (ws.listenerCount('upgrade') > 0) ws.emit('upgrade', response ?? toIncomingMessage(head, socket));
  } finally {
    if (ws.readyState === ReadyState.CONNECTING) ws[attachSocket](socket, rest, attach);
    else socket.destroy();
  }
}
