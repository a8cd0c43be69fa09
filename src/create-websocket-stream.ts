/**
 * `createWebSocketStream(ws, options)`: a `stream.Duplex` over a WebSocket, with the behaviour of
 * `ws`'s export of the same name, so that `pipeline(file, createWebSocketStream(ws), …)` code moves
 * over unchanged.
 *
 * ```text
 *   duplex.write(chunk) ──▶ ws.send(chunk, callback)   (one message per chunk; the write's callback
 *                                                        is the send's: backpressure out)
 *   duplex.read()  ◀── 'message' ──  push(); a full buffer pauses the WebSocket, _read resumes it
 *   duplex.end()   ──▶ ws.close()   (a Close frame, §5.5.1); 'finish' once the handshake is over
 *   'close' of ws  ──▶ push(null)   ('end'); 'error' of ws ──▶ destroy(error)
 *   duplex.destroy() ──▶ ws.terminate(); the Duplex's 'close' follows the WebSocket's
 * ```
 *
 * Only the WebSocket's public API is used: `send`, `close`, `terminate`, `pause`, `resume`,
 * `isPaused`, `readyState` and its events.
 */
import type { Buffer } from 'node:buffer';
import { Duplex, type DuplexOptions } from 'node:stream';
import { ReadyState } from './ready-state.ts';
import type { WebSocket } from './websocket/websocket.ts';

/**
 * Wraps a WebSocket (client or server side, open or still connecting) in a `Duplex` stream.
 *
 * - Each written chunk is sent as one binary message (a string chunk as text, with
 *   `decodeStrings: false`); the write's callback waits for the send's, so a slow peer holds the
 *   writer back through the Duplex's own buffer and `'drain'`. Writes made while CONNECTING wait
 *   for `'open'`.
 * - Each message becomes a chunk: a Buffer, or with `readableObjectMode` a string for a text
 *   message. While the readable buffer is over its high-water mark the WebSocket is paused.
 * - `end()` starts the closing handshake (§7.1.2); the WebSocket's `'close'` ends the readable side.
 *   The Duplex is destroyed once both sides are done, and emits `'close'` after the WebSocket's.
 * - `destroy()` terminates the WebSocket; an `'error'` of the WebSocket destroys the Duplex with it.
 *
 * @param ws - the WebSocket to wrap.
 * @param options - passed to the `Duplex` constructor (`allowHalfOpen`, `encoding`,
 *   `readableObjectMode`, high-water marks…), except `objectMode`, `writableObjectMode`,
 *   `autoDestroy` and `emitClose`, which are always false here (the stream manages its end itself).
 * @returns the Duplex.
 */
export function createWebSocketStream(ws: WebSocket, options?: DuplexOptions): Duplex {
  // An 'error' of the WebSocket (a peer's protocol violation) already makes it send its Close frame
  // (§7.1.7): terminating it then would cut that frame off.
  let terminateOnDestroy = true;
  // `_final`'s callback, waiting for the closing handshake to end (the WebSocket's 'close').
  let finalCallback: (() => void) | null = null;

  const duplex = new Duplex({
    ...options,
    autoDestroy: false,
    emitClose: false,
    objectMode: false,
    writableObjectMode: false,
  });

  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const chunk = !isBinary && duplex.readableObjectMode ? data.toString() : data;
    if (!duplex.push(chunk)) ws.pause();
  });

  ws.once('error', (error: Error) => {
    if (duplex.destroyed) return;
    terminateOnDestroy = false;
    duplex.destroy(error);
  });

  ws.once('close', () => {
    // The closing handshake is over: the writable side is finished before the readable one ends,
    // so 'finish' comes before 'end', as with a socket whose write side ended first.
    const callback = finalCallback;
    finalCallback = null;
    callback?.();
    if (!duplex.destroyed) duplex.push(null);
  });

  duplex._destroy = (error, callback) => {
    if (ws.readyState === ReadyState.CLOSED) {
      callback(error);
      process.nextTick(emitClose, duplex);
      return;
    }
    // An error while the WebSocket goes down (terminating a handshake in progress, an inflation
    // that fails meanwhile) is the one reported.
    let reported = false;
    ws.once('error', (wsError: Error) => {
      reported = true;
      callback(wsError);
    });
    ws.once('close', () => {
      if (!reported) callback(error);
      process.nextTick(emitClose, duplex);
    });
    if (terminateOnDestroy) ws.terminate();
  };

  duplex._final = (callback) => {
    if (ws.readyState === ReadyState.CONNECTING) {
      // A failed handshake never opens: then the WebSocket's 'error' destroys the Duplex instead.
      ws.once('open', () => duplex._final(callback));
      return;
    }
    if (ws.readyState === ReadyState.CLOSED) {
      callback();
      if (duplex.readableEnded) duplex.destroy();
      return;
    }
    finalCallback = callback;
    // §5.5.1: the Close frame is the last thing sent; 'close' fires when the peer answered it.
    if (ws.readyState === ReadyState.OPEN) ws.close();
  };

  duplex._read = () => {
    if (ws.isPaused) ws.resume();
  };

  duplex._write = (chunk: Buffer | string, _encoding, callback) => {
    if (ws.readyState === ReadyState.CONNECTING) {
      ws.once('open', () => duplex._write(chunk, _encoding, callback));
      return;
    }
    try {
      ws.send(chunk, callback);
    } catch (error) {
      // A WebSocket whose handshake failed throws rather than calls back: the write fails either way.
      callback(error as Error);
    }
  };

  duplex.on('end', duplexOnEnd);
  duplex.on('error', duplexOnError);
  return duplex;
}

function emitClose(duplex: Duplex): void {
  duplex.emit('close');
}

/** Both sides done: with `autoDestroy` off, the stream destroys itself (the `_final` path covers the other order). */
function duplexOnEnd(this: Duplex): void {
  if (!this.destroyed && this.writableFinished) this.destroy();
}

/**
 * A write error does not destroy a stream without `autoDestroy`: do it here. Without another
 * listener the error is emitted again, so that it is thrown as for any stream nobody listens to.
 */
function duplexOnError(this: Duplex, error: Error): void {
  this.removeListener('error', duplexOnError);
  this.destroy();
  if (this.listenerCount('error') === 0) this.emit('error', error);
}
