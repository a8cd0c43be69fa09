/**
 * Constructor options, checked when the object is made: a value the library cannot work with throws
 * an {@link InvalidOptionError} (code WS_ERR_INVALID_ARGUMENT) naming the option and what is allowed,
 * instead of surfacing later where nobody can catch it (a RangeError thrown inside the first
 * connection's handshake crashed the process; a client with such an option sat OPEN and silent).
 *
 * Each class has one table: option name → rule (what is allowed, in words, and a test). Nested
 * objects (`keepAlive`, `perMessageDeflate`, zlib options, `headers`, `timers`) have tables of their
 * own and are reported with a dotted path (`keepAlive.timeout`). `undefined` always means "the
 * default". Names not in a table are ignored, as `ws` does, so options meant for `ws` or for another
 * layer do not break a migration.
 *
 * Pure: no I/O, no timers; `isIP` is a string check.
 */
import { isIP } from 'node:net';
import { InvalidOptionError } from './errors.ts';
import { assertFieldName, assertFieldValue } from './handshake/header-lines.ts';

/** What one option accepts: `allowed` completes "<option> must be …"; `fields` checks an object's members. */
interface Rule {
  readonly allowed: string;
  readonly test: (value: unknown) => boolean;
  /** For an object value: its own table, checked after `test` passed. */
  readonly fields?: Schema;
  /** For a record of arbitrary keys (`headers`): checks each entry, returning why it is refused. */
  readonly entries?: (key: string, value: unknown) => string | null;
  /** Must be given (only inside an object that was given, e.g. `keepAlive.interval`). */
  readonly required?: boolean;
}

type Schema = Readonly<Record<string, Rule>>;

/**
 * Node's timers hold at most 2^31 - 1 ms (about 24.8 days): a longer delay is silently replaced by 1 ms
 * (with a TimeoutOverflowWarning), which would turn a long timeout into an immediate one.
 */
const MAX_TIMER_MS = 2 ** 31 - 1;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isNumber = (value: unknown): value is number => typeof value === 'number' && !Number.isNaN(value);
const isFunction = (value: unknown): boolean => typeof value === 'function';
const isBinary = (value: unknown): boolean => typeof value === 'string' || ArrayBuffer.isView(value);

const rule = (allowed: string, test: (value: unknown) => boolean, more?: Partial<Rule>): Rule => ({
  allowed,
  test,
  ...more,
});

const BOOLEAN = rule('true or false', (v) => typeof v === 'boolean');
const STRING = rule('a string', (v) => typeof v === 'string');
const FUNCTION = rule('a function', isFunction);

/** A delay in ms for setTimeout, from `min` to {@link MAX_TIMER_MS}. */
const milliseconds = (min: number): Rule =>
  rule(
    `a number of milliseconds from ${min} to ${MAX_TIMER_MS}`,
    (v) => isNumber(v) && v >= min && v <= MAX_TIMER_MS,
  );
/** A count or size: an integer from `min` (to `max`), or Infinity where "no limit" makes sense. */
const integer = (min: number, max = Number.MAX_SAFE_INTEGER): Rule =>
  rule(
    max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`,
    (v) => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max,
  );
const integerOrInfinity = (min: number): Rule =>
  rule(
    `an integer >= ${min}, or Infinity for no limit`,
    (v) => (Number.isSafeInteger(v) && (v as number) >= min) || v === Number.POSITIVE_INFINITY,
  );
const numberAtLeast = (min: number): Rule =>
  rule(`a number >= ${min} (Infinity allowed)`, (v) => isNumber(v) && v >= min);
const oneOf = (...values: readonly unknown[]): Rule =>
  rule(`one of ${values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))).join(', ')}`, (v) =>
    values.includes(v),
  );

/** `keepAlive` (src/websocket/keep-alive.ts): the shared scheduler needs both periods finite and >= 0. */
const KEEP_ALIVE: Schema = {
  interval: { ...milliseconds(0), required: true },
  timeout: milliseconds(0),
};

/** zlib's own ranges (node:zlib constants Z_MIN_LEVEL…); windowBits is negotiated, so not checked here. */
const ZLIB: Schema = {
  level: integer(-1, 9),
  memLevel: integer(1, 9),
  strategy: integer(0, 4),
  chunkSize: integer(64),
};

/**
 * RFC 7692 §7.1.2.1 and RFC 7692 §7.1.2.2: a max_window_bits value is "a decimal integer value between 8 and
 * 15, inclusive"; `true` asks for the parameter without a value (or, for a server, allows it).
 */
const WINDOW_BITS = rule(
  'true, false or an integer from 8 to 15 (RFC 7692 §7.1.2)',
  (v) => typeof v === 'boolean' || (Number.isInteger(v) && (v as number) >= 8 && (v as number) <= 15),
);

const PER_MESSAGE_DEFLATE: Schema = {
  threshold: numberAtLeast(0),
  // A limit below 1 (or NaN) would queue every zlib job forever.
  concurrencyLimit: integerOrInfinity(1),
  serverNoContextTakeover: BOOLEAN,
  clientNoContextTakeover: BOOLEAN,
  serverMaxWindowBits: WINDOW_BITS,
  clientMaxWindowBits: WINDOW_BITS,
  zlibDeflateOptions: rule('an object of zlib options', isObject, { fields: ZLIB }),
  zlibInflateOptions: rule('an object of zlib options', isObject, { fields: ZLIB }),
};

/** ConnectionSettings: both ends. */
const CONNECTION: Schema = {
  maxPayload: integerOrInfinity(0),
  closeTimeout: milliseconds(0),
  keepAlive: rule('an object { interval, timeout? } (milliseconds)', isObject, { fields: KEEP_ALIVE }),
  autoPong: BOOLEAN,
  perMessageDeflate: rule(
    'true, false or an object of permessage-deflate options',
    (v) => typeof v === 'boolean' || isObject(v),
    { fields: PER_MESSAGE_DEFLATE },
  ),
};

const SERVER: Schema = {
  ...CONNECTION,
  // A string of digits is taken too, as node:net (and so `ws`) does: `port: process.env.PORT` works.
  // Any other string would make node:net listen on a local socket path instead of a port.
  port: rule('an integer from 0 to 65535 (or a string of its digits)', (v) => {
    const port = typeof v === 'string' && /^[0-9]{1,5}$/.test(v) ? Number(v) : v;
    return Number.isInteger(port) && (port as number) >= 0 && (port as number) <= 65535;
  }),
  host: STRING,
  backlog: integer(0),
  tls: rule('an object of node:tls server options', isObject),
  server: rule(
    'an http, https or http2 server (an object with an on() method)',
    (v) => isObject(v) && isFunction(v.on),
  ),
  noServer: BOOLEAN,
  // RFC 9112 §3.2.1: the origin-form of a request target starts with "/", so no other path can match.
  path: rule('a string that starts with "/"', (v) => typeof v === 'string' && v.startsWith('/')),
  handleProtocols: FUNCTION,
  verifyClient: FUNCTION,
  clientTracking: BOOLEAN,
  // 0 would drop every socket before it could send its request.
  handshakeTimeout: milliseconds(1),
  maxHeadSize: integer(1),
  maxHeaderCount: integer(0),
  allowedOrigins: rule(
    'an array of origin strings or a function (origin, request) => boolean',
    (v) => isFunction(v) || (Array.isArray(v) && v.every((origin) => typeof origin === 'string')),
  ),
  maxConnections: integerOrInfinity(0),
  // RFC 9110 §10.2.3: Retry-After is delay-seconds (digits; sent rounded up); RFC 9111 §1.2.2 caps
  // such values at 2147483648, so larger ones, Infinity or NaN would make an invalid field.
  retryAfter: rule(
    `a number of seconds from 0 to ${MAX_TIMER_MS}`,
    (v) => isNumber(v) && v >= 0 && v <= MAX_TIMER_MS,
  ),
  maxBufferedAmount: numberAtLeast(0),
  // HTTP/2 (RFC 8441) WebSockets per session; 0 refuses them all, Infinity lifts the limit.
  maxStreamsPerSession: integerOrInfinity(0),
  slowReaderPolicy: oneOf('close', 'drop'),
  // src/server/adapter.ts: the server calls these five; a missing one would fail at the first publish.
  adapter: rule(
    'an object with start, publish, subscribe, unsubscribe and close methods (a ServerAdapter)',
    (v) =>
      isObject(v) && ['start', 'publish', 'subscribe', 'unsubscribe', 'close'].every((m) => isFunction(v[m])),
  ),
};

/** Header fields the caller adds to the upgrade request (RFC 9110 §5.1 names, RFC 9110 §5.5 values). */
function headerEntry(name: string, value: unknown): string | null {
  if (typeof value !== 'string') return 'a string';
  try {
    assertFieldName(name);
  } catch {
    return 'named by an HTTP token (RFC 9110 §5.1), with a string value';
  }
  try {
    assertFieldValue(name, value);
  } catch {
    return 'a string without CR, LF or other control characters (RFC 9110 §5.5)';
  }
  return null;
}

/** `ca`, `cert`, `key` are handed to node:tls: PEM strings, Buffers, or arrays of them (or of objects). */
const TLS_MATERIAL = rule(
  'a string, a Buffer, or an array of them',
  (v) => isBinary(v) || (Array.isArray(v) && v.every((item) => isBinary(item) || isObject(item))),
);

const CLIENT: Schema = {
  ...CONNECTION,
  headers: rule('an object of header names to string values', isObject, { entries: headerEntry }),
  origin: rule(
    'a string without CR, LF or other control characters (RFC 9110 §5.5)',
    (v) => typeof v === 'string' && headerEntry('Origin', v) === null,
  ),
  // 0 would fail every connection before it could start.
  handshakeTimeout: milliseconds(1),
  ca: TLS_MATERIAL,
  cert: TLS_MATERIAL,
  key: TLS_MATERIAL,
  passphrase: STRING,
  rejectUnauthorized: BOOLEAN,
  servername: STRING,
  checkServerIdentity: FUNCTION,
  family: oneOf(0, 4, 6),
  // node:net binds the source address before connecting: it must be an IP literal, not a name.
  localAddress: rule('an IPv4 or IPv6 address', (v) => typeof v === 'string' && isIP(v) !== 0),
  proxy: rule('a URL string or a URL object', (v) => typeof v === 'string' || v instanceof URL),
  followRedirects: BOOLEAN,
  maxRedirects: integer(0),
  http2: oneOf(false, 'prefer', 'require'),
  // RFC 7617 §2: user-id ":" password; what `http.request` takes as `auth`.
  auth: STRING,
  // Node's HTTP client calls agent.addRequest(); a non-agent would fail later, with Node's message.
  agent: rule('an http.Agent (https.Agent for wss://)', (v) => isObject(v) && isFunction(v.addRequest)),
  createConnection: FUNCTION,
  finishRequest: FUNCTION,
  generateMask: FUNCTION,
  // §4.1 item 9: "The value of this header field MUST be 13"; 8 is the last draft (hybi-08), as in `ws`.
  protocolVersion: oneOf(13, 8),
};

const RECONNECT: Schema = {
  ...CLIENT,
  minDelay: milliseconds(0),
  maxDelay: milliseconds(0),
  factor: rule('a finite number >= 1', (v) => isNumber(v) && v >= 1 && Number.isFinite(v)),
  maxRetries: integerOrInfinity(0),
  maxQueuedMessages: integerOrInfinity(0),
  stableAfter: milliseconds(0),
  keepProcessAlive: BOOLEAN,
  shouldReconnect: FUNCTION,
  random: FUNCTION,
  timers: rule(
    'an object with setTimeout and clearTimeout functions',
    (v) => isObject(v) && isFunction(v.setTimeout) && isFunction(v.clearTimeout),
  ),
};

/** A short, safe rendering of a refused value for the error message. */
function show(value: unknown): string {
  if (typeof value === 'string') {
    const quoted = JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    return quoted;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function refuse(option: string, allowed: string, value: unknown): never {
  throw new InvalidOptionError(option, `${option} must be ${allowed} (got ${show(value)})`);
}

function check(options: Readonly<Record<string, unknown>>, schema: Schema, prefix: string): void {
  for (const name of Object.keys(schema)) {
    const value = options[name];
    const rule = schema[name]!;
    // Undefined means "the default", as if the option were not there.
    if (value === undefined && rule.required !== true) continue;
    const option = prefix + name;
    if (!rule.test(value)) refuse(option, rule.allowed, value);
    if (rule.fields !== undefined && isObject(value)) check(value, rule.fields, `${option}.`);
    if (rule.entries !== undefined && isObject(value)) {
      for (const [key, entry] of Object.entries(value)) {
        const why = rule.entries(key, entry);
        if (why !== null) refuse(`${option}.${key}`, why, entry);
      }
    }
  }
}

function checkRoot(options: unknown, schema: Schema): Readonly<Record<string, unknown>> {
  if (options === undefined) return {};
  if (!isObject(options)) refuse('options', 'an object', options);
  check(options, schema, '');
  return options;
}

/**
 * Checks the options of `new WebSocketServer(options)`.
 * @throws {InvalidOptionError} (code WS_ERR_INVALID_ARGUMENT) for the first invalid option.
 */
export function validateServerOptions(options: unknown): void {
  checkRoot(options, SERVER);
}

/**
 * Checks the options of `new WebSocket(url, protocols, options)` (the client).
 * @throws {InvalidOptionError} (code WS_ERR_INVALID_ARGUMENT) for the first invalid option.
 */
export function validateClientOptions(options: unknown): void {
  checkRoot(options, CLIENT);
}

/**
 * Checks the options of `new ReconnectingWebSocket(url, protocols, options)`, its client options
 * included. `maxDelay` must not be below `minDelay` (each with its default when omitted).
 * @throws {InvalidOptionError} (code WS_ERR_INVALID_ARGUMENT) for the first invalid option.
 */
export function validateReconnectOptions(
  options: unknown,
  defaults: { readonly minDelay: number; readonly maxDelay: number },
): void {
  const checked = checkRoot(options, RECONNECT);
  const minDelay = (checked.minDelay as number | undefined) ?? defaults.minDelay;
  const maxDelay = (checked.maxDelay as number | undefined) ?? defaults.maxDelay;
  if (maxDelay < minDelay) {
    const given = checked.maxDelay === undefined ? ' (set it: its default is lower)' : '';
    refuse('maxDelay', `a number of milliseconds >= minDelay (${minDelay})${given}`, maxDelay);
  }
}
