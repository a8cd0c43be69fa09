/**
 * Example (5): user-to-user messages through a registry keyed by the authenticated user id.
 */
import { afterEach, expect, it } from 'vitest';
import { type MessagingServer, startMessagingServer } from '../../examples/direct-messages.ts';
import { type HandshakeError, WebSocket } from '../../src/index.ts';
import { once } from '../integration/helpers.ts';

let server: MessagingServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

/** Opens a connection and returns it with a queue of its parsed messages. */
async function join(url: string, headers?: Record<string, string>) {
  const ws = new WebSocket(url, headers ? { headers } : {});
  const queue: unknown[] = [];
  const waiting: ((value: unknown) => void)[] = [];
  ws.on('message', (data: Buffer) => {
    const value = JSON.parse(data.toString()) as unknown;
    const waiter = waiting.shift();
    if (waiter) waiter(value);
    else queue.push(value);
  });
  await once(ws, 'open');
  const next = () =>
    new Promise<unknown>((resolve) => (queue.length > 0 ? resolve(queue.shift()) : waiting.push(resolve)));
  return { ws, next };
}

it('delivers a message to every connection of the recipient, and only to them', async () => {
  server = await startMessagingServer({ port: 0 });
  const alice = await join(`${server.url}/?token=${server.issueToken('alice')}`);
  expect(await alice.next()).toEqual({ welcome: 'alice', online: ['alice'] });
  // bob has two tabs; one authenticates with the header, one with the query.
  const bob1 = await join(server.url, { Authorization: `Bearer ${server.issueToken('bob')}` });
  const bob2 = await join(`${server.url}/?token=${server.issueToken('bob')}`);
  await bob1.next();
  await bob2.next();
  const carol = await join(`${server.url}/?token=${server.issueToken('carol')}`);
  await carol.next();
  expect(server.online.get('bob')?.size).toBe(2);

  alice.ws.send(JSON.stringify({ to: 'bob', text: 'hi bob' }));
  expect(await bob1.next()).toEqual({ from: 'alice', text: 'hi bob' });
  expect(await bob2.next()).toEqual({ from: 'alice', text: 'hi bob' });
  expect(await alice.next()).toEqual({ delivered: 2, to: 'bob' });

  alice.ws.send(JSON.stringify({ to: 'dave', text: '?' }));
  expect(await alice.next()).toEqual({ error: 'dave is not online' });

  // carol received nothing: her next message is the answer to her own request.
  carol.ws.send('not json');
  expect(await carol.next()).toMatchObject({ error: expect.stringContaining('"to"') });

  for (const { ws } of [alice, bob1, bob2, carol]) ws.close();
});

it('rejects a missing, forged or other-server token with 401 before the upgrade', async () => {
  server = await startMessagingServer({ port: 0 });
  const other = await startMessagingServer({ port: 0 });
  const forged = other.issueToken('alice'); // right shape, wrong secret
  await other.close();
  const valid = server.issueToken('alice');
  const tampered = `bob${valid.slice('alice'.length)}`; // alice's signature on bob's name
  for (const query of ['', '?token=alice', `?token=${forged}`, `?token=${tampered}`, '?token=alice.AAAA']) {
    const ws = new WebSocket(`${server.url}/${query}`);
    const [error] = await once<[HandshakeError]>(ws, 'error');
    expect(error.status).toBe(401);
  }
  expect(server.online.size).toBe(0);
});
