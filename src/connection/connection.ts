/**
 * The WebSocket connection as a pure state machine (RFC 6455 §5–§7), in the sans-I/O style:
 *
 *              push(bytes) + next()                       takeOutgoing()
 *   socket ──────────────────────▶ ┌──────────────────────────────┐ ──────────────▶ socket
 *                                  │ Connection                   │
 *                                  │  FrameDecoder ─▶ messages,   │
 *                                  │  control frames, closing     │
 *   user   ◀────────────────────── │  events                      │ ◀────────────── user
 *            ConnectionEvent       └──────────────────────────────┘  send/ping/pong/close
 *
 * It never touches a socket, a timer or a random source: bytes go in, events and bytes come out, and
 * mask keys come from an injected function. The shell (src/websocket) moves bytes between this
 * object and a real socket and turns events into the public API; src/protocol adds the opening
 * handshake in front of it.
 *
 * States (§4.1, §7.1): the opening handshake is done before a Connection exists, so it starts OPEN.
 *   OPEN ──close()──▶ CLOSING ──peer's Close──▶ CLOSED
 *   OPEN ──peer's Close (we answer)──▶ CLOSED
 *   OPEN/CLOSING ──protocol violation (we send Close with 1002/1007/1009)──▶ CLOSED
 * In CLOSED the transport should be closed once the outgoing bytes are flushed (`transportShouldClose`).
 *
 * permessage-deflate (RFC 7692) keeps zlib in the shell; the core keeps the order, both ways.
 * Inbound, after a compressed message nothing is decoded until the shell gives it back inflated
 * (`completeMessage`), so one message at most waits for zlib and a Close behind it is seen after it.
 * Outbound, a message being compressed is a reserved send (`reserveSend`/`releaseSend`), and the
 * Close, ours or our answer to the peer's, waits for it (§5.5.1).
 */
import { ErrorCode, InvalidArgumentError, InvalidStateError, ProtocolError } from '../errors.ts';
import { assertValidClose, encodeClosePayload, parseClosePayload } from '../frame/close.ts';
import { CloseCode } from '../frame/close-code.ts';
import { FrameDecoder, type FramePart } from '../frame/decoder.ts';
import { MAX_CONTROL_PAYLOAD_LENGTH, RsvBit } from '../frame/frame.ts';
import { isControlOpcode, Opcode } from '../frame/opcode.ts';
import { protocolError } from '../frame/protocol-error.ts';
import { FrameWriter } from './frame-writer.ts';
import { queueEncoded, transportClosed } from './hooks.ts';
import { MessageAssembler } from './message-assembler.ts';
import type { ConnectionEvent, ConnectionOptions, ConnectionState, Role } from './types.ts';

export type { ConnectionEvent, ConnectionOptions, ConnectionState, Role } from './types.ts';

const EMPTY = new Uint8Array(0);

/** One WebSocket connection after its opening handshake, without I/O; see the module comment. */
export class Connection {
  readonly role: Role;
  readonly #decoder: FrameDecoder;
  readonly #assembler: MessageAssembler;
  readonly #writer: FrameWriter;
  readonly #autoPong: boolean;
  #state: ConnectionState = 'open';
  #closeSent = false;
  #closeReceived = false;
  /** Sends announced with reserveSend() and not yet released. */
  #reservedSends = 0;
  /** The Close that waits for the reserved sends (ours, or our answer to the peer's); null when none. */
  #heldClose: { readonly code: number | undefined; readonly reason: string } | null = null;

  /** @throws {TypeError} for a client without `generateMaskKey` (§5.3). */
  constructor(options: ConnectionOptions) {
    this.role = options.role;
    this.#autoPong = options.autoPong ?? true;
    if (this.role === 'client' && options.generateMaskKey === undefined) {
      throw new TypeError('a client Connection needs generateMaskKey (RFC 6455 §5.3)');
    }
    this.#decoder = new FrameDecoder({
      expectMasked: this.role === 'server',
      maxPayload: options.maxPayload,
    });
    this.#assembler = new MessageAssembler(options.maxPayload);
    this.#assembler.streaming = options.streamMessages === true;
    const perMessageDeflate = options.perMessageDeflate === true;
    // §5.1: "A server MUST NOT mask any frames that it sends to the client", whatever it is given.
    const maskKeys = this.role === 'client' ? options.generateMaskKey : undefined;
    this.#writer = new FrameWriter(maskKeys, perMessageDeflate);
    // RFC 7692 §6: with the extension, RSV1 on the first frame of a data message means "compressed".
    if (perMessageDeflate) this.#decoder.allowedRsv = RsvBit.rsv1;
  }

  /** Where the closing handshake stands (§7.1). */
  get state(): ConnectionState {
    return this.#state;
  }

  /** Whether we have sent a Close frame (queued it for the transport). */
  get closeSent(): boolean {
    return this.#closeSent;
  }

  /** Whether we have received a Close frame. */
  get closeReceived(): boolean {
    return this.#closeReceived;
  }

  /**
   * True once the connection is CLOSED: the transport should be closed after flushing the outgoing
   * bytes. §7.1.1: "the server SHOULD close the underlying TCP connection first"; clients wait for it.
   */
  get transportShouldClose(): boolean {
    return this.#state === 'closed';
  }

  /** Bytes queued by the core and not yet taken by the transport. */
  get outgoingBytes(): number {
    return this.#writer.bytes;
  }

  /**
   * Whether uncompressed data messages are handed out piece by piece, as `message-part` events
   * (§5.4 fragments, and the chunks of a frame as they arrive), instead of whole; see
   * `ConnectionOptions.streamMessages`. A change applies from the next message on.
   */
  get streamMessages(): boolean {
    return this.#assembler.streaming;
  }
  set streamMessages(on: boolean) {
    this.#assembler.streaming = on;
  }

  /** Bytes received and not yet consumed (an incomplete frame). */
  get bufferedIncoming(): number {
    return this.#decoder.bufferedLength;
  }

  /**
   * True while a compressed message was handed out and not yet given back with
   * {@link completeMessage}: nothing is decoded meanwhile, and the transport should not be read.
   */
  get awaitingTransform(): boolean {
    return this.#assembler.awaitingTransform;
  }

  /**
   * Gives back the compressed message last handed out, inflated (RFC 7692 §6.2: "decompress the
   * concatenation of the octets"), and returns its `message` event, or a `fail` event for text that
   * is not UTF-8 (§8.1, 1007) or a message over maxPayload (1009). With `streamMessages`, the same
   * for the compressed piece last handed out: its `message-part` event, maxPayload counting the
   * message's inflated bytes so far. Decoding then goes on: read the events of the bytes received
   * meanwhile with {@link next}.
   * @throws {InvalidStateError} when no compressed message or piece is awaiting.
   */
  completeMessage(data: Uint8Array): ConnectionEvent[] {
    const events: ConnectionEvent[] = [];
    try {
      const message = this.#assembler.complete(data);
      if (this.#state !== 'closed') events.push(message);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      if (this.#state !== 'closed') events.push(this.failEvent(error));
    }
    return events;
  }

  /**
   * Announces a message whose bytes are not ready yet (being compressed, RFC 7692 §6.1, or read from
   * a Blob). Until it is released with {@link releaseSend}, a Close — ours from {@link close}, or our
   * answer to the peer's — waits behind it: §5.5.1 "the endpoint MAY delay sending a Close frame until
   * its current message is sent". Send the message itself with {@link send} (in the order the
   * reservations were made), then release it.
   * @throws {InvalidStateError} once a Close was sent or is waiting to be sent.
   */
  reserveSend(): void {
    if (this.#heldClose !== null) {
      throw new InvalidStateError(
        'cannot send a message: the closing handshake has started (RFC 6455 §5.5.1)',
      );
    }
    this.assertCanSend('send a message');
    this.#reservedSends++;
  }

  /**
   * Releases a send announced with {@link reserveSend}, whether its frames were queued or it was
   * dropped. When no reserved send is left, the Close that waited for them is queued.
   * @returns true when this queued the waiting Close frame.
   */
  releaseSend(): boolean {
    if (this.#reservedSends === 0) return false;
    this.#reservedSends--;
    const held = this.#heldClose;
    if (this.#reservedSends > 0 || held === null) return false;
    this.#heldClose = null;
    this.closeNow(held.code, held.reason);
    return true;
  }

  /**
   * Forgets the reserved sends and the Close that waited for them: a message being transformed was
   * lost, so what followed it will not be sent, and a {@link close} called next goes out at once.
   */
  dropReservedSends(): void {
    this.#reservedSends = 0;
    this.#heldClose = null;
  }

  /** Sends announced with {@link reserveSend} and not yet released. */
  get reservedSends(): number {
    return this.#reservedSends;
  }

  /**
   * Fails the connection for a violation found outside the core (e.g. bad compressed data, a message
   * that inflates past maxPayload): §7.1.7, as for violations found here.
   */
  fail(error: ProtocolError): ConnectionEvent[] {
    return this.#state === 'closed' ? [] : [this.failEvent(error)];
  }

  /** Takes the bytes to write to the transport, in order, to write together (one `writev`). */
  takeOutgoing(): Uint8Array[] {
    return this.#writer.take();
  }

  /** Feeds received bytes and returns every event they complete: `push(bytes)`, then `next()` until null. */
  receive(bytes: Uint8Array): ConnectionEvent[] {
    this.push(bytes);
    const events: ConnectionEvent[] = [];
    for (let event = this.next(); event !== null; event = this.next()) events.push(event);
    return events;
  }

  /**
   * Feeds bytes received from the transport (§6.2: "an endpoint listens on the underlying network
   * connection"); read the events they complete with {@link next}.
   */
  push(bytes: Uint8Array): void {
    if (this.#closeReceived || this.#state === 'closed') return;
    this.#decoder.push(bytes);
  }

  /**
   * The next event, or null when more bytes are needed. Frames are decoded only as events are asked
   * for, so the application can answer a message (an echo) before a later frame in the same chunk
   * fails the connection: what was received in good order is handled in good order (Autobahn 3.x,
   * 4.x and 5.15 check this). After a `close` or `fail` event nothing more is read.
   */
  next(): ConnectionEvent | null {
    // Each frame piece completes at most one event, returned at once: nothing is queued here.
    try {
      while (!this.#assembler.awaitingTransform && !this.#closeReceived && this.#state !== 'closed') {
        const part = this.#decoder.next();
        if (part === null) return null;
        const event = this.handlePart(part);
        if (event !== null) return event;
      }
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      return this.failEvent(error);
    }
    return null;
  }

  /**
   * §6.1 _Send a WebSocket Message_: the connection must be OPEN (step 1), the data goes in one frame
   * or several (§5.4) whose first carries the opcode of its type (steps 2–4), masked by a client (step
   * 5; the FrameWriter does it), transformed by a negotiated extension (step 6; RFC 7692 §6.1).
   *
   * Queues a data message, or one fragment of it when `fin` is false (§5.4). Later fragments are sent
   * with further calls; the `binary` flag of the first fragment decides the message type.
   * @param compressed - RFC 7692 §6.1: set RSV1 on the first frame (the data is already compressed).
   * @throws {InvalidStateError} after a Close frame was sent, or `compressed` without permessage-deflate
   *   (RFC 7692 §6: RSV1 has no meaning without the extension).
   */
  send(data: Uint8Array, binary: boolean, fin = true, compressed = false): void {
    this.assertCanSend('send a message');
    this.#writer.data(data, binary, fin, compressed);
  }

  /**
   * Internal (src/server broadcast, through src/websocket): queues frames encoded elsewhere, once for
   * every client. The caller guarantees they are whole, valid frames for this role. Dropped after a
   * Close was sent or while a fragmented message of ours is in progress.
   * @returns false when nothing was queued.
   */
  [queueEncoded](chunks: readonly Uint8Array[]): boolean {
    return !this.#closeSent && this.#writer.encoded(chunks);
  }

  /**
   * Queues a Ping (§5.5.2).
   * @throws {InvalidStateError} after a Close frame was sent.
   * @throws {InvalidArgumentError} for a payload over 125 bytes (§5.5).
   */
  ping(data: Uint8Array = EMPTY): void {
    this.queueControl(Opcode.Ping, data, 'ping');
  }

  /**
   * Queues an unsolicited Pong (§5.5.3: "A Pong frame MAY be sent unsolicited. This serves as a
   * unidirectional heartbeat.").
   * @throws {InvalidStateError} after a Close frame was sent.
   * @throws {InvalidArgumentError} for a payload over 125 bytes (§5.5).
   */
  pong(data: Uint8Array = EMPTY): void {
    this.queueControl(Opcode.Pong, data, 'pong');
  }

  /**
   * Starts the closing handshake (§7.1.2), or answers the peer's Close. Does nothing if a Close frame
   * was already sent or is waiting to be. While sends are reserved ({@link reserveSend}) the Close
   * waits for them (§5.5.1); the state is CLOSING meanwhile.
   * @param code - 1000–1003, 1007–1014 or 3000–4999 (§7.4); omitted: no status code.
   * @param reason - at most 123 bytes of UTF-8 (§5.5: control payloads are at most 125 bytes).
   * @throws {InvalidArgumentError} for an invalid code, a reason without a code, or a reason too long.
   */
  close(code?: number, reason = ''): void {
    if (this.#closeSent) return;
    assertValidClose(code, reason);
    if (this.#heldClose !== null) return;
    if (this.#reservedSends > 0) {
      this.#heldClose = { code, reason };
      this.#state = 'closing';
      return;
    }
    this.closeNow(code, reason);
  }

  /** Checks the arguments of {@link close} without closing. @throws {InvalidArgumentError} as `close`. */
  assertValidClose(code: number | undefined, reason: string): void {
    assertValidClose(code, reason);
  }

  /** Internal (src/websocket): the transport is gone (TCP closed or reset): nothing more is sent or received. */
  [transportClosed](): void {
    this.#state = 'closed';
    this.#closeSent = true;
    this.#heldClose = null;
    this.#reservedSends = 0;
  }

  /** Handles one decoded piece of a frame; returns the event it completes, if any. */
  private handlePart(part: FramePart): ConnectionEvent | null {
    const { header } = part;
    // RFC 7692 §6.1: "An endpoint MUST NOT set the "Per-Message Compressed" bit of control frames and
    // non-first fragments of a data message."
    if (header.rsv1 && (isControlOpcode(header.opcode) || header.opcode === Opcode.Continuation)) {
      throw protocolError(ErrorCode.UnexpectedRsvBit, 'RSV1 set on a control frame or a continuation frame');
    }
    switch (header.opcode) {
      case Opcode.Ping:
        return this.onPing(part.data);
      case Opcode.Pong:
        return { type: 'pong', data: part.data };
      case Opcode.Close:
        return this.onClose(part.data);
      default:
        // A compressed message leaves the assembler awaiting its transform (RFC 7692 §6.2): next()
        // decodes nothing more until the shell hands it back inflated with completeMessage().
        return this.#assembler.add(part);
    }
  }

  private onPing(data: Uint8Array): ConnectionEvent {
    // §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in response, unless it
    // already received a Close frame. ... A Pong frame sent in response to a Ping frame must have
    // identical 'Application data' as found in the message body of the Ping frame being replied to."
    if (!this.#closeSent && this.#autoPong) this.#writer.autoPong(data); // or in place of the last unsent one (§5.5.3)
    return { type: 'ping', data };
  }

  private onClose(payload: Uint8Array): ConnectionEvent {
    // §7.1.5/§7.1.6: the close code and the close reason are those of the first Close received (the
    // reason is the empty string when the frame has none).
    const { code, reason } = parseClosePayload(payload);
    this.#closeReceived = true;
    // §5.5.1: "If an endpoint receives a Close frame and did not previously send a Close frame, the
    // endpoint MUST send a Close frame in response. (When sending a Close frame in response, the
    // endpoint typically echos the status code it received.)" We echo the reason too, as `ws` does.
    // §5.5.1 also lets the answer wait: "the endpoint MAY delay sending a Close frame until its
    // current message is sent" — the sends still reserved go first (see releaseSend).
    if (this.#closeSent) {
      this.#state = 'closed';
    } else if (this.#heldClose !== null) {
      this.#state = 'closing';
    } else {
      const echo = code === CloseCode.NoStatusReceived ? undefined : code;
      if (this.#reservedSends > 0) {
        this.#heldClose = { code: echo, reason };
        this.#state = 'closing';
      } else {
        this.sendClose(echo, reason);
        this.#state = 'closed';
      }
    }
    return { type: 'close', code, reason };
  }

  /** §7.1.7 _Fail the WebSocket Connection_: send a Close frame with the error's code at once, then close. */
  private failEvent(error: ProtocolError): ConnectionEvent {
    this.#assembler.reset();
    // Failing does not wait for reserved sends: they are dropped (releaseSend() finds closeSent).
    this.#heldClose = null;
    this.#reservedSends = 0;
    if (!this.#closeSent) this.sendClose(error.closeCode, '');
    this.#state = 'closed';
    return { type: 'fail', error };
  }

  /** Sends our Close: it starts the closing handshake, or, answering the peer's, completes it (§7.1.3). */
  private closeNow(code: number | undefined, reason: string): void {
    this.sendClose(code, reason);
    this.#state = this.#closeReceived ? 'closed' : 'closing';
  }

  private sendClose(code: number | undefined, reason: string): void {
    const payload = encodeClosePayload(code, reason);
    // §5.5.1: "After sending a Close frame, the endpoint MUST NOT send any more data frames."
    this.#closeSent = true;
    this.#writer.control(Opcode.Close, payload);
  }

  private queueControl(opcode: Opcode, data: Uint8Array, what: string): void {
    this.assertCanSend(`send a ${what}`);
    // §5.5: "All control frames MUST have a payload length of 125 bytes or less".
    if (data.length > MAX_CONTROL_PAYLOAD_LENGTH) {
      throw new InvalidArgumentError(`a ${what} payload must be at most 125 bytes (RFC 6455 §5.5)`);
    }
    this.#writer.control(opcode, data);
  }

  private assertCanSend(what: string): void {
    // §5.5.1 forbids data frames after a Close; refusing Pings and Pongs too is our policy (nothing
    // the peer could still answer reaches the application once it has our Close).
    if (this.#closeSent) {
      throw new InvalidStateError(`cannot ${what}: the closing handshake has started (RFC 6455 §5.5.1)`);
    }
  }
}
