/**
 * Turns any error into one clear line for stderr: what failed and, when we can tell, what to do.
 * Stack traces are shown only with `--verbose`.
 */
import { ErrorCode, HandshakeError, WebSocketError } from '../errors.ts';
import { visible } from './output.ts';

/** A mistake on the command line: printed with a hint to run `--help`, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Exit statuses, documented in `sockwire --help`. */
export const ExitCode = {
  Ok: 0,
  /** Connection refused, handshake or TLS failure, abnormal close (1006), server cannot listen. */
  Failure: 1,
  /** Bad arguments. */
  Usage: 2,
  /** `-x`: the expected replies did not arrive before `--timeout`. */
  Timeout: 3,
} as const;

/** The TLS verification failures Node reports in `error.code`. */
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

/** The system call a Node system error came from (`listen`, `connect`, `open`…). */
function syscallOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('syscall' in error)) return undefined;
  return typeof error.syscall === 'string' ? error.syscall : undefined;
}

/** The innermost cause of an error (Node's socket error under our HandshakeError). */
function rootCause(error: unknown): unknown {
  let current = error;
  for (let depth = 0; depth < 5; depth++) {
    if (!(current instanceof Error) || current.cause === undefined) break;
    current = current.cause;
  }
  return current;
}

/**
 * Whether `error` is a failed opening handshake told as `handshake failed: …`: every HandshakeError
 * code but the head size (which keeps its code in the line), and the generic code on a plain
 * WebSocketError (an abort while connecting).
 */
function isHandshakeFailure(error: WebSocketError): boolean {
  if (error.code === ErrorCode.HandshakeFailed || error.code === ErrorCode.HandshakeAborted) return true;
  return error instanceof HandshakeError && error.code !== ErrorCode.HeadTooLarge;
}

/**
 * One line describing `error`, e.g. "handshake failed: server answered 403",
 * "connection refused by 127.0.0.1:9", "TLS failure: self-signed certificate (…)".
 */
export function describeError(error: unknown, target?: string): string {
  if (error instanceof UsageError) return `${error.message} (see sockwire --help)`;
  const cause = rootCause(error);
  const causeCode = codeOf(cause);
  const causeMessage = cause instanceof Error ? cause.message : String(cause);
  const where = target === undefined ? '' : ` ${target}`;
  if (error instanceof HandshakeError && error.status > 0) {
    return `handshake failed: server answered ${error.status}${error.status === 101 ? ` (${error.message})` : ''}`;
  }
  switch (causeCode) {
    case 'ECONNREFUSED':
      return `connection refused by${where || ' the server'} (is a server listening there?)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve the host name of${where || ' the server'}`;
    case 'ETIMEDOUT':
      return `connection to${where || ' the server'} timed out`;
    case 'ECONNRESET':
      return 'the server reset the connection during the handshake';
    // Node's messages repeat what we say ("listen EADDRINUSE: address already in use 127.0.0.1:80");
    // the caller names the address ("cannot listen on 127.0.0.1:80: …").
    case 'EADDRINUSE':
      return 'address already in use (another server is listening there: stop it, or choose another port; port 0 picks a free one)';
    case 'EACCES':
      return syscallOf(cause) === 'listen'
        ? 'permission denied (ports below 1024 usually need privileges: choose one from 1024 up)'
        : `permission denied: ${causeMessage}`;
    case 'ENOENT':
      return `file not found: ${causeMessage}`;
  }
  if (causeCode !== undefined && (TLS_CODES.has(causeCode) || causeCode.startsWith('ERR_SSL'))) {
    const hint =
      causeCode === 'DEPTH_ZERO_SELF_SIGNED_CERT' || causeCode === 'SELF_SIGNED_CERT_IN_CHAIN'
        ? ' (trust it with --ca <file>, or skip verification with --insecure)'
        : '';
    return `TLS failure: ${causeMessage}${hint}`;
  }
  if (error instanceof WebSocketError) {
    if (error.code === ErrorCode.HandshakeTimeout) return 'handshake failed: timed out';
    if (isHandshakeFailure(error)) return `handshake failed: ${error.message}`;
    if (error.code === ErrorCode.InvalidArgument) return error.message;
    return `${error.message} (${error.code})`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** The stack of an error and of its causes, for `--verbose`; each line escaped (see {@link visible}). */
export function verboseDetails(error: unknown): string {
  const lines: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined; depth++) {
    lines.push(current instanceof Error ? (current.stack ?? current.message) : String(current));
    current = current instanceof Error ? current.cause : undefined;
    if (current !== undefined) lines.push('caused by:');
  }
  return lines
    .join('\n')
    .split('\n')
    .map((line) => visible(line))
    .join('\n');
}
