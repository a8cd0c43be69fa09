/**
 * The application's handshake hooks, called defensively: `allowedOrigins` (§10.2), `verifyClient`
 * (§4.2.2: "If the server does not wish to accept this connection, it MUST return an appropriate HTTP
 * error code") and `handleProtocols` (§4.2.2 item 4). A hook that throws, returns something invalid
 * or never decides is a {@link hookFailure}: the client is answered 500 and the server emits
 * 'hookError'; nothing of a hook's bug reaches the peer or crashes the server.
 */
import { STATUS_CODES } from 'node:http';
import { ErrorCode, WebSocketError } from '../errors.ts';
import type { HeaderFields } from '../handshake/header-lines.ts';
import type { ServerOptions, ServerRequest, VerifyClientInfo } from './types.ts';

/** What `verifyClient` decided, checked: accept with a `user`, or refuse with a sendable status. */
export type Verdict =
  | { readonly accept: true; readonly user: unknown }
  | {
      readonly accept: false;
      readonly status: number;
      readonly reason: string;
      readonly headers: HeaderFields | undefined;
    };

/** The verdict without a `verifyClient`, or when it accepts without a `user`. */
export const ACCEPTED: Verdict = Object.freeze({ accept: true, user: undefined });
const UNAUTHORIZED: Verdict = Object.freeze({
  accept: false,
  status: 401,
  reason: 'Unauthorized',
  headers: undefined,
});

/**
 * Whether `allowedOrigins` lets `origin` in (§10.2: "servers that are not intended to process input
 * from any web page but only for certain sites SHOULD verify the |Origin| field").
 * @throws {WebSocketError} (WS_ERR_HOOK_FAILED) when the function form throws or returns a non-boolean.
 */
export function originAllowed(
  allowed: ServerOptions['allowedOrigins'],
  origin: string | undefined,
  req: ServerRequest,
): boolean {
  if (allowed === undefined) return true;
  if (typeof allowed === 'function') {
    let verdict: unknown;
    try {
      verdict = allowed(origin, req);
    } catch (error) {
      throw hookFailure('allowedOrigins', 'threw', error);
    }
    if (typeof verdict !== 'boolean') {
      throw hookFailure('allowedOrigins', `returned ${describeValue(verdict)}; it must return true or false`);
    }
    return verdict;
  }
  // §10.2: the array form checks browsers, which always send Origin; see the option's TSDoc.
  return origin === undefined || allowed.includes(origin);
}

/**
 * Runs `handleProtocols` (default: the client's first choice).
 * @throws {WebSocketError} (WS_ERR_HOOK_FAILED) when it throws or returns anything but `false`,
 *   `undefined` or one of the offered subprotocols: §4.1 makes the client fail a connection whose server selected
 *   "a subprotocol that was not present in the client's handshake".
 */
export function chooseProtocol(
  handleProtocols: ServerOptions['handleProtocols'],
  offered: readonly string[],
  req: ServerRequest,
): string | false {
  if (handleProtocols === undefined) return offered[0]!;
  let chosen: unknown;
  try {
    chosen = handleProtocols(new Set(offered), req);
  } catch (error) {
    throw hookFailure('handleProtocols', 'threw', error);
  }
  // A hook that returns nothing selects nothing, as `false` does (and as in `ws`).
  if (chosen === false || chosen === undefined) return false;
  if (typeof chosen === 'string' && offered.includes(chosen)) return chosen;
  throw hookFailure(
    'handleProtocols',
    `returned ${describeValue(chosen)}; it must return one of the offered subprotocols ` +
      `(${offered.map((name) => JSON.stringify(name)).join(', ')}) or false`,
  );
}

/**
 * Runs `verifyClient` (either style), bounded by `limit` ms (`handshakeTimeout`): one that never
 * decides (a promise that never settles, a callback never called) would hold the socket and its
 * `maxConnections` slot forever; it is a failing hook like any other (500, 'hookError').
 * @returns (a promise of) the checked verdict; it rejects with a {@link hookFailure}.
 */
export function runVerifyClient(
  verifyClient: NonNullable<ServerOptions['verifyClient']>,
  info: VerifyClientInfo,
  limit: number,
): Promise<Verdict> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(hookFailure('verifyClient', `did not decide within handshakeTimeout (${limit} ms)`)),
      limit,
    );
  });
  const verdict = verify(verifyClient, info);
  // Whichever comes first; a verdict after the deadline finds the socket answered and is ignored.
  verdict.catch(() => undefined);
  return Promise.race([verdict, deadline]).finally(() => clearTimeout(timer));
}

async function verify(
  verifyClient: NonNullable<ServerOptions['verifyClient']>,
  info: VerifyClientInfo,
): Promise<Verdict> {
  let result: unknown;
  try {
    if (verifyClient.length >= 2) {
      result = await new Promise<unknown>((resolve) => {
        (
          verifyClient as (
            info: VerifyClientInfo,
            cb: (ok: boolean, code?: number, message?: string, headers?: HeaderFields) => void,
          ) => void
        )(info, (ok, code, message, headers) =>
          // As in `ws`, any truthy `ok` accepts; a refusal's values are checked below.
          resolve(
            ok
              ? true
              : {
                  accept: false,
                  status: code ?? 401,
                  // As in `ws`, an empty message stands for the status's own phrase.
                  ...(message ? { reason: message } : {}),
                  ...(headers ? { headers } : {}),
                },
          ),
        );
      });
    } else {
      result = await (verifyClient as (info: VerifyClientInfo) => unknown)(info);
    }
  } catch (error) {
    throw hookFailure('verifyClient', 'threw (or its promise rejected)', error);
  }
  if (result === true) return ACCEPTED;
  if (result === false) return UNAUTHORIZED;
  if (
    typeof result !== 'object' ||
    result === null ||
    typeof (result as { accept?: unknown }).accept !== 'boolean'
  ) {
    throw hookFailure(
      'verifyClient',
      `returned ${describeValue(result)}; it must return (or resolve to) a boolean, { accept: true, user? } ` +
        'or { accept: false, status?, reason?, headers? }',
    );
  }
  if ((result as { accept: boolean }).accept)
    return { accept: true, user: (result as { user?: unknown }).user };
  const {
    status = 401,
    reason = STATUS_CODES[status as number] ?? 'Refused',
    headers,
  } = result as {
    status?: unknown;
    reason?: unknown;
    headers?: unknown;
  };
  // RFC 9110 §15: a refusal is a redirection (3xx), client error (4xx) or server error (5xx); a
  // 1xx or 2xx would tell the client something else entirely (a 101 even that it was accepted).
  if (!Number.isInteger(status) || (status as number) < 300 || (status as number) > 599) {
    throw hookFailure(
      'verifyClient',
      `refused with status ${describeValue(status)}; use an integer in 300-599`,
    );
  }
  if (typeof reason !== 'string') {
    throw hookFailure('verifyClient', `refused with reason ${describeValue(reason)}; it must be a string`);
  }
  if (headers !== undefined && (typeof headers !== 'object' || headers === null)) {
    throw hookFailure('verifyClient', `refused with headers ${describeValue(headers)}; use { name: value }`);
  }
  return { accept: false, status: status as number, reason, headers: headers as HeaderFields | undefined };
}

/** The error for a hook of the application that threw (`cause`) or returned something invalid. */
export function hookFailure(hook: string, problem: string, cause?: unknown): WebSocketError {
  const detail = problem === 'threw' || problem.startsWith('threw ') ? `: ${errorText(cause)}` : '';
  return new WebSocketError(
    ErrorCode.HookFailed,
    `${hook} ${problem}${detail}; the client was answered 500 Internal Server Error (or closed with 1011 ` +
      'once open)',
    cause === undefined ? undefined : { cause },
  );
}

/** A short description of a value for an error message. */
function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (value === null || typeof value !== 'object')
    return typeof value === 'function' ? 'a function' : String(value);
  if (typeof (value as { then?: unknown }).then === 'function') return 'a Promise';
  return Array.isArray(value) ? 'an array' : 'an object';
}

/** The message of an error, or the text of anything else thrown. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
