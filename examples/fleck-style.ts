/**
 * A Fleck-style facade over sockwire (Fleck is a C# WebSocket server): one callback configures each
 * connection by assigning `onOpen`, `onMessage`, `onBinary`, `onClose` and `onError`, instead of
 * subscribing to events. It shows that sockwire's event API is easy to wrap in whatever shape an
 * application prefers.
 *
 *   startFleckServer({ server: httpServer, path: '/chat' }, (socket) => {
 *     socket.onOpen = () => console.log('open', socket.connectionInfo.clientIpAddress);
 *     socket.onMessage = (message) => socket.send(message);
 *     socket.onClose = () => console.log('close');
 *   });
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import {
  type ServerOptions,
  type UpgradeRequestInfo,
  type WebSocket,
  WebSocketServer,
} from '../src/index.ts';

export interface ConnectionInfo {
  readonly id: number;
  readonly clientIpAddress: string;
  readonly clientPort: number;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface FleckSocket {
  onOpen: () => void;
  /** A text message. */
  onMessage: (message: string) => void;
  /** A binary message. */
  onBinary: (data: Buffer) => void;
  onClose: (code: number, reason: string) => void;
  onError: (error: Error) => void;
  readonly connectionInfo: ConnectionInfo;
  /** Whether the connection is open (messages sent now will be delivered). */
  readonly isAvailable: boolean;
  send(message: string | Buffer): void;
  close(code?: number, reason?: string): void;
}

const nothing = () => {};
let nextId = 1;

/** Starts a WebSocketServer with `options` and calls `configure` once for each new connection. */
export function startFleckServer(
  options: ServerOptions,
  configure: (socket: FleckSocket) => void,
): WebSocketServer {
  const server = new WebSocketServer(options);
  server.on('connection', (ws: WebSocket, request: IncomingMessage | UpgradeRequestInfo) => {
    // A net.Socket or tls.TLSSocket in practice; typed as any Duplex by the server.
    const peer = request.socket as Partial<Socket>;
    const socket: FleckSocket = {
      onOpen: nothing,
      onMessage: nothing,
      onBinary: nothing,
      onClose: nothing,
      onError: nothing,
      connectionInfo: {
        id: nextId++,
        clientIpAddress: peer.remoteAddress ?? '',
        clientPort: peer.remotePort ?? 0,
        path: request.url ?? '/',
        headers: request.headers,
      },
      get isAvailable() {
        return ws.readyState === ws.OPEN;
      },
      send: (message) => {
        if (ws.readyState === ws.OPEN) ws.send(message);
      },
      close: (code = 1000, reason = '') => ws.close(code, reason),
    };
    configure(socket);
    ws.on('message', (data: Buffer, isBinary: boolean) =>
      isBinary ? socket.onBinary(data) : socket.onMessage(data.toString('utf8')),
    );
    ws.on('close', (code: number, reason: Buffer) => socket.onClose(code, reason.toString('utf8')));
    ws.on('error', (error: Error) => socket.onError(error));
    // The WebSocket is already open when 'connection' fires.
    socket.onOpen();
  });
  return server;
}
