/**
 * Example (1): examples/echo-server.ts and examples/console-client.ts, both spawned as a user would.
 */
import { afterEach, expect, it } from 'vitest';
import { type ExampleRun, runExample } from './helpers.ts';

const runs: ExampleRun[] = [];
afterEach(async () => {
  for (const run of runs.splice(0)) await run.stop();
});

it('the console client talks to the echo server and quits on "exit" with 1000', async () => {
  const server = runExample('examples/echo-server.ts', [], { PORT: '0' });
  runs.push(server);
  const [, url] = await server.waitFor(/listening on (ws:\/\/127\.0\.0\.1:\d+)/);
  // Its start-up lines tell how to talk to it.
  await server.waitFor(new RegExp(`npx tsx examples/console-client.ts ${url}`));

  const client = runExample('examples/console-client.ts', [url!]);
  runs.push(client);
  await client.waitFor(/connected to/);
  client.child.stdin!.write('hello, echo\n');
  await client.waitFor(/^< hello, echo$/m);
  client.child.stdin!.write('exit\n');
  expect(await client.exited).toBe(0);
  expect(client.output()).toMatch(/closed: 1000 bye/);
  await server.waitFor(/- closed with 1000/);
});
