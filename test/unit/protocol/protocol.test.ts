/**
 * The sans-I/O client and server (src/protocol): the opening handshake (§4.1, §4.2) in front of the
 * Connection, without sockets. Randomness and SHA-1 are injected, so the bytes are fixed.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ErrorCode, HandshakeError, InvalidStateError } from '../../../src/errors.ts';
import { encodeFrame } from '../../../src/frame/encoder.ts';
import { Opcode } from '../../../src/frame/opcode.ts';
import { ClientProtocol } from '../../../src/protocol/client-protocol.ts';
import { ServerProtocol } from '../../../src/protocol/server-protocol.ts';
import { hex } from '../../helpers/bytes.ts';

const sha1 = (input: string) => createHash('sha1').update(input).digest();
/** §1.3's sample nonce: 16 bytes whose base64 is dGhlIHNhbXBsZSBub25jZQ==. */
const NONCE = Buffer.from('dGhlIHNhbXBsZSBub25jZQ==', 'base64');
const randomBytes = (n: number) => (n === 16 ? NONCE : hex('01020304').subarray(0, n));
const ascii = (chunks: readonly Uint8Array[]) => Buffer.concat(chunks).toString('latin1');
const bytes = (text: string) => Uint8Array.from(Buffer.from(text, 'latin1'));

const REQUEST =
  'GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n';
/** §1.3: the accept key of that nonce. */
const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';
const RESPONSE = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${ACCEPT}\r\n`;

describe('§4.1 ClientProtocol', () => {
  it('queues the upgrade request at once, then reads the 101 and is open', () => {
    const client = new ClientProtocol({ host: 'server.example.com', path: '/chat', randomBytes, sha1 });
    expect(ascii(client.takeOutgoing())).toBe(`${REQUEST}\r\n`);
    expect(client.handshakeState).toBe('connecting');
    client.push(bytes(RESPONSE.slice(0, 20)));
    expect(client.handshakeState).toBe('connecting');
    client.push(bytes(`${RESPONSE.slice(20)}\r\n`));
    expect(client.handshakeState).toBe('open');
    expect(client.response?.statusCode).toBe(101);
    client.send(bytes('Hi'), false);
    // §5.3: masked with the injected key.
    expect(Buffer.concat(client.takeOutgoing()).toString('hex')).toBe('818201020304496b');
  });

  it('decodes frames that came in the same chunk as the response', () => {
    const client = new ClientProtocol({ host: 'h', randomBytes, sha1 });
    const frame = Buffer.concat(encodeFrame(Opcode.Text, bytes('Hello')));
    const events = client.receive(Buffer.concat([bytes(`${RESPONSE}\r\n`), frame]));
    expect(events).toMatchObject([{ type: 'message', binary: false }]);
    expect(Buffer.from((events[0] as { data: Uint8Array }).data).toString()).toBe('Hello');
  });

  it('selects the subprotocol the server chose among those offered', () => {
    const client = new ClientProtocol({ host: 'h', protocols: ['chat', 'superchat'], randomBytes, sha1 });
    expect(ascii(client.takeOutgoing())).toContain('Sec-WebSocket-Protocol: chat, superchat\r\n');
    client.push(bytes(`${RESPONSE}Sec-WebSocket-Protocol: superchat\r\n\r\n`));
    expect(client.handshakeState).toBe('open');
    expect(client.protocol).toBe('superchat');
  });

  it('is rejected by a non-101 response or a wrong accept key, and nothing can be sent', () => {
    const refused = new ClientProtocol({ host: 'h', randomBytes, sha1 });
    refused.push(bytes('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n'));
    expect(refused.handshakeState).toBe('rejected');
    expect(refused.handshakeError).toBeInstanceOf(HandshakeError);
    expect(refused.handshakeError?.status).toBe(403);
    expect(refused.transportShouldClose).toBe(true);
    expect(() => refused.send(bytes('x'), false)).toThrow(InvalidStateError);

    const forged = new ClientProtocol({ host: 'h', randomBytes, sha1 });
    forged.push(bytes(`${RESPONSE.replace(ACCEPT, 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=')}\r\n`));
    expect(forged.handshakeError?.code).toBe(ErrorCode.InvalidAcceptKey);
  });

  it('is rejected by bytes that are not an HTTP response head (status 0: none received)', () => {
    const client = new ClientProtocol({ host: 'h', randomBytes, sha1 });
    client.push(bytes('SSH-2.0-OpenSSH_9.6\r\n\r\n'));
    expect(client.handshakeState).toBe('rejected');
    expect(client.handshakeError).toBeInstanceOf(HandshakeError);
    expect(client.handshakeError?.status).toBe(0);
    expect(client.receive(bytes(`${RESPONSE}\r\n`))).toEqual([]); // nothing more is read
  });

  it('refuses to send before the response (§4.1: "MUST wait for a response")', () => {
    const client = new ClientProtocol({ host: 'h', randomBytes, sha1 });
    expect(() => client.send(bytes('x'), false)).toThrow(InvalidStateError);
    expect(() => client.ping()).toThrow(InvalidStateError);
    expect(() => client.close(1000)).toThrow(InvalidStateError);
    expect(() => client.reserveSend()).toThrow(InvalidStateError);
    expect(client.transportShouldClose).toBe(false);
  });
});

describe('§4.2 ServerProtocol', () => {
  it('answers a valid request with 101 and the accept key of §1.3, then is open', () => {
    const server = new ServerProtocol({ sha1 });
    server.push(bytes(`${REQUEST}\r\n`));
    expect(server.handshakeState).toBe('open');
    expect(ascii(server.takeOutgoing())).toBe(`${RESPONSE}\r\n`);
    expect(server.request?.path).toBe('/chat');
  });

  it('decodes frames that came in the same chunk as the request, across chunks', () => {
    const server = new ServerProtocol({ sha1 });
    // §5.7: a masked "Hello".
    const head = bytes(`${REQUEST}\r\n`);
    const all = Buffer.concat([head, hex('818537fa213d7f9f4d5158')]);
    const events = [
      ...server.receive(all.subarray(0, head.length + 3)),
      ...server.receive(all.subarray(head.length + 3)),
    ];
    expect(events.map((e) => e.type)).toEqual(['message']);
    expect(Buffer.from((events[0] as { data: Uint8Array }).data).toString()).toBe('Hello');
  });

  it('selects the first offered subprotocol it speaks (§4.2.2 step 5.5)', () => {
    const server = new ServerProtocol({ sha1, protocols: ['superchat', 'chat'] });
    server.push(bytes(`${REQUEST}Sec-WebSocket-Protocol: chat, superchat\r\n\r\n`));
    expect(server.protocol).toBe('chat');
    expect(ascii(server.takeOutgoing())).toContain('Sec-WebSocket-Protocol: chat\r\n');
  });

  it('rejects an invalid request with its HTTP error and asks for the transport to close', () => {
    const server = new ServerProtocol({ sha1 });
    server.push(bytes(`${REQUEST.replace('GET', 'POST')}\r\n`));
    expect(server.handshakeState).toBe('rejected');
    expect(server.handshakeError?.status).toBe(405);
    expect(ascii(server.takeOutgoing())).toMatch(
      /^HTTP\/1\.1 405 Method Not Allowed\r\n[\s\S]*Allow: GET\r\n/,
    );
    expect(server.transportShouldClose).toBe(true);
    // Nothing more is read.
    expect(server.receive(hex('818537fa213d7f9f4d5158'))).toEqual([]);
  });

  it('rejects an unsupported version with Sec-WebSocket-Version: 13, 8 (§4.2.2)', () => {
    const server = new ServerProtocol({ sha1 });
    server.push(bytes(`${REQUEST.replace('Version: 13', 'Version: 7')}\r\n`));
    expect(server.handshakeError?.code).toBe(ErrorCode.UnsupportedVersion);
    expect(ascii(server.takeOutgoing())).toContain('Sec-WebSocket-Version: 13, 8\r\n');
  });

  it('talks to a ClientProtocol: handshake, a message each way, the closing handshake', () => {
    const client = new ClientProtocol({ host: 'localhost', randomBytes, sha1 });
    const server = new ServerProtocol({ sha1 });
    const deliver = (from: ClientProtocol | ServerProtocol, to: ClientProtocol | ServerProtocol) =>
      to.receive(Buffer.concat(from.takeOutgoing()));
    expect(deliver(client, server)).toEqual([]);
    expect(deliver(server, client)).toEqual([]);
    expect([client.handshakeState, server.handshakeState]).toEqual(['open', 'open']);
    client.send(bytes('ping?'), false);
    expect(deliver(client, server).map((e) => e.type)).toEqual(['message']);
    server.close(1000, 'bye');
    expect(deliver(server, client)).toEqual([{ type: 'close', code: 1000, reason: 'bye' }]);
    expect(deliver(client, server)).toEqual([{ type: 'close', code: 1000, reason: 'bye' }]);
    expect(server.transportShouldClose && client.transportShouldClose).toBe(true);
  });
});
