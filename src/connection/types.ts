/** The types of the sans-I/O core: its options, its states and the events it reports, in order. */
import type { ProtocolError } from '../errors.ts';

/** A complete data message, as {@link ConnectionEvent} reports it. */
export interface MessageEvent {
  readonly type: 'message';
  readonly data: Uint8Array;
  readonly binary: boolean;
  /**
   * RFC 7692 §6: RSV1 on its first frame. `data` is then still DEFLATE data: the wrapper inflates it
   * and hands it back with `completeMessage()`, which validates text; nothing is decoded until then.
   */
  readonly compressed: boolean;
}

/**
 * A piece of a data message, as it arrives, when the Connection streams messages
 * (`streamMessages`): one per decoded piece of a frame, in order, the last with `fin`. Text is
 * checked as UTF-8 piece by piece (§8.1) and the running total against `maxPayload`, as for a
 * whole message; a violation comes as a `fail` event after the pieces before it.
 */
export interface MessagePartEvent {
  readonly type: 'message-part';
  readonly data: Uint8Array;
  readonly binary: boolean;
  /** True on the message's last piece: nothing more of it follows. */
  readonly fin: boolean;
  /**
   * RFC 7692 §6: a piece of a compressed message, still DEFLATE data: the wrapper inflates it and
   * hands it back with `completePart()`, which counts it against maxPayload and validates text;
   * nothing is decoded until then. The last piece may be empty (the inflater needs the end).
   */
  readonly compressed: boolean;
}

/** What {@link Connection.next} returns: one thing that happened on the connection, in order. */
export type ConnectionEvent =
  /** A complete data message (§5.4 reassembled, §8.1 validated when text and not compressed). */
  | MessageEvent
  /** A piece of a data message, with `streamMessages` on (compressed: see `completePart()`). */
  | MessagePartEvent
  /** A Ping was received (§5.5.2); the Pong answer is already queued (unless `autoPong` is false). */
  | { readonly type: 'ping'; readonly data: Uint8Array }
  /** A Pong was received (§5.5.3). */
  | { readonly type: 'pong'; readonly data: Uint8Array }
  /**
   * A Close frame was received (§5.5.1, §7.1.5). When the peer started the closing handshake our
   * answer is queued (behind the sends still reserved, if any). `code` is 1005 when the frame had no
   * status code (§7.1.5).
   */
  | { readonly type: 'close'; readonly code: number; readonly reason: string }
  /** We failed the connection (§7.1.7); a Close frame with `error.closeCode` is queued. */
  | { readonly type: 'fail'; readonly error: ProtocolError };

/** Which end of the connection we are (§5.1: the client masks, the server does not). */
export type Role = 'client' | 'server';
/** OPEN, CLOSING once a Close was sent or received, CLOSED once both were (§7.1) or it failed (§7.1.7). */
export type ConnectionState = 'open' | 'closing' | 'closed';

/** The options of `new Connection(…)`. */
export interface ConnectionOptions {
  /** Which end we are: servers expect masked frames, clients mask what they send (§5.1). */
  readonly role: Role;
  /** Largest message (and frame) accepted, in bytes; larger fails the connection with 1009. */
  readonly maxPayload: number;
  /**
   * Source of the 4-byte masking keys; required for clients (§5.3: "MUST be unpredictable"), ignored
   * for servers (§5.1: a server never masks).
   */
  readonly generateMaskKey?: (() => Uint8Array) | undefined;
  /**
   * Whether a received Ping is answered with a Pong automatically (default true). False leaves the
   * answer to the application, which §5.5.2 then obliges to send it ("MUST send a Pong frame in
   * response"); the `ping` event is emitted either way.
   */
  readonly autoPong?: boolean | undefined;
  /**
   * Whether permessage-deflate was negotiated (RFC 7692 §6; default false): RSV1 is then allowed on
   * the first frame of a data message and means "compressed". Compressing and inflating stay with
   * the caller (see `completeMessage` and `reserveSend`).
   */
  readonly perMessageDeflate?: boolean | undefined;
  /**
   * Hand out data messages piece by piece (`message-part` events) instead of whole (default false):
   * a message of any size then passes through without being buffered. A compressed message's pieces
   * come still compressed, one at a time, for the caller to inflate and give back with
   * `Connection.completePart()` (RFC 7692 §7.2.2 piece by piece). Can be changed later with
   * `Connection.streamMessages`; a message takes the setting in force at its first frame.
   */
  readonly streamMessages?: boolean | undefined;
}
