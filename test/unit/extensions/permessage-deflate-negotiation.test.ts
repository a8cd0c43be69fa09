import { describe, expect, it } from 'vitest';
import { ErrorCode, HandshakeError } from '../../../src/errors.ts';
import {
  acceptDeflateOffer,
  acceptDeflateResponse,
  buildDeflateOffer,
} from '../../../src/extensions/permessage-deflate/negotiation.ts';
import { parseExtensions } from '../../../src/handshake/headers.ts';

const accept = (header: string, options = {}) => acceptDeflateOffer(parseExtensions(header), options);
const response = (header: string, options = {}) =>
  acceptDeflateResponse(parseExtensions(header)[0]!, options, 101);

describe('RFC 7692 §5 and §7.1 server negotiation', () => {
  it('accepts a plain offer with no parameters', () => {
    expect(accept('permessage-deflate')).toEqual({
      parameters: {
        serverNoContextTakeover: false,
        clientNoContextTakeover: false,
        serverMaxWindowBits: 15,
        clientMaxWindowBits: 15,
      },
      response: 'permessage-deflate',
    });
  });

  it('answers client_max_window_bits without a value only when we limit it (§7.1.2.2)', () => {
    expect(accept('permessage-deflate; client_max_window_bits')?.response).toBe('permessage-deflate');
    expect(accept('permessage-deflate; client_max_window_bits', { clientMaxWindowBits: 10 })?.response).toBe(
      'permessage-deflate; client_max_window_bits=10',
    );
  });

  it('never answers client_max_window_bits when it was not offered (§7.1.2.2)', () => {
    expect(accept('permessage-deflate', { clientMaxWindowBits: 15 })?.response).toBe('permessage-deflate');
    expect(accept('permessage-deflate', { clientMaxWindowBits: true })?.response).toBe('permessage-deflate');
  });

  it('declines an offer without client_max_window_bits when it limits the client window (§7.1.2.2)', () => {
    // The response may not carry the parameter, so the client could use a 15-bit window: decline.
    for (const bits of [8, 9, 10, 14]) {
      expect(accept('permessage-deflate', { clientMaxWindowBits: bits })).toBeNull();
      expect(
        accept('permessage-deflate; server_no_context_takeover', { clientMaxWindowBits: bits }),
      ).toBeNull();
    }
    // The next offer that lets us limit the window is taken, and the limit is answered.
    const result = accept('permessage-deflate, permessage-deflate; client_max_window_bits', {
      clientMaxWindowBits: 10,
    });
    expect(result?.response).toBe('permessage-deflate; client_max_window_bits=10');
    expect(result?.parameters.clientMaxWindowBits).toBe(10);
    expect(
      accept('permessage-deflate; client_max_window_bits=12', { clientMaxWindowBits: 10 })?.parameters
        .clientMaxWindowBits,
    ).toBe(10);
  });

  it('includes server_no_context_takeover when offered (§7.1.1.1) and may ask client_no_context_takeover (§7.1.1.2)', () => {
    const result = accept('permessage-deflate; server_no_context_takeover', {
      clientNoContextTakeover: true,
    });
    expect(result?.response).toBe(
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
    );
    expect(result?.parameters.serverNoContextTakeover).toBe(true);
    expect(result?.parameters.clientNoContextTakeover).toBe(true);
  });

  it('answers server_max_window_bits with a value no larger than offered (§7.1.2.1)', () => {
    expect(accept('permessage-deflate; server_max_window_bits=10')?.response).toBe(
      'permessage-deflate; server_max_window_bits=10',
    );
    expect(
      accept('permessage-deflate; server_max_window_bits=12', { serverMaxWindowBits: 9 })?.parameters,
    ).toMatchObject({ serverMaxWindowBits: 9 });
  });

  it('declines an offer that needs an 8-bit compression window, and takes the next one', () => {
    expect(accept('permessage-deflate; server_max_window_bits=8')).toBeNull();
    expect(accept('permessage-deflate; server_max_window_bits=8, permessage-deflate')?.response).toBe(
      'permessage-deflate',
    );
  });

  it('accepts an 8-bit client window: inflating with 9 bits reads it', () => {
    expect(accept('permessage-deflate; client_max_window_bits=8')?.parameters.clientMaxWindowBits).toBe(8);
  });

  for (const bad of [
    'permessage-deflate; server_max_window_bits',
    'permessage-deflate; server_max_window_bits=7',
    'permessage-deflate; server_max_window_bits=16',
    'permessage-deflate; server_max_window_bits=010',
    'permessage-deflate; client_max_window_bits=0',
    'permessage-deflate; server_no_context_takeover=1',
    'permessage-deflate; unknown_parameter',
  ]) {
    it(`declines the invalid offer "${bad}" (§7.1)`, () => {
      expect(accept(bad)).toBeNull();
    });
  }

  it('ignores other extensions and picks the first acceptable offer (§5.1)', () => {
    expect(
      accept(
        'x-webkit-deflate-frame, permessage-deflate; foo, permessage-deflate; server_no_context_takeover',
      )?.response,
    ).toBe('permessage-deflate; server_no_context_takeover');
  });
});

describe('RFC 7692 §5 and §7.1 client negotiation', () => {
  it('offers client_max_window_bits without a value by default', () => {
    expect(buildDeflateOffer({})).toBe('permessage-deflate; client_max_window_bits');
    expect(
      buildDeflateOffer({ serverNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 12 }),
    ).toBe(
      'permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12',
    );
  });

  it('never asks for an 8-bit window (zlib cannot compress with it)', () => {
    expect(buildDeflateOffer({ clientMaxWindowBits: 8 })).toBe(
      'permessage-deflate; client_max_window_bits=9',
    );
  });

  it('accepts a valid response and applies its parameters', () => {
    expect(response('permessage-deflate; server_no_context_takeover; client_max_window_bits=10')).toEqual({
      serverNoContextTakeover: true,
      clientNoContextTakeover: false,
      serverMaxWindowBits: 15,
      clientMaxWindowBits: 10,
    });
  });

  for (const [header, options] of [
    ['permessage-deflate; client_max_window_bits', {}],
    ['permessage-deflate; client_max_window_bits=10', { clientMaxWindowBits: false }],
    ['permessage-deflate; server_max_window_bits=12', { serverMaxWindowBits: 10 }],
    ['permessage-deflate', { serverNoContextTakeover: true }],
    ['permessage-deflate; mystery', {}],
  ] as const) {
    it(`fails the connection on the invalid response "${header}" (§7.1)`, () => {
      expect(() => response(header, options)).toThrow(HandshakeError);
      expect(() => response(header, options)).toThrow(
        expect.objectContaining({ code: ErrorCode.InvalidExtensions, status: 101 }),
      );
    });
  }
});
