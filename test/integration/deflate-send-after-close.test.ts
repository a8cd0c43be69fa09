/**
 * §5.5.1: "after sending a Close frame, the endpoint MUST NOT send any more data frames". A message
 * still being compressed when the connection fails (a Close 1002 goes out at once) is never sent, so
 * its send() callback must get an error, not the success it got before. A peer's Close, by contrast,
 * is answered only after the messages queued before it (they may still be sent), which is checked too.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket, WebSocketServer } from '../../src/index.ts';
import {
  closePayload,
  encodeMaskedFrame,
  listen,
  nextConnection,
  type RawPeer,
  rawConnect,
  upgradeRequest,
  WAIT_MS,
  withTimeout,
} from './helpers.ts';

let server: WebSocketServer | undefined;
afterEach(async () => {
  await server?.close({ timeout: 100 });
  server = undefined;
});

describe('permessage-deflate: a message the closing handshake overtook', () => {
  async function deflatePeer(): Promise<{ peer: RawPeer; ws: WebSocket }> {
    const listening = await listen({ perMessageDeflate: { threshold: 0 } });
    server = listening.server;
    const peer = await rawConnect(listening.port);
    const accepted = nextConnection(server);
    peer.write(upgradeRequest({ headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate' } }));
    const head = await peer.readHttp();
    expect(head.headers['sec-websocket-extensions']).toContain('permessage-deflate');
    return { peer, ws: await accepted };
  }

  /** The callback of the reply the server sends (compressed, so asynchronously) to the first message. */
  function replyCallback(ws: WebSocket): Promise<Error | undefined> {
    return withTimeout(
      new Promise((resolve) => ws.on('message', () => ws.send('reply to go', (error) => resolve(error)))),
      WAIT_MS,
      'the send() callback',
    );
  }

  it('a failure right behind the message (Close 1002 sent at once): the reply is dropped and its callback errs', async () => {
    const { peer, ws } = await deflatePeer();
    const callback = replyCallback(ws);
    // 'go', then a reserved opcode (§5.2) in the same chunk: the Close 1002 leaves while the reply compresses.
    peer.write(Buffer.concat([encodeMaskedFrame(0x1, 'go'), encodeMaskedFrame(0x3, 'x')]));
    const error = await callback;
    expect(error).toBeInstanceOf(Error);
    // Never reported as sent: either the failing connection cut the compression short
    // (WS_ERR_CONNECTION_LOST), or it finished after the Close went out and was dropped
    // (WS_ERR_INVALID_STATE); which one depends on zlib's thread pool timing.
    expect(['WS_ERR_CONNECTION_LOST', 'WS_ERR_INVALID_STATE']).toContain((error as { code?: string }).code);
    const frame = await peer.readFrame();
    expect(frame.opcode).toBe(0x8); // nothing but the Close reached the peer
    expect(frame.closeCode).toBe(1002);
    peer.destroy();
  });

  it("the peer's Close right behind the message: the reply still goes first, then the Close answer", async () => {
    const { peer, ws } = await deflatePeer();
    const callback = replyCallback(ws);
    peer.write(Buffer.concat([encodeMaskedFrame(0x1, 'go'), encodeMaskedFrame(0x8, closePayload(1000))]));
    expect(await callback).toBeUndefined();
    const reply = await peer.readFrame();
    expect([reply.opcode, reply.rsv]).toEqual([0x1, 4]); // compressed (RSV1), before the Close
    expect((await peer.readFrame()).closeCode).toBe(1000);
    peer.destroy();
  });
});
