/**
 * A client WebSocket's opening handshake, as the WebSocket sees it while CONNECTING: how to abort the
 * dial, the HTTP/1.1 request in flight and the redirects followed (read back through `ws`'s `_req`
 * and `_redirects`), and how a close before 'open' fails it. One object per client WebSocket, made
 * when it dials; a server-side WebSocket has none.
 */
import type { ClientRequest } from 'node:http';
import { ErrorCode, WebSocketError } from '../errors.ts';

export class ClientOpening {
  /** Aborts the dial (src/websocket/dialer.ts); null once connected or failed. */
  abort: (() => void) | null = null;
  /** The handshake's request in flight, replaced on each redirect; null once the handshake is over. */
  request: ClientRequest | null = null;
  /** Redirects received so far (with `followRedirects`), a refused one included, as in `ws`. */
  redirects = 0;

  /** The handshake succeeded: nothing of it is kept. */
  connected(): void {
    this.abort = null;
    this.request = null;
  }

  /**
   * `close()` or `terminate()` while CONNECTING. WHATWG `close()`: "Fail the WebSocket connection
   * and set this's ready state to CLOSING"; 'error' and 'close' follow in a later task (in `ws`, the
   * next tick), so that listeners added right after the call still hear them.
   * @param report - reports the failure (the WebSocket is CLOSING by then).
   */
  abortConnecting(report: (error: WebSocketError) => void): void {
    const abort = this.abort;
    this.abort = null;
    abort?.();
    const error = new WebSocketError(
      ErrorCode.HandshakeAborted,
      'WebSocket was closed before the connection was established',
    );
    process.nextTick(report, error);
  }
}
