/**
 * 'handshakeRejected': every opening handshake that does not become a WebSocket is reported once on
 * the server, with the status the peer got (0 when dropped without an answer), the fixed reason, the
 * request (when its head was parsed) and the peer's address: what logs and metrics need, and where the
 * request's detail goes instead of the error body.
 */
import { connect as netConnect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { HandshakeRejection, VerifyClientInfo, WebSocketServer } from '../../src/index.ts';
import { ask, listen, upgradeRequest, WAIT_MS, withTimeout } from './helpers.ts';

let server: WebSocketServer | undefined;
afterEach(async () => {
  await server?.close({ timeout: 100 });
  server = undefined;
});

/** Collects the server's rejections and resolves once `count` have been emitted. */
function collect(target: WebSocketServer, count: number): Promise<HandshakeRejection[]> {
  const rejections: HandshakeRejection[] = [];
  return withTimeout(
    new Promise((resolve) => {
      target.on('handshakeRejected', (rejection) => {
        rejections.push(rejection);
        if (rejections.length === count) resolve(rejections);
      });
    }),
    WAIT_MS,
    `${count} 'handshakeRejected' events`,
  );
}

describe("WebSocketServer 'handshakeRejected'", () => {
  it('reports each refusal with status, fixed reason, the request and the address', async () => {
    const listening = await listen({
      path: '/ws',
      verifyClient: ({ req }: VerifyClientInfo) => !(req.url ?? '').includes('token=bad'),
    });
    server = listening.server;
    const seen = collect(server, 3);
    const hostilePath = '/<svg/onload=alert(1)>';
    const answers = [
      await ask(listening.port, upgradeRequest({ path: '/ws?token=bad' })),
      await ask(listening.port, upgradeRequest({ path: hostilePath })),
      await ask(listening.port, upgradeRequest({ path: '/ws', headers: { 'Sec-WebSocket-Version': '7' } })),
    ];
    expect(answers.map(({ status }) => status)).toEqual([401, 400, 400]);
    expect(answers[1]!.body).not.toContain('<svg');
    const rejections = await seen;
    expect(rejections.map(({ status }) => status)).toEqual([401, 400, 400]);
    expect(rejections[0]!.reason).toBe('Unauthorized');
    expect(rejections[0]!.request?.url).toBe('/ws?token=bad');
    expect(rejections[1]!.request?.url).toBe(hostilePath); // the detail, kept for the server
    expect(rejections[1]!.reason).not.toContain('<svg');
    expect(rejections.every(({ remoteAddress }) => remoteAddress === '127.0.0.1')).toBe(true);
  });

  it('reports a head that cannot be parsed (no request) and a handshake timeout (status 0)', async () => {
    const listening = await listen({ handshakeTimeout: 300 });
    server = listening.server;
    const seen = collect(server, 2);
    const answer = await ask(listening.port, 'GET / HTTP/1.2\r\nHost: a\r\n\r\n');
    expect(answer.status).toBe(400);
    const silent = netConnect({ port: listening.port, host: '127.0.0.1' });
    silent.on('error', () => {});
    const [unparsable, timedOut] = await seen;
    silent.destroy();
    expect(unparsable).toMatchObject({ status: 400, request: undefined, remoteAddress: '127.0.0.1' });
    expect(timedOut).toMatchObject({
      status: 0,
      reason: 'handshake timeout (request head)',
      request: undefined,
    });
  });

  it('a listener that throws is a process warning, not a crash', async () => {
    const listening = await listen({ verifyClient: () => false });
    server = listening.server;
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      server.on('handshakeRejected', () => {
        throw new Error('a bug in the metrics code');
      });
      expect((await ask(listening.port, upgradeRequest())).status).toBe(401);
      await withTimeout(
        new Promise<void>((resolve) => {
          const poll = () => (warnings.length > 0 ? resolve() : setTimeout(poll, 10));
          poll();
        }),
        WAIT_MS,
        'the warning',
      );
      expect(warnings[0]!.message).toContain('a bug in the metrics code');
      // The server still serves.
      expect((await ask(listening.port, upgradeRequest())).status).toBe(401);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
