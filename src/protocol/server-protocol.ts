/**
 * The server side of the protocol without I/O (as Python websockets' `ServerProtocol`): the opening
 * handshake of §4.2 — the request it reads and validates, the 101 or the HTTP error it answers — and
 * then the connection (§5–§7) of {@link Connection}. SHA-1 comes in as a function.
 */
import { DEFAULTS } from '../defaults.ts';
import type { HeaderFields } from '../handshake/header-lines.ts';
import { HttpHeadParser, type RequestHead } from '../handshake/http.ts';
import { rejectionHeaders, type UpgradeRequest, validateUpgradeRequest } from '../handshake/server.ts';
import { buildAcceptResponse, buildRejectResponse, selectSubprotocol } from '../handshake/server-response.ts';
import { OpeningConnection } from './opening-connection.ts';

/** What the server supports, and the function it needs. */
export interface ServerProtocolOptions {
  /**
   * Subprotocols this server speaks; the first the client offers is selected (§4.2.2 step 5.5:
   * "selecting one of the values from the |Sec-WebSocket-Protocol| field"), none when no match.
   */
  readonly protocols?: readonly string[] | undefined;
  /** Extra fields for the 101 response (e.g. `Set-Cookie`). */
  readonly headers?: HeaderFields | undefined;
  /** Largest message accepted, in bytes (default 100 MiB, as the WebSocketServer). */
  readonly maxPayload?: number | undefined;
  /** Whether Pings are answered automatically (default true, §5.5.2). */
  readonly autoPong?: boolean | undefined;
  /** SHA-1 of a string, 20 bytes: computes `Sec-WebSocket-Accept` (§4.2.2 step 5.4). */
  readonly sha1: (input: string) => Uint8Array;
}

/**
 * A WebSocket server connection without I/O. `push()` what the transport receives; once the
 * request head is read it is validated (§4.2.1) and answered: 101 Switching Protocols
 * (`handshakeState` `'open'`, then everything {@link Connection} does, frames that followed the head
 * in the same chunk included), or an HTTP error such as 400 or 405 (`'rejected'`, the reason in
 * `handshakeError`, `transportShouldClose` true). Write `takeOutgoing()` after each push. No
 * extension is accepted (§9.1: the server answers without the ones it does not use).
 */
export class ServerProtocol extends OpeningConnection {
  readonly #options: ServerProtocolOptions;
  #parser: HttpHeadParser<RequestHead> | null = HttpHeadParser.forRequests(DEFAULTS.httpHeadLimits);
  #request: UpgradeRequest | null = null;
  #protocol = '';

  constructor(options: ServerProtocolOptions) {
    super({
      role: 'server',
      maxPayload: options.maxPayload ?? DEFAULTS.maxPayload,
      autoPong: options.autoPong,
    });
    this.#options = options;
  }

  /** The validated upgrade request (path, host, origin, offers…), once accepted. */
  get request(): UpgradeRequest | null {
    return this.#request;
  }

  /** The subprotocol selected (§4.2.2 step 5.5), or `''`. */
  get protocol(): string {
    return this.#protocol;
  }

  protected override pushHandshake(bytes: Uint8Array): void {
    const parser = this.#parser!;
    let request: UpgradeRequest;
    let rest: Uint8Array;
    try {
      // The parser's own errors carry the status to answer (400, 431), as validation's do.
      const result = parser.push(bytes);
      if (!result.done) return;
      this.#parser = null;
      rest = result.rest;
      request = validateUpgradeRequest(result.head);
    } catch (error) {
      this.#parser = null;
      this.#refuse(error);
      return;
    }
    const options = this.#options;
    const protocol = selectSubprotocol(request.protocols, options.protocols ?? []);
    // §4.2.2 step 5: "the server MUST send a valid HTTP response" with 101, Upgrade, Connection and
    // Sec-WebSocket-Accept (computeAcceptKey, §4.2.2 step 5.4).
    this.queueHead(
      buildAcceptResponse({ key: request.key, protocol, headers: options.headers }, options.sha1),
    );
    this.#request = request;
    this.#protocol = protocol ?? '';
    this.opened(rest);
  }

  /**
   * §4.2.1: "If the server, while reading the handshake, finds that the client did not send a
   * handshake that matches the description below ..., the server MUST stop processing the client's
   * handshake and return an HTTP response with an appropriate error code (such as 400 Bad Request)."
   */
  #refuse(error: unknown): void {
    // Only HandshakeErrors are the client's fault; anything else is a bug of ours, not a 400.
    const refused = this.rejected(error);
    this.queueHead(buildRejectResponse(refused.status, refused.message, rejectionHeaders(refused)));
  }
}
