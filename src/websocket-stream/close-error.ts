/**
 * The error of a `WebSocketStream` that carries a close code and reason, in the shape browsers give
 * their `WebSocketError` (`new WebSocketError(message, { closeCode, reason })`): `closed` rejects
 * with one after an abnormal close (1006, §7.1.5), and one passed to `readable.cancel()` or
 * `writable.abort()` chooses the code and reason of the Close frame sent.
 *
 * The name differs from the browsers' because sockwire's `WebSocketError` (the base of all its
 * errors) already has that name; `import { WebSocketCloseError as WebSocketError }` gives browser
 * code its name back.
 */
import { ErrorCode, type ErrorCodeString, WebSocketError } from '../errors.ts';
import { CloseCode } from '../frame/close-code.ts';

/** What a {@link WebSocketCloseError} carries: the browsers' `WebSocketCloseInfo`. */
export interface WebSocketCloseInfo {
  /** The close code (§7.4); see `WebSocketStream.close()` for the codes that may be sent. */
  readonly closeCode?: number;
  /** The close reason (§7.1.6): at most 123 bytes of UTF-8. */
  readonly reason?: string;
}

/** A close code and reason, as an error: see the module comment. */
export class WebSocketCloseError extends WebSocketError {
  /**
   * The close code: the one to send (given to `cancel()`/`abort()`), or the one the connection
   * closed with (1006 when it was lost without a closing handshake, §7.1.5).
   */
  readonly closeCode: number;
  /** The close reason (§7.1.6); '' when none. */
  readonly reason: string;

  /**
   * @param message - the error's message, as browsers take it.
   * @param init - the close code and reason; without a code, 1000 when a reason is given (as
   *   browsers do), else 1005 ("no status code", §7.1.5).
   * @param code - sockwire's stable error code: WS_ERR_CONNECTION_LOST unless told otherwise.
   */
  constructor(
    message = '',
    init: WebSocketCloseInfo = {},
    code: ErrorCodeString = ErrorCode.ConnectionLost,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    const reason = init.reason ?? '';
    this.reason = reason;
    this.closeCode = init.closeCode ?? (reason === '' ? CloseCode.NoStatusReceived : CloseCode.Normal);
  }
}
