/**
 * The client's HTTP/2 pool against sockwire's own server: the server answers 429 to the 101st
 * WebSocket on one HTTP/2 connection (`maxStreamsPerSession`, default 100) while advertising no
 * SETTINGS_MAX_CONCURRENT_STREAMS, so the client has to count WebSocket streams itself and open
 * another pooled session before reaching 100.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/defaults.ts';
import { MAX_WEBSOCKET_STREAMS_PER_SESSION } from '../../src/http2/session-pool.ts';
import type { WebSocket } from '../../src/index.ts';
import { cert, type H2Fixture, nextMessage, openClient, startH2, streamOf } from './helpers.ts';

let fixture: H2Fixture | null = null;
const clients: WebSocket[] = [];

afterEach(async () => {
  for (const ws of clients.splice(0)) ws.terminate();
  await fixture?.close();
  fixture = null;
});

describe('HTTP/2 client pool: at most 100 WebSocket streams per session', () => {
  it('the client limit is not above the server default', () => {
    expect(MAX_WEBSOCKET_STREAMS_PER_SESSION).toBeLessThanOrEqual(DEFAULTS.maxStreamsPerSession);
  });

  it("150 WebSockets with 'require' to a sockwire HTTP/2 server all open, on 2 sessions, none gets 429", async () => {
    fixture = await startH2();
    let overHttp2 = 0;
    fixture.wss.on('connection', (_ws: WebSocket, request: unknown) => {
      if (streamOf(request) !== undefined) overHttp2++;
    });
    const count = 150;
    const results = await Promise.allSettled(
      Array.from({ length: count }, () =>
        openClient(fixture!.url, { ca: cert, http2: 'require', handshakeTimeout: 10_000 }).then((ws) => {
          clients.push(ws);
          return ws;
        }),
      ),
    );
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
    expect(failures).toEqual([]);
    expect(overHttp2).toBe(count);
    expect(fixture.counts.sessions).toBe(2);
    // Every one of them works (the last one opened included).
    const last = clients[clients.length - 1]!;
    last.send('still here');
    expect(String((await nextMessage(last)).data)).toBe('still here');
  }, 30_000);
});
