/**
 * Interop on one port: the `ws` client (HTTP/1.1 Upgrade) and our HTTP/2 client (RFC 8441) against
 * the same WebSocketServer on an `http2.createSecureServer({ allowHTTP1: true })`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WsWebSocket from 'ws';
import type { WebSocket } from '../../src/index.ts';
import { once } from '../integration/helpers.ts';
import { cert, closed, type H2Fixture, nextMessage, openClient, startH2 } from './helpers.ts';

let fixture: H2Fixture | null = null;
afterEach(async () => {
  await fixture?.close();
  fixture = null;
});

describe('ws (HTTP/1.1) and sockwire (HTTP/2) on the same port', () => {
  it('both echo through one WebSocketServer, each over its own HTTP version', async () => {
    fixture = await startH2({
      perMessageDeflate: true,
      handleProtocols: (offered) => [...offered][0] ?? false,
    });
    const versions: string[] = [];
    fixture.wss.on('connection', (_ws: WebSocket, request: { httpVersion: string }) =>
      versions.push(request.httpVersion),
    );
    const theirs = new WsWebSocket(`${fixture.url}/`, ['chat'], { ca: cert, perMessageDeflate: true });
    await once(theirs, 'open');
    expect(theirs.protocol).toBe('chat');
    expect(theirs.extensions).toMatch(/permessage-deflate/);
    const ours = await openClient(`${fixture.url}/`, ['chat'], { ca: cert, http2: 'require' });
    expect(ours.protocol).toBe('chat');

    const theirReply = once<[Buffer, boolean]>(theirs, 'message');
    theirs.send('from ws '.repeat(100));
    const [data, isBinary] = await theirReply;
    expect(isBinary).toBe(false);
    expect(String(data)).toBe('from ws '.repeat(100));

    ours.send(Buffer.from([1, 2, 3]));
    expect(await nextMessage(ours)).toEqual({ data: Buffer.from([1, 2, 3]), isBinary: true });
    expect(versions.sort()).toEqual(['1.1', '2.0']);

    const theirClose = once<[number, Buffer]>(theirs, 'close');
    theirs.close(4100, 'ws done');
    expect((await theirClose)[0]).toBe(4100);
    ours.close(4200, 'sockwire done');
    expect((await closed(ours)).code).toBe(4200);
  });
});
