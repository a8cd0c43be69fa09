/**
 * RFC 8441 refusals answer fixed texts: nothing of the request (`:protocol`, `:path`) is reflected in
 * the body of the error response.
 */
import { connect } from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import type { HandshakeRejection } from '../../src/index.ts';
import { WAIT_MS, withTimeout } from '../integration/helpers.ts';
import { cert, type H2Fixture, startH2 } from './helpers.ts';

let fixture: H2Fixture | undefined;

afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

/** Sends one extended CONNECT and returns the status and the body of the answer. */
async function extendedConnect(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  const session = connect(url.replace(/^wss:/, 'https:'), { ca: cert, servername: 'localhost' });
  try {
    session.on('error', () => {});
    await withTimeout(
      new Promise<void>((resolve) => session.once('remoteSettings', () => resolve())),
      WAIT_MS,
      'SETTINGS',
    );
    const stream = session.request(
      {
        ':method': 'CONNECT',
        ':scheme': 'https',
        ':authority': 'localhost',
        'sec-websocket-version': '13',
        ...headers,
      },
      { endStream: false },
    );
    return await withTimeout(
      new Promise((resolve, reject) => {
        let status = 0;
        let body = '';
        stream.on('response', (h) => {
          status = Number(h[':status']);
        });
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => {
          body += chunk;
        });
        stream.on('end', () => resolve({ status, body }));
        stream.on('error', reject);
      }),
      WAIT_MS,
      'response',
    );
  } finally {
    session.destroy();
  }
}

const HOSTILE = '<svg/onload=alert(1)>';

describe('RFC 8441 refusals reflect nothing of the request', () => {
  it('an unsupported :protocol → 400 with a fixed text', async () => {
    fixture = await startH2();
    const { status, body } = await extendedConnect(fixture.url, { ':protocol': HOSTILE, ':path': '/' });
    expect(status).toBe(400);
    expect(body).not.toContain('<');
    expect(body).toBe('Bad Request: unsupported :protocol (this server speaks only "websocket")');
  });

  it('a path no WebSocketServer serves → 400 with a fixed text', async () => {
    fixture = await startH2({ path: '/ws' });
    const { status, body } = await extendedConnect(fixture.url, {
      ':protocol': 'websocket',
      ':path': `/${HOSTILE}`,
    });
    expect(status).toBe(400);
    expect(body).toBe('Bad Request: no WebSocket endpoint at this path');
  });

  it("the request's detail goes to 'handshakeRejected' on the server, not to the peer", async () => {
    fixture = await startH2({ path: '/ws' });
    const rejections: HandshakeRejection[] = [];
    fixture.wss.on('handshakeRejected', (rejection) => rejections.push(rejection));
    await extendedConnect(fixture.url, { ':protocol': HOSTILE, ':path': '/ws' });
    await extendedConnect(fixture.url, { ':protocol': 'websocket', ':path': `/${HOSTILE}` });
    expect(rejections.map(({ status }) => status)).toEqual([400, 400]);
    // Before routing (an invalid RFC 8441 request) there is no request to report; after, there is.
    expect(rejections[0]!.request).toBeUndefined();
    expect(rejections[1]!.request?.url).toBe(`/${HOSTILE}`);
    expect(rejections[1]!.reason).toBe('Bad Request: no WebSocket endpoint at this path');
    expect(rejections[1]!.remoteAddress).toBe('127.0.0.1');
  });
});
