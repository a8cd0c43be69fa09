/**
 * The event objects of the WHATWG WebSocket interface (`onmessage`, `addEventListener`), for code
 * written against browsers. Node's `ws`-style listeners (`on('message', (data, isBinary) => …)`) get
 * plain arguments instead.
 */
export class WebSocketEvent {
  readonly type: string;
  readonly target: unknown;
  constructor(type: string, target: unknown) {
    this.type = type;
    this.target = target;
  }
}

export class MessageEvent extends WebSocketEvent {
  /** A string for text messages; for binary ones, as `binaryType` asks. */
  readonly data: unknown;
  constructor(data: unknown, target: unknown) {
    super('message', target);
    this.data = data;
  }
}

export class CloseEvent extends WebSocketEvent {
  readonly code: number;
  readonly reason: string;
  /** False when the connection closed without a completed closing handshake (code 1006). */
  readonly wasClean: boolean;
  constructor(code: number, reason: string, wasClean: boolean, target: unknown) {
    super('close', target);
    this.code = code;
    this.reason = reason;
    this.wasClean = wasClean;
  }
}

export class ErrorEvent extends WebSocketEvent {
  readonly error: unknown;
  readonly message: string;
  constructor(error: unknown, target: unknown) {
    super('error', target);
    this.error = error;
    this.message = error instanceof Error ? error.message : String(error);
  }
}
