/**
 * sockwire: a zero-dependency WebSocket library (RFC 6455) for Node.js.
 * Public exports only; see docs/api.md.
 *
 * Two ways in, as with `ws`: named exports (`import { WebSocket, WebSocketServer } from 'sockwire'`)
 * and a default export that is the `WebSocket` class carrying the server as statics
 * (`import WebSocket from 'sockwire'; new WebSocket.Server(…)`), which is also what
 * `require('sockwire')` returns.
 */

// Loading the client installs it as the dialer of `new WebSocket(url)` (src/websocket/dialer.ts).
import './client/connect.ts';
import type { ClientOptions as ClientOptionsFor } from './client/options.ts';
import { createWebSocketStream as createWebSocketStreamFunction } from './create-websocket-stream.ts';
import { WebSocketServer as WebSocketServerClass } from './server/websocket-server.ts';
import { WebSocket as WebSocketClass } from './websocket/websocket.ts';

export type { Http2Policy } from './client/options.ts';
/** The options of `new WebSocket(url, protocols, options)`, whose `finishRequest` gets the WebSocket. */
export type ClientOptions<W extends object = WebSocketClass> = ClientOptionsFor<W>;
export {
  backoffDelay,
  defaultShouldReconnect,
  type ReconnectCloseEvent,
  ReconnectingWebSocket,
  type ReconnectingWebSocketEvents,
  type ReconnectOptions,
  type ReconnectTimers,
} from './client/reconnecting.ts';
export {
  Connection,
  type ConnectionEvent,
  type ConnectionOptions,
  type ConnectionState,
  type Role,
} from './connection/connection.ts';
export { createWebSocketStream } from './create-websocket-stream.ts';
export {
  ErrorCode,
  type ErrorCodeString,
  HandshakeError,
  InvalidArgumentError,
  InvalidOptionError,
  InvalidStateError,
  ProtocolError,
  WebSocketError,
} from './errors.ts';
export type { PerMessageDeflateOptions } from './extensions/permessage-deflate/options.ts';
export { CloseCode } from './frame/close-code.ts';
export { Opcode } from './frame/opcode.ts';
export { isExtendedConnect } from './http2/handshake.ts';
export { attachHttp2, type Http2UpgradeRequest } from './http2/server.ts';
export { SESSION_IDLE_TIMEOUT } from './http2/session-pool.ts';
export { ClientProtocol, type ClientProtocolOptions } from './protocol/client-protocol.ts';
export type { HandshakeState } from './protocol/opening-connection.ts';
export { ServerProtocol, type ServerProtocolOptions } from './protocol/server-protocol.ts';
export { ReadyState } from './ready-state.ts';
export {
  type AdapterHost,
  type BroadcastOptions,
  type BroadcastResult,
  type CloseOptions,
  type FanOutKind,
  type FanOutMessage,
  type HandshakeRejection,
  type RequestUser,
  type ServerAdapter,
  type ServerOptions,
  type ServerRequest,
  type UpgradeRequestInfo,
  type VerifyClientInfo,
  type VerifyResult,
  WebSocketServer,
  type WebSocketServerEvents,
} from './server/websocket-server.ts';
export { CloseEvent, ErrorEvent, MessageEvent, WebSocketEvent } from './websocket/events.ts';
export type { KeepAliveOptions } from './websocket/keep-alive.ts';
export type { SendData } from './websocket/send-data.ts';
export type {
  BinaryType,
  ConnectionSettings,
  RawData,
  SendOptions,
  WebSocketEvents,
} from './websocket/types.ts';
export { WebSocket } from './websocket/websocket.ts';
export { WebSocketCloseError, type WebSocketCloseInfo } from './websocket-stream/close-error.ts';
export type { StreamedMessage } from './websocket-stream/streamed-readable.ts';
export {
  type WebSocketCloseResult,
  type WebSocketOpenInfo,
  WebSocketStream,
  type WebSocketStreamMessage,
  type WebSocketStreamOptions,
  type WebSocketStreamPairOptions,
} from './websocket-stream/websocket-stream.ts';

/** The `ws`-shaped default export: the `WebSocket` class with the server classes as statics. */
type WebSocketWithStatics = typeof WebSocketClass & {
  /** The server class, under the name `ws` used before 8.0. */
  readonly Server: typeof WebSocketServerClass;
  readonly WebSocketServer: typeof WebSocketServerClass;
  readonly WebSocket: typeof WebSocketClass;
  readonly createWebSocketStream: typeof createWebSocketStreamFunction;
};

// Statics are added to the class itself (not to a subclass or a copy) so that `instanceof` holds for
// every socket, whichever import a program uses.
const WebSocketDefault: WebSocketWithStatics = Object.assign(WebSocketClass, {
  Server: WebSocketServerClass,
  WebSocketServer: WebSocketServerClass,
  WebSocket: WebSocketClass,
  createWebSocketStream: createWebSocketStreamFunction,
});
/** So that `import WebSocket from 'sockwire'` also names the instance type, as with `ws`. */
type WebSocketDefault = WebSocketClass;
export default WebSocketDefault;
