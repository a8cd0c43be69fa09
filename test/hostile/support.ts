/**
 * Helpers of the hostile-peer tests: an echo server, and the check that ends every test — a normal
 * client, unrelated to the attack, still connects and gets its echo.
 */
import { expect } from 'vitest';
import type { ServerOptions, WebSocket } from '../../src/index.ts';
import {
  closeQuietly,
  connectOpen,
  type Listening,
  listen,
  nextMessages,
  WAIT_MS,
} from '../integration/helpers.ts';

export { WAIT_MS };

/** A standalone server on 127.0.0.1:0 that echoes every message. */
export async function echoServer(options: Omit<ServerOptions, 'port'> = {}): Promise<Listening> {
  const listening = await listen(options);
  listening.server.on('connection', (ws: WebSocket) => {
    ws.on('error', () => {}); // hostile peers make errors; they must not crash the process
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (ws.readyState === 1) ws.send(data, { binary: isBinary });
    });
  });
  return listening;
}

/** A normal client connects, sends a message and gets its echo; then it closes. */
export async function expectHealthy(listening: Listening, timeoutMs = 2 * WAIT_MS): Promise<void> {
  const ws = await connectOpen(listening.url);
  try {
    const echoed = nextMessages(ws, 1, timeoutMs);
    ws.send('still here');
    const [message] = await echoed;
    expect(message?.data.toString()).toBe('still here');
  } finally {
    await closeQuietly(ws);
  }
}

/** Closes the server, bounded (clients are terminated after a short close timeout). */
export async function closeServer(listening: Listening | undefined): Promise<void> {
  if (listening === undefined) return;
  await Promise.race([
    listening.server.close({ timeout: 200 }),
    new Promise((resolve) => setTimeout(resolve, WAIT_MS).unref()),
  ]);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
