/**
 * The client side of the protocol without I/O (as Python websockets' `ClientProtocol`): the opening
 * handshake of §4.1 — the request it writes, the response it validates — and then the connection
 * (§5–§7) of {@link Connection}. Randomness and SHA-1 come in as functions, so it is deterministic
 * under test and runs wherever bytes can travel.
 */
import { DEFAULTS } from '../defaults.ts';
import { generateKey } from '../handshake/accept-key.ts';
import { buildUpgradeRequest, validateUpgradeResponse } from '../handshake/client.ts';
import { HttpHeadParser, type ResponseHead } from '../handshake/http.ts';
import { OpeningConnection } from './opening-connection.ts';

/** What the client asks for, and the functions it needs. */
export interface ClientProtocolOptions {
  /** `host[:port]` for the `Host` field (§4.1 item 4); IPv6 literals bracketed. */
  readonly host: string;
  /** The /resource name/ (§3): path and query; default `/`. */
  readonly path?: string | undefined;
  /** Subprotocols to offer, most preferred first (§4.1 item 10). */
  readonly protocols?: readonly string[] | undefined;
  /** The `Origin` field (§4.1 item 8, §10.2); non-browser clients usually omit it. */
  readonly origin?: string | undefined;
  /** Extra request fields (`Authorization`, `Cookie`…). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Largest message accepted, in bytes (default 100 MiB, as the WebSocket). */
  readonly maxPayload?: number | undefined;
  /** Whether Pings are answered automatically (default true, §5.5.2). */
  readonly autoPong?: boolean | undefined;
  /**
   * `n` cryptographically random bytes (e.g. `crypto.randomBytes`): the 16 of the
   * `Sec-WebSocket-Key` (§4.1 item 7: "randomly selected") and the 4 of every masking key (§5.3:
   * "MUST be unpredictable").
   */
  readonly randomBytes: (n: number) => Uint8Array;
  /** SHA-1 of a string, 20 bytes: checks `Sec-WebSocket-Accept` (§4.1). */
  readonly sha1: (input: string) => Uint8Array;
}

/**
 * A WebSocket client without I/O. The upgrade request is queued at once: write `takeOutgoing()` to
 * the transport, then `push()` what it receives. Once the 101 response is read and valid,
 * `handshakeState` is `'open'` and everything {@link Connection} does is available (the bytes that
 * followed the response in the same chunk are already decoded as frames); a refused or invalid
 * response makes it `'rejected'`, with the reason in `handshakeError`, and `transportShouldClose`
 * true. No extension is offered.
 */
export class ClientProtocol extends OpeningConnection {
  readonly #key: string;
  readonly #protocols: readonly string[];
  readonly #sha1: (input: string) => Uint8Array;
  #parser: HttpHeadParser<ResponseHead> | null = HttpHeadParser.forResponses(DEFAULTS.httpHeadLimits);
  #protocol = '';
  #response: ResponseHead | null = null;

  /**
   * Builds and queues the upgrade request (§4.1).
   * @throws {TypeError} for an invalid host, path, subprotocol, origin or extra field (see
   *   `buildUpgradeRequest`).
   */
  constructor(options: ClientProtocolOptions) {
    const { randomBytes } = options;
    super({
      role: 'client',
      maxPayload: options.maxPayload ?? DEFAULTS.maxPayload,
      generateMaskKey: () => randomBytes(4),
      autoPong: options.autoPong,
    });
    this.#key = generateKey(randomBytes);
    this.#protocols = options.protocols ?? [];
    this.#sha1 = options.sha1;
    this.queueHead(
      buildUpgradeRequest({
        host: options.host,
        path: options.path ?? '/',
        key: this.#key,
        protocols: this.#protocols,
        ...(options.origin === undefined ? {} : { origin: options.origin }),
        ...(options.headers === undefined ? {} : { headers: options.headers }),
      }),
    );
  }

  /** The subprotocol the server selected (§4.1 item 5), or `''`. */
  get protocol(): string {
    return this.#protocol;
  }

  /** The server's response head, once read (also when it refused). */
  get response(): ResponseHead | null {
    return this.#response;
  }

  protected override pushHandshake(bytes: Uint8Array): void {
    const parser = this.#parser!;
    let result: ReturnType<typeof parser.push>;
    try {
      result = parser.push(bytes);
    } catch (error) {
      this.#parser = null;
      this.rejected(error);
      return;
    }
    if (!result.done) return;
    this.#parser = null;
    this.#response = result.head;
    try {
      // §4.1: "the client MUST validate the server's response" (status 101, Upgrade, Connection,
      // Sec-WebSocket-Accept, and no extension or subprotocol it did not offer).
      const response = validateUpgradeResponse(
        result.head,
        { key: this.#key, protocols: this.#protocols, offeredExtensions: [] },
        this.#sha1,
      );
      this.#protocol = response.protocol;
    } catch (error) {
      this.rejected(error);
      return;
    }
    this.opened(result.rest);
  }
}
