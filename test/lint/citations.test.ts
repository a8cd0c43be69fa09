/**
 * scripts/check-citations.mjs: a bare § means RFC 6455, every other RFC is named next to its
 * section, so a grep for an RFC 6455 section never lands in compression or HTTP/2 code.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without declarations
import { checkCitations, checkTree } from '../../scripts/check-citations.mjs';

const check = checkCitations as (path: string, text: string) => string[];

describe('the citation rule', () => {
  it('accepts bare sections in RFC 6455 code and named sections of other RFCs', () => {
    expect(check('frame/decoder.ts', '// §5.2: "MUST be 0 unless an extension is negotiated"')).toEqual([]);
    expect(check('handshake/http.ts', '// RFC 9112 §5.1 and RFC 9110 §5.6.2: a token')).toEqual([]);
    expect(check('extensions/x.ts', '// RFC 7692 §7.2.1 then RFC 6455 §8.1')).toEqual([]);
  });

  it('flags a bare § after another RFC on the same line', () => {
    const [finding] = check('handshake/http.ts', '// RFC 9112 §3.2.1, §3.2.2: request targets');
    expect(finding).toMatch(/^src\/handshake\/http\.ts:1: a bare § after another RFC/);
  });

  it('accepts a bare § after RFC 6455 was named again', () => {
    expect(check('server/x.ts', '// RFC 9110 §15.5.1 here, RFC 6455 §4.2.1 and §4.2.2 there')).toEqual([]);
  });

  it('flags `§x of RFC nnnn`', () => {
    expect(check('frame/x.ts', '// see §8.1 of RFC 7692')[0]).toMatch(/write `RFC nnnn §x`/);
  });

  it('flags any bare § in src/extensions and src/http2', () => {
    expect(check('extensions/permessage-deflate/codec.ts', '// §7.2.1: strip the tail')).toHaveLength(1);
    expect(check('http2/server.ts', 'line one\n// (§4, §5)')).toEqual([
      expect.stringMatching(/^src\/http2\/server\.ts:2: in src\/extensions/),
      expect.stringMatching(/^src\/http2\/server\.ts:2: in src\/extensions/),
    ]);
  });
});

it('src/ follows it', () => {
  const findings = (checkTree as (dir: string) => string[])(
    fileURLToPath(new URL('../../src', import.meta.url)),
  );
  expect(findings).toEqual([]);
});
