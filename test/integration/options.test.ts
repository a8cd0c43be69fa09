/**
 * Issue 12 item 10: every option of WebSocketServer, WebSocket and ReconnectingWebSocket is checked
 * when the object is constructed. A bad value throws at once (code WS_ERR_INVALID_ARGUMENT, an
 * InvalidOptionError whose `option` and message name the option), instead of crashing the process
 * at the first connection or leaving a socket that never reports anything.
 */
import { describe, expect, it } from 'vitest';
import {
  type ClientOptions,
  ErrorCode,
  InvalidArgumentError,
  InvalidOptionError,
  InvalidStateError,
  ReconnectingWebSocket,
  type ReconnectOptions,
  type ServerOptions,
  WebSocket,
  WebSocketError,
  WebSocketServer,
} from '../../src/index.ts';
import { cleanupsAfterEach, listen, once } from './helpers.ts';

const cleanups = cleanupsAfterEach();

/** Port 1 on loopback: nothing listens there, so a constructor that wrongly succeeds fails fast. */
const NOWHERE = 'ws://127.0.0.1:1';

/** Runs `construct`; whatever it wrongly created is torn down after the test. */
function thrownBy(construct: () => unknown): unknown {
  try {
    const made = construct();
    if (made instanceof WebSocketServer) cleanups.push(() => made.close());
    else if (made instanceof WebSocket) cleanups.push(() => made.terminate());
    else if (made instanceof ReconnectingWebSocket) cleanups.push(() => made.close());
  } catch (error) {
    return error;
  }
  return undefined;
}

function expectInvalidOption(error: unknown, option: string): void {
  expect(error, `no error thrown for ${option}`).toBeInstanceOf(InvalidOptionError);
  // An argument error, not a state error: the same call fails in any state (issue 14's taxonomy).
  expect(error).toBeInstanceOf(InvalidArgumentError);
  expect(error).not.toBeInstanceOf(InvalidStateError);
  expect(error).toBeInstanceOf(WebSocketError);
  const { code, option: named, message } = error as InvalidOptionError;
  expect(code).toBe(ErrorCode.InvalidArgument);
  expect(named).toBe(option);
  expect(message.startsWith(`${option} must be `), message).toBe(true);
  expect(message).toMatch(/\(got .+\)$/);
}

type Bad = readonly [option: string, options: Record<string, unknown>];

/** Options of ConnectionSettings and PerMessageDeflateOptions: both ends take them. */
const SHARED: readonly Bad[] = [
  ['maxPayload', { maxPayload: -1 }],
  ['maxPayload', { maxPayload: 1.5 }],
  ['maxPayload', { maxPayload: Number.NaN }],
  ['maxPayload', { maxPayload: '1024' }],
  ['closeTimeout', { closeTimeout: -1 }],
  ['closeTimeout', { closeTimeout: Number.NaN }],
  ['closeTimeout', { closeTimeout: Number.POSITIVE_INFINITY }],
  ['closeTimeout', { closeTimeout: 2 ** 31 }],
  ['closeTimeout', { closeTimeout: '30s' }],
  ['keepAlive', { keepAlive: null }],
  ['keepAlive', { keepAlive: 1000 }],
  ['keepAlive.interval', { keepAlive: {} }],
  ['keepAlive.interval', { keepAlive: { interval: -1 } }],
  ['keepAlive.interval', { keepAlive: { interval: Number.NaN } }],
  ['keepAlive.interval', { keepAlive: { interval: 2 ** 31 } }],
  ['keepAlive.timeout', { keepAlive: { interval: 1000, timeout: -1 } }],
  ['keepAlive.timeout', { keepAlive: { interval: 1000, timeout: Number.POSITIVE_INFINITY } }],
  ['keepAlive.timeout', { keepAlive: { interval: 1000, timeout: '5s' } }],
  ['perMessageDeflate', { perMessageDeflate: 'yes' }],
  ['perMessageDeflate', { perMessageDeflate: null }],
  ['perMessageDeflate.threshold', { perMessageDeflate: { threshold: -1 } }],
  ['perMessageDeflate.threshold', { perMessageDeflate: { threshold: Number.NaN } }],
  ['perMessageDeflate.concurrencyLimit', { perMessageDeflate: { concurrencyLimit: 0 } }],
  ['perMessageDeflate.concurrencyLimit', { perMessageDeflate: { concurrencyLimit: Number.NaN } }],
  ['perMessageDeflate.concurrencyLimit', { perMessageDeflate: { concurrencyLimit: 2.5 } }],
  ['perMessageDeflate.serverNoContextTakeover', { perMessageDeflate: { serverNoContextTakeover: 'true' } }],
  ['perMessageDeflate.clientNoContextTakeover', { perMessageDeflate: { clientNoContextTakeover: 1 } }],
  ['perMessageDeflate.serverMaxWindowBits', { perMessageDeflate: { serverMaxWindowBits: 16 } }],
  ['perMessageDeflate.serverMaxWindowBits', { perMessageDeflate: { serverMaxWindowBits: Number.NaN } }],
  ['perMessageDeflate.clientMaxWindowBits', { perMessageDeflate: { clientMaxWindowBits: 7 } }],
  ['perMessageDeflate.clientMaxWindowBits', { perMessageDeflate: { clientMaxWindowBits: 10.5 } }],
  ['perMessageDeflate.zlibDeflateOptions', { perMessageDeflate: { zlibDeflateOptions: 'fast' } }],
  [
    'perMessageDeflate.zlibDeflateOptions.level',
    { perMessageDeflate: { zlibDeflateOptions: { level: 10 } } },
  ],
  [
    'perMessageDeflate.zlibDeflateOptions.memLevel',
    { perMessageDeflate: { zlibDeflateOptions: { memLevel: 0 } } },
  ],
  [
    'perMessageDeflate.zlibDeflateOptions.strategy',
    { perMessageDeflate: { zlibDeflateOptions: { strategy: 5 } } },
  ],
  [
    'perMessageDeflate.zlibInflateOptions.chunkSize',
    { perMessageDeflate: { zlibInflateOptions: { chunkSize: 10 } } },
  ],
];

const SERVER_ONLY: readonly Bad[] = [
  ['host', { host: 127001 }],
  ['backlog', { backlog: -1 }],
  ['backlog', { backlog: 1.5 }],
  ['tls', { tls: 'cert.pem' }],
  ['path', { path: 'chat' }],
  ['path', { path: 1 }],
  ['handleProtocols', { handleProtocols: 'chat' }],
  ['verifyClient', { verifyClient: true }],
  ['clientTracking', { clientTracking: 'no' }],
  ['handshakeTimeout', { handshakeTimeout: 0 }],
  ['handshakeTimeout', { handshakeTimeout: -1 }],
  ['handshakeTimeout', { handshakeTimeout: Number.NaN }],
  ['handshakeTimeout', { handshakeTimeout: 2 ** 31 }],
  ['maxHeadSize', { maxHeadSize: 0 }],
  ['maxHeadSize', { maxHeadSize: 1.5 }],
  ['maxHeaderCount', { maxHeaderCount: -1 }],
  ['maxHeaderCount', { maxHeaderCount: Number.POSITIVE_INFINITY }],
  ['allowedOrigins', { allowedOrigins: 'https://app.example' }],
  ['allowedOrigins', { allowedOrigins: [1] }],
  ['maxConnections', { maxConnections: -1 }],
  ['maxConnections', { maxConnections: Number.NaN }],
  ['maxConnections', { maxConnections: 1.5 }],
  ['retryAfter', { retryAfter: -1 }],
  ['retryAfter', { retryAfter: Number.NaN }],
  ['retryAfter', { retryAfter: Number.POSITIVE_INFINITY }],
  ['maxBufferedAmount', { maxBufferedAmount: -5 }],
  ['maxBufferedAmount', { maxBufferedAmount: Number.NaN }],
  ['slowReaderPolicy', { slowReaderPolicy: 'kill' }],
  ['maxStreamsPerSession', { maxStreamsPerSession: -1 }],
  ['maxStreamsPerSession', { maxStreamsPerSession: 2.5 }],
  ['maxStreamsPerSession', { maxStreamsPerSession: '100' }],
];

/** The listener options, each given alone (they choose the server's mode). */
const SERVER_MODE: readonly Bad[] = [
  ['port', { port: -1 }],
  ['port', { port: 65536 }],
  ['port', { port: 1.5 }],
  ['port', { port: '/tmp/ws.sock' }],
  ['port', { port: '' }],
  ['server', { server: {} }],
  ['noServer', { noServer: 'yes' }],
];

const CLIENT_ONLY: readonly Bad[] = [
  ['headers', { headers: 'X-A: 1' }],
  ['headers', { headers: ['X-A', '1'] }],
  ['headers.X-A', { headers: { 'X-A': 1 } }],
  ['headers.X-A', { headers: { 'X-A': 'a\r\nSet-Cookie: x=1' } }],
  ['headers.bad name', { headers: { 'bad name': 'x' } }],
  ['origin', { origin: 1 }],
  ['origin', { origin: 'https://a\r\nX: 1' }],
  ['handshakeTimeout', { handshakeTimeout: 0 }],
  ['handshakeTimeout', { handshakeTimeout: -1 }],
  ['handshakeTimeout', { handshakeTimeout: Number.POSITIVE_INFINITY }],
  ['ca', { ca: 1 }],
  ['cert', { cert: true }],
  ['key', { key: 5 }],
  ['passphrase', { passphrase: 1234 }],
  ['rejectUnauthorized', { rejectUnauthorized: 'false' }],
  ['servername', { servername: 1 }],
  ['checkServerIdentity', { checkServerIdentity: 'strict' }],
  ['family', { family: 5 }],
  ['family', { family: '4' }],
  ['localAddress', { localAddress: 'localhost' }],
  ['localAddress', { localAddress: 1 }],
  ['proxy', { proxy: 8080 }],
  ['followRedirects', { followRedirects: 'yes' }],
  ['maxRedirects', { maxRedirects: -1 }],
  ['maxRedirects', { maxRedirects: 1.5 }],
  ['http2', { http2: true }],
  ['http2', { http2: 'always' }],
];

const RECONNECT_ONLY: readonly Bad[] = [
  ['minDelay', { minDelay: -1 }],
  ['minDelay', { minDelay: Number.NaN }],
  ['minDelay', { minDelay: 2 ** 31 }],
  ['maxDelay', { maxDelay: Number.POSITIVE_INFINITY }],
  ['maxDelay', { minDelay: 100, maxDelay: 10 }],
  ['maxDelay', { maxDelay: 500 }], // below the default minDelay (1000)
  ['factor', { factor: 0.5 }],
  ['factor', { factor: Number.NaN }],
  ['factor', { factor: Number.POSITIVE_INFINITY }],
  ['maxRetries', { maxRetries: -1 }],
  ['maxRetries', { maxRetries: 1.5 }],
  ['maxQueuedMessages', { maxQueuedMessages: -1 }],
  ['maxQueuedMessages', { maxQueuedMessages: Number.NaN }],
  ['stableAfter', { stableAfter: -1 }],
  ['stableAfter', { stableAfter: Number.NaN }],
  ['stableAfter', { stableAfter: 2 ** 31 }],
  ['keepProcessAlive', { keepProcessAlive: 'no' }],
  ['shouldReconnect', { shouldReconnect: false }],
  ['random', { random: 0.5 }],
  ['timers', { timers: {} }],
  ['timers', { timers: { setTimeout: () => 0 } }],
];

const label = (cases: readonly Bad[]) => cases.map(([option, options]) => [option, options] as const);

describe('WebSocketServer validates every option at construction', () => {
  it.each(label([...SHARED, ...SERVER_ONLY]))('%s: %o', (option, options) => {
    expectInvalidOption(
      thrownBy(() => new WebSocketServer({ noServer: true, ...options } as ServerOptions)),
      option,
    );
  });

  it.each(label(SERVER_MODE))('%s: %o', (option, options) => {
    expectInvalidOption(
      thrownBy(() => new WebSocketServer(options as ServerOptions)),
      option,
    );
  });

  it('a non-object options argument', () => {
    expectInvalidOption(
      thrownBy(() => new WebSocketServer(null as unknown as ServerOptions)),
      'options',
    );
  });

  it('repro: keepAlive { interval: 1000, timeout: -1 } throws instead of crashing at the first connection', () => {
    expectInvalidOption(
      thrownBy(
        () => new WebSocketServer({ port: 0, host: '127.0.0.1', keepAlive: { interval: 1000, timeout: -1 } }),
      ),
      'keepAlive.timeout',
    );
  });

  it('accepts the documented forms (and ignores unknown option names, as ws does)', async () => {
    const { server } = await listen({
      maxPayload: Number.POSITIVE_INFINITY,
      closeTimeout: 0,
      keepAlive: { interval: 0 },
      path: '/chat',
      handleProtocols: () => false,
      verifyClient: () => true,
      clientTracking: false,
      handshakeTimeout: 1,
      maxHeadSize: 1,
      maxHeaderCount: 0,
      perMessageDeflate: {
        threshold: Number.POSITIVE_INFINITY,
        concurrencyLimit: Number.POSITIVE_INFINITY,
        serverMaxWindowBits: 8,
        clientMaxWindowBits: true,
        zlibDeflateOptions: { level: -1, memLevel: 9, strategy: 4 },
        zlibInflateOptions: { chunkSize: 64 },
      },
      allowedOrigins: (origin) => origin === undefined,
      maxConnections: Number.POSITIVE_INFINITY,
      retryAfter: 0.5,
      maxBufferedAmount: Number.POSITIVE_INFINITY,
      slowReaderPolicy: 'close',
      maxStreamsPerSession: Number.POSITIVE_INFINITY,
      skipUTF8Validation: true, // a `ws` option sockwire does not have: ignored
    } as ServerOptions);
    cleanups.push(() => server.close());
    const other = new WebSocketServer({ noServer: true, allowedOrigins: [], maxPayload: 0, backlog: 0 });
    cleanups.push(() => other.close());
    // A port given as a string of digits (process.env.PORT) listens on that port, as with ws.
    const fromEnv = new WebSocketServer({ port: '0' as unknown as number, host: '127.0.0.1' });
    cleanups.push(() => fromEnv.close());
    await once(fromEnv, 'listening');
    expect(fromEnv.address()).toMatchObject({ address: '127.0.0.1' });
  });
});

describe('WebSocket validates every option at construction', () => {
  it.each(label([...SHARED, ...CLIENT_ONLY]))('%s: %o', (option, options) => {
    expectInvalidOption(
      thrownBy(() => new WebSocket(NOWHERE, options as ClientOptions)),
      option,
    );
    // The same with a subprotocol list before the options.
    expectInvalidOption(
      thrownBy(() => new WebSocket(NOWHERE, ['chat'], options as ClientOptions)),
      option,
    );
  });

  it('a non-object options argument', () => {
    expectInvalidOption(
      thrownBy(() => new WebSocket(NOWHERE, [], 'fast' as unknown as ClientOptions)),
      'options',
    );
  });

  it('repro: keepAlive { interval: 1000, timeout: -1 } throws instead of leaving a silent OPEN socket', async () => {
    const { server, url } = await listen();
    cleanups.push(() => server.close());
    expectInvalidOption(
      thrownBy(() => new WebSocket(url, { keepAlive: { interval: 1000, timeout: -1 } })),
      'keepAlive.timeout',
    );
    // And the valid form still opens.
    const ws = new WebSocket(url, { keepAlive: { interval: 1000, timeout: 500 } });
    cleanups.push(() => ws.terminate());
    await once(ws, 'open');
  });

  it('accepts the documented forms', () => {
    const ws = new WebSocket(NOWHERE, {
      headers: { 'X-Token': 'a b\tc' },
      origin: 'https://app.example',
      handshakeTimeout: 2 ** 31 - 1,
      ca: [Buffer.from('x'), 'y'],
      key: [{ pem: 'x', passphrase: 'y' }],
      family: 6,
      localAddress: '::1',
      proxy: new URL('http://127.0.0.1:1'),
      followRedirects: true,
      maxRedirects: 0,
      http2: false,
      perMessageDeflate: false,
    });
    ws.on('error', () => {});
    cleanups.push(() => ws.terminate());
  });
});

describe('ReconnectingWebSocket validates every option at construction', () => {
  it.each(label([...SHARED, ...CLIENT_ONLY, ...RECONNECT_ONLY]))('%s: %o', (option, options) => {
    expectInvalidOption(
      thrownBy(() => new ReconnectingWebSocket(NOWHERE, options as ReconnectOptions)),
      option,
    );
  });

  it('repro: keepAlive { interval: 1000, timeout: -1 }', () => {
    expectInvalidOption(
      thrownBy(() => new ReconnectingWebSocket(NOWHERE, { keepAlive: { interval: 1000, timeout: -1 } })),
      'keepAlive.timeout',
    );
  });

  it('accepts the documented forms', () => {
    const rws = new ReconnectingWebSocket(NOWHERE, {
      minDelay: 0,
      maxDelay: 0,
      factor: 1,
      maxRetries: Number.POSITIVE_INFINITY,
      maxQueuedMessages: 0,
      shouldReconnect: () => false,
      random: () => 0,
      timers: { setTimeout: () => 0, clearTimeout: () => {} },
    });
    rws.on('error', () => {});
    cleanups.push(() => rws.close());
  });
});
