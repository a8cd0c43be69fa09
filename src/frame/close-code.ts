/**
 * Close status codes, RFC 6455 §7.4 and the IANA "WebSocket Close Code Number Registry" (§11.7).
 */
export const CloseCode = {
  /** §7.4.1: "a normal closure, meaning that the purpose for which the connection was established has been fulfilled." */
  Normal: 1000,
  /** §7.4.1: "an endpoint is 'going away', such as a server going down or a browser having navigated away." */
  GoingAway: 1001,
  /** §7.4.1: "an endpoint is terminating the connection due to a protocol error." */
  ProtocolError: 1002,
  /** §7.4.1: "it has received a type of data it cannot accept." */
  UnsupportedData: 1003,
  /** §7.4.1: reserved; "MUST NOT be set as a status code in a Close control frame by an endpoint": no code was present. */
  NoStatusReceived: 1005,
  /** §7.4.1: reserved; the connection was closed abnormally, without a Close frame. Never on the wire. */
  Abnormal: 1006,
  /** §7.4.1: "data within a message that was not consistent with the type of the message (e.g., non-UTF-8 data within a text message)." */
  InvalidPayload: 1007,
  /** §7.4.1: "a message that violates its policy." */
  PolicyViolation: 1008,
  /** §7.4.1: "a message that is too big for it to process." */
  MessageTooBig: 1009,
  /** §7.4.1: the client expected the server to negotiate an extension. */
  MandatoryExtension: 1010,
  /** §7.4.1: "an unexpected condition that prevented it from fulfilling the request." */
  InternalError: 1011,
  /** IANA registry: the service is restarting. */
  ServiceRestart: 1012,
  /** IANA registry: try again later (e.g. a slow reader shed under load). */
  TryAgainLater: 1013,
  /** IANA registry: a gateway or proxy received an invalid response from the upstream server. */
  BadGateway: 1014,
  /** §7.4.1: reserved; the TLS handshake failed. Never on the wire. */
  TlsHandshake: 1015,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/**
 * Whether a close code received in a Close frame is acceptable.
 *
 * §7.4.1 defines 1000–1003 and 1007–1011; 1004 is reserved and 1005, 1006 and 1015 "MUST NOT be set
 * as a status code in a Close control frame". 1012–1014 are registered with IANA (§11.7).
 * §7.4.2: 0–999 are "not used"; 1000–2999 are reserved for this protocol and its extensions;
 * 3000–3999 are registered with IANA for libraries and frameworks; 4000–4999 are for private use.
 * Anything else on the wire fails the connection with 1002.
 */
export function isValidReceivedCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/**
 * Whether the application may send `code`: what a peer may receive (1000–1003, 1007–1014, 3000–4999).
 * §7.4.2 gives 3000–4999 to libraries and applications, and §7.4.1 defines the 1xxx codes; of
 * those, 1005, 1006 and 1015 "MUST NOT be set as a status code in a Close control frame" and 1004 is
 * reserved. Browsers let scripts send only 1000 and 3000–4999; we allow every code a peer accepts,
 * as `ws` does, since a server legitimately sends 1001 (going away), 1008 (policy) or 1011.
 */
export function isValidSentCloseCode(code: number): boolean {
  return Number.isInteger(code) && isValidReceivedCloseCode(code);
}
