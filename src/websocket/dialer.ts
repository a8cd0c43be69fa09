/**
 * How `new WebSocket(url)` gets connected without the WebSocket importing the client that dials it.
 * The WebSocket knows only this contract; the client (src/client/connect.ts) implements it and
 * installs itself when it is loaded, which `import … from 'sockwire'` (src/index.ts) always does.
 * So the dependency points one way, client → WebSocket: a server-only program still loads the
 * client through the package entry point, but no module of src/websocket/ imports it, and the
 * WebSocket reads alone.
 */
import type { ClientOptions } from '../client/options.ts';
import { InvalidStateError } from '../errors.ts';

/** What a client implements to connect the WebSockets made with a URL. */
export interface Dialer<W extends object> {
  /**
   * The URL as `ws.url` reports it, read before dialing: §3 defines the `ws`/`wss` schemes, and an
   * `http:`/`https:` URL is taken for `ws:`/`wss:` (as the WHATWG interface and `ws` do).
   */
  url(url: string | URL): string;
  /**
   * Starts the opening handshake (§4.1) for `ws`, and reports its outcome to it through the
   * WebSocket's internal methods (src/websocket/internal.ts); may throw for invalid arguments.
   * @returns the function that aborts the attempt (for `close()`/`terminate()` while CONNECTING).
   */
  dial(ws: W, url: string | URL, protocols: readonly string[], options: ClientOptions<W>): () => void;
}

let installed: Dialer<object> | null = null;

/** Installs the client that connects `new WebSocket(url)`; the last one installed is used. */
export function installDialer<W extends object>(dialer: Dialer<W>): void {
  installed = dialer as unknown as Dialer<object>;
}

/**
 * The installed client.
 * @throws {InvalidStateError} (code WS_ERR_INVALID_STATE) when none was installed: the WebSocket
 *   module was loaded on its own, without the package entry point that loads the client.
 */
export function installedDialer<W extends object>(): Dialer<W> {
  if (installed === null) {
    throw new InvalidStateError(
      "new WebSocket(url) needs the client, which is not loaded: import the WebSocket from 'sockwire' (src/index.ts), not from src/websocket/websocket.ts alone",
    );
  }
  return installed as unknown as Dialer<W>;
}
