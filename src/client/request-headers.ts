/**
 * The header fields of a client's opening handshake that come from the caller: a custom Host, the
 * credentials (Authorization from URL userinfo or `auth`, Proxy-Authorization for the proxy only)
 * and which of them follow a redirect (RFC 9110 §15.4).
 */
import { Buffer } from 'node:buffer';
import { InvalidArgumentError, InvalidOptionError } from '../errors.ts';
import { assertFieldValue } from '../handshake/header-lines.ts';
import { isValidHostField } from '../handshake/headers.ts';
import type { Target } from './target.ts';

/**
 * Splits one field (`lowerName`, in any case) off the user's headers; `check` throws the caller's
 * error for a value that cannot be sent.
 */
function takeField(
  headers: Readonly<Record<string, string>> | undefined,
  lowerName: string,
  check: (name: string, value: string) => void,
): { value: string | undefined; rest: Readonly<Record<string, string>> | undefined } {
  if (headers === undefined) return { value: undefined, rest: undefined };
  let taken: string | undefined;
  const rest: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() !== lowerName) {
      rest[name] = value;
      continue;
    }
    check(name, value);
    taken = value;
  }
  return { value: taken, rest };
}

/**
 * Splits a `Host` field (any case) off the user's headers.
 * @throws {InvalidOptionError} for a value that is not a valid Host (RFC 9110 §7.2: uri-host [ ":" port ]).
 */
export function takeHost(headers: Readonly<Record<string, string>> | undefined): {
  host: string | undefined;
  rest: Readonly<Record<string, string>> | undefined;
} {
  const { value, rest } = takeField(headers, 'host', (name, host) => {
    if (!isValidHostField(host)) {
      throw new InvalidOptionError(
        `headers.${name}`,
        `headers.${name} must be host[:port] (RFC 9110 §7.2), got ${JSON.stringify(host)}`,
      );
    }
  });
  return { host: value, rest };
}

/** Request headers that carry credentials (RFC 9110 §11.6.2, RFC 9110 §11.7.2; RFC 6265 §5.4). */
const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set(['authorization', 'cookie', 'proxy-authorization']);

export function withoutCredentials(
  headers: Readonly<Record<string, string>> | undefined,
): Readonly<Record<string, string>> | undefined {
  if (headers === undefined) return undefined;
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!CREDENTIAL_HEADERS.has(lower)) kept[name] = value;
  }
  return kept;
}

/**
 * Splits the `Proxy-Authorization` field (any case) off the user's headers.
 * @throws {InvalidArgumentError} for a value with CR, LF or another control.
 */
export function takeProxyAuthorization(headers: Readonly<Record<string, string>> | undefined): {
  proxyAuthorization: string | undefined;
  rest: Readonly<Record<string, string>> | undefined;
} {
  const { value, rest } = takeField(headers, 'proxy-authorization', (name, credentials) => {
    try {
      assertFieldValue(name, credentials); // checked even when dropped: a bad value is a bug to report
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  });
  return { proxyAuthorization: value, rest };
}

/**
 * `headers` plus `Authorization: Basic …` from the target URL's userinfo, else from the `auth`
 * option (`user:password`, RFC 7617 §2, sent as given in UTF-8, as `http.request` does), unless
 * `headers` already has an Authorization (the explicit one wins, as in `ws` and curl).
 */
export function withUrlAuthorization(
  headers: Readonly<Record<string, string>> | undefined,
  target: Target,
  auth?: string,
): Readonly<Record<string, string>> | undefined {
  const authorization =
    target.authorization ??
    (auth === undefined ? undefined : `Basic ${Buffer.from(auth).toString('base64')}`);
  if (authorization === undefined) return headers;
  if (headers !== undefined && Object.keys(headers).some((name) => name.toLowerCase() === 'authorization')) {
    return headers;
  }
  return { ...headers, Authorization: authorization };
}
