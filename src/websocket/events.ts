/**
 * The event objects of the WHATWG WebSocket interface (`onmessage`, `addEventListener`), for code
 * written against browsers. Node's `ws`-style listeners (`on('message', (data, isBinary) => …)`) get
 * plain arguments instead.
 *
 * Their attributes are read-only accessors on the prototypes, enumerable, as WebIDL attributes are in
 * browsers and as `ws` defines them: `for…in` and object spreads see the same shape everywhere.
 */
export class WebSocketEvent {
  readonly #type: string;
  readonly #target: unknown;
  constructor(type: string, target: unknown) {
    this.#type = type;
    this.#target = target;
  }
  get type(): string {
    return this.#type;
  }
  get target(): unknown {
    return this.#target;
  }
}

export class MessageEvent extends WebSocketEvent {
  readonly #data: unknown;
  constructor(data: unknown, target: unknown) {
    super('message', target);
    this.#data = data;
  }
  /** A string for text messages; for binary ones, as `binaryType` asks. */
  get data(): unknown {
    return this.#data;
  }
}

export class CloseEvent extends WebSocketEvent {
  readonly #code: number;
  readonly #reason: string;
  readonly #wasClean: boolean;
  constructor(code: number, reason: string, wasClean: boolean, target: unknown) {
    super('close', target);
    this.#code = code;
    this.#reason = reason;
    this.#wasClean = wasClean;
  }
  get code(): number {
    return this.#code;
  }
  get reason(): string {
    return this.#reason;
  }
  /** False when the connection closed without a completed closing handshake (code 1006). */
  get wasClean(): boolean {
    return this.#wasClean;
  }
}

export class ErrorEvent extends WebSocketEvent {
  readonly #error: unknown;
  readonly #message: string;
  constructor(error: unknown, target: unknown) {
    super('error', target);
    this.#error = error;
    this.#message = error instanceof Error ? error.message : String(error);
  }
  get error(): unknown {
    return this.#error;
  }
  get message(): string {
    return this.#message;
  }
}

for (const [prototype, names] of [
  [WebSocketEvent.prototype, ['type', 'target']],
  [MessageEvent.prototype, ['data']],
  [CloseEvent.prototype, ['code', 'reason', 'wasClean']],
  [ErrorEvent.prototype, ['error', 'message']],
] as const) {
  for (const name of names) Object.defineProperty(prototype, name, { enumerable: true });
}
