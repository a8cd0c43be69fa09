/**
 * examples/cluster-chat.ts: the chat page and endpoint on a node:cluster of three workers sharing one
 * port, through a real redis-server: clients land on different workers and every message reaches all.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WebSocket } from '../../src/index.ts';
import { once } from '../integration/helpers.ts';
import { RedisServer, SKIP_REDIS } from '../redis/redis-server.ts';
import { type ExampleRun, runExample } from './helpers.ts';

let redis: RedisServer | undefined;
let run: ExampleRun | undefined;
beforeAll(async () => {
  if (!SKIP_REDIS) redis = await RedisServer.start();
});
afterAll(async () => {
  await run?.stop();
  await redis?.dispose();
});

it.skipIf(SKIP_REDIS)(
  'serves the chat on three workers, and every message reaches every tab',
  async () => {
    run = runExample('examples/cluster-chat.ts', [], { PORT: '0', WORKERS: '3', REDIS_URL: redis!.url });
    const [, port] = await run.waitFor(/cluster chat on http:\/\/127\.0\.0\.1:(\d+)/, 20_000);
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(await page.text()).toContain('<html');

    const tabs: { ws: WebSocket; got: string[] }[] = [];
    for (let i = 0; i < 9; i++) {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/chat`);
      const got: string[] = [];
      ws.on('message', (data) => got.push(String(data)));
      await once(ws, 'open');
      tabs.push({ ws, got });
    }
    const deadline = Date.now() + 10_000;
    const waitFor = async (test: () => boolean) => {
      while (!test()) {
        if (Date.now() > deadline)
          throw new Error(`timed out; tabs got ${JSON.stringify(tabs.map((t) => t.got))}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    await waitFor(() => tabs.every((tab) => tab.got.length > 0));
    const workers = new Set(tabs.map((tab) => /\(worker (\d+)\)/.exec(tab.got[0]!)?.[1]));
    expect(workers.size).toBe(3);
    // A tab that saw the last tab's 'joined' is on a worker whose Redis subscription works: once all
    // have, a message published now reaches every worker.
    const last = /you are (guest [\d-]+)/.exec(tabs[8]!.got[0]!)![1]!;
    await waitFor(() => tabs.every((tab) => tab.got.includes(`* ${last} joined`)));
    tabs[0]!.ws.send('hello, cluster');
    await waitFor(() => tabs.every((tab) => tab.got.some((m) => m.endsWith(': hello, cluster'))));
    for (const tab of tabs) tab.ws.close();
  },
  40_000,
);
