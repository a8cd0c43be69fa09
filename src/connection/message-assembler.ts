/**
 * Reassembles data messages from their frames and the chunks of those frames (§5.4), enforcing
 * `maxPayload` before anything is kept and checking text as it arrives (§8.1).
 */
import { ErrorCode, InvalidStateError, ProtocolError } from '../errors.ts';
import { CloseCode } from '../frame/close-code.ts';
import type { FramePart } from '../frame/decoder.ts';
import { Opcode } from '../frame/opcode.ts';
import { invalidUtf8, protocolError } from '../frame/protocol-error.ts';
import { isValidUtf8, Utf8Validator } from '../frame/utf8.ts';
import { MessageBuffer, wholeMessagePayload } from './message-buffer.ts';
import type { MessageEvent, MessagePartEvent } from './types.ts';

/** The message being reassembled from fragments (§5.4). */
interface PartialMessage {
  readonly binary: boolean;
  /** RFC 7692 §6: "the "Per-Message Compressed" bit" (RSV1) of the message's first frame. */
  readonly compressed: boolean;
  /** The payload so far; null for a message handed out piece by piece (`streaming`). */
  readonly payload: MessageBuffer | null;
  /** Bytes received so far, for maxPayload. */
  size: number;
}

/** One message at a time: §5.4 forbids interleaving the fragments of two messages. */
export class MessageAssembler {
  readonly #maxPayload: number;
  #message: PartialMessage | null = null;
  /** Validates the current text message across its frames and chunks; created with the first text message. */
  #utf8: Utf8Validator | null = null;
  /**
   * The compressed message, or piece of a streamed one, handed out and not yet given back inflated;
   * null when none (RFC 7692 §6.2).
   */
  #awaiting: { readonly binary: boolean; readonly piece: boolean; readonly fin: boolean } | null = null;
  /** Bytes of the streamed compressed message given back inflated so far, for maxPayload. */
  #inflatedSize = 0;
  /**
   * Hand uncompressed messages out piece by piece (see `ConnectionOptions.streamMessages`). Read at a
   * message's first frame only, so a message never changes mode halfway; off, it costs one test per
   * message.
   */
  streaming = false;

  constructor(maxPayload: number) {
    this.#maxPayload = maxPayload;
  }

  /** True while a compressed message was handed out and not yet given back with {@link complete}. */
  get awaitingTransform(): boolean {
    return this.#awaiting !== null;
  }

  /**
   * Takes one piece of a data frame; returns the message it completes, or null. A compressed message
   * (RFC 7692 §6) is returned still compressed, and waits for {@link complete}.
   * @throws {ProtocolError} for a continuation without a message (1002), a new message inside a
   *   fragmented one (1002), a message over maxPayload (1009) or text that is not UTF-8 (1007).
   */
  add(part: FramePart): MessageEvent | MessagePartEvent | null {
    const { header, data } = part;
    let message = this.#message;
    // Most messages are one frame that arrived in one piece: no reassembly state for them.
    if (
      message === null &&
      part.offset === 0 &&
      part.last &&
      header.fin &&
      header.opcode !== Opcode.Continuation &&
      !this.streaming
    ) {
      return this.wholeMessage(header.opcode === Opcode.Binary, header.rsv1, data);
    }
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
          payload: this.streaming ? null : new MessageBuffer(),
          size: 0,
        };
        this.#message = message;
      }
    }
    message = message!;
    // Checked before the bytes are kept, so a message never holds more than maxPayload.
    if (message.size + data.length > this.#maxPayload) {
      throw messageTooBig(this.#maxPayload, '');
    }
    // §8.1: fail as soon as the bytes cannot be UTF-8, in the chunk where the bad byte arrives.
    // (Compressed text is checked once inflated.)
    const checkText = !message.binary && !message.compressed;
    if (checkText) {
      this.#utf8 ??= new Utf8Validator();
      if (!this.#utf8.write(data)) throw invalidUtf8('text message');
    }
    message.size += data.length;
    const fin = part.last && header.fin;
    const payload = message.payload;
    if (payload === null) {
      if (message.compressed) return this.compressedPiece(message.binary, data, fin);
      // Streamed: each piece goes out as it is; only the running size and the UTF-8 state are kept.
      if (fin) {
        this.#message = null;
        if (checkText && !this.#utf8!.end()) throw invalidUtf8('text message');
      } else if (data.length === 0) {
        return null; // an empty frame that does not end the message says nothing
      }
      return { type: 'message-part', data, binary: message.binary, fin, compressed: false };
    }
    payload.append(data);
    if (!fin) return null;

    this.#message = null;
    if (checkText && !this.#utf8!.end()) throw invalidUtf8('text message');
    if (message.compressed) this.#awaiting = { binary: message.binary, piece: false, fin: true };
    return {
      type: 'message',
      data: payload.join(),
      binary: message.binary,
      compressed: message.compressed,
    };
  }

  /** A message of one frame in one piece: the same checks as {@link add}, without the state. */
  private wholeMessage(binary: boolean, compressed: boolean, data: Uint8Array): MessageEvent {
    if (data.length > this.#maxPayload) {
      throw messageTooBig(this.#maxPayload, '');
    }
    // §8.1 (compressed text is checked once inflated).
    if (!binary && !compressed && !isValidUtf8(data)) throw invalidUtf8('text message');
    if (compressed) this.#awaiting = { binary, piece: false, fin: true };
    return { type: 'message', data: wholeMessagePayload(data), binary, compressed };
  }

  /**
   * A piece of a streamed compressed message (RFC 7692 §7.2.2, inflated piece by piece): handed out
   * still compressed, and nothing more is decoded until it comes back with {@link complete}. The
   * last piece goes out even when empty: the inflater needs the message's end.
   */
  private compressedPiece(binary: boolean, data: Uint8Array, fin: boolean): MessagePartEvent | null {
    if (fin) this.#message = null;
    else if (data.length === 0) return null;
    this.#awaiting = { binary, piece: true, fin };
    return { type: 'message-part', data, binary, fin, compressed: true };
  }

  /**
   * The compressed piece last handed out, inflated, as a piece of the message: maxPayload counts the
   * inflated bytes of the whole message, and text is checked as UTF-8 across its pieces (§8.1), as
   * for an uncompressed streamed message.
   * @throws {ProtocolError} for a message over maxPayload once inflated (1009), or text that is not
   *   UTF-8 (1007).
   */
  private completePart(
    awaiting: { readonly binary: boolean; readonly fin: boolean },
    data: Uint8Array,
  ): MessagePartEvent {
    this.#inflatedSize += data.length;
    if (this.#inflatedSize > this.#maxPayload) {
      throw messageTooBig(this.#maxPayload, ' once inflated');
    }
    const { binary, fin } = awaiting;
    if (!binary) {
      this.#utf8 ??= new Utf8Validator();
      if (!this.#utf8.write(data) || (fin && !this.#utf8.end())) throw invalidUtf8('text message');
    }
    if (fin) this.#inflatedSize = 0;
    return { type: 'message-part', data, binary, fin, compressed: false };
  }

  /**
   * Takes back the compressed message last handed out, inflated (RFC 7692 §6.2: "decompress the
   * concatenation of the octets"), and returns it as a message; or, when streaming, the compressed
   * piece last handed out, as a piece.
   * @throws {InvalidStateError} when no compressed message or piece is awaiting.
   * @throws {ProtocolError} for a message over maxPayload once inflated (1009), or text that is not
   *   UTF-8 (§8.1, 1007).
   */
  complete(data: Uint8Array): MessageEvent | MessagePartEvent {
    const awaiting = this.#awaiting;
    if (awaiting === null) {
      throw new InvalidStateError('completeMessage() without a compressed message awaiting its transform');
    }
    this.#awaiting = null;
    if (awaiting.piece) return this.completePart(awaiting, data);
    if (data.length > this.#maxPayload) {
      throw messageTooBig(this.#maxPayload, ' once inflated');
    }
    // §8.1 for compressed text: what it inflates to must be UTF-8.
    if (!awaiting.binary && !isValidUtf8(data)) throw invalidUtf8('text message');
    return { type: 'message', data, binary: awaiting.binary, compressed: false };
  }

  /** Forgets the message in progress and any awaiting its transform (the connection failed). */
  reset(): void {
    this.#awaiting = null;
    this.#inflatedSize = 0;
    this.#message = null;
    this.#utf8?.reset();
  }
}

/** §7.4.1 1009: a message (or, `when` = ' once inflated', what it inflates to) over maxPayload. */
function messageTooBig(maxPayload: number, when: string): ProtocolError {
  return new ProtocolError(
    ErrorCode.MessageTooBig,
    CloseCode.MessageTooBig,
    `message exceeds maxPayload (${maxPayload} bytes)${when}`,
  );
}
