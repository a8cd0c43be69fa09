/**
 * `WebSocketStream`, browser-identical: the example of docs/api.md ("WebSocketStream") is taken
 * from the page, stripped of its types, and run twice against a sockwire server whose connections
 * are `WebSocketStream.from(ws)` pairs: in Node with sockwire's `WebSocketStream`, and in Debian's
 * Chromium (through playwright-core) with the browser's own, which Chromium exposes as a global.
 * The Chromium part also checks the browser's close codes and binary messages against our
 * server-side pair. It is skipped, saying so, where /usr/bin/chromium is absent or has no
 * `WebSocketStream`.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { type WebSocketCloseError, WebSocketServer, WebSocketStream } from '../../src/index.ts';
import { once, withTimeout } from '../integration/helpers.ts';

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available) {
  console.warn(`test/browser/websocket-stream.test.ts: the Chromium part is skipped: ${CHROMIUM} is absent`);
}

/** The docs/api.md block that defines `askEach`, as JavaScript without its import and export. */
function docExample(): string {
  const page = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
  const block = [...page.matchAll(/```ts\n([\s\S]*?)```/g)]
    .map((match) => match[1]!)
    .find((code) => code.includes('export async function askEach'));
  if (block === undefined) throw new Error('docs/api.md has no askEach example');
  const js = ts.transpileModule(block, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
  }).outputText;
  return js
    .split('\n')
    .filter((line) => !line.startsWith('import '))
    .join('\n')
    .replace(/^export /m, '');
}

type AskEach = (url: string, lines: string[]) => Promise<string[]>;

interface Fixture {
  readonly url: string;
  readonly closes: { code: number; reason: string }[];
  close(): Promise<void>;
}

/**
 * An HTTP server (an empty page at /) with a WebSocketServer whose connections are
 * WebSocketStream pairs: text is answered upper-cased, binary with its bytes reversed.
 */
async function start(): Promise<Fixture> {
  const http: Server = createServer((_request, response) => {
    response
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end('<!doctype html><title>sockwire</title>');
  });
  const wss = new WebSocketServer({ server: http });
  const closes: { code: number; reason: string }[] = [];
  wss.on('connection', (ws) => {
    ws.on('close', (code, reason) => closes.push({ code, reason: reason.toString() }));
    const pair = WebSocketStream.from(ws);
    void pair.opened
      .then(({ readable, writable }) =>
        readable
          .pipeThrough(
            new TransformStream<string | Uint8Array, string | Uint8Array>({
              transform(message, controller) {
                controller.enqueue(
                  typeof message === 'string' ? message.toUpperCase() : message.slice().reverse(),
                );
              },
            }),
          )
          .pipeTo(writable),
      )
      .catch(() => {});
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const { port } = http.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/`,
    closes,
    close: async () => {
      await wss.close({ timeout: 200 });
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

describe('the WebSocketStream example of docs/api.md', () => {
  let fixture: Fixture | null = null;
  afterAll(async () => {
    await fixture?.close();
  });

  it('runs in Node against the server-side pair', async () => {
    fixture = await start();
    const askEach = new Function('WebSocketStream', `${docExample()}\nreturn askEach;`)(
      WebSocketStream,
    ) as AskEach;
    const answers = await withTimeout(askEach(fixture.url, ['hello', 'stream']), 10_000);
    expect(answers).toEqual(['HELLO', 'STREAM', 'closed 1000 done']);
  });
});

describe.skipIf(!available)('Chromium WebSocketStream ↔ sockwire server-side pairs', () => {
  let fixture: Fixture | null = null;
  const userDataDir = mkdtempSync(join(tmpdir(), 'sockwire-chromium-wss-'));
  afterAll(async () => {
    await fixture?.close();
    rmSync(userDataDir, { recursive: true, force: true });
  });

  it('the docs example, binary messages and close codes, from the browser', {
    timeout: 60_000,
  }, async (context) => {
    const { chromium } = await import('playwright-core');
    fixture = await start();
    const browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking'],
    });
    try {
      const page = await browser.newPage();
      await page.goto(fixture.url.replace('ws://', 'http://'));
      if ((await page.evaluate('typeof WebSocketStream')) !== 'function') {
        context.skip('this Chromium has no WebSocketStream');
      }
      const url = fixture.url;
      // The docs example, unchanged but for its types, with the browser's own WebSocketStream.
      const answers = await page.evaluate(
        `(async () => { ${docExample()}\nreturn askEach(${JSON.stringify(url)}, ['from', 'chromium']); })()`,
      );
      expect(answers).toEqual(['FROM', 'CHROMIUM', 'closed 1000 done']);
      await withTimeout(
        (async () => {
          while (fixture!.closes.length < 1) await new Promise((resolve) => setTimeout(resolve, 10));
        })(),
      );
      expect(fixture.closes[0]).toEqual({ code: 1000, reason: 'done' });

      // Binary both ways (the browser reads a Uint8Array), then readable.cancel() with the
      // browser's WebSocketError, whose closeCode and reason our server must see.
      const result = await page.evaluate(async (target) => {
        // The browser's globals, which have the shape of sockwire's classes (types only here).
        const browser = globalThis as unknown as {
          WebSocketStream: typeof WebSocketStream;
          WebSocketError: typeof WebSocketCloseError;
        };
        const wss = new browser.WebSocketStream(target);
        const { readable, writable } = await wss.opened;
        const writer = writable.getWriter();
        const reader = readable.getReader();
        await writer.write(new Uint8Array([1, 2, 3, 250]));
        const { value } = await reader.read();
        const kind = Object.prototype.toString.call(value);
        reader.releaseLock();
        await readable.cancel(new browser.WebSocketError('', { closeCode: 4321, reason: 'cancelled' }));
        const closed = await wss.closed;
        // `new Uint8Array(value)` reads both an ArrayBuffer and a Uint8Array: the portable idiom.
        return { kind, bytes: Array.from(new Uint8Array(value as unknown as ArrayBuffer)), closed };
      }, url);
      // Chromium 156 hands out an ArrayBuffer; the explainer and the WHATWG draft say Uint8Array,
      // which sockwire's readable gives (docs/api.md says how to read both).
      expect(['[object ArrayBuffer]', '[object Uint8Array]']).toContain(result.kind);
      expect(result.bytes).toEqual([250, 3, 2, 1]);
      expect(result.closed).toEqual({ closeCode: 4321, reason: 'cancelled' });
      await withTimeout(
        (async () => {
          while (fixture!.closes.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
        })(),
      );
      expect(fixture.closes[1]).toEqual({ code: 4321, reason: 'cancelled' });
    } finally {
      await browser.close();
    }
  });
});
