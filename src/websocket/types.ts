/**
 * The types of the WebSocket's public surface that more than one file of src/websocket/ (and the
 * server and client that make WebSockets) need: its events, its options, what the server or the
 * client hands it once the opening handshake succeeded. Types only: nothing here runs.
 */
import type { Buffer } from 'node:buffer';
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Role } from '../connection/connection.ts';
import type { PerMessageDeflateCodec } from '../extensions/permessage-deflate/codec.ts';
import type { KeepAliveOptions } from './keep-alive.ts';

/**
 * What the server that accepted a WebSocket does when it closes (src/server/negotiate.ts), called by
 * the driver around the 'close' event: one shared object per server instead of 'close' listeners
 * (and their `once()` wrappers) on every socket.
 */
export interface CloseHooks<W> {
  /** Just before 'close': the socket leaves `server.clients` and frees its `maxConnections` slot. */
  socketClosing(ws: W): void;
  /** Just after the 'close' listeners (which may still read its topics and user): those go. */
  socketClosed(ws: W): void;
}

/** The server's topic registry, as a server-side WebSocket sees it (see `subscribe()`). */
export interface TopicRegistry<W> {
  subscribe(ws: W, topic: string): boolean;
  unsubscribe(ws: W, topic: string): boolean;
  isSubscribed(ws: W, topic: string): boolean;
}

/** The server that accepted a server-side WebSocket: its topics, and what it does when the socket closes. */
export interface AcceptingServerOf<W> extends TopicRegistry<W>, CloseHooks<W> {}

/** How binary messages are delivered to WHATWG-style listeners (`onmessage`, `addEventListener`). */
export type BinaryType = 'nodebuffer' | 'arraybuffer' | 'fragments' | 'blob';

/** A binary message as WHATWG-style listeners receive it, depending on `binaryType`. */
export type RawData = Buffer | ArrayBuffer | Buffer[] | Blob;

/** Options of `send()`. */
export interface SendOptions {
  /** Send as a binary message (default: true unless `data` is a string). */
  readonly binary?: boolean;
  /** False to send one fragment of a message; the last fragment has `fin: true` (default true). */
  readonly fin?: boolean;
  /** Per-message opt-out of compression, for secrets (RFC 7692; ignored until it is negotiated). */
  readonly compress?: boolean;
  /** Accepted for `ws` compatibility; frames are always masked by clients and never by servers (§5.1). */
  readonly mask?: boolean;
}

/** Options shared by both ends of a connection. */
export interface ConnectionSettings {
  /** Largest message accepted, in bytes; larger closes with 1009. Default 100 MiB (as `ws`). */
  readonly maxPayload?: number;
  /**
   * How long to wait for the peer to finish the closing handshake and close the TCP connection before
   * destroying the socket, in ms. Default 30 s: the same as `ws`, long enough for a slow peer.
   */
  readonly closeTimeout?: number;
  /**
   * Heartbeats on an idle connection (see src/websocket/keep-alive.ts): `{ interval }` sends unsolicited Pongs,
   * `{ interval, timeout }` sends Pings and aborts the connection (1006, and an error with code
   * WS_ERR_KEEPALIVE_TIMEOUT) when the peer stays silent `timeout` ms after one. Default: off, as in
   * `ws` and browsers: heartbeats cost traffic on every idle connection, so an application opts in
   * with periods that suit its network (30 s is a common choice behind NATs).
   */
  readonly keepAlive?: KeepAliveOptions;
  /**
   * Answer every received Ping with a Pong automatically (default true, as in `ws`). With false,
   * 'ping' is still emitted and the application must answer with `pong(data)` itself (§5.5.2:
   * the endpoint "MUST send a Pong frame in response").
   */
  readonly autoPong?: boolean;
}

/** Everything the server or the client knows once the opening handshake succeeded. */
export interface AttachOptions {
  readonly role: Role;
  readonly protocol: string;
  readonly extensions: string;
  readonly maxPayload: number;
  readonly closeTimeout: number;
  readonly keepAlive?: KeepAliveOptions | undefined;
  readonly autoPong?: boolean | undefined;
  readonly generateMaskKey?: (() => Uint8Array) | undefined;
  readonly url?: string;
  /** Present when permessage-deflate was negotiated (RFC 7692). */
  readonly deflate?: { readonly codec: PerMessageDeflateCodec; readonly threshold: number } | undefined;
}

/** The events of a WebSocket and their listener arguments (`ws`-compatible). */
export interface WebSocketEvents {
  open: [];
  /** A whole message: a Buffer (text too, as in `ws`; see `binaryType`) and whether it was binary. */
  message: [data: Buffer, isBinary: boolean];
  /** Exactly once. `code` is 1006 when no Close frame was received (§7.1.5). */
  close: [code: number, reason: Buffer];
  /** Emitted only when there is a listener (a peer's bad input must not crash the process). */
  error: [error: Error];
  ping: [data: Buffer];
  pong: [data: Buffer];
  /** `bufferedAmount` went back under the high-water mark after `send()` returned false. */
  drain: [];
  /** Client: the server's 101 response (an `http.IncomingMessage`, as in `ws`), before 'open'. */
  upgrade: [response: IncomingMessage];
  /**
   * Client with `followRedirects`: the URL of the next request, which is not sent yet (its header
   * fields may still be changed), as in `ws`.
   */
  redirect: [url: string, request: ClientRequest];
  /**
   * Client: the server answered something other than 101. With a listener, it owns the response
   * (read it, then `close()` the WebSocket) and no 'error' is emitted, as in `ws`.
   */
  'unexpected-response': [request: ClientRequest, response: IncomingMessage];
}
