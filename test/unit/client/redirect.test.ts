/**
 * The redirect rules of the client's opening handshake (§4.1, RFC 9110 §15.4), socket-free: where the
 * next request goes and which of the caller's fields go with it (src/client/redirect.ts). The same
 * rules are tested end to end in test/integration/deployment-client.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { type Hop, nextHop } from '../../../src/client/redirect.ts';
import { parseTarget } from '../../../src/client/target.ts';
import { ErrorCode, HandshakeError } from '../../../src/errors.ts';

function hop(url: string, headers?: Record<string, string>, host?: string): Hop {
  return { url, target: parseTarget(url), headers, host };
}

const credentials = { Authorization: 'Bearer t', Cookie: 'a=1', 'X-Trace': '7' };

describe('nextHop: where a redirect leads (§4.1, RFC 9110 §15.4)', () => {
  it('resolves a relative Location and maps http(s) to ws(s) (§3)', () => {
    const next = nextHop(hop('ws://a.example/old'), 302, '/new?x=1', 1, 10);
    expect(next.url).toBe('ws://a.example/new?x=1');
    expect(next.target.path).toBe('/new?x=1');
    expect(nextHop(hop('wss://a.example/'), 301, 'https://b.example/x', 1, 10).url).toBe('wss://b.example/x');
  });

  it('keeps credentials and a custom Host on the same origin', () => {
    const next = nextHop(hop('ws://a.example:8080/', credentials, 'front.example'), 307, '/b', 1, 10);
    expect(next.headers).toEqual(credentials);
    expect(next.host).toBe('front.example');
  });

  it('drops Authorization and Cookie on another host, port or scheme, and the custom Host on another host', () => {
    for (const location of ['ws://b.example:8080/', 'ws://a.example:9090/']) {
      const next = nextHop(hop('ws://a.example:8080/', credentials, 'front.example'), 302, location, 1, 10);
      expect(next.headers).toEqual({ 'X-Trace': '7' });
      expect(next.host).toBeUndefined();
    }
    // ws:// to wss:// on the same host and port: another origin (RFC 6454 §4), the same host.
    const upgraded = nextHop(
      hop('ws://a.example:8080/', credentials, 'front.example'),
      302,
      'wss://a.example:8080/',
      1,
      10,
    );
    expect(upgraded.headers).toEqual({ 'X-Trace': '7' });
    expect(upgraded.host).toBe('front.example');
  });

  it("adds the next URL's own userinfo as Basic Authorization", () => {
    const next = nextHop(hop('ws://a.example/'), 302, 'ws://u:p@b.example/', 1, 10);
    expect(next.headers).toEqual({ Authorization: `Basic ${Buffer.from('u:p').toString('base64')}` });
  });

  it('refuses wss:// to ws:// with the 3xx status (§4.1: a wss:// URL "MUST perform a TLS handshake")', () => {
    const thrown = (() => {
      try {
        nextHop(hop('wss://a.example/'), 308, 'ws://a.example/', 1, 10);
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(thrown).toBeInstanceOf(HandshakeError);
    expect((thrown as HandshakeError).status).toBe(308);
    expect((thrown as HandshakeError).code).toBe(ErrorCode.InvalidRedirect);
    expect((thrown as HandshakeError).message).toMatch(
      /refusing to follow a redirect from wss:\/\/ to ws:\/\//,
    );
  });

  it("stops past maxRedirects with ws's words", () => {
    expect(() => nextHop(hop('ws://a.example/'), 302, '/b', 3, 2)).toThrow('Maximum redirects exceeded');
    expect(() => nextHop(hop('ws://a.example/'), 302, '/b', 3, 2)).toThrow(
      expect.objectContaining({ code: ErrorCode.TooManyRedirects, status: 302 }),
    );
    expect(() => nextHop(hop('ws://a.example/'), 302, '/b', 2, 2)).not.toThrow();
  });

  it('refuses a Location that is not a WebSocket target', () => {
    expect(() => nextHop(hop('ws://a.example/'), 302, 'ftp://a.example/', 1, 10)).toThrow(
      expect.objectContaining({ status: 302 }),
    );
    expect(() => nextHop(hop('ws://a.example/'), 302, 'ftp://a.example/', 1, 10)).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidRedirect }),
    );
    expect(() => nextHop(hop('ws://a.example/'), 302, 'http://[bad', 1, 10)).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidRedirect, status: 302 }),
    );
    expect(() => nextHop(hop('ws://a.example/'), 302, 'ftp://a.example/', 1, 10)).toThrow(HandshakeError);
  });
});
