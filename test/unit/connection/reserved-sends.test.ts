/**
 * §5.5.1 with RFC 7692 in the pure core, outbound: a message whose bytes are still being compressed
 * is reserved (reserveSend), and the Close — our answer to the peer's, or ours from close() — waits
 * until every reserved send was released: "the endpoint MAY delay sending a Close frame until its
 * current message is sent". Failing the connection (§7.1.7) does not wait.
 */
import { describe, expect, it } from 'vitest';
import { Connection } from '../../../src/connection/connection.ts';
import { ErrorCode, InvalidStateError, ProtocolError } from '../../../src/errors.ts';
import { CloseCode } from '../../../src/frame/close-code.ts';
import { encodeFrame } from '../../../src/frame/encoder.ts';
import { Opcode } from '../../../src/frame/opcode.ts';
import { fixedMaskKey, hex, toHex } from '../../helpers/bytes.ts';

const text = (s: string) => Uint8Array.from(Buffer.from(s));
const fromClient = (opcode: Opcode, payload: Uint8Array) =>
  Buffer.concat(encodeFrame(opcode, payload, { maskKey: hex('01020304') }));
const closePayload = (code: number, reason = '') =>
  Buffer.concat([Buffer.of(code >> 8, code & 0xff), text(reason)]);
const deflating = () => new Connection({ role: 'server', maxPayload: 1 << 20, perMessageDeflate: true });

describe('§5.5.1: the answer to a Close waits for reserved sends', () => {
  it('answers the peer’s Close only once the reserved message is sent, after it', () => {
    const conn = deflating();
    conn.reserveSend(); // an echo being compressed
    const events = conn.receive(fromClient(Opcode.Close, closePayload(1000, 'bye')));
    expect(events).toEqual([{ type: 'close', code: 1000, reason: 'bye' }]);
    expect(conn.takeOutgoing()).toEqual([]); // nothing yet: the echo comes first
    expect(conn.state).toBe('closing');
    expect(conn.transportShouldClose).toBe(false);
    conn.send(text('x'), false, true, true); // the compressed bytes, handed back
    expect(conn.releaseSend()).toBe(true); // and the Close follows them
    // Text with RSV1 (0xc1), then Close 1000 "bye" echoed.
    expect(toHex(conn.takeOutgoing())).toBe(`c10178880503e8${Buffer.from('bye').toString('hex')}`);
    expect(conn.state).toBe('closed');
    expect(conn.transportShouldClose).toBe(true);
  });

  it('waits for every reserved send, in the order they are released', () => {
    const conn = deflating();
    conn.reserveSend();
    conn.reserveSend();
    conn.receive(fromClient(Opcode.Close, new Uint8Array(0)));
    conn.send(text('a'), false, true, true);
    expect(conn.releaseSend()).toBe(false);
    expect(conn.reservedSends).toBe(1);
    conn.send(text('b'), false);
    expect(conn.releaseSend()).toBe(true);
    // §7.1.5: no status code received (1005), so none is echoed: an empty Close.
    expect(toHex(conn.takeOutgoing())).toBe('c1016181016288' + '00');
  });

  it('a dropped reserved send is released all the same', () => {
    const conn = deflating();
    conn.reserveSend();
    conn.receive(fromClient(Opcode.Close, closePayload(1001)));
    expect(conn.releaseSend()).toBe(true);
    expect(toHex(conn.takeOutgoing())).toBe('880203e9');
  });

  it('answers at once when nothing is reserved', () => {
    const conn = deflating();
    conn.receive(fromClient(Opcode.Close, closePayload(1000)));
    expect(toHex(conn.takeOutgoing())).toBe('880203e8');
    expect(conn.state).toBe('closed');
  });
});

describe('§5.5.1: our close() waits for reserved sends', () => {
  it('queues the Close behind the reserved message; CLOSING meanwhile; no new reservation', () => {
    const conn = deflating();
    conn.reserveSend();
    conn.close(1000, 'done');
    expect(conn.state).toBe('closing');
    expect(conn.closeSent).toBe(false);
    expect(conn.takeOutgoing()).toEqual([]);
    expect(() => conn.reserveSend()).toThrow(InvalidStateError);
    conn.close(4000); // a second close() changes nothing
    conn.send(text('m'), true, true, true);
    expect(conn.releaseSend()).toBe(true);
    expect(conn.closeSent).toBe(true);
    expect(toHex(conn.takeOutgoing())).toBe(`c2016d880603e8${Buffer.from('done').toString('hex')}`);
    expect(conn.state).toBe('closing'); // the peer's Close is still to come
    conn.receive(fromClient(Opcode.Close, closePayload(1000)));
    expect(conn.state).toBe('closed');
    expect(conn.takeOutgoing()).toEqual([]); // answered already
  });

  it('checks the arguments at once, even when the Close has to wait', () => {
    const conn = deflating();
    conn.reserveSend();
    expect(() => conn.close(1005)).toThrow(/invalid close code/);
    expect(() => conn.close(1000, 'x'.repeat(124))).toThrow(/123 bytes/);
  });

  it('a peer’s Close that arrives meanwhile completes the handshake when ours leaves', () => {
    const conn = deflating();
    conn.reserveSend();
    conn.close(1000);
    expect(conn.receive(fromClient(Opcode.Close, closePayload(1001)))).toEqual([
      { type: 'close', code: 1001, reason: '' },
    ]);
    expect(conn.takeOutgoing()).toEqual([]);
    expect(conn.releaseSend()).toBe(true);
    expect(toHex(conn.takeOutgoing())).toBe('880203e8'); // ours (1000), not an echo of 1001
    expect(conn.state).toBe('closed');
  });
});

describe('§7.1.7: failing does not wait for reserved sends', () => {
  it('sends the Close at once and drops the reservations', () => {
    const conn = deflating();
    conn.reserveSend();
    const error = new ProtocolError(ErrorCode.InvalidUtf8, CloseCode.InternalError, 'zlib failed');
    expect(conn.fail(error).map((e) => e.type)).toEqual(['fail']);
    expect(toHex(conn.takeOutgoing())).toBe('880203f3');
    expect(conn.reservedSends).toBe(0);
    expect(conn.releaseSend()).toBe(false);
    expect(() => conn.send(text('late'), false)).toThrow(InvalidStateError);
  });
});

describe('RFC 7692 §6: RSV1 only with permessage-deflate', () => {
  it('send(…, compressed) without the extension throws InvalidStateError and queues nothing', () => {
    const conn = new Connection({ role: 'client', maxPayload: 1 << 20, generateMaskKey: fixedMaskKey });
    expect(() => conn.send(text('x'), false, true, true)).toThrow(InvalidStateError);
    expect(() => conn.send(text('x'), false, true, true)).toThrow(/permessage-deflate was not negotiated/);
    expect(conn.outgoingBytes).toBe(0);
  });

  it('with perMessageDeflate: true, RSV1 is set on the first frame only (§6.1)', () => {
    const conn = deflating();
    conn.send(text('a'), false, false, true);
    conn.send(text('b'), false, true, true);
    expect(toHex(conn.takeOutgoing())).toBe('41016180' + '0162');
  });

  it('without it, a received RSV1 fails the connection with 1002 (§5.2)', () => {
    const conn = new Connection({ role: 'server', maxPayload: 1 << 20 });
    const frame = Buffer.concat(
      encodeFrame(Opcode.Text, text('x'), { rsv1: true, maskKey: hex('01020304') }),
    );
    const [event] = conn.receive(frame);
    expect(event?.type === 'fail' && event.error.closeCode).toBe(1002);
  });
});

describe('a lost reserved message: dropReservedSends()', () => {
  it('forgets the reservations and the waiting Close, so the next close() goes at once', () => {
    const conn = deflating();
    conn.reserveSend();
    conn.reserveSend();
    conn.close(1000);
    conn.dropReservedSends();
    expect(conn.reservedSends).toBe(0);
    conn.close(1011); // the Close that waited is gone: this one is sent now
    expect(toHex(conn.takeOutgoing())).toBe('880203f3');
    expect(conn.releaseSend()).toBe(false);
  });
});
