/**
 * Raw `node:net` peer: the physical limit of this process model.
 * After a naive upgrade it echoes incoming bytes verbatim (one write per
 * incoming chunk, i.e. fully coalesced; frames stay masked, which the light
 * client tolerates). Sink, broadcast and handshake modes parse only frame
 * headers; they answer a close frame with a close frame and end the socket.
 */
import { createServer, type Socket } from 'node:net';
import {
  encodeFrame,
  FrameCounter,
  OP_BINARY,
  OP_TEXT,
  SERVER_CLOSE_FRAME,
  upgradeResponse,
} from '../lib/wire.ts';
import {
  announceReady,
  BROADCAST_PAYLOAD,
  parseBroadcast,
  parseServerArgs,
  serveControl,
  yieldTick,
} from './common.ts';

const opts = parseServerArgs(process.argv.slice(2));
if (opts.mode === 'deflate') {
  process.stdout.write('UNAVAILABLE raw peer has no permessage-deflate\n');
  process.exit(3);
}
const sockets = new Set<Socket>();
const broadcastFrame = encodeFrame(OP_BINARY, BROADCAST_PAYLOAD, false);

const server = createServer({ noDelay: true }, (socket) => {
  let head: Buffer | undefined;
  sockets.add(socket);
  socket.on('error', () => {});
  socket.on('close', () => sockets.delete(socket));
  const onHead = (chunk: Buffer): void => {
    head = head === undefined ? chunk : Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) {
      if (head.length > 16384) socket.destroy();
      return;
    }
    const text = head.subarray(0, end).toString('latin1');
    const m = /sec-websocket-key:\s*(\S+)/i.exec(text);
    if (m === null || m[1] === undefined) {
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    socket.write(upgradeResponse(m[1]));
    socket.off('data', onHead);
    const rest = head.subarray(end + 4);
    head = undefined;
    const onData = attach(socket);
    socket.on('data', onData);
    if (rest.length > 0) onData(rest);
  };
  socket.on('data', onHead);
});

/** `--per-message`: echo each complete frame with its own write (no coalescing). */
const perMessage = process.argv.includes('--per-message');

function perMessageEcho(socket: Socket): (chunk: Buffer) => void {
  let pending: Buffer | undefined;
  return (chunk) => {
    const buf = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
    let off = 0;
    while (buf.length - off >= 2) {
      const b1 = buf[off + 1] as number;
      const len7 = b1 & 0x7f;
      const ext = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
      const hl = 2 + ext + ((b1 & 0x80) !== 0 ? 4 : 0);
      if (buf.length - off < hl) break;
      const len =
        ext === 0
          ? len7
          : ext === 2
            ? buf.readUInt16BE(off + 2)
            : buf.readUInt32BE(off + 2) * 2 ** 32 + buf.readUInt32BE(off + 6);
      if (buf.length - off < hl + len) break;
      socket.write(buf.subarray(off, off + hl + len));
      off += hl + len;
    }
    pending = off < buf.length ? buf.subarray(off) : undefined;
  };
}

function attach(socket: Socket): (chunk: Buffer) => void {
  if (opts.mode === 'echo') return perMessage ? perMessageEcho(socket) : (chunk) => socket.write(chunk);
  const fc = new FrameCounter();
  fc.onClose = () => socket.end(SERVER_CLOSE_FRAME);
  if (opts.mode === 'sink') {
    let base = 0;
    let baseFrames = 0;
    fc.onText = (text) => {
      const bytes = fc.payloadBytes - base - Buffer.byteLength(text);
      const msgs = fc.dataFrames - baseFrames - 1; // minus this text frame
      socket.write(encodeFrame(OP_TEXT, Buffer.from(JSON.stringify({ bytes, msgs })), false));
      base = fc.payloadBytes;
      baseFrames = fc.dataFrames;
    };
  } else if (opts.mode === 'broadcast') {
    fc.onText = (text) => {
      const n = parseBroadcast(text);
      if (n === 0) return;
      void (async () => {
        for (let k = 0; k < n; k++) {
          for (const s of sockets) s.write(broadcastFrame);
          await yieldTick();
        }
      })();
    };
  }
  return (chunk) => {
    fc.feed(chunk);
  };
}

server.listen(0, '127.0.0.1', () => {
  const addr = server.address() as { port: number };
  announceReady(addr.port);
});
const g = globalThis as { gc?: () => void };
serveControl({ connections: () => sockets.size, gc: () => g.gc?.() }, () => server.close());
