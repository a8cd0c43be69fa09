/**
 * The WebSocket connection as a pure state machine (RFC 6455 §5–§7), in the sans-I/O style:
 *
 *              receive(bytes)                            takeOutgoing()
 *   socket ──────────────────▶ ┌──────────────────────┐ ──────────────────▶ socket
 *                              │ Connection           │
 *                              │  FrameDecoder  ──▶ reassembly, UTF-8,     │
 *                              │                    control frames, close  │
 *   user   ◀────────────────── │  events[]            │ ◀────────────────── user
 *            ConnectionEvent   └──────────────────────┘  send/ping/pong/close
 *
 * It never touches a socket, a timer or a random source: bytes go in, events and bytes come out, and
 * mask keys come from an injected function. The wrapper (src/websocket.ts) moves bytes between this
 * object and a real socket and turns events into the public API.
 *
 * States (§4.1, §7.1): the opening handshake is done before a Connection exists, so it starts OPEN.
 *   OPEN ──close()──▶ CLOSING ──peer's Close──▶ CLOSED
 *   OPEN ──peer's Close (we answer)──▶ CLOSED
 *   OPEN/CLOSING ──protocol violation (we send Close with 1002/1007/1009)──▶ CLOSED
 * In CLOSED the transport should be closed once the outgoing bytes are flushed (`transportShouldClose`).
 *
 * Awaiting a transform (RFC 7692): a compressed message is handed out still compressed; until the
 * wrapper gives it back inflated with `completeMessage(bytes)` (or fails the connection), nothing more
 * is decoded. So one connection holds at most one message waiting for zlib, whatever the peer sends:
 * the wrapper stops reading meanwhile, and TCP holds the rest. Messages stay in order by construction,
 * and a Close that follows is only seen once the message before it was delivered.
 */
import { ErrorCode, InvalidStateError, ProtocolError } from '../errors.ts';
import { CloseCode, isValidReceivedCloseCode, isValidSentCloseCode } from '../frame/close-code.ts';
import { FrameDecoder, type FramePart } from '../frame/decoder.ts';
import { encodeFrame } from '../frame/encoder.ts';
import { MAX_CONTROL_PAYLOAD_LENGTH, RsvBit } from '../frame/frame.ts';
import { isControlOpcode, Opcode } from '../frame/opcode.ts';
import { isValidUtf8, Utf8Validator } from '../frame/utf8.ts';
import { MessageBuffer } from './message-buffer.ts';

export type Role = 'client' | 'server';
export type ConnectionState = 'open' | 'closing' | 'closed';

export type ConnectionEvent =
  /**
   * A complete data message (§5.4 reassembled, §8.1 validated when text). When `compressed`
   * (RFC 7692 §6: RSV1 on its first frame) `data` is still DEFLATE data: the wrapper inflates it and
   * hands it back with `completeMessage()`, which validates text; nothing is decoded until then.
   */
  | {
      readonly type: 'message';
      readonly data: Uint8Array;
      readonly binary: boolean;
      readonly compressed: boolean;
    }
  /** A Ping was received (§5.5.2); the Pong answer is already queued (unless `autoPong` is false). */
  | { readonly type: 'ping'; readonly data: Uint8Array }
  /** A Pong was received (§5.5.3). */
  | { readonly type: 'pong'; readonly data: Uint8Array }
  /**
   * A Close frame was received (§5.5.1, §7.1.5). When the peer started the closing handshake our
   * answer is queued. `code` is 1005 when the frame had no status code (§7.1.5).
   */
  | { readonly type: 'close'; readonly code: number; readonly reason: string }
  /** We failed the connection (§7.1.7); a Close frame with `error.closeCode` is queued. */
  | { readonly type: 'fail'; readonly error: ProtocolError };

export interface ConnectionOptions {
  /** Which end we are: servers expect masked frames, clients mask what they send (§5.1). */
  readonly role: Role;
  /** Largest message (and frame) accepted, in bytes; larger fails the connection with 1009. */
  readonly maxPayload: number;
  /** Source of the 4-byte masking keys; required for clients (§5.3: "MUST be unpredictable"). */
  readonly generateMaskKey?: (() => Uint8Array) | undefined;
  /**
   * Whether a received Ping is answered with a Pong automatically (default true). False leaves the
   * answer to the application, which §5.5.2 then obliges to send it ("MUST send a Pong frame in
   * response"); the `ping` event is emitted either way.
   */
  readonly autoPong?: boolean | undefined;
}

/** The message being reassembled from fragments (§5.4). */
interface PartialMessage {
  readonly binary: boolean;
  /** RFC 7692 §6: "the "Per-Message Compressed" bit" (RSV1) of the message's first frame. */
  readonly compressed: boolean;
  readonly payload: MessageBuffer;
}

/**
 * §5.5.3 "If an endpoint receives a Ping frame and has not yet sent Pong frame(s) in response to
 * previous Ping frame(s), the endpoint MAY elect to send a Pong frame for only the most recently
 * processed Ping frame." Beyond this many unsent Pongs we do exactly that, so a ping flood cannot
 * grow our outgoing buffer without bound. "Unsent" means not yet taken by {@link Connection.takeOutgoing}:
 * the wrapper leaves frames here while its socket cannot take more (the peer does not read), so
 * however long the flood lasts, at most this many Pongs wait. (Not 1: a burst of a few Pings from a
 * peer that does read, as Autobahn 2.10 sends, still gets one Pong each.)
 */
const MAX_UNSENT_PONGS = 16;

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });
const EMPTY = new Uint8Array(0);

export class Connection {
  readonly role: Role;
  readonly #decoder: FrameDecoder;
  readonly #generateMaskKey: (() => Uint8Array) | undefined;
  readonly #autoPong: boolean;
  #maxPayload: number;
  #state: ConnectionState = 'open';
  #closeSent = false;
  #closeReceived = false;
  #message: PartialMessage | null = null;
  /** The compressed message handed out and not yet given back inflated; null when none (RFC 7692 §6.2). */
  #awaiting: { readonly binary: boolean } | null = null;
  /** Validates the current text message across its frames and chunks; created with the first text message. */
  #utf8: Utf8Validator | null = null;
  /** True while an outgoing fragmented message is unfinished (§5.4). */
  #sendingFragments = false;
  #outgoing: Uint8Array[] = [];
  #outgoingBytes = 0;
  #unsentPongs = 0;
  #lastPongIndex = -1;
  /** Events decoded but not yet returned by next() (at most a few). */
  readonly #events: ConnectionEvent[] = [];

  constructor(options: ConnectionOptions) {
    this.role = options.role;
    this.#maxPayload = options.maxPayload;
    this.#generateMaskKey = options.generateMaskKey;
    this.#autoPong = options.autoPong ?? true;
    if (this.role === 'client' && this.#generateMaskKey === undefined) {
      throw new TypeError('a client Connection needs generateMaskKey (RFC 6455 §5.3)');
    }
    this.#decoder = new FrameDecoder({
      expectMasked: this.role === 'server',
      maxPayload: options.maxPayload,
    });
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /**
   * When true, a received Close is not answered automatically: the caller answers it with
   * {@link close} once the messages it still has to send are out (§5.5.1 lets an endpoint finish
   * sending its message first: "the endpoint MAY delay sending a Close frame until its current
   * message is sent"). Used by the wrapper while compressed messages are in flight.
   */
  holdCloseReply = false;

  /** Whether we have sent a Close frame. */
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
    return this.#outgoingBytes;
  }

  /**
   * True while a compressed message was handed out and not yet given back with
   * {@link completeMessage}: nothing is decoded meanwhile, and the transport should not be read.
   */
  get awaitingTransform(): boolean {
    return this.#awaiting !== null;
  }

  /**
   * Gives back the compressed message last handed out, inflated (RFC 7692 §6.2: "decompress the
   * concatenation of the octets"), and returns its `message` event, or a `fail` event for text that
   * is not UTF-8 (§8.1, 1007) or a message over maxPayload (1009). Decoding then goes on: read the
   * events of the bytes received meanwhile with {@link next}.
   * @throws {InvalidStateError} when no compressed message is awaiting.
   */
  completeMessage(data: Uint8Array): ConnectionEvent[] {
    const awaiting = this.#awaiting;
    if (awaiting === null) {
      throw new InvalidStateError('completeMessage() without a compressed message awaiting its transform');
    }
    this.#awaiting = null;
    const events: ConnectionEvent[] = [];
    if (this.#state === 'closed') return events;
    if (data.length > this.#maxPayload) {
      const error = new ProtocolError(
        ErrorCode.MessageTooBig,
        CloseCode.MessageTooBig,
        `message exceeds maxPayload (${this.#maxPayload} bytes) once inflated`,
      );
      this.#fail(error, events);
    } else if (!awaiting.binary && !isValidUtf8(data)) {
      // §8.1 for compressed text: what it inflates to must be UTF-8.
      this.#fail(invalidUtf8('text message'), events);
    } else {
      events.push({ type: 'message', data, binary: awaiting.binary, compressed: false });
    }
    return events;
  }

  /** Bytes received and not yet consumed (an incomplete frame). */
  get bufferedIncoming(): number {
    return this.#decoder.bufferedLength;
  }

  /**
   * Turns on permessage-deflate framing (RFC 7692 §6): RSV1 is allowed on the first frame of a data
   * message and means "compressed"; compressing and inflating are the wrapper's job.
   */
  enablePerMessageDeflate(): void {
    this.#decoder.allowedRsv = RsvBit.rsv1;
  }

  /**
   * Fails the connection for a violation found outside the core (e.g. bad compressed data, a message
   * that inflates past maxPayload): §7.1.7, as for violations found here.
   */
  fail(error: ProtocolError): ConnectionEvent[] {
    const events: ConnectionEvent[] = [];
    if (this.#state !== 'closed') this.#fail(error, events);
    return events;
  }

  /**
   * Takes the bytes to write to the transport, in order. Everything queued since the last call
   * leaves together, so the transport can write it with one `writev`.
   */
  takeOutgoing(): Uint8Array[] {
    const out = this.#outgoing;
    this.#outgoing = [];
    this.#outgoingBytes = 0;
    this.#unsentPongs = 0;
    this.#lastPongIndex = -1;
    return out;
  }

  /**
   * Feeds bytes received from the transport and returns every event they complete, in order.
   * Equivalent to `push(bytes)` followed by `next()` until it returns null.
   */
  receive(bytes: Uint8Array): ConnectionEvent[] {
    this.push(bytes);
    const events: ConnectionEvent[] = [];
    for (let event = this.next(); event !== null; event = this.next()) events.push(event);
    return events;
  }

  /** Feeds bytes received from the transport; read the events they complete with {@link next}. */
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
    const events = this.#events;
    try {
      while (
        events.length === 0 &&
        this.#awaiting === null &&
        !this.#closeReceived &&
        this.#state !== 'closed'
      ) {
        const part = this.#decoder.next();
        if (part === null) break;
        this.#handlePart(part, events);
      }
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.#fail(error, events);
    }
    return events.shift() ?? null;
  }

  /**
   * Queues a data message, or one fragment of it when `fin` is false (§5.4). Later fragments are sent
   * with further calls; the `binary` flag of the first fragment decides the message type.
   * @throws {InvalidStateError} after a Close frame was sent.
   */
  send(data: Uint8Array, binary: boolean, fin = true, compressed = false): void {
    this.#assertCanSend('send a message');
    // §5.4: the first fragment carries the message's opcode, the others are Continuation frames.
    const first = !this.#sendingFragments;
    const opcode = first ? (binary ? Opcode.Binary : Opcode.Text) : Opcode.Continuation;
    this.#sendingFragments = !fin;
    // RFC 7692 §6: RSV1 marks a compressed message, on its first frame only.
    const rsv1 = compressed && first;
    this.#queue(encodeFrame(opcode, data, { fin, rsv1, maskKey: this.#maskKey() }));
  }

  /**
   * Queues frames encoded elsewhere (a server broadcast encodes a message once for every client).
   * The caller guarantees they are whole, valid frames for this role and that no fragmented message
   * of ours is in progress. Dropped silently after a Close was sent (§5.5.1).
   * @returns false when nothing was queued because the closing handshake has started.
   */
  sendEncoded(chunks: readonly Uint8Array[]): boolean {
    if (this.#closeSent || this.#sendingFragments) return false;
    this.#queue(chunks);
    return true;
  }

  /**
   * Queues a Ping (§5.5.2).
   * @throws {InvalidStateError} after a Close frame was sent, or for a payload over 125 bytes.
   */
  ping(data: Uint8Array = EMPTY): void {
    this.#assertCanSend('send a ping');
    assertControlPayload(data, 'ping');
    this.#queue(encodeFrame(Opcode.Ping, data, { maskKey: this.#maskKey() }));
  }

  /**
   * Queues an unsolicited Pong (§5.5.3: "A Pong frame MAY be sent unsolicited. This serves as a
   * unidirectional heartbeat.").
   * @throws {InvalidStateError} after a Close frame was sent, or for a payload over 125 bytes.
   */
  pong(data: Uint8Array = EMPTY): void {
    this.#assertCanSend('send a pong');
    assertControlPayload(data, 'pong');
    this.#queue(encodeFrame(Opcode.Pong, data, { maskKey: this.#maskKey() }));
  }

  /**
   * Starts the closing handshake (§7.1.2). Does nothing if a Close frame was already sent.
   * @param code - 1000, or an application code in 3000–4999 (§7.4.2); omitted: no status code.
   * @param reason - at most 123 bytes of UTF-8 (§5.5: control payloads are at most 125 bytes).
   * @throws {InvalidStateError} for an invalid code, a reason without a code, or a reason too long.
   */
  close(code?: number, reason = ''): void {
    if (this.#closeSent) return;
    this.assertValidClose(code, reason);
    this.#sendClose(code, reason);
    // Answering a Close we received completes the closing handshake (§7.1.3).
    this.#state = this.#closeReceived ? 'closed' : 'closing';
  }

  /**
   * Checks the arguments of {@link close} without closing.
   * @throws {InvalidStateError} for an invalid code, a reason without a code, or a reason too long.
   */
  assertValidClose(code: number | undefined, reason: string): void {
    if (code !== undefined && !isValidSentCloseCode(code)) {
      throw new InvalidStateError(
        `invalid close code ${code}: use 1000 or a code in 3000–4999 (RFC 6455 §7.4)`,
        ErrorCode.InvalidArgument,
      );
    }
    if (code === undefined && reason !== '') {
      throw new InvalidStateError('a close reason needs a close code', ErrorCode.InvalidArgument);
    }
    if (textEncoder.encode(reason).length > MAX_CONTROL_PAYLOAD_LENGTH - 2) {
      throw new InvalidStateError(
        'a close reason must be at most 123 bytes of UTF-8 (RFC 6455 §5.5)',
        ErrorCode.InvalidArgument,
      );
    }
  }

  /** The transport is gone (TCP closed or reset): nothing more can be sent or received. */
  transportClosed(): void {
    this.#state = 'closed';
    this.#closeSent = true;
  }

  /** Handles one decoded piece of a frame, adding the events it completes. */
  #handlePart(part: FramePart, events: ConnectionEvent[]): void {
    const { header } = part;
    // RFC 7692 §6.1: "An endpoint MUST NOT set the "Per-Message Compressed" bit of control frames and
    // non-first fragments of a data message."
    if (header.rsv1 && (isControlOpcode(header.opcode) || header.opcode === Opcode.Continuation)) {
      throw protocolError(ErrorCode.UnexpectedRsvBit, 'RSV1 set on a control frame or a continuation frame');
    }
    switch (header.opcode) {
      case Opcode.Ping:
        this.#onPing(part.data, events);
        return;
      case Opcode.Pong:
        events.push({ type: 'pong', data: part.data });
        return;
      case Opcode.Close:
        this.#onClose(part.data, events);
        return;
      default:
        this.#onDataPart(part, events);
        return;
    }
  }

  #onDataPart(part: FramePart, events: ConnectionEvent[]): void {
    const { header, data } = part;
    let message = this.#message;
    if (part.offset === 0) {
      if (header.opcode === Opcode.Continuation) {
        // §5.4: a Continuation frame only continues a message that was started.
        if (message === null) {
          throw protocolError(
            ErrorCode.UnexpectedContinuation,
            'continuation frame without a message to continue',
          );
        }
      } else {
        // §5.4: "The fragments of one message MUST NOT be interleaved between the fragments of another".
        if (message !== null) {
          throw protocolError(ErrorCode.ExpectedContinuation, 'new data frame inside a fragmented message');
        }
        message = {
          binary: header.opcode === Opcode.Binary,
          compressed: header.rsv1,
          payload: new MessageBuffer(),
        };
        this.#message = message;
      }
    }
    message = message!;
    // Checked before the bytes are kept, so a message never holds more than maxPayload.
    if (message.payload.size + data.length > this.#maxPayload) {
      throw new ProtocolError(
        ErrorCode.MessageTooBig,
        CloseCode.MessageTooBig,
        `message exceeds maxPayload (${this.#maxPayload} bytes)`,
      );
    }
    // §8.1: fail as soon as the bytes cannot be UTF-8, in the chunk where the bad byte arrives.
    // (Compressed text is checked once inflated.)
    const checkText = !message.binary && !message.compressed;
    if (checkText) {
      this.#utf8 ??= new Utf8Validator();
      if (!this.#utf8.write(data)) throw invalidUtf8('text message');
    }
    message.payload.append(data);
    if (!(part.last && header.fin)) return;

    this.#message = null;
    if (checkText && !this.#utf8!.end()) throw invalidUtf8('text message');
    // RFC 7692: decode nothing more until the wrapper hands this message back inflated.
    if (message.compressed) this.#awaiting = { binary: message.binary };
    events.push({
      type: 'message',
      data: message.payload.join(),
      binary: message.binary,
      compressed: message.compressed,
    });
  }

  #onPing(data: Uint8Array, events: ConnectionEvent[]): void {
    events.push({ type: 'ping', data });
    // §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in response, unless it
    // already received a Close frame. ... A Pong frame sent in response to a Ping frame must have
    // identical 'Application data' as found in the message body of the Ping frame being replied to."
    if (this.#closeSent || !this.#autoPong) return;
    // One array per Pong, so that a later Pong can replace it in the queue.
    const parts = encodeFrame(Opcode.Pong, data, { maskKey: this.#maskKey() });
    const pong = concat(parts, byteLength(parts));
    if (this.#unsentPongs >= MAX_UNSENT_PONGS && this.#lastPongIndex >= 0) {
      // Answer only the most recent Ping (§5.5.3) instead of growing the queue.
      const [old] = this.#outgoing.splice(this.#lastPongIndex, 1, pong);
      this.#outgoingBytes += pong.length - (old?.length ?? 0);
      return;
    }
    this.#queue([pong]);
    this.#unsentPongs++;
    this.#lastPongIndex = this.#outgoing.length - 1;
  }

  #onClose(payload: Uint8Array, events: ConnectionEvent[]): void {
    // §5.5.1: "If there is a body, the first two bytes of the body MUST be a 2-byte unsigned integer
    // ... representing a status code ... Following the 2-byte integer, the body MAY contain UTF-8-encoded data".
    if (payload.length === 1) {
      throw protocolError(ErrorCode.InvalidClosePayload, 'close frame with a 1-byte payload');
    }
    let code: number = CloseCode.NoStatusReceived; // §7.1.5: "If this Close control frame contains no status code, _The WebSocket Connection Close Code_ is considered to be 1005."
    let reason = '';
    if (payload.length >= 2) {
      code = (payload[0]! << 8) | payload[1]!;
      if (!isValidReceivedCloseCode(code)) {
        throw protocolError(ErrorCode.InvalidCloseCode, `invalid close code ${code} received`);
      }
      try {
        reason = textDecoder.decode(payload.subarray(2));
      } catch {
        throw invalidUtf8('close reason');
      }
    }
    this.#closeReceived = true;
    // §5.5.1: "If an endpoint receives a Close frame and did not previously send a Close frame, the
    // endpoint MUST send a Close frame in response. (When sending a Close frame in response, the
    // endpoint typically echos the status code it received.)" We echo the reason too, as `ws` does.
    // With `holdCloseReply` the wrapper sends the answer itself, after the data it still has queued.
    if (this.#closeSent) {
      this.#state = 'closed';
    } else if (this.holdCloseReply) {
      this.#state = 'closing';
    } else {
      this.#sendClose(code === CloseCode.NoStatusReceived ? undefined : code, reason);
      this.#state = 'closed';
    }
    events.push({ type: 'close', code, reason });
  }

  /** §7.1.7 _Fail the WebSocket Connection_: send a Close frame with the error's code, then close. */
  #fail(error: ProtocolError, events: ConnectionEvent[]): void {
    this.#message = null;
    this.#awaiting = null;
    this.#utf8?.reset();
    if (!this.#closeSent) this.#sendClose(error.closeCode, '');
    this.#state = 'closed';
    events.push({ type: 'fail', error });
  }

  #sendClose(code: number | undefined, reason: string): void {
    let payload = EMPTY;
    if (code !== undefined) {
      const reasonBytes = textEncoder.encode(reason);
      if (reasonBytes.length > MAX_CONTROL_PAYLOAD_LENGTH - 2) {
        throw new InvalidStateError(
          'a close reason must be at most 123 bytes of UTF-8 (RFC 6455 §5.5)',
          ErrorCode.InvalidArgument,
        );
      }
      payload = new Uint8Array(2 + reasonBytes.length);
      payload[0] = code >>> 8;
      payload[1] = code & 0xff;
      payload.set(reasonBytes, 2);
    }
    // §5.5.1: "After sending a Close frame, the endpoint MUST NOT send any more data frames."
    this.#closeSent = true;
    this.#queue(encodeFrame(Opcode.Close, payload, { maskKey: this.#maskKey() }));
  }

  #assertCanSend(what: string): void {
    if (this.#closeSent) {
      throw new InvalidStateError(`cannot ${what}: the closing handshake has started (RFC 6455 §5.5.1)`);
    }
  }

  #maskKey(): Uint8Array | undefined {
    return this.#generateMaskKey?.();
  }

  #queue(chunks: readonly Uint8Array[]): void {
    for (const chunk of chunks) {
      this.#outgoing.push(chunk);
      this.#outgoingBytes += chunk.length;
    }
  }
}

function protocolError(code: (typeof ErrorCode)[keyof typeof ErrorCode], message: string): ProtocolError {
  return new ProtocolError(code, CloseCode.ProtocolError, message);
}

function invalidUtf8(where: string): ProtocolError {
  // §8.1 and §7.4.1: 1007 "data within a message that was not consistent with the type of the message".
  return new ProtocolError(ErrorCode.InvalidUtf8, CloseCode.InvalidPayload, `invalid UTF-8 in ${where}`);
}

function assertControlPayload(data: Uint8Array, what: string): void {
  if (data.length > MAX_CONTROL_PAYLOAD_LENGTH) {
    throw new InvalidStateError(
      `a ${what} payload must be at most 125 bytes (RFC 6455 §5.5)`,
      ErrorCode.InvalidArgument,
    );
  }
}

function byteLength(chunks: readonly Uint8Array[]): number {
  let total = 0;
  for (const chunk of chunks) total += chunk.length;
  return total;
}

/** Joins chunks (a Pong's header and payload); a single chunk is returned as is. */
function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  if (chunks.length === 0) return EMPTY;
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
