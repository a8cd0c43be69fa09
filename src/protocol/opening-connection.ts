/**
 * What the sans-I/O client and server share: a {@link Connection} with the opening handshake (§4) in
 * front of it. Until the handshake is done the bytes received go to the HTTP head parser, not to the
 * frame decoder, and nothing can be sent: §4.1 "Once the client's opening handshake has been sent,
 * the client MUST wait for a response from the server before sending any further data", and §4.2.2
 * lets a server send frames only once its 101 response is out.
 */
import { Connection, type ConnectionOptions } from '../connection/connection.ts';
import { queueEncoded } from '../connection/hooks.ts';
import { HandshakeError, InvalidStateError } from '../errors.ts';

/** Where the opening handshake stands: waiting for the peer's head, done, or refused. */
export type HandshakeState = 'connecting' | 'open' | 'rejected';

const utf8 = new TextEncoder();

/**
 * A Connection behind an opening handshake; {@link ClientProtocol} and {@link ServerProtocol} fill in
 * the two sides.
 */
export abstract class OpeningConnection extends Connection {
  #handshake: HandshakeState = 'connecting';
  #handshakeError: HandshakeError | null = null;

  constructor(options: ConnectionOptions) {
    super(options);
  }

  /** `connecting` until the peer's handshake is read, then `open` or `rejected`. */
  get handshakeState(): HandshakeState {
    return this.#handshake;
  }

  /** Why the handshake failed (its `status` is the HTTP status, 0 when none), or null. */
  get handshakeError(): HandshakeError | null {
    return this.#handshakeError;
  }

  /** True once the handshake was refused, or, once open, when the closing handshake is done. */
  override get transportShouldClose(): boolean {
    return this.#handshake === 'rejected' || (this.#handshake === 'open' && super.transportShouldClose);
  }

  /**
   * Feeds received bytes: to the handshake until it is done, then to the frame decoder.
   * @throws {TypeError} (server) when the 101 cannot be built from the options: an invalid or
   *   reserved field in `headers`.
   */
  override push(bytes: Uint8Array): void {
    if (this.#handshake === 'open') super.push(bytes);
    else if (this.#handshake === 'connecting') this.pushHandshake(bytes);
  }

  /**
   * Queues a data message (see {@link Connection.send}).
   * @throws {InvalidStateError} before the opening handshake is done, or after a Close was sent.
   */
  override send(data: Uint8Array, binary: boolean, fin = true, compressed = false): void {
    this.#assertOpen('send a message');
    super.send(data, binary, fin, compressed);
  }

  /**
   * Queues a Ping (see {@link Connection.ping}).
   * @throws {InvalidStateError} before the opening handshake is done, or after a Close was sent.
   */
  override ping(data?: Uint8Array): void {
    this.#assertOpen('send a ping');
    super.ping(data);
  }

  /**
   * Queues a Pong (see {@link Connection.pong}).
   * @throws {InvalidStateError} before the opening handshake is done, or after a Close was sent.
   */
  override pong(data?: Uint8Array): void {
    this.#assertOpen('send a pong');
    super.pong(data);
  }

  /**
   * Reserves the place of a message still being compressed (see {@link Connection.reserveSend}).
   * @throws {InvalidStateError} before the opening handshake is done, or once the closing one started.
   */
  override reserveSend(): void {
    this.#assertOpen('send a message');
    super.reserveSend();
  }

  /**
   * Starts the closing handshake (see {@link Connection.close}).
   * @throws {InvalidStateError} before the opening handshake is done.
   */
  override close(code?: number, reason?: string): void {
    this.#assertOpen('close');
    super.close(code, reason);
  }

  /** Reads the peer's handshake bytes; calls {@link opened} or {@link rejected} once decided. */
  protected abstract pushHandshake(bytes: Uint8Array): void;

  /** Queues a handshake head (the request, or the response) for the transport. */
  protected queueHead(head: string): void {
    this[queueEncoded]([utf8.encode(head)]);
  }

  /** The handshake succeeded: `rest` (bytes after the head, in the same chunk) are frames. */
  protected opened(rest: Uint8Array): void {
    this.#handshake = 'open';
    if (rest.length > 0) super.push(rest);
  }

  /**
   * The handshake failed: nothing more is read or sent, and the transport should be closed. Only a
   * HandshakeError is the peer's fault; anything else the parser or the validation threw is a bug of
   * ours, and is rethrown rather than reported as the peer's.
   * @returns the HandshakeError.
   * @throws what it was given, when that is not a HandshakeError.
   */
  protected rejected(error: unknown): HandshakeError {
    if (!(error instanceof HandshakeError)) throw error;
    this.#handshake = 'rejected';
    this.#handshakeError = error;
    return error;
  }

  #assertOpen(what: string): void {
    if (this.#handshake !== 'open') {
      throw new InvalidStateError(
        `cannot ${what}: the opening handshake is ${this.#handshake} (RFC 6455 §4)`,
      );
    }
  }
}
