/**
 * Following a redirect of the opening handshake (§4.1: "If the status code received from the server
 * is not 101, the client handles the response per HTTP [RFC2616] procedures"; RFC 9110 §15.4): where
 * the next request goes, and which of the caller's header fields go with it.
 */
import { ErrorCode, HandshakeError } from '../errors.ts';
import { withoutCredentials, withUrlAuthorization } from './request-headers.ts';
import { redirectTarget, type Target } from './target.ts';

/** One request of the handshake: its URL, where it connects and the caller's fields it carries. */
export interface Hop {
  readonly url: string;
  readonly target: Target;
  readonly headers: Readonly<Record<string, string>> | undefined;
  /** A custom Host from the caller's headers, or undefined for the computed one. */
  readonly host: string | undefined;
}

/**
 * The request that follows a `status` redirect to `location` from `current`, the `redirects`-th one.
 * @throws {HandshakeError} with the 3xx status for an invalid Location, a redirect from wss:// to
 *   ws://, or more than `maxRedirects` redirects.
 */
export function nextHop(
  current: Hop,
  status: number,
  location: string,
  redirects: number,
  maxRedirects: number,
): Hop {
  const { target } = current;
  const next = redirectTarget(location, current.url, status);
  // §4.1: for a wss:// URL the client "MUST perform a TLS handshake"; following a redirect to
  // ws:// would repeat the request, credentials and all, in cleartext instead (the same host
  // and port included). Refused, as browsers refuse mixed content.
  if (target.secure && !next.target.secure) {
    throw new HandshakeError(
      ErrorCode.InvalidRedirect,
      status,
      `refusing to follow a redirect from wss:// to ws:// (${next.url}): it would send the ` +
        'request in cleartext; connect to the ws:// URL yourself if that is intended',
    );
  }
  if (redirects > maxRedirects) {
    throw new HandshakeError(
      ErrorCode.TooManyRedirects,
      status,
      'Maximum redirects exceeded', // ws's words: applications match them
    );
  }
  const sameHost =
    next.target.host === target.host &&
    next.target.port === target.port &&
    next.target.socketPath === target.socketPath;
  // RFC 9110 §15.4: "Consider removing header fields that were not automatically generated
  // ... where there are security implications; this includes ... Authorization and Cookie."
  // They are kept only on the origin (scheme, host and port: RFC 6454 §4) they were given for.
  const sameOrigin = sameHost && next.target.secure === target.secure;
  // The next URL's own userinfo (a relative Location inherits the current one) adds a Basic
  // Authorization unless one is kept.
  const kept = sameOrigin ? current.headers : withoutCredentials(current.headers);
  return {
    url: next.url,
    target: next.target,
    headers: withUrlAuthorization(kept, next.target),
    // A custom Host names the host it was given for (RFC 9110 §7.2): not sent to another one.
    host: sameHost ? current.host : undefined,
  };
}
