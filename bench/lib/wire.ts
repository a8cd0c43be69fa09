/**
 * Minimal RFC 6455 wire helpers for the benchmark load generator and the raw
 * `node:net` peer. Deliberately tiny: pre-encode frames once, then only count
 * frames on the way back (no UTF-8 validation, no fragmentation support).
 */
import { createHash } from 'node:crypto';

export const OP_CONT = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;

/** Fixed handshake key: the light client does not need fresh randomness. */
export const CLIENT_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
export const MASK_KEY = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

export function acceptKey(key: string): string {
  return createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
}

export const EXPECTED_ACCEPT = acceptKey(CLIENT_KEY);

export function upgradeRequest(host: string, port: number, extraHeaders = ''): Buffer {
  return Buffer.from(
    `GET / HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${CLIENT_KEY}\r\nSec-WebSocket-Version: 13\r\n${extraHeaders}\r\n`,
    'latin1',
  );
}

export function upgradeResponse(key: string): Buffer {
  return Buffer.from(
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`,
    'latin1',
  );
}

/** Encode one final frame. Client frames are masked with MASK_KEY. */
export function encodeFrame(opcode: number, payload: Uint8Array, masked: boolean): Buffer {
  const len = payload.length;
  const ext = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const headerLen = 2 + ext + (masked ? 4 : 0);
  const out = Buffer.allocUnsafe(headerLen + len);
  out[0] = 0x80 | opcode;
  const maskBit = masked ? 0x80 : 0;
  if (ext === 0) {
    out[1] = maskBit | len;
  } else if (ext === 2) {
    out[1] = maskBit | 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = maskBit | 127;
    out.writeUInt32BE(Math.floor(len / 2 ** 32), 2);
    out.writeUInt32BE(len >>> 0, 6);
  }
  if (masked) {
    MASK_KEY.copy(out, 2 + ext);
    const base = headerLen;
    for (let i = 0; i < len; i++) out[base + i] = (payload[i] ?? 0) ^ (MASK_KEY[i & 3] ?? 0);
  } else {
    out.set(payload, headerLen);
  }
  return out;
}

export const CLIENT_CLOSE_FRAME = encodeFrame(OP_CLOSE, Buffer.from([0x03, 0xe8]), true);
export const SERVER_CLOSE_FRAME = encodeFrame(OP_CLOSE, Buffer.from([0x03, 0xe8]), false);

/**
 * Streaming frame counter. Parses only headers; payload bytes are skipped,
 * except small text frames when `onText` is set (used for control replies).
 */
export class FrameCounter {
  /** Completed data frames (text/binary/continuation with FIN). */
  dataFrames = 0;
  payloadBytes = 0;
  closeFrames = 0;
  onText: ((text: string) => void) | undefined;
  onClose: (() => void) | undefined;

  private readonly hdr = Buffer.alloc(14);
  private hdrLen = 0;
  private hdrNeed = 2;
  private remaining = 0;
  private opcode = 0;
  private fin = false;
  private maskOff = -1;
  private collect: Buffer | undefined;
  private collectLen = 0;
  private maskKey = Buffer.alloc(4);

  /** Feed a chunk; returns the number of data frames completed in it. */
  feed(chunk: Buffer): number {
    const n = chunk.length;
    const before = this.dataFrames;
    let i = 0;
    while (i < n) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, n - i);
        if (this.collect !== undefined) {
          chunk.copy(this.collect, this.collectLen, i, i + take);
          this.collectLen += take;
        }
        i += take;
        this.remaining -= take;
        this.payloadBytes += take;
        if (this.remaining === 0) this.finish();
        continue;
      }
      // Fast path: whole header available in this chunk.
      if (this.hdrLen === 0 && n - i >= 2) {
        const b0 = chunk[i] as number;
        const b1 = chunk[i + 1] as number;
        const len7 = b1 & 0x7f;
        const masked = (b1 & 0x80) !== 0;
        const ext = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
        const hl = 2 + ext + (masked ? 4 : 0);
        if (n - i >= hl) {
          let len = len7;
          if (ext === 2) len = chunk.readUInt16BE(i + 2);
          else if (ext === 8) len = chunk.readUInt32BE(i + 2) * 2 ** 32 + chunk.readUInt32BE(i + 6);
          if (masked) chunk.copy(this.maskKey, 0, i + 2 + ext, i + hl);
          this.start(b0, len, masked);
          i += hl;
          if (len === 0) this.finish();
          continue;
        }
      }
      // Slow path: header split across chunks.
      this.hdr[this.hdrLen++] = chunk[i++] as number;
      if (this.hdrLen === 2) {
        const b1 = this.hdr[1] as number;
        const len7 = b1 & 0x7f;
        this.hdrNeed = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + ((b1 & 0x80) !== 0 ? 4 : 0);
      }
      if (this.hdrLen >= 2 && this.hdrLen === this.hdrNeed) {
        const b0 = this.hdr[0] as number;
        const b1 = this.hdr[1] as number;
        const len7 = b1 & 0x7f;
        const masked = (b1 & 0x80) !== 0;
        const ext = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
        let len = len7;
        if (ext === 2) len = this.hdr.readUInt16BE(2);
        else if (ext === 8) len = this.hdr.readUInt32BE(2) * 2 ** 32 + this.hdr.readUInt32BE(6);
        if (masked) this.hdr.copy(this.maskKey, 0, 2 + ext, 6 + ext);
        this.hdrLen = 0;
        this.hdrNeed = 2;
        this.start(b0, len, masked);
        if (len === 0) this.finish();
      }
    }
    return this.dataFrames - before;
  }

  private start(b0: number, len: number, masked: boolean): void {
    this.opcode = b0 & 0x0f;
    this.fin = (b0 & 0x80) !== 0;
    this.remaining = len;
    this.maskOff = masked ? 0 : -1;
    this.collectLen = 0;
    this.collect =
      (this.opcode === OP_TEXT && this.onText !== undefined && len <= 65536) || this.opcode === OP_CLOSE
        ? Buffer.allocUnsafe(len)
        : undefined;
  }

  private finish(): void {
    const op = this.opcode;
    if (op === OP_CLOSE) {
      this.closeFrames++;
      this.collect = undefined;
      this.onClose?.();
      return;
    }
    if (op <= OP_BINARY && this.fin) this.dataFrames++;
    const c = this.collect;
    if (c !== undefined) {
      this.collect = undefined;
      if (this.maskOff >= 0)
        for (let k = 0; k < c.length; k++) c[k] = (c[k] as number) ^ (this.maskKey[k & 3] as number);
      this.onText?.(c.toString('utf8'));
    }
  }
}

/** Deterministic JSON-like text of (at least) `size` bytes, trimmed to exactly `size`. */
export function jsonLikeText(size: number): string {
  const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];
  const parts: string[] = [];
  let total = 1;
  let seed = 12345;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  for (let i = 0; total < size; i++) {
    const item = JSON.stringify({
      id: i,
      name: `${words[rnd() % words.length]}-${words[rnd() % words.length]}`,
      score: (rnd() % 100000) / 100,
      active: rnd() % 2 === 0,
      tags: [words[rnd() % words.length], words[rnd() % words.length]],
    });
    parts.push(item);
    total += item.length + 1;
  }
  const s = `[${parts.join(',')}]`;
  return s.slice(0, size);
}
