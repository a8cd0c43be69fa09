/**
 * sockwire: a zero-dependency WebSocket library (RFC 6455) for Node.js.
 * Public exports only; see docs/api.md.
 */
export type { ClientOptions } from './client/connect.ts';
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
export {
  ErrorCode,
  type ErrorCodeString,
  HandshakeError,
  InvalidStateError,
  ProtocolError,
  WebSocketError,
} from './errors.ts';
export { CloseEvent, ErrorEvent, MessageEvent, WebSocketEvent } from './events.ts';
export { CloseCode } from './frame/close-code.ts';
export { Opcode } from './frame/opcode.ts';
export { type Http2Policy, SESSION_IDLE_TIMEOUT } from './http2/client.ts';
export { isExtendedConnect } from './http2/handshake.ts';
export { attachHttp2, type Http2UpgradeRequest } from './http2/server.ts';
export { ReadyState } from './ready-state.ts';
export {
  type BroadcastOptions,
  type BroadcastResult,
  type CloseOptions,
  type ServerOptions,
  type UpgradeRequestInfo,
  type VerifyClientInfo,
  type VerifyResult,
  WebSocketServer,
} from './server/websocket-server.ts';
export {
  type BinaryType,
  type ConnectionSettings,
  type SendData,
  type SendOptions,
  WebSocket,
} from './websocket.ts';
