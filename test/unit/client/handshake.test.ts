/**
 * What a client offers and what it makes of a valid answer (src/client/handshake.ts), socket-free:
 * the same over HTTP/1.1 (§4.1) and HTTP/2 (RFC 8441), so one builder of the WebSocket's settings.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  assertSubprotocols,
  clientAttachOptions,
  clientOffer,
  maskKeysFrom,
} from '../../../src/client/handshake.ts';
import { ErrorCode, HandshakeError, InvalidArgumentError } from '../../../src/errors.ts';
import type { UpgradeResponse } from '../../../src/handshake/client.ts';
import { parseExtensions } from '../../../src/handshake/headers.ts';
import { HeaderMap } from '../../../src/handshake/http.ts';
import { type ClientOptions, WebSocket } from '../../../src/index.ts';

function answer(status: number, fields: Record<string, string>): UpgradeResponse {
  const raw = Object.entries(fields).flat();
  const extensions = fields['sec-websocket-extensions'];
  return {
    protocol: fields['sec-websocket-protocol'] ?? '',
    extensions: extensions === undefined ? [] : parseExtensions(extensions),
    head: {
      httpVersion: '1.1',
      statusCode: status,
      statusText: '',
      headers: new HeaderMap(raw),
      rawHeaders: raw,
    },
  };
}
const random = () => new Uint8Array(4);

describe('the offer (§4.1 item 10, RFC 7692 §5)', () => {
  it('refuses a subprotocol that is not a token or is listed twice, with InvalidArgumentError', () => {
    for (const protocols of [['a b'], ['chat', 'chat'], ['']]) {
      expect(() => assertSubprotocols(protocols)).toThrow(InvalidArgumentError);
      expect(() => assertSubprotocols(protocols)).toThrow(
        expect.objectContaining({ code: ErrorCode.InvalidArgument }),
      );
    }
    expect(() => assertSubprotocols(['chat', 'superchat'])).not.toThrow();
  });

  it('offers permessage-deflate only when it is on', () => {
    expect(clientOffer(['chat'], null)).toEqual({
      protocols: ['chat'],
      deflate: null,
      extensionOffer: undefined,
      offeredExtensions: [],
    });
    const on = clientOffer([], {});
    expect(on.extensionOffer).toBe('permessage-deflate; client_max_window_bits');
    expect(on.offeredExtensions).toEqual(['permessage-deflate']);
  });
});

describe('clientAttachOptions: the WebSocket settings after a valid answer', () => {
  it('takes the defaults, the subprotocol and the URL', () => {
    const attach = clientAttachOptions(
      answer(101, { 'sec-websocket-protocol': 'chat' }),
      clientOffer(['chat'], {}),
      {},
      random,
      'ws://a.example/',
    );
    expect(attach).toMatchObject({
      role: 'client',
      protocol: 'chat',
      extensions: '',
      maxPayload: 100 * 1024 * 1024,
      closeTimeout: 30_000,
      deflate: undefined,
      generateMaskKey: random,
      url: 'ws://a.example/',
    });
  });

  it('builds the codec when the server accepted permessage-deflate (RFC 7692 §5.1), with the threshold', () => {
    const attach = clientAttachOptions(
      answer(200, { 'sec-websocket-extensions': 'permessage-deflate' }),
      clientOffer([], { threshold: 10 }),
      { maxPayload: 1000 },
      random,
      'wss://a.example/',
    );
    expect(attach.extensions).toBe('permessage-deflate');
    expect(attach.maxPayload).toBe(1000);
    expect(attach.deflate?.threshold).toBe(10);
    expect(attach.deflate?.codec).toBeDefined();
  });

  it('fails with the status when the server accepts it twice or with a parameter not offered (RFC 7692 §7.1)', () => {
    for (const field of ['permessage-deflate, permessage-deflate', 'permessage-deflate; x=1']) {
      let thrown: unknown;
      try {
        clientAttachOptions(
          answer(101, { 'sec-websocket-extensions': field }),
          clientOffer([], {}),
          {},
          random,
          'ws://a/',
        );
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(HandshakeError);
      expect((thrown as HandshakeError).status).toBe(101);
      expect((thrown as HandshakeError).message).toBe('Invalid Sec-WebSocket-Extensions header');
      expect((thrown as HandshakeError).code).toBe(ErrorCode.InvalidExtensions);
    }
  });
});

describe('maskKeysFrom (§5.3)', () => {
  it('uses the random source without generateMask, else fills a fresh 4-byte buffer with it', () => {
    expect(maskKeysFrom(undefined, random)).toBe(random);
    const keys = maskKeysFrom((mask) => mask.fill(7), random);
    expect([...keys()]).toEqual([7, 7, 7, 7]);
  });
});

describe('ClientOptions<W>', () => {
  it('gives finishRequest the WebSocket by default, and a subclass when asked', () => {
    class MyWebSocket extends WebSocket {}
    expectTypeOf<Parameters<NonNullable<ClientOptions['finishRequest']>>[1]>().toEqualTypeOf<WebSocket>();
    expectTypeOf<
      Parameters<NonNullable<ClientOptions<MyWebSocket>['finishRequest']>>[1]
    >().toEqualTypeOf<MyWebSocket>();
  });
});
