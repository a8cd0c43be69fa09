export {
  type CloseOptions,
  type ServerOptions,
  type UpgradeRequestInfo,
  type VerifyClientInfo,
  type VerifyResult,
  WebSocketServer,
} from './websocket-server.ts';
