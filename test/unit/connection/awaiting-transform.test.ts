/**
 * RFC 7692 §6 in the pure core: after a compressed message is handed out, the Connection decodes
 * nothing more until the wrapper gives it back inflated with completeMessage() (or fails). This is
 * what bounds one connection to one message waiting for zlib (issue 12, item 13), and it keeps
 * messages, Pings and the Close in the order they were received.
 */
import { describe, expect, it } from 'vitest';
import { Connection } from '../../../src/connection/connection.ts';
import { ErrorCode, InvalidStateError, ProtocolError } from '../../../src/errors.ts';
import { CloseCode } from '../../../src/frame/close-code.ts';
import { encodeFrame } from '../../../src/frame/encoder.ts';
import { Opcode } from '../../../src/frame/opcode.ts';
import { hex } from '../../helpers/bytes.ts';
import { summary } from '../../helpers/events.ts';

const text = (s: string) => Uint8Array.from(Buffer.from(s));
/** A frame as a client would send it (masked); `rsv1` marks a compressed message (RFC 7692 §6). */
const fromClient = (opcode: Opcode, payload: Uint8Array, rsv1 = false, fin = true) =>
  Buffer.concat(encodeFrame(opcode, payload, { fin, rsv1, maskKey: hex('01020304') }));
const closePayload = (code: number) => Uint8Array.of(code >> 8, code & 0xff);

function deflating(maxPayload = 1 << 20): Connection {
  return new Connection({ role: 'server', maxPayload, perMessageDeflate: true });
}

describe('RFC 7692 §6: awaiting the transform of a compressed message', () => {
  it('decodes nothing after a compressed message until completeMessage(), then goes on in order', () => {
    const connection = deflating();
    const events = connection.receive(
      Buffer.concat([
        fromClient(Opcode.Text, text('<deflated>'), true),
        fromClient(Opcode.Text, text('second')),
        fromClient(Opcode.Ping, text('p')),
      ]),
    );
    expect(summary(events)).toEqual(['message compressed']);
    expect(connection.awaitingTransform).toBe(true);
    expect(connection.next()).toBeNull(); // still waiting: the bytes behind it stay undecoded
    expect(connection.outgoingBytes).toBe(0); // the Ping is not even answered yet

    expect(summary(connection.completeMessage(text('first')))).toEqual(['message first']);
    expect(connection.awaitingTransform).toBe(false);
    expect(summary(connection.receive(new Uint8Array(0)))).toEqual(['message second', 'ping p']);
  });

  it('a second compressed message waits for the first to come back', () => {
    const connection = deflating();
    connection.push(
      Buffer.concat([fromClient(Opcode.Binary, text('A'), true), fromClient(Opcode.Binary, text('B'), true)]),
    );
    expect(summary([connection.next()!])).toEqual(['message compressed']);
    expect(connection.next()).toBeNull();
    connection.completeMessage(text('a'));
    const second = connection.next();
    expect(second?.type === 'message' && Buffer.from(second.data).toString()).toBe('B');
    expect(connection.next()).toBeNull();
    expect(connection.awaitingTransform).toBe(true);
  });

  it('a Close behind a compressed message is seen only after the message was given back', () => {
    const connection = deflating();
    connection.reserveSend(); // an answer to the message being compressed: the Close's answer waits
    const events = connection.receive(
      Buffer.concat([fromClient(Opcode.Text, text('x'), true), fromClient(Opcode.Close, closePayload(1000))]),
    );
    expect(summary(events)).toEqual(['message compressed']);
    expect(connection.closeReceived).toBe(false);
    expect(summary(connection.completeMessage(text('hello')))).toEqual(['message hello']);
    expect(summary(connection.receive(new Uint8Array(0)))).toEqual(['close 1000']);
    expect(connection.takeOutgoing()).toEqual([]);
    connection.send(text('echo'), false, true, true);
    expect(connection.releaseSend()).toBe(true);
    expect(Buffer.concat(connection.takeOutgoing()).subarray(-4)).toEqual(Buffer.of(0x88, 0x02, 0x03, 0xe8));
  });

  it('text that inflates to invalid UTF-8 fails with 1007 (§8.1) and a Close frame is queued', () => {
    const connection = deflating();
    connection.receive(fromClient(Opcode.Text, text('x'), true));
    const events = connection.completeMessage(Uint8Array.of(0xff, 0xfe));
    expect(summary(events)).toEqual(['fail 1007']);
    expect(events[0]?.type === 'fail' && events[0].error.code).toBe(ErrorCode.InvalidUtf8);
    expect(connection.state).toBe('closed');
    expect(Buffer.concat(connection.takeOutgoing())).toEqual(Buffer.from([0x88, 0x02, 0x03, 0xef]));
  });

  it('binary that inflates to any bytes is delivered as is', () => {
    const connection = deflating();
    connection.receive(fromClient(Opcode.Binary, text('x'), true));
    const events = connection.completeMessage(Uint8Array.of(0xff, 0xfe));
    expect(events).toEqual([
      { type: 'message', data: Uint8Array.of(0xff, 0xfe), binary: true, compressed: false },
    ]);
  });

  it('an inflated message over maxPayload fails with 1009', () => {
    const connection = deflating(4);
    connection.receive(fromClient(Opcode.Binary, text('x'), true));
    expect(summary(connection.completeMessage(new Uint8Array(5)))).toEqual(['fail 1009']);
  });

  it('fail() while awaiting (bad compressed data) ends the wait; nothing more is decoded', () => {
    const connection = deflating();
    connection.receive(
      Buffer.concat([fromClient(Opcode.Text, text('x'), true), fromClient(Opcode.Text, text('after'))]),
    );
    const error = new ProtocolError(ErrorCode.InvalidCompressedData, CloseCode.InvalidPayload, 'bad data');
    expect(summary(connection.fail(error))).toEqual(['fail 1007']);
    expect(connection.awaitingTransform).toBe(false);
    expect(connection.next()).toBeNull();
  });

  it('completeMessage() without a compressed message awaiting throws InvalidStateError', () => {
    const connection = deflating();
    connection.receive(fromClient(Opcode.Text, text('plain')));
    expect(() => connection.completeMessage(text('x'))).toThrow(InvalidStateError);
  });
});
