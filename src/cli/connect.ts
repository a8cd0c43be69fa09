/**
 * `sockwire connect <url>`: an interactive client in the manner of wscat.
 *
 *   stdin line ─▶ "/ping …" | "/close …" | "exit" | a text message ─▶ WebSocket ─▶ server
 *   server ─▶ 'message' | 'pong' | 'close' ─▶ "< …" lines (or JSON events) on stdout
 *
 * With `-x <message>` it is a one-shot tool for scripts: send, wait for `--wait` replies, exit 0 when
 * they came and non-zero when they did not. The session itself (socket, stdin, timers) is in
 * connect-session.ts.
 */
import { DEFAULTS } from '../defaults.ts';
import * as sockwire from '../index.ts';
import { type ClientOptions, WebSocket } from '../index.ts';
import { parseCommandArgs, readPem } from './args.ts';
import { type CliSocket, Session } from './connect-session.ts';
import { ExitCode, UsageError } from './errors.ts';
import { type BinaryDisplay, Printer } from './output.ts';

export const CONNECT_HELP = `Usage: sockwire connect <url> [options]

Opens a WebSocket connection (to ws://<url> when <url> has no scheme, e.g. 127.0.0.1:8080).
Lines typed are sent as text messages; received messages are printed with "< " (binary ones in hex
or base64), sent ones with "> " when stdin is not a terminal. Pings and Pongs are printed as
"< [ping] data", "> [ping] data", "< [pong] data".
  /ping [data]             send a Ping (the Pong is printed)
  /close [code] [reason]   start the closing handshake (default code 1000)
  exit, or Ctrl-D          close with 1000 and quit

Options:
  -H, --header <k:v>       add a request header (repeatable)
  -s, --subprotocol <p>    offer a subprotocol (repeatable)
  -o, --origin <origin>    send an Origin header
      --ca <file>          trust this CA certificate (PEM), e.g. a self-signed server's
      --cert <file>        client certificate (PEM)
      --key <file>         client private key (PEM)
  -k, --insecure           do not verify the server's TLS certificate
      --proxy <url>        tunnel through this HTTP proxy (CONNECT), http://[user:pass@]host:port
  -p, --ping <ms>          send a Ping every <ms> milliseconds (each Ping and Pong is printed)
  -r, --reconnect          reconnect when the connection drops (ReconnectingWebSocket)
  -c, --compress           offer permessage-deflate (default: off, so that what you type is what
                           travels on the wire)
  -b, --binary <hex|base64>  how to show binary messages (default hex)
      --json               print one JSON object per event (for scripts)
      --raw                print the server's text (messages, pongs, close reasons) as received;
                           by default control characters are shown escaped (\x1b, \r, \n, \u009b) so
                           that a server cannot send escape sequences to your terminal
  -x, --execute <msg>      send <msg> (repeatable), wait for the replies, close and exit
  -w, --wait <n>           with -x: number of replies to wait for (default 1; 0: none)
  -t, --timeout <ms>       handshake timeout, and with -x how long to wait for replies (default 10000)
  -v, --verbose            show stack traces of errors
  -h, --help               show this help

Exit status: 0 after a clean close, 1 on a connection, handshake or TLS failure or an abnormal close
(1006), 2 for bad arguments, 3 when -x did not get its replies in time.`;

type CliSocketConstructor = new (url: string, protocols: string[], options: ClientOptions) => CliSocket;

function positiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new UsageError(`${name} must be a whole number ≥ 0`);
  return number;
}

/** Schemes taken as given even without "//" (the library parses them; `ws+unix:/path` has none). */
const KNOWN_SCHEME = /^(?:wss?|https?|ws\+unix):/i;
/** RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), here followed by "//". */
const ANY_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * `url` with `ws://` in front when it names no scheme (`127.0.0.1:9200`, `localhost:8080/chat`), as
 * wscat does. `localhost:8080` would parse as a URL of scheme "localhost:", so the test is textual:
 * a known WebSocket/HTTP scheme, or any `scheme://`, is kept (an unsupported one is then named by
 * the library's error), everything else gets `ws://`.
 * @throws Never.
 */
export function withDefaultScheme(url: string): string {
  return KNOWN_SCHEME.test(url) || ANY_SCHEME.test(url) ? url : `ws://${url}`;
}

/** Runs `sockwire connect`; resolves with the exit status. */
export function runConnect(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      header: { type: 'string', short: 'H', multiple: true },
      subprotocol: { type: 'string', short: 's', multiple: true },
      origin: { type: 'string', short: 'o' },
      ca: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      insecure: { type: 'boolean', short: 'k' },
      proxy: { type: 'string' },
      ping: { type: 'string', short: 'p' },
      reconnect: { type: 'boolean', short: 'r' },
      compress: { type: 'boolean', short: 'c' },
      binary: { type: 'string', short: 'b' },
      json: { type: 'boolean' },
      raw: { type: 'boolean' },
      execute: { type: 'string', short: 'x', multiple: true },
      wait: { type: 'string', short: 'w' },
      timeout: { type: 'string', short: 't' },
      verbose: { type: 'boolean', short: 'v' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${CONNECT_HELP}\n`);
    return Promise.resolve(ExitCode.Ok);
  }
  const given = positionals[0];
  if (given === undefined || positionals.length > 1) throw new UsageError('connect takes exactly one <url>');
  const url = withDefaultScheme(given);
  const binary = (values.binary ?? 'hex') as BinaryDisplay;
  if (binary !== 'hex' && binary !== 'base64') throw new UsageError('--binary must be hex or base64');
  if (values.raw && values.json) throw new UsageError('choose --raw or --json, not both');
  const pingEvery = positiveInteger('--ping', values.ping, 0);
  const timeout = positiveInteger('--timeout', values.timeout, DEFAULTS.cliTimeout);
  const wait = positiveInteger('--wait', values.wait, 1);
  const execute = values.execute ?? [];

  const headers: Record<string, string> = {};
  for (const header of values.header ?? []) {
    const colon = header.indexOf(':');
    if (colon <= 0) throw new UsageError(`--header must look like "Name: value", got "${header}"`);
    headers[header.slice(0, colon).trim()] = header.slice(colon + 1).trim();
  }
  // Built as a record (TLS files are added below), then handed over as ClientOptions.
  const options: Record<string, unknown> = {
    perMessageDeflate: values.compress === true,
    handshakeTimeout: timeout,
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(values.origin === undefined ? {} : { origin: values.origin }),
    ...(values.insecure ? { rejectUnauthorized: false } : {}),
    ...(values.proxy === undefined ? {} : { proxy: values.proxy }),
  };
  for (const name of ['ca', 'cert', 'key'] as const) {
    const pem = readPem(`--${name}`, values[name]);
    if (pem !== undefined) options[name] = pem;
  }

  let Socket: CliSocketConstructor = WebSocket as unknown as CliSocketConstructor;
  if (values.reconnect) {
    // Feature detection: ReconnectingWebSocket is being added to the library in parallel.
    const Reconnecting = (sockwire as Record<string, unknown>).ReconnectingWebSocket;
    if (typeof Reconnecting !== 'function') {
      throw new UsageError(
        '--reconnect is not available: this build of sockwire has no ReconnectingWebSocket',
      );
    }
    Socket = Reconnecting as CliSocketConstructor;
  }

  const printer = new Printer({ json: values.json === true, raw: values.raw === true, binary });
  const verbose = values.verbose === true;
  return new Promise<number>((resolve) => {
    const session = new Session(printer, {
      url,
      execute,
      wait,
      timeout,
      pingEvery,
      verbose,
    });
    session.start(() => new Socket(url, values.subprotocol ?? [], options as ClientOptions), resolve);
  });
}
