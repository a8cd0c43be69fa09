/**
 * Autobahn client agent: the client that `wstest -m fuzzingserver` tests (our client side).
 * Asks the fuzzing server for the number of cases, runs each one echoing every message as
 * received, then asks the server to write its reports.
 *
 *   npx tsx autobahn/client-agent.ts [PORT]   (or AUTOBAHN_PORT=PORT; default 9001)
 *   AUTOBAHN_IMPL=ws npx tsx autobahn/client-agent.ts   (the `ws` stand-in)
 *
 * The agent name in the reports is the implementation's name ("sockwire", or "ws").
 * Before each case it prints `case N/COUNT ID`, so the runner can tell where it hung.
 */
import { type AgentSocket, exitWithParent, loadImpl, MAX_PAYLOAD } from './impl.ts';

const port = Number(process.argv[2] ?? process.env.AUTOBAHN_PORT ?? 9001);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error(`client-agent: invalid port ${process.argv[2] ?? process.env.AUTOBAHN_PORT}`);
  process.exit(2);
}
const base = `ws://127.0.0.1:${port}`;
exitWithParent();
const impl = await loadImpl();
const agent = process.env.AUTOBAHN_AGENT ?? impl.name;

/**
 * Opens one connection and resolves once it is closed. `onMessage` gets every message.
 * Resolves on 'close'; an 'error' that is not followed by 'close' (e.g. a refused
 * connection in an implementation that emits only 'error') resolves after a grace period.
 */
function connect(
  url: string,
  onMessage: (ws: AgentSocket, data: Buffer, isBinary: boolean) => void,
): Promise<{ code: number; error?: Error }> {
  return new Promise((resolve) => {
    let done = false;
    let error: Error | undefined;
    const finish = (code: number) => {
      if (done) return;
      done = true;
      resolve(error ? { code, error } : { code });
    };
    let ws: AgentSocket;
    try {
      ws = new impl.WebSocket(url, { maxPayload: MAX_PAYLOAD, ...impl.extraOptions });
    } catch (err) {
      error = err as Error;
      finish(1006);
      return;
    }
    ws.on('message', (data, isBinary) => onMessage(ws, data, isBinary));
    ws.on('close', (code) => finish(code));
    ws.on('error', (err) => {
      error = err;
      setTimeout(() => finish(1006), 2000).unref();
    });
  });
}

let count = Number.NaN;
const counted = await connect(`${base}/getCaseCount`, (_ws, data) => {
  count = Number(data.toString());
});
if (!Number.isInteger(count) || count < 0) {
  console.error(
    `client-agent: could not get the case count from ${base} (${counted.error?.message ?? 'no answer'})`,
  );
  process.exit(1);
}
console.log(`cases ${count} (agent ${agent})`);

for (let i = 1; i <= count; i++) {
  let id = '?';
  await connect(`${base}/getCaseInfo?case=${i}`, (_ws, data) => {
    try {
      id = String((JSON.parse(data.toString()) as { id?: unknown }).id ?? '?');
    } catch {
      // the case number alone still locates a hang
    }
  });
  console.log(`case ${i}/${count} ${id}`);
  await connect(`${base}/runCase?case=${i}&agent=${encodeURIComponent(agent)}`, (ws, data, isBinary) =>
    ws.send(data, { binary: isBinary }),
  );
}

console.log('updating reports');
const updated = await connect(`${base}/updateReports?agent=${encodeURIComponent(agent)}`, () => {});
if (updated.error) {
  console.error(`client-agent: updateReports failed: ${updated.error.message}`);
  process.exit(1);
}
console.log('done');
