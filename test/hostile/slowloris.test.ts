/**
 * Slowloris: peers that open connections and send their request head slowly or not at all. The
 * standalone server bounds the time a socket may spend in the opening handshake (`handshakeTimeout`)
 * and keeps serving everyone else meanwhile.
 */

import { connect as netConnect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type Listening, type RawPeer, rawConnect, upgradeRequest } from '../integration/helpers.ts';
import { closeServer, echoServer, expectHealthy, sleep } from './support.ts';

let listening: Listening | undefined;
afterEach(async () => {
  await closeServer(listening);
  listening = undefined;
});

/**
 * Trickles `text` one byte every `intervalMs` until the server closes the connection or `maxMs`
 * has passed. Returns how long the server took to drop it (or null if it did not).
 */
async function trickle(
  peer: RawPeer,
  text: string,
  intervalMs: number,
  maxMs: number,
): Promise<number | null> {
  const started = Date.now();
  for (let i = 0; i < text.length && Date.now() - started < maxMs; i++) {
    if (peer.closed || peer.ended) return Date.now() - started;
    peer.write(text.slice(i, i + 1));
    await sleep(intervalMs);
  }
  await peer.waitEnded(Math.max(0, maxMs - (Date.now() - started))).catch(() => undefined);
  return peer.ended ? Date.now() - started : null;
}

describe('slowloris', () => {
  it('a socket that sends nothing is dropped at handshakeTimeout (500 ms)', async () => {
    listening = await echoServer({ handshakeTimeout: 500 });
    const peer = await rawConnect(listening.port);
    await peer.waitEnded(5000);
    expect(peer.ended).toBe(true);
    expect(peer.buffered.length).toBe(0); // dropped without an answer
    await expectHealthy(listening);
  });

  // Regression guard: handshakeTimeout is a deadline for the whole head, not an inactivity timeout
  // (with `socket.setTimeout`, which Node re-arms on every byte, this peer was served after ~15 s).
  it('a head sent one byte every 100 ms is dropped at handshakeTimeout (500 ms), not served', async () => {
    listening = await echoServer({ handshakeTimeout: 500 });
    const peer = await rawConnect(listening.port);
    // Allow 8× the timeout before calling it "not dropped": no dependence on the machine's speed.
    const droppedAfter = await trickle(peer, upgradeRequest(), 100, 4000);
    peer.destroy();
    expect(droppedAfter).not.toBeNull();
    expect(peer.buffered.toString('latin1')).not.toMatch(/^HTTP\/1\.1 101/);
  });

  it('1,000 idle sockets (nothing, or a partial head) do not stop a normal client', async () => {
    // A long handshake timeout, so that the idle sockets are all still there when the client comes.
    listening = await echoServer({ handshakeTimeout: 60_000 });
    const port = listening.port;
    const sockets: Socket[] = [];
    try {
      const opened: Promise<void>[] = [];
      for (let i = 0; i < 1000; i++) {
        const socket = netConnect({ port, host: '127.0.0.1' });
        socket.on('error', () => {});
        sockets.push(socket);
        opened.push(
          new Promise<void>((resolve) => {
            socket.once('connect', () => {
              if (i % 2 === 1) socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgr');
              resolve();
            });
            socket.once('close', () => resolve());
          }),
        );
        // Open them in batches so the listen backlog (511) is never the limit being tested.
        if (i % 100 === 99) await Promise.all(opened.splice(0));
      }
      await Promise.all(opened);
      const connected = sockets.filter((s) => !s.destroyed && s.readyState === 'open').length;
      expect(connected).toBe(1000);
      await expectHealthy(listening);
      // And they are still held (not dropped early to make room): the server has no cap by default.
      expect(sockets.filter((s) => !s.destroyed).length).toBe(1000);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
  }, 60_000);
});
