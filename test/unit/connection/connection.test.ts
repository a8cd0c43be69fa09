import { describe, expect, it } from 'vitest';
import { Connection, type ConnectionEvent } from '../../../src/connection/connection.ts';
import { ErrorCode } from '../../../src/errors.ts';
import { encodeFrame } from '../../../src/frame/encoder.ts';
import { Opcode } from '../../../src/frame/opcode.ts';
import { fixedMaskKey, hex, toHex } from '../../helpers/bytes.ts';

const text = (s: string) => Uint8Array.from(Buffer.from(s));
const server = (maxPayload = 1 << 20) => new Connection({ role: 'server', maxPayload });
const client = () => new Connection({ role: 'client', maxPayload: 1 << 20, generateMaskKey: fixedMaskKey });
/** A frame as a client would send it (masked). */
const fromClient = (opcode: Opcode, payload: Uint8Array, fin = true) =>
  Buffer.concat(encodeFrame(opcode, payload, { fin, maskKey: hex('01020304') }));
const closePayload = (code: number, reason = '') =>
  Buffer.concat([Buffer.of(code >> 8, code & 0xff), text(reason)]);

function failure(events: ConnectionEvent[]) {
  const fail = events.find((e) => e.type === 'fail');
  return fail?.type === 'fail' ? { closeCode: fail.error.closeCode, code: fail.error.code } : undefined;
}

describe('RFC 6455 §5.4 fragmentation', () => {
  it('reassembles a fragmented text message with interleaved control frames', () => {
    const conn = server();
    const events = conn.receive(
      Buffer.concat([
        fromClient(Opcode.Text, text('Hel'), false),
        fromClient(Opcode.Ping, text('p')),
        fromClient(Opcode.Continuation, text('l'), false),
        fromClient(Opcode.Continuation, text('o')),
      ]),
    );
    expect(events.map((e) => e.type)).toEqual(['ping', 'message']);
    const message = events[1];
    expect(message?.type === 'message' && Buffer.from(message.data).toString()).toBe('Hello');
    expect(toHex(conn.takeOutgoing())).toBe('8a0170'); // the Pong echoes the Ping's payload (§5.5.2)
  });

  it('fails with 1002 on a continuation without a message to continue', () => {
    expect(failure(server().receive(fromClient(Opcode.Continuation, text('x'))))).toEqual({
      closeCode: 1002,
      code: ErrorCode.UnexpectedContinuation,
    });
  });

  it('fails with 1002 on a new data frame inside a fragmented message', () => {
    const conn = server();
    conn.receive(fromClient(Opcode.Text, text('a'), false));
    expect(failure(conn.receive(fromClient(Opcode.Binary, text('b'))))).toEqual({
      closeCode: 1002,
      code: ErrorCode.ExpectedContinuation,
    });
    expect(toHex(conn.takeOutgoing())).toBe('880203ea'); // Close 1002
    expect(conn.state).toBe('closed');
  });

  it('fails with 1009 when the fragments add up to more than maxPayload', () => {
    const conn = server(10);
    conn.receive(fromClient(Opcode.Binary, new Uint8Array(6), false));
    expect(failure(conn.receive(fromClient(Opcode.Continuation, new Uint8Array(6))))?.closeCode).toBe(1009);
  });
});

describe('RFC 6455 §8.1 UTF-8 in text messages', () => {
  it('fails with 1007 on invalid UTF-8, in the fragment where it occurs', () => {
    const conn = server();
    expect(conn.receive(fromClient(Opcode.Text, text('ok'), false))).toEqual([]);
    // The second fragment holds a surrogate: fail now, without waiting for the final fragment.
    expect(failure(conn.receive(fromClient(Opcode.Continuation, hex('eda080'), false)))).toEqual({
      closeCode: 1007,
      code: ErrorCode.InvalidUtf8,
    });
  });

  it('fails with 1007 on a message that ends inside a character', () => {
    expect(failure(server().receive(fromClient(Opcode.Text, hex('e282'))))?.closeCode).toBe(1007);
  });

  it('accepts a character split across fragments', () => {
    const conn = server();
    const events = conn.receive(
      Buffer.concat([
        fromClient(Opcode.Text, hex('e2'), false),
        fromClient(Opcode.Continuation, hex('82ac')),
      ]),
    );
    expect(events[0]?.type === 'message' && Buffer.from(events[0].data).toString()).toBe('€');
  });
});

describe('RFC 6455 §5.5.1 and §7 the closing handshake', () => {
  it('answers a peer Close by echoing its code and reports it', () => {
    const conn = server();
    const events = conn.receive(fromClient(Opcode.Close, closePayload(1000, 'bye')));
    expect(events).toEqual([{ type: 'close', code: 1000, reason: 'bye' }]);
    expect(toHex(conn.takeOutgoing())).toBe('880503e8627965'); // Close 1000 "bye", echoed
    expect(conn.state).toBe('closed');
    expect(conn.transportShouldClose).toBe(true);
  });

  it('reports 1005 for a Close without a status code and answers with an empty Close (§7.1.5)', () => {
    const conn = server();
    expect(conn.receive(fromClient(Opcode.Close, new Uint8Array(0)))).toEqual([
      { type: 'close', code: 1005, reason: '' },
    ]);
    expect(toHex(conn.takeOutgoing())).toBe('8800');
  });

  it('completes a closing handshake we started', () => {
    const conn = client();
    conn.close(1000, 'done');
    expect(conn.state).toBe('closing');
    expect(toHex(conn.takeOutgoing())).toBe('888637fa213d34124552599f'); // masked Close 1000 "done"
    expect(conn.receive(hex('880203e8'))).toEqual([{ type: 'close', code: 1000, reason: '' }]);
    expect(conn.takeOutgoing()).toEqual([]); // no second Close
    expect(conn.state).toBe('closed');
  });

  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000]) {
    it(`fails with 1002 on the invalid close code ${code} (§7.4)`, () => {
      expect(failure(server().receive(fromClient(Opcode.Close, closePayload(code))))?.closeCode).toBe(1002);
    });
  }

  it('fails with 1002 on a 1-byte Close payload', () => {
    expect(failure(server().receive(fromClient(Opcode.Close, hex('03'))))?.code).toBe(
      ErrorCode.InvalidClosePayload,
    );
  });

  it('fails with 1007 on a close reason that is not UTF-8', () => {
    const payload = Buffer.concat([closePayload(1000), hex('ff')]);
    expect(failure(server().receive(fromClient(Opcode.Close, payload)))?.closeCode).toBe(1007);
  });

  it('ignores everything after the peer Close', () => {
    const conn = server();
    const events = conn.receive(
      Buffer.concat([fromClient(Opcode.Close, closePayload(1000)), fromClient(Opcode.Text, text('late'))]),
    );
    expect(events.map((e) => e.type)).toEqual(['close']);
  });
});

describe('API misuse is a typed error, thrown synchronously', () => {
  it('rejects an invalid close code, a reason without code, and a reason over 123 bytes', () => {
    expect(() => server().close(1005)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidArgument }));
    expect(() => server().close(undefined, 'why')).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidArgument }),
    );
    expect(() => server().close(1000, 'x'.repeat(124))).toThrow(/123 bytes/);
    expect(() => server().ping(new Uint8Array(126))).toThrow(/125 bytes/);
  });

  it('refuses to send after the closing handshake started', () => {
    const conn = server();
    conn.close(1000);
    expect(() => conn.send(text('x'), false)).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidState }),
    );
  });
});

describe('sending', () => {
  it('masks client frames and sends fragments as Continuation frames (§5.4)', () => {
    const conn = client();
    conn.send(text('Hel'), false, false);
    conn.send(text('lo'), false, true);
    expect(toHex(conn.takeOutgoing())).toBe(`018337fa213d7f9f4d808237fa213d5b95`);
  });

  it('caps unanswered pongs under a ping flood (§5.5.3)', () => {
    const conn = server();
    const flood = Buffer.concat(
      Array.from({ length: 1000 }, (_, i) => fromClient(Opcode.Ping, text(String(i)))),
    );
    expect(conn.receive(flood)).toHaveLength(1000);
    const out = conn.takeOutgoing();
    expect(out.length).toBeLessThanOrEqual(16);
    expect(Buffer.from(out.at(-1)!).subarray(2).toString()).toBe('999'); // the most recent ping is answered
  });
});

describe('the frames a server queues (§5.2)', () => {
  it('queues a small message as one buffer, header and payload together', () => {
    const conn = server();
    conn.send(text('Hello'), false, true);
    const chunks = conn.takeOutgoing();
    expect(chunks).toHaveLength(1);
    expect(toHex(chunks)).toBe('810548656c6c6f'); // §5.7: a single-frame unmasked text message
  });

  it('queues a large payload after its header without copying it', () => {
    const conn = server();
    const payload = new Uint8Array(4096).fill(1);
    conn.send(payload, true, true);
    const chunks = conn.takeOutgoing();
    expect(chunks).toHaveLength(2);
    expect(toHex([chunks[0]!])).toBe('827e1000');
    expect(chunks[1]).toBe(payload);
  });
});

describe('a message that arrives whole, in one frame and one piece', () => {
  it('fails with 1007 when its text is not UTF-8 (§8.1)', () => {
    expect(failure(server().receive(fromClient(Opcode.Text, Uint8Array.of(0xc3, 0x28))))).toEqual({
      closeCode: 1007,
      code: ErrorCode.InvalidUtf8,
    });
  });
});
