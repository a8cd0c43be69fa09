/**
 * `streamMessages` in the pure core: data messages handed out piece by piece (compressed ones
 * one compressed piece at a time, given back inflated)
 * (`message-part` events) instead of whole, with §5.4 fragmentation, §8.1 UTF-8 checks and
 * `maxPayload` (§10.4) still applied to the running message. No sockets: bytes in, events out.
 */
import { describe, expect, it } from 'vitest';
import { Connection, type ConnectionEvent } from '../../../src/connection/connection.ts';
import { encodeFrame } from '../../../src/frame/encoder.ts';
import { Opcode } from '../../../src/frame/opcode.ts';
import { hex } from '../../helpers/bytes.ts';
import { summary } from '../../helpers/events.ts';

const bytes = (s: string) => Uint8Array.from(Buffer.from(s));
/** A frame as a client sends it (masked); `rsv1` marks a compressed message (RFC 7692 §6). */
const fromClient = (opcode: Opcode, payload: Uint8Array, fin = true, rsv1 = false) =>
  Buffer.concat(encodeFrame(opcode, payload, { fin, rsv1, maskKey: hex('01020304') }));

function streaming(options: { maxPayload?: number; perMessageDeflate?: boolean } = {}): Connection {
  return new Connection({
    role: 'server',
    maxPayload: options.maxPayload ?? 1 << 20,
    perMessageDeflate: options.perMessageDeflate ?? false,
    streamMessages: true,
  });
}

describe('streamMessages: §5.4 messages piece by piece', () => {
  it('is off by default: a fragmented message comes whole', () => {
    const connection = new Connection({ role: 'server', maxPayload: 1024 });
    expect(connection.streamMessages).toBe(false);
    const events = connection.receive(
      Buffer.concat([
        fromClient(Opcode.Text, bytes('ab'), false),
        fromClient(Opcode.Continuation, bytes('c')),
      ]),
    );
    expect(summary(events)).toEqual(['message abc']);
  });

  it('hands out each fragment as it is decoded, FIN on the last, with a Ping between them in order', () => {
    const events = streaming().receive(
      Buffer.concat([
        fromClient(Opcode.Binary, bytes('one'), false),
        fromClient(Opcode.Ping, bytes('p')),
        fromClient(Opcode.Continuation, bytes('two'), false),
        fromClient(Opcode.Continuation, bytes('three')),
        fromClient(Opcode.Text, bytes('whole')),
      ]),
    );
    expect(summary(events)).toEqual([
      'part binary one',
      'ping p',
      'part binary two',
      'part binary three fin',
      'part text whole fin',
    ]);
  });

  it('hands out the chunks of one frame as they arrive, without waiting for the frame', () => {
    const connection = streaming();
    const frame = fromClient(Opcode.Binary, bytes('abcdefgh'));
    // The header and 3 payload bytes, then the rest.
    expect(summary(connection.receive(frame.subarray(0, 9)))).toEqual(['part binary abc']);
    expect(summary(connection.receive(frame.subarray(9)))).toEqual(['part binary defgh fin']);
  });

  it('an empty last frame still ends the message; empty middle frames say nothing', () => {
    const events = streaming().receive(
      Buffer.concat([
        fromClient(Opcode.Text, bytes('x'), false),
        fromClient(Opcode.Continuation, new Uint8Array(0), false),
        fromClient(Opcode.Continuation, new Uint8Array(0)),
      ]),
    );
    expect(summary(events)).toEqual(['part text x', 'part text  fin']);
  });

  it('§10.4 maxPayload bounds the running message: 1009 once the total passes it', () => {
    const piece = new Uint8Array(40).fill(0x61);
    const events = streaming({ maxPayload: 100 }).receive(
      Buffer.concat([
        fromClient(Opcode.Binary, piece, false),
        fromClient(Opcode.Continuation, piece, false),
        fromClient(Opcode.Continuation, piece),
      ]),
    );
    expect(events.map((event) => event.type)).toEqual(['message-part', 'message-part', 'fail']);
    expect(summary(events).at(-1)).toBe('fail 1009');
  });

  it('§8.1 text fails fast in the fragment where UTF-8 breaks, and at the end when a sequence is cut', () => {
    const broken = streaming().receive(
      Buffer.concat([
        fromClient(Opcode.Text, bytes('ok'), false),
        fromClient(Opcode.Continuation, Uint8Array.of(0xff)),
      ]),
    );
    expect(summary(broken)).toEqual(['part text ok', 'fail 1007']);
    const cut = streaming().receive(
      Buffer.concat([
        fromClient(Opcode.Text, bytes('ok'), false),
        fromClient(Opcode.Continuation, Uint8Array.of(0xe2, 0x82)),
      ]),
    );
    expect(summary(cut)).toEqual(['part text ok', 'fail 1007']);
  });

  it('§5.4 rules still hold: a new message inside a fragmented one fails with 1002', () => {
    const events = streaming().receive(
      Buffer.concat([fromClient(Opcode.Text, bytes('a'), false), fromClient(Opcode.Text, bytes('b'))]),
    );
    expect(summary(events)).toEqual(['part text a', 'fail 1002']);
  });

  it('RFC 7692 §7.2.2 piece by piece: each compressed piece waits for its inflated bytes before anything more is decoded', () => {
    const connection = streaming({ perMessageDeflate: true });
    const compressed = (event: ConnectionEvent | null) =>
      event?.type === 'message-part'
        ? `${event.compressed ? 'compressed' : 'plain'} ${Buffer.from(event.data).toString()}${event.fin ? ' fin' : ''}`
        : event?.type;
    connection.push(
      Buffer.concat([
        fromClient(Opcode.Text, bytes('<def'), false, true),
        fromClient(Opcode.Continuation, bytes('lated>')),
        fromClient(Opcode.Ping, bytes('p')),
      ]),
    );
    expect(compressed(connection.next())).toBe('compressed <def');
    expect(connection.awaitingTransform).toBe(true);
    expect(connection.next()).toBeNull(); // held: the next piece waits for this one
    expect(summary(connection.completeMessage(bytes('hel')))).toEqual(['part text hel']);
    expect(compressed(connection.next())).toBe('compressed lated> fin');
    expect(summary(connection.completeMessage(bytes('lo')))).toEqual(['part text lo fin']);
    expect(summary([connection.next()!])).toEqual(['ping p']); // then what followed the message
  });

  it('RFC 7692 §7.2.2 piece by piece: maxPayload counts the inflated bytes of the whole message (1009)', () => {
    const connection = streaming({ perMessageDeflate: true, maxPayload: 10 });
    connection.push(
      Buffer.concat([
        fromClient(Opcode.Binary, bytes('x'), false, true),
        fromClient(Opcode.Continuation, bytes('y')),
      ]),
    );
    connection.next();
    expect(summary(connection.completeMessage(new Uint8Array(6)))).toEqual(['part binary \0\0\0\0\0\0']);
    connection.next();
    expect(summary(connection.completeMessage(new Uint8Array(6)))).toEqual(['fail 1009']);
    expect(connection.state).toBe('closed');
  });

  it('RFC 7692 §7.2.2 piece by piece: §8.1 checks the inflated text across pieces (1007)', () => {
    const connection = streaming({ perMessageDeflate: true });
    connection.push(
      Buffer.concat([
        fromClient(Opcode.Text, bytes('x'), false, true),
        fromClient(Opcode.Continuation, bytes('y')),
      ]),
    );
    connection.next();
    expect(summary(connection.completeMessage(Uint8Array.of(0x68, 0xc3)))).toEqual(['part text h\ufffd']); // split é: fine so far
    connection.next();
    expect(summary(connection.completeMessage(Uint8Array.of(0x28)))).toEqual(['fail 1007']);
  });

  it('a change applies from the next message: the one in progress keeps its mode', () => {
    const connection = new Connection({ role: 'server', maxPayload: 1024 });
    expect(summary(connection.receive(fromClient(Opcode.Text, bytes('a'), false)))).toEqual([]);
    connection.streamMessages = true;
    expect(summary(connection.receive(fromClient(Opcode.Continuation, bytes('b'))))).toEqual(['message ab']);
    expect(summary(connection.receive(fromClient(Opcode.Text, bytes('c'))))).toEqual(['part text c fin']);
    connection.streamMessages = false;
    expect(summary(connection.receive(fromClient(Opcode.Text, bytes('d'))))).toEqual(['message d']);
  });
});
