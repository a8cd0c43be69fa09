/**
 * Interop with Python 3's `websockets` package: a Python client against our server and a Python
 * server against our client. The package is installed with pip in beforeAll when missing; when that
 * fails, the tests are skipped with a visible message.
 */
import { execFileSync, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from '../../src/index.ts';
import { type Listening, listen, once, WAIT_MS, withTimeout } from '../integration/helpers.ts';

let available = false;
let reason = '';

function hasWebsockets(): boolean {
  try {
    execFileSync('python3', ['-c', 'import websockets.asyncio.client, websockets.asyncio.server'], {
      stdio: 'ignore',
      timeout: 30_000,
    });
    return true;
  } catch {
    return false;
  }
}

beforeAll(() => {
  try {
    if (!hasWebsockets()) {
      execFileSync('python3', ['-m', 'pip', 'install', '--quiet', 'websockets'], {
        stdio: 'ignore',
        timeout: 120_000,
      });
    }
    available = hasWebsockets();
    if (!available) reason = 'python3 -m pip install websockets did not provide websockets.asyncio';
  } catch (error) {
    reason = String(error);
  }
  if (!available) console.warn(`Python websockets unavailable, skipping its interop tests: ${reason}`);
}, 150_000);

interface Run {
  readonly lines: unknown[];
  readonly code: number | null;
  readonly stderr: string;
  readonly kill: () => void;
}

/** Spawns `python3 -c script`; calls `onLine` for each JSON line on stdout as it arrives. */
function spawnPython(
  script: string,
  args: string[],
  onLine: (line: Record<string, unknown>) => void = () => undefined,
): { done: Promise<Run>; kill: () => void } {
  const child = spawn('python3', ['-u', '-c', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: unknown[] = [];
  let partial = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    partial += chunk.toString();
    let at = partial.indexOf('\n');
    while (at !== -1) {
      const text = partial.slice(0, at).trim();
      partial = partial.slice(at + 1);
      if (text !== '') {
        const line = JSON.parse(text) as Record<string, unknown>;
        lines.push(line);
        onLine(line);
      }
      at = partial.indexOf('\n');
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const kill = () => child.kill('SIGKILL');
  const timer = setTimeout(kill, 15_000);
  timer.unref();
  const done = withTimeout(
    new Promise<Run>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ lines, code, stderr, kill });
      });
    }),
    20_000,
    'the python peer',
  );
  return { done, kill };
}

const PY_CLIENT = `
import asyncio, json, sys
from websockets.asyncio.client import connect

def out(value):
    print(json.dumps(value), flush=True)

async def main():
    async with connect(sys.argv[1], subprotocols=["py.v1"], max_size=None) as ws:
        out({"event": "open", "protocol": ws.subprotocol})
        await ws.send("hello from python")
        msg = await ws.recv()
        out({"event": "message", "type": "text" if isinstance(msg, str) else "binary", "data": msg})
        await ws.send(bytes([0, 1, 2, 255]))
        msg = await ws.recv()
        out({"event": "message", "type": "text" if isinstance(msg, str) else "binary", "data": list(msg)})
        big = bytes(i % 251 for i in range(1024 * 1024))
        await ws.send(big)
        msg = await ws.recv()
        out({"event": "message", "type": "binary", "length": len(msg), "equal": msg == big})
        await ws.send(["frag", "ment", "ed"])
        msg = await ws.recv()
        out({"event": "message", "type": "text", "data": msg})
        pong = await ws.ping(b"py-ping")
        await asyncio.wait_for(pong, 5)
        out({"event": "pong"})
        await ws.close(4001, "done")
        out({"event": "close", "code": ws.close_code, "reason": ws.close_reason})

asyncio.run(main())
`;

const PY_SERVER = `
import asyncio, json, sys
from websockets.asyncio.server import serve

def out(value):
    print(json.dumps(value), flush=True)

async def handler(ws):
    out({"event": "connection", "path": ws.request.path, "protocol": ws.subprotocol})
    try:
        async for msg in ws:
            if isinstance(msg, str):
                out({"event": "message", "type": "text", "length": len(msg), "head": msg[:40]})
                if msg == "close please":
                    await ws.close(4002, "server done")
                    break
            else:
                out({"event": "message", "type": "binary", "length": len(msg), "head": list(msg[:8])})
            await ws.send(msg)
    finally:
        out({"event": "closed", "code": ws.close_code, "reason": ws.close_reason})

async def main():
    async with serve(handler, "127.0.0.1", 0, subprotocols=["py.v1", "py.v2"], max_size=None) as server:
        port = server.sockets[0].getsockname()[1]
        out({"event": "listening", "port": port})
        await asyncio.sleep(30)

asyncio.run(main())
`;

describe('Python websockets client ↔ sockwire server', () => {
  let listening: Listening;
  const seen: unknown[] = [];

  beforeAll(async () => {
    listening = await listen();
    listening.server.on('connection', (ws: WebSocket) => {
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        seen.push(isBinary ? { binary: data.length } : { text: data.toString() });
        ws.send(data, { binary: isBinary });
      });
      ws.on('ping', (data: Buffer) => seen.push({ ping: data.toString() }));
      ws.on('close', (code: number, why: Buffer) => seen.push({ close: code, reason: why.toString() }));
    });
  });
  afterAll(async () => {
    await withTimeout(listening.server.close({ timeout: 500 }), WAIT_MS);
  });

  it('text, binary, 1 MiB, fragmented, ping and close 4001 work', async (context) => {
    if (!available) {
      console.warn(`skipped: Python websockets unavailable (${reason})`);
      context.skip();
      return;
    }
    const { lines, code, stderr } = await spawnPython(PY_CLIENT, [listening.url]).done;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(lines).toEqual([
      { event: 'open', protocol: 'py.v1' },
      { event: 'message', type: 'text', data: 'hello from python' },
      { event: 'message', type: 'binary', data: [0, 1, 2, 255] },
      { event: 'message', type: 'binary', length: 1024 * 1024, equal: true },
      { event: 'message', type: 'text', data: 'fragmented' },
      { event: 'pong' },
      // Our server echoes the code and the reason (§5.5.1).
      { event: 'close', code: 4001, reason: 'done' },
    ]);
    expect(seen).toEqual([
      { text: 'hello from python' },
      { binary: 4 },
      { binary: 1024 * 1024 },
      { text: 'fragmented' },
      { ping: 'py-ping' },
      { close: 4001, reason: 'done' },
    ]);
  });
});

describe('sockwire client ↔ Python websockets server', () => {
  it('text, binary, 1 MiB, fragmented, ping, and closes both ways', async (context) => {
    if (!available) {
      console.warn(`skipped: Python websockets unavailable (${reason})`);
      context.skip();
      return;
    }
    let resolvePort: (port: number) => void = () => undefined;
    const portPromise = new Promise<number>((resolve) => {
      resolvePort = resolve;
    });
    const closedEvents: Record<string, unknown>[] = [];
    let closedWake: () => void = () => undefined;
    const python = spawnPython(PY_SERVER, [], (line) => {
      if (line.event === 'listening') resolvePort(line.port as number);
      if (line.event === 'closed') {
        closedEvents.push(line);
        closedWake();
      }
    });
    const nextClosed = (count: number) =>
      withTimeout(
        new Promise<void>((resolve) => {
          closedWake = () => {
            if (closedEvents.length >= count) resolve();
          };
          closedWake();
        }),
        WAIT_MS,
        'python to report the close',
      );
    try {
      const port = await withTimeout(portPromise, 10_000, 'the python server to listen');
      const url = `ws://127.0.0.1:${port}/py?x=1`;

      // Connection 1: our client closes with 4003.
      const ws = new WebSocket(url, ['py.v2']);
      await once(ws, 'open');
      expect(ws.protocol).toBe('py.v2');
      const echo = (send: () => void) =>
        withTimeout(
          new Promise<{ data: Buffer; isBinary: boolean }>((resolve) => {
            ws.once('message', (data: Buffer, isBinary: boolean) => resolve({ data, isBinary }));
            send();
          }),
        );
      expect(await echo(() => ws.send('hi python'))).toEqual({
        data: Buffer.from('hi python'),
        isBinary: false,
      });
      expect(await echo(() => ws.send(Buffer.from([5, 6, 7])))).toEqual({
        data: Buffer.from([5, 6, 7]),
        isBinary: true,
      });
      const big = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = i % 253;
      const bigEcho = await echo(() => ws.send(big));
      expect(bigEcho.isBinary).toBe(true);
      expect(bigEcho.data.equals(big)).toBe(true);
      expect(
        await echo(() => {
          ws.send('frag', { fin: false });
          ws.send('mented', { fin: true });
        }),
      ).toEqual({ data: Buffer.from('fragmented'), isBinary: false });
      const pong = once<[Buffer]>(ws, 'pong');
      ws.ping('to python');
      expect((await pong)[0].toString()).toBe('to python');
      const closed = once<[number, Buffer]>(ws, 'close');
      ws.close(4003, 'client done');
      const [code, why] = await closed;
      expect(code).toBe(4003);
      expect(why.toString()).toBe('client done'); // websockets echoes code and reason
      await nextClosed(1);

      // Connection 2: the Python server closes with 4002.
      // (A websockets server configured with subprotocols rejects clients that offer none.)
      const ws2 = new WebSocket(url, ['other', 'py.v1']);
      await once(ws2, 'open');
      expect(ws2.protocol).toBe('py.v1');
      const closed2 = once<[number, Buffer]>(ws2, 'close');
      ws2.send('close please');
      const [code2, why2] = await closed2;
      expect(code2).toBe(4002);
      expect(why2.toString()).toBe('server done');
      await nextClosed(2);

      expect(closedEvents).toEqual([
        { event: 'closed', code: 4003, reason: 'client done' },
        // websockets reports the reason of the Close it received: our client echoes it.
        { event: 'closed', code: 4002, reason: 'server done' },
      ]);
    } finally {
      python.kill();
    }
    const run = await python.done;
    expect(run.lines).toContainEqual({ event: 'connection', path: '/py?x=1', protocol: 'py.v2' });
    expect(run.lines).toContainEqual({
      event: 'message',
      type: 'binary',
      length: 1024 * 1024,
      head: [0, 1, 2, 3, 4, 5, 6, 7],
    });
    expect(run.lines).toContainEqual({ event: 'message', type: 'text', length: 10, head: 'fragmented' });
  });
});
