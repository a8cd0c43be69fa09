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
 *
 * With AUTOBAHN_HTTP2=1 (`npm run autobahn -- --http2`) the port is autobahn/h2-bridge-client.ts's:
 * every connection is an RFC 8441 stream (`http2: 'require'`, wss:// trusting the bridge's test
 * certificate), which the bridge carries to wstest over HTTP/1.1.
 */
import { readFileSync } from 'node:fs';
import { BRIDGE_CERT } from './h2-bridge-wire.ts';
import { type AgentSocket, exitWithParent, loadImpl, MAX_PAYLOAD } from './impl.ts';

const port = Number(process.argv[2] ?? process.env.AUTOBAHN_PORT ?? 9001);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error(`client-agent: invalid port ${process.argv[2] ?? process.env.AUTOBAHN_PORT}`);
  process.exit(2);
}
exitWithParent();
const impl = await loadImpl();
const http2 = process.env.AUTOBAHN_HTTP2 === '1';
if (http2 && impl.name !== 'sockwire') {
  console.error(`client-agent: AUTOBAHN_HTTP2=1 needs sockwire (${impl.name} has no RFC 8441 client)`);
  process.exit(2);
}
const base = `${http2 ? 'wss' : 'ws'}://127.0.0.1:${port}`;
/** 'require': never fall back to HTTP/1.1, so every case really runs over RFC 8441. */
const transport: Record<string, unknown> = http2 ? { http2: 'require', ca: readFileSync(BRIDGE_CERT) } : {};
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
      ws = new impl.WebSocket(url, { maxPayload: MAX_PAYLOAD, ...impl.extraOptions, ...transport });
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
