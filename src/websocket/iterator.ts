/**
 * `for await (const message of ws)`: the WebSocket's async iterator, over its public events only.
 * Backpressure: while the loop body is slower than the peer, reading from the socket pauses
 * (`pause()` at a high-water mark, `resume()` below half of it) instead of buffering without bound.
 */
import type { Buffer } from 'node:buffer';
import type { EventEmitter } from 'node:events';
import { DEFAULTS } from '../defaults.ts';
import { ErrorCode, WebSocketError } from '../errors.ts';
import { CloseCode } from '../frame/close-code.ts';
import { ReadyState } from '../ready-state.ts';
import type { WebSocketEvents } from './types.ts';

const ITERATOR_HIGH_WATER_MARK = DEFAULTS.iteratorHighWaterMark;

/** What the iterator needs of a WebSocket. */
export interface MessageSource extends EventEmitter<WebSocketEvents> {
  readonly readyState: ReadyState;
  readonly isPaused: boolean;
  pause(): void;
  resume(): void;
}

/**
 * Iterates over the messages of `ws`: strings for text, Buffers for binary. Ends after a normal
 * close (1000, 1001, 1005).
 * @param closeCode - the close code of `ws`, once closed (for a WebSocket already closed when the
 *   loop starts, whose 'close' has been emitted).
 * @throws {WebSocketError} (code WS_ERR_CONNECTION_LOST) after an abnormal close.
 */
export async function* iterateMessages(
  ws: MessageSource,
  closeCode: () => number,
): AsyncGenerator<string | Buffer, void, undefined> {
  const queue: (string | Buffer)[] = [];
  let wake: (() => void) | null = null;
  let ended = false;
  const onMessage = (data: Buffer, isBinary: boolean) => {
    queue.push(isBinary ? data : data.toString('utf8'));
    if (queue.length >= ITERATOR_HIGH_WATER_MARK) ws.pause();
    wake?.();
  };
  const onClose = () => {
    ended = true;
    wake?.();
  };
  ws.on('message', onMessage);
  ws.on('close', onClose);
  try {
    while (true) {
      const next = queue.shift();
      if (next !== undefined) {
        if (queue.length < ITERATOR_HIGH_WATER_MARK / 2 && ws.isPaused) ws.resume();
        yield next;
        continue;
      }
      if (ended || ws.readyState === ReadyState.CLOSED) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = null;
    }
    const code = closeCode();
    if (code !== CloseCode.Normal && code !== CloseCode.GoingAway && code !== CloseCode.NoStatusReceived) {
      throw new WebSocketError(ErrorCode.ConnectionLost, `connection closed with code ${code}`);
    }
  } finally {
    ws.off('message', onMessage);
    ws.off('close', onClose);
    if (ws.isPaused) ws.resume();
  }
}
