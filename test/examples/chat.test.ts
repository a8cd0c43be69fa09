/**
 * Example (4): the chat room, from Node clients (the browser test is chat-browser.test.ts).
 */
import { afterEach, expect, it } from 'vitest';
import { type ChatServer, startChatServer } from '../../examples/chat-server.ts';
import { WebSocket } from '../../src/index.ts';
import { once, withTimeout } from '../integration/helpers.ts';
import { runExample } from './helpers.ts';

let chat: ChatServer | null = null;
afterEach(async () => {
  await chat?.close();
  chat = null;
});

/** Every message `ws` receives, in order; `next()` waits for the next one not yet taken. */
function inbox(ws: WebSocket): { next(): Promise<string> } {
  const queue: string[] = [];
  const waiting: ((text: string) => void)[] = [];
  ws.on('message', (data: Buffer) => {
    const waiter = waiting.shift();
    if (waiter) waiter(data.toString());
    else queue.push(data.toString());
  });
  return {
    next: () =>
      withTimeout(
        new Promise<string>((resolve) => {
          const text = queue.shift();
          if (text === undefined) waiting.push(resolve);
          else resolve(text);
        }),
        5000,
        'a chat message',
      ),
  };
}

it('serves the page and the WebSocket on one port, and broadcasts every message to everyone', async () => {
  chat = await startChatServer(0);
  const page = await fetch(chat.url);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-type')).toMatch(/text\/html/);
  expect(await page.text()).toContain('new WebSocket(url)');
  expect((await fetch(`${chat.url}/nope`)).status).toBe(404);

  const wsUrl = `${chat.url.replace('http', 'ws')}/chat`;
  const alice = new WebSocket(wsUrl);
  const aliceInbox = inbox(alice);
  expect(await aliceInbox.next()).toMatch(/^\* welcome, you are guest \d+; 1 in the room$/);
  expect(await aliceInbox.next()).toMatch(/joined$/);
  const bob = new WebSocket(wsUrl);
  const bobInbox = inbox(bob);
  expect(await bobInbox.next()).toMatch(/2 in the room$/);
  expect(await aliceInbox.next()).toMatch(/^\* guest \d+ joined$/);
  expect(await bobInbox.next()).toMatch(/joined$/); // bob's own arrival

  alice.send('hi everyone');
  const seenByBob = await bobInbox.next();
  expect(seenByBob).toMatch(/^guest \d+: hi everyone$/);
  expect(await aliceInbox.next()).toBe(seenByBob); // the sender sees its own message too

  bob.close();
  expect(await aliceInbox.next()).toMatch(/left$/);
  alice.close();
  await once(alice, 'close');
});

it('npm start (examples/chat-server.ts) prints where the page and the endpoint are', async () => {
  const run = runExample('examples/chat-server.ts', [], { PORT: '0' });
  try {
    const [, url] = await run.waitFor(/chat on (http:\/\/127\.0\.0\.1:\d+)/);
    await run.waitFor(/console-client\.ts ws:\/\/127\.0\.0\.1:\d+\/chat/);
    expect((await fetch(url!)).status).toBe(200);
  } finally {
    await run.stop();
  }
});
