/**
 * The pure option validators (src/options-validation.ts): the exact messages users read, the dotted
 * names of nested options, and what counts as "not given". The constructors that call them are
 * covered in test/integration/options.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, InvalidOptionError } from '../../src/errors.ts';
import {
  validateClientOptions,
  validateReconnectOptions,
  validateServerOptions,
} from '../../src/options-validation.ts';

const RECONNECT_DEFAULTS = { minDelay: 1000, maxDelay: 30_000 };
const validators = {
  server: validateServerOptions,
  client: validateClientOptions,
  reconnect: (options: unknown) => validateReconnectOptions(options, RECONNECT_DEFAULTS),
} as const;

function thrown(run: () => void): InvalidOptionError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionError);
    return error as InvalidOptionError;
  }
  throw new Error('nothing was thrown');
}

describe('messages name the option, what is allowed, and the value refused', () => {
  it.each([
    // The repro.
    [
      'server',
      { keepAlive: { interval: 1000, timeout: -1 } },
      'keepAlive.timeout',
      'keepAlive.timeout must be a number of milliseconds from 0 to 2147483647 (got -1)',
    ],
    [
      'client',
      { keepAlive: { interval: 1000, timeout: -1 } },
      'keepAlive.timeout',
      'keepAlive.timeout must be a number of milliseconds from 0 to 2147483647 (got -1)',
    ],
    [
      'server',
      { keepAlive: {} },
      'keepAlive.interval',
      'keepAlive.interval must be a number of milliseconds from 0 to 2147483647 (got undefined)',
    ],
    [
      'server',
      { keepAlive: 30_000 },
      'keepAlive',
      'keepAlive must be an object { interval, timeout? } (milliseconds) (got 30000)',
    ],
    [
      'client',
      { closeTimeout: 2 ** 31 },
      'closeTimeout',
      'closeTimeout must be a number of milliseconds from 0 to 2147483647 (got 2147483648)',
    ],
    [
      'server',
      { maxPayload: Number.NaN },
      'maxPayload',
      'maxPayload must be an integer >= 0, or Infinity for no limit (got NaN)',
    ],
    [
      'server',
      { port: 70000 },
      'port',
      'port must be an integer from 0 to 65535 (or a string of its digits) (got 70000)',
    ],
    [
      'server',
      { port: 'http' },
      'port',
      'port must be an integer from 0 to 65535 (or a string of its digits) (got "http")',
    ],
    [
      'server',
      { port: '65536' },
      'port',
      'port must be an integer from 0 to 65535 (or a string of its digits) (got "65536")',
    ],
    ['server', { backlog: -0.5 }, 'backlog', 'backlog must be an integer >= 0 (got -0.5)'],
    ['server', { path: 'ws' }, 'path', 'path must be a string that starts with "/" (got "ws")'],
    [
      'server',
      { slowReaderPolicy: 'kick' },
      'slowReaderPolicy',
      `slowReaderPolicy must be one of 'close', 'drop' (got "kick")`,
    ],
    [
      'server',
      { allowedOrigins: 'https://a.example' },
      'allowedOrigins',
      'allowedOrigins must be an array of origin strings or a function (origin, request) => boolean (got "https://a.example")',
    ],
    [
      'server',
      { perMessageDeflate: { concurrencyLimit: 0 } },
      'perMessageDeflate.concurrencyLimit',
      'perMessageDeflate.concurrencyLimit must be an integer >= 1, or Infinity for no limit (got 0)',
    ],
    [
      'client',
      { perMessageDeflate: { serverMaxWindowBits: 16 } },
      'perMessageDeflate.serverMaxWindowBits',
      'perMessageDeflate.serverMaxWindowBits must be true, false or an integer from 8 to 15 (RFC 7692 §7.1.2) (got 16)',
    ],
    [
      'server',
      { perMessageDeflate: { zlibDeflateOptions: { level: 10 } } },
      'perMessageDeflate.zlibDeflateOptions.level',
      'perMessageDeflate.zlibDeflateOptions.level must be an integer from -1 to 9 (got 10)',
    ],
    [
      'client',
      { headers: { 'X-A': 'a\r\nB: c' } },
      'headers.X-A',
      'headers.X-A must be a string without CR, LF or other control characters (RFC 9110 §5.5) (got "a\\r\\nB: c")',
    ],
    [
      'client',
      { headers: { 'X A': 'x' } },
      'headers.X A',
      'headers.X A must be named by an HTTP token (RFC 9110 §5.1), with a string value (got "x")',
    ],
    ['client', { family: 5 }, 'family', 'family must be one of 0, 4, 6 (got 5)'],
    ['client', { http2: true }, 'http2', `http2 must be one of false, 'prefer', 'require' (got true)`],
    [
      'client',
      { localAddress: 'example.com' },
      'localAddress',
      'localAddress must be an IPv4 or IPv6 address (got "example.com")',
    ],
    ['client', { ca: 1 }, 'ca', 'ca must be a string, a Buffer, or an array of them (got 1)'],
    ['client', { proxy: null }, 'proxy', 'proxy must be a URL string or a URL object (got null)'],
    [
      'client',
      { checkServerIdentity: {} },
      'checkServerIdentity',
      'checkServerIdentity must be a function (got an object)',
    ],
    [
      'client',
      { origin: ['a'] },
      'origin',
      'origin must be a string without CR, LF or other control characters (RFC 9110 §5.5) (got an array)',
    ],
    [
      'client',
      { handshakeTimeout: 0 },
      'handshakeTimeout',
      'handshakeTimeout must be a number of milliseconds from 1 to 2147483647 (got 0)',
    ],
    ['reconnect', { factor: 0.5 }, 'factor', 'factor must be a finite number >= 1 (got 0.5)'],
    [
      'reconnect',
      { minDelay: 100, maxDelay: 10 },
      'maxDelay',
      'maxDelay must be a number of milliseconds >= minDelay (100) (got 10)',
    ],
    [
      'reconnect',
      { minDelay: 60_000 },
      'maxDelay',
      'maxDelay must be a number of milliseconds >= minDelay (60000) (set it: its default is lower) (got 30000)',
    ],
    [
      'reconnect',
      { timers: { setTimeout } },
      'timers',
      'timers must be an object with setTimeout and clearTimeout functions (got an object)',
    ],
    // Client options pass through ReconnectingWebSocket and are checked there too.
    ['reconnect', { maxRedirects: -1 }, 'maxRedirects', 'maxRedirects must be an integer >= 0 (got -1)'],
    ['server', null, 'options', 'options must be an object (got null)'],
    ['client', 'x', 'options', 'options must be an object (got "x")'],
  ] as const)('%s %o', (which, options, option, message) => {
    const error = thrown(() => validators[which](options));
    expect(error.code).toBe(ErrorCode.InvalidArgument);
    expect(error.option).toBe(option);
    expect(error.message).toBe(message);
  });

  it('shortens long strings; shows numbers as they are', () => {
    expect(thrown(() => validateServerOptions({ host: undefined, path: 'x'.repeat(100) })).message).toBe(
      `path must be a string that starts with "/" (got "${'x'.repeat(40)}…")`,
    );
    expect(thrown(() => validateServerOptions({ retryAfter: Number.NEGATIVE_INFINITY })).message).toBe(
      'retryAfter must be a number of seconds from 0 to 2147483647 (got -Infinity)',
    );
    expect(thrown(() => validateClientOptions({ maxRedirects: 1.5 })).message).toBe(
      'maxRedirects must be an integer >= 0 (got 1.5)',
    );
  });
});

describe('what passes', () => {
  it.each([
    ['server', undefined],
    ['server', {}],
    ['client', {}],
    ['reconnect', {}],
    // undefined is "the default", for any option.
    ['server', { port: undefined, keepAlive: undefined, perMessageDeflate: undefined, path: undefined }],
    ['client', { headers: undefined, proxy: undefined, http2: undefined }],
    // Unknown names are ignored, as ws does.
    ['server', { skipUTF8Validation: true, WebSocket: class {} }],
    ['client', { protocolVersion: 13, generateMask: () => {} }],
    // Boundaries.
    [
      'server',
      { port: 0, backlog: 0, maxHeaderCount: 0, maxConnections: 0, retryAfter: 0, maxBufferedAmount: 0 },
    ],
    ['server', { port: '8080' }],
    ['server', { port: 65535, closeTimeout: 2 ** 31 - 1, handshakeTimeout: 1, maxStreamsPerSession: 0 }],
    ['server', { keepAlive: { interval: 0 } }],
    ['server', { keepAlive: { interval: 30_000, timeout: 10_000 } }],
    ['server', { perMessageDeflate: true }],
    ['server', { perMessageDeflate: { serverMaxWindowBits: 8, clientMaxWindowBits: 15, threshold: 0 } }],
    ['client', { perMessageDeflate: { clientMaxWindowBits: true, serverMaxWindowBits: false } }],
    ['client', { headers: { Authorization: 'Bearer x', 'User-Agent': 'a\tb' }, family: 0 }],
    ['client', { localAddress: '127.0.0.1', key: [{ pem: 'k', passphrase: 'p' }], cert: Buffer.from('c') }],
    ['client', { proxy: 'http://proxy:3128', http2: 'require', maxRedirects: 0 }],
    ['reconnect', { minDelay: 0, maxDelay: 0, factor: 1, maxRetries: 0, maxQueuedMessages: 0 }],
    ['reconnect', { minDelay: 5000, maxDelay: 5000, maxRetries: Number.POSITIVE_INFINITY }],
    ['reconnect', { stableAfter: 0, keepProcessAlive: false }],
  ] as const)('%s %o', (which, options) => {
    expect(() => validators[which](options)).not.toThrow();
  });
});
