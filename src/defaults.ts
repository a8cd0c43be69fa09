/**
 * Every default of sockwire in one frozen object, each with the reason for its value. An option left
 * out (or `undefined`) takes the value here; docs/api.md lists the same values per option.
 *
 * Pure data: the protocol core may import it (it has no I/O and no state).
 */
const defaults = {
  /**
   * `maxPayload`, in bytes: the largest message (and, with permessage-deflate, the largest message
   * once inflated) accepted before failing with 1009 (§7.4.1). 100 MiB, as `ws`: large enough for
   * any message a real application sends whole, small enough that one peer cannot take the heap.
   */
  maxPayload: 100 * 1024 * 1024,

  /**
   * `closeTimeout`, in ms: how long to wait for the peer's Close (§7.1.2) and for the server to close
   * the TCP connection (§7.1.1) before destroying the socket. 30 s, as `ws`.
   */
  closeTimeout: 30_000,

  /**
   * Server `handshakeTimeout`, in ms: the whole opening handshake (request head read, hooks run,
   * response written) must finish within it. 10 s: a real client sends its request head within one
   * round trip, so a short bound costs nobody and caps what slow-loris peers can hold (each holds a
   * socket and, until its head is complete, up to `maxHeadSize` bytes).
   */
  serverHandshakeTimeout: 10_000,

  /**
   * Client `handshakeTimeout`, in ms: from the start of the connection attempt (DNS, TCP, TLS, proxy,
   * redirects) to the 101 answer. 30 s, longer than the server's: it covers the whole network path,
   * not one request head, and a client has no crowd to protect itself from. As .NET's
   * `ClientWebSocket`; `ws` has none.
   */
  clientHandshakeTimeout: 30_000,

  /** `maxRedirects` with `followRedirects: true`: 10, as `ws` (and within what browsers follow). */
  maxRedirects: 10,

  /**
   * `retryAfter`, in seconds: the `Retry-After` (RFC 9110 §10.2.3) answered with a 503 when the
   * server is at `maxConnections`. 5 s spreads a reconnecting crowd without stranding anyone long.
   */
  retryAfterSeconds: 5,

  /**
   * `bufferedAmount` in bytes above which `send()` returns false: the application should wait for
   * 'drain'. 1 MiB: enough to keep a fast link busy, small enough that a slow reader is noticed.
   */
  sendHighWaterMark: 1024 * 1024,

  /**
   * Frames queued in one batch and smaller than this in total are joined into one buffer (one cheap
   * copy) rather than written as a vector: below 16 KiB, a copy costs less than `writev`'s setup.
   */
  joinBelowBytes: 16 * 1024,

  /**
   * Messages held for an async iterator that is not reading, before the socket stops being read
   * (TCP then pushes back on the peer).
   */
  iteratorHighWaterMark: 64,

  /**
   * Messages a `WebSocketStream`'s readable holds for a consumer that is not reading, before the
   * socket stops being read (TCP then pushes back on the peer). 16: enough to ride out a consumer's
   * short pauses, while a slow consumer holds at most 16 messages (of up to `maxPayload` each).
   */
  streamReadableHighWaterMark: 16,

  /**
   * Bytes a `WebSocketStream`'s writable queues, not yet handed to the socket, before `writer.ready`
   * waits: the same 1 MiB as `sendHighWaterMark`, for the same reason.
   */
  streamWritableHighWaterMark: 1024 * 1024,

  /**
   * With `streamMessages`, bytes of one message's `data` stream held for a consumer that is not
   * reading before the socket stops being read: 1 MiB, as `sendHighWaterMark`, so a message of any
   * size costs at most about that much while it passes through.
   */
  streamPieceHighWaterMark: 1024 * 1024,

  /**
   * Bounds of the keep-alive sweep's period, in ms (src/websocket/keep-alive.ts): a quarter of the
   * shorter of `interval` and `timeout`, but at least 5 ms, so that tiny periods (tests) do not make a
   * busy timer, and at most 1 s, so that with long periods a silent peer is still noticed within a
   * second of its deadline.
   */
  keepAliveSweepMinMs: 5,
  keepAliveSweepMaxMs: 1000,

  /**
   * permessage-deflate `threshold`, in bytes: smaller messages are sent uncompressed. 1 KiB, as
   * `ws`: below it, DEFLATE's header and the zlib round trip cost more than they save.
   */
  deflateThreshold: 1024,

  /**
   * permessage-deflate `concurrencyLimit`: zlib jobs running at once per server (or per process, for
   * clients). 10, as `ws`: zlib runs on libuv's 4-thread pool, and more jobs in flight only queue
   * there while holding memory.
   */
  deflateConcurrencyLimit: 10,

  /**
   * Limits on an opening handshake's request head: 16 KiB, as Node's `--max-http-header-size`, and
   * 100 header field lines (a real handshake has 10–20; Node's `maxHeadersCount` is 2000, but a
   * WebSocket endpoint needs nowhere near as many).
   */
  httpHeadLimits: Object.freeze({ maxHeadSize: 16384, maxHeaderCount: 100 }) as {
    readonly maxHeadSize: number;
    readonly maxHeaderCount: number;
  },

  /**
   * Server `maxStreamsPerSession` (RFC 8441): RFC 9113 §6.5.2 recommends that
   * SETTINGS_MAX_CONCURRENT_STREAMS "be no smaller than 100, so as to not unnecessarily limit
   * parallelism"; common servers allow about as many (Apache httpd 100, nginx 128).
   */
  maxStreamsPerSession: 100,

  /**
   * How long a refused handshake's socket (or HTTP/2 stream) may stay open after the error response,
   * in ms, whatever the peer does: long enough for the response to arrive, short enough that refused
   * peers cannot pile up.
   */
  refusalLingerMs: 1000,

  /**
   * HTTP/2 server (RFC 8441): how long, in ms, after the server has sent END_STREAM on a WebSocket's
   * stream, the peer gets to end its own half before the stream is reset. A peer that has the whole
   * closing handshake ends its half within one round trip (our client does; Chromium 150 never does),
   * so 1 s is generous yet short next to `closeTimeout` (30 s), which would otherwise hold the
   * WebSocket's 'close', the stream and its slot in the session's stream limit.
   */
  http2StreamEndGraceMs: 1000,

  /**
   * `sockwire connect --timeout`, in ms: the handshake timeout, and with `-x` how long to wait for
   * the replies. 10 s, the server's handshake bound: someone at a terminal, or a script, should learn
   * within seconds that nothing came, rather than after the library client's 30 s.
   */
  cliTimeout: 10_000,

  /**
   * `ReconnectingWebSocket`: full-jitter exponential backoff between `minDelay` and `maxDelay` (ms),
   * growing by `factor` per attempt (§7.2.3: clients "SHOULD use some form of backoff"); retries
   * forever; at most 1000 messages queued while disconnected; an attempt counts as stable (the
   * backoff resets) after 5 s open; the retry timer keeps the process alive, as the connection does.
   */
  reconnect: Object.freeze({
    minDelay: 1000,
    maxDelay: 30_000,
    factor: 2,
    maxRetries: Number.POSITIVE_INFINITY,
    maxQueuedMessages: 1000,
    stableAfter: 5000,
    keepProcessAlive: true,
  }),
};

export const DEFAULTS: Readonly<typeof defaults> = Object.freeze(defaults);
