/**
 * Reassembles data messages from their frames and the chunks of those frames (§5.4), enforcing
 * `maxPayload` before anything is kept and checking text as it arrives (§8.1).
 */
import { ErrorCode, ProtocolError } from '../errors.ts';
import { CloseCode } from '../frame/close-code.ts';
import type { FramePart } from '../frame/decoder.ts';
import { Opcode } from '../frame/opcode.ts';
import { invalidUtf8, protocolError } from '../frame/protocol-error.ts';
import { Utf8Validator } from '../frame/utf8.ts';
import type { MessageEvent } from './event.ts';
import { MessageBuffer } from './message-buffer.ts';

/** The message being reassembled from fragments (§5.4). */
interface PartialMessage {
  readonly binary: boolean;
  /** RFC 7692 §6: "the "Per-Message Compressed" bit" (RSV1) of the message's first frame. */
  readonly compressed: boolean;
  readonly payload: MessageBuffer;
}

/** One message at a time: §5.4 forbids interleaving the fragments of two messages. */
export class MessageAssembler {
  readonly #maxPayload: number;
  #message: PartialMessage | null = null;
  /** Validates the current text message across its frames and chunks; created with the first text message. */
  #utf8: Utf8Validator | null = null;

  constructor(maxPayload: number) {
    this.#maxPayload = maxPayload;
  }

  /**
   * Takes one piece of a data frame; returns the message it completes, or null.
   * @throws {ProtocolError} for a continuation without a message (1002), a new message inside a
   *   fragmented one (1002), a message over maxPayload (1009) or text that is not UTF-8 (1007).
   */
  add(part: FramePart): MessageEvent | null {
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
    if (!(part.last && header.fin)) return null;

    this.#message = null;
    if (checkText && !this.#utf8!.end()) throw invalidUtf8('text message');
    return {
      type: 'message',
      data: message.payload.join(),
      binary: message.binary,
      compressed: message.compressed,
    };
  }

  /** Forgets the message in progress (the connection failed). */
  reset(): void {
    this.#message = null;
    this.#utf8?.reset();
  }
}
