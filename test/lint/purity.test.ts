/**
 * The purity rule (scripts/check-purity.mjs) as an allow-list: the core (src/frame, src/handshake,
 * src/connection, src/protocol and the pure files beside the shells) may import only the core,
 * src/errors.ts, src/defaults.ts and node:buffer, and may not name timers, the clock, randomness or
 * the process. First the tree as it is; then one violating snippet of each kind, to prove each is caught.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkPurity, checkTree, kindOf } from '../../scripts/check-purity.mjs';

const srcDir = fileURLToPath(new URL('../../src', import.meta.url));

describe('the core as it is', () => {
  it('has no purity violation', () => {
    expect(checkTree(srcDir)).toEqual([]);
  });
});

describe('which files are checked', () => {
  it.each([
    ['frame/decoder.ts', 'core'],
    ['handshake/server.ts', 'core'],
    ['connection/connection.ts', 'core'],
    ['protocol/client-protocol.ts', 'core'],
    ['extensions/permessage-deflate/negotiation.ts', 'core'],
    ['http2/handshake.ts', 'core'],
    ['errors.ts', 'shared'],
    ['defaults.ts', 'shared'],
    ['websocket.ts', null],
    ['server/websocket-server.ts', null],
    ['extensions/permessage-deflate/codec.ts', null],
  ])('%s is %s', (path, kind) => {
    expect(kindOf(path)).toBe(kind);
  });

  it('leaves the shells alone (they may use sockets and timers)', () => {
    expect(checkPurity('websocket.ts', "import net from 'node:net';\nsetTimeout(() => {}, 1);")).toEqual([]);
  });
});

describe('imports: only the allow-list', () => {
  const caught: [string, string, RegExp][] = [
    ['a node: module', "import { connect } from 'node:net';", /imports 'node:net'/],
    ['a bare Node module name', "import net from 'net';", /imports 'net'/],
    ['node:zlib', "import { inflateRawSync } from 'node:zlib';", /imports 'node:zlib'/],
    ['node:http2', "import * as http2 from 'node:http2';", /imports 'node:http2'/],
    ['node:crypto', "import { randomBytes } from 'node:crypto';", /imports 'node:crypto'/],
    ['a package', "import { WebSocket } from 'ws';", /imports 'ws'/],
    ['a type-only node: import in the core', "import type { Socket } from 'node:net';", /imports 'node:net'/],
    ['an import() type', "type S = import('node:net').Socket;", /imports 'node:net'/],
    ['a re-export', "export { connect } from 'node:net';", /imports 'node:net'/],
    ['a dynamic import', "const zlib = await import('node:zlib');", /imports 'node:zlib'/],
    ['a computed dynamic import', 'const m = await import(name);', /computed module/],
    ['import = require', "import net = require('net');", /require/],
    ['a shell module', "import { WebSocket } from '../websocket.ts';", /outside the core/],
    ['a shell directory', "import { connectClient } from '../client/connect.ts';", /outside the core/],
    [
      'the deflate codec',
      "import { x } from '../extensions/permessage-deflate/codec.ts';",
      /outside the core/,
    ],
  ];
  it.each(caught)('catches %s', (_name, snippet, message) => {
    const findings = checkPurity('frame/example.ts', snippet);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatch(message);
    expect(findings[0]).toMatch(/^src\/frame\/example\.ts:1: /);
  });

  it.each([
    ['the same directory', "import { Opcode } from './opcode.ts';"],
    ['another core directory', "import { FrameDecoder } from '../frame/decoder.ts';"],
    ['src/errors.ts', "import { ProtocolError } from '../errors.ts';"],
    ['src/defaults.ts', "import { DEFAULTS } from '../defaults.ts';"],
    ['node:buffer (pooled allocation, native UTF-8 check)', "import { isUtf8 } from 'node:buffer';"],
    [
      'a pure file beside the shells (permessage-deflate negotiation)',
      "import { x } from '../extensions/permessage-deflate/negotiation.ts';",
    ],
  ])('allows %s', (_name, snippet) => {
    expect(checkPurity('connection/example.ts', snippet)).toEqual([]);
  });

  it('lets src/errors.ts import types (erased) but not values from node:', () => {
    expect(checkPurity('errors.ts', "import type { IncomingHttpHeaders } from 'node:http';")).toEqual([]);
    expect(checkPurity('errors.ts', "import { STATUS_CODES } from 'node:http';")).toHaveLength(1);
  });

  it('holds the pure files beside the shells to the same rules', () => {
    expect(checkPurity('http2/handshake.ts', "import * as http2 from 'node:http2';")).toHaveLength(1);
    expect(
      checkPurity('http2/handshake.ts', "import { parseExtensions } from '../handshake/headers.ts';"),
    ).toEqual([]);
  });
});

describe('globals: no timers, clock, randomness or process', () => {
  it.each([
    ['setTimeout', 'setTimeout(() => {}, 10);'],
    ['setInterval', 'setInterval(tick, 10);'],
    ['setImmediate', 'setImmediate(tick);'],
    ['clearTimeout', 'clearTimeout(timer);'],
    ['queueMicrotask', 'queueMicrotask(() => {});'],
    ['process', 'process.nextTick(tick);'],
    ['globalThis', 'const key = globalThis.crypto.getRandomValues(new Uint8Array(4));'],
    ['crypto', 'crypto.getRandomValues(new Uint8Array(4));'],
    ['Date', 'const now = Date.now();'],
    ['Date', 'const now = new Date();'],
    ['performance', 'const now = performance.now();'],
    ['require', "const net = require('net');"],
    ['Math.random', 'const r = Math.random();'],
  ])('catches %s in: %s', (name, snippet) => {
    const findings = checkPurity('handshake/example.ts', snippet);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toContain(name);
    // Each message says what to do instead.
    expect(findings[0]).toMatch(/: (the core|randomness|import the module)/);
  });

  it('does not mistake property names and members for the globals', () => {
    const snippet = [
      'interface Options { readonly process?: boolean; readonly performance: number }',
      'const options = { process: true, Date: 1 };',
      'options.process;',
      'class Timer { setTimeout(): void {} }',
      'const { process: run } = options;',
      'Math.max(1, 2);',
    ].join('\n');
    expect(checkPurity('connection/example.ts', snippet)).toEqual([]);
  });

  it('reports every violation with its line', () => {
    const findings = checkPurity('frame/example.ts', "import net from 'net';\n\nsetTimeout(f, 1);\n");
    expect(findings.map((line) => line.split(': ')[0])).toEqual([
      'src/frame/example.ts:1',
      'src/frame/example.ts:3',
    ]);
  });
});
