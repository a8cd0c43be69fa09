/**
 * `sockwire connect <url>`: an interactive client in the manner of wscat.
 *
 *   stdin line ─▶ "/ping …" | "/close …" | "exit" | a text message ─▶ WebSocket ─▶ server
 *   server ─▶ 'message' | 'pong' | 'close' ─▶ "< …" lines (or JSON events) on stdout
 *
 * With `-x <message>` it is a one-shot tool for scripts: send, wait for `--wait` replies, exit 0 when
 * they came and non-zero when they did not.
 */
import { createInterface, type Interface as ReadlineInterface } from 'node:readline';
import * as sockwire from '../index.ts';
import { type ClientOptions, CloseCode, ReadyState, WebSocket } from '../index.ts';
import { parseCommandArgs, readPem } from './args.ts';
import { describeError, ExitCode, UsageError, verboseDetails } from './errors.ts';
import { type BinaryDisplay, binaryLabel, Printer } from './output.ts';

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

/**
 * What the CLI needs of a socket: a WebSocket, or a ReconnectingWebSocket, which has no `ping()` and
 * no `extensions` of its own but exposes the current connection as `socket`.
 */
interface CliSocket {
  readonly readyState: number;
  readonly protocol: string;
  readonly extensions?: string;
  /** ReconnectingWebSocket: the current underlying connection, or null between attempts. */
  readonly socket?: WebSocket | null;
  send(data: string | Buffer): void;
  close(code?: number, reason?: string): void;
  // biome-ignore lint/suspicious/noExplicitAny: listeners of different events take different arguments
  on(event: string, listener: (...args: any[]) => void): unknown;
}

/** The WebSocket carrying the traffic right now: `ws` itself, or a reconnecting socket's current one. */
function currentSocket(ws: CliSocket): WebSocket | null {
  if (ws instanceof WebSocket) return ws;
  return ws.socket ?? null;
}

type CliSocketConstructor = new (url: string, protocols: string[], options: ClientOptions) => CliSocket;

const DEFAULT_TIMEOUT = 10_000;

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
  const timeout = positiveInteger('--timeout', values.timeout, DEFAULT_TIMEOUT);
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

interface SessionOptions {
  readonly url: string;
  readonly execute: readonly string[];
  readonly wait: number;
  readonly timeout: number;
  readonly pingEvery: number;
  readonly verbose: boolean;
}

/** One run of `connect`: the socket, stdin, the timers, and the exit status. */
class Session {
  readonly #printer: Printer;
  readonly #options: SessionOptions;
  #ws: CliSocket | null = null;
  #readline: ReadlineInterface | null = null;
  #failed = false;
  #replies = 0;
  #exitCode: number | null = null;
  #timers: NodeJS.Timeout[] = [];
  #pinger: NodeJS.Timeout | null = null;
  #done: (code: number) => void = () => {};

  constructor(printer: Printer, options: SessionOptions) {
    this.#printer = printer;
    this.#options = options;
  }

  get #executing(): boolean {
    return this.#options.execute.length > 0;
  }

  start(create: () => CliSocket, done: (code: number) => void): void {
    this.#done = done;
    let ws: CliSocket;
    try {
      ws = create();
    } catch (error) {
      this.#fail(error);
      this.#finish(ExitCode.Failure);
      return;
    }
    this.#ws = ws;
    ws.on('open', () => this.#onOpen());
    ws.on('message', (data: Buffer, isBinary: boolean) => this.#onMessage(data, isBinary));
    ws.on('error', (error: unknown) => this.#fail(error));
    ws.on('close', (code: number, reason: Buffer) => this.#onClose(code, reason));
    // ReconnectingWebSocket announces each attempt: (attempt, delay in ms).
    ws.on('reconnecting', (attempt: number, delay: number) =>
      this.#printer.event(
        { event: 'reconnecting', attempt, delay },
        `* disconnected; reconnecting in ${Math.round(delay)} ms (attempt ${attempt})`,
      ),
    );
  }

  #onOpen(): void {
    const ws = this.#ws!;
    const { url } = this.#options;
    this.#failed = false; // a reconnection after failed attempts: what counts is how it ends
    // Pings and pongs are events of the connection itself (of each new one, when reconnecting).
    const connection = currentSocket(ws);
    connection?.on('pong', (data: Buffer) => this.#onControl('pong', 'in', data.toString('utf8')));
    connection?.on('ping', (data: Buffer) => this.#onControl('ping', 'in', data.toString('utf8')));
    const extensions = connection?.extensions ?? '';
    const details = [
      ws.protocol ? `subprotocol ${ws.protocol}` : '',
      extensions ? `extensions ${extensions}` : '',
    ].filter(Boolean);
    this.#printer.event(
      { event: 'open', url, protocol: ws.protocol, extensions },
      this.#executing
        ? null
        : `* connected to ${url}${details.length ? ` (${details.join(', ')})` : ''}; type "exit" or Ctrl-D to quit`,
    );
    if (this.#options.pingEvery > 0 && this.#pinger === null) {
      this.#pinger = setInterval(() => {
        const current = currentSocket(ws);
        if (current?.readyState !== ReadyState.OPEN) return;
        this.#safely(() => {
          current.ping();
          this.#onControl('ping', 'out', '');
        });
      }, this.#options.pingEvery);
    }
    if (this.#executing) this.#runExecute(ws);
    else if (this.#readline === null) this.#readStdin(ws);
  }

  #runExecute(ws: CliSocket): void {
    for (const message of this.#options.execute) {
      ws.send(message);
      this.#printer.event({ event: 'message', direction: 'out', binary: false, data: message }, null);
    }
    if (this.#replies >= this.#options.wait) {
      this.#closeWith(ExitCode.Ok);
      return;
    }
    this.#timers.push(
      setTimeout(() => {
        this.#printer.error(
          `timed out after ${this.#options.timeout} ms: got ${this.#replies} of ${this.#options.wait} replies`,
        );
        this.#closeWith(ExitCode.Timeout);
      }, this.#options.timeout),
    );
  }

  #readStdin(ws: CliSocket): void {
    const terminal = process.stdin.isTTY === true;
    const readline = createInterface({
      input: process.stdin,
      ...(terminal ? { output: process.stdout, prompt: '> ' } : {}),
      terminal,
    });
    this.#readline = readline;
    if (terminal) {
      this.#printer.prompt = readline;
      readline.prompt();
    }
    readline.on('line', (line) => {
      this.#safely(() => this.#onLine(ws, line, terminal));
      if (terminal && this.#readline !== null) readline.prompt();
    });
    // End of input (Ctrl-D or the end of a pipe): close normally.
    readline.on('close', () => {
      if (this.#readline === null) return;
      this.#readline = null;
      this.#printer.prompt = null;
      if (ws.readyState !== ReadyState.CLOSED) this.#userClose(CloseCode.Normal, '');
    });
  }

  #onLine(ws: CliSocket, line: string, terminal: boolean): void {
    const command = line.trim();
    if (command === '') return;
    if (command === 'exit') {
      this.#userClose(CloseCode.Normal, '');
      return;
    }
    if (command === '/ping' || command.startsWith('/ping ')) {
      const data = command.slice(6);
      const current = currentSocket(ws);
      if (current === null || current.readyState !== ReadyState.OPEN) {
        throw new Error('/ping: not connected right now');
      }
      current.ping(data);
      // On a terminal the typed line already shows it.
      this.#onControl('ping', 'out', data, terminal);
      return;
    }
    if (command === '/close' || command.startsWith('/close ')) {
      const [, code, ...reason] = command.split(/\s+/);
      const closeCode = code === undefined ? CloseCode.Normal : Number(code);
      if (!Number.isInteger(closeCode)) throw new UsageError(`/close: "${code}" is not a close code`);
      this.#userClose(closeCode, reason.join(' '));
      return;
    }
    ws.send(line);
    this.#printer.event(
      { event: 'message', direction: 'out', binary: false, data: line },
      terminal ? null : `> ${line}`,
    );
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    this.#replies++;
    const printer = this.#printer;
    const shown = printer.payload(data, isBinary);
    const text = isBinary ? binaryLabel(data, shown, printer.binary) : shown;
    printer.event(
      {
        event: 'message',
        direction: 'in',
        binary: isBinary,
        data: shown,
        ...(isBinary ? { encoding: printer.binary } : {}),
      },
      // Scripts using -x get the reply as is; people get the direction marker.
      this.#executing ? text : `< ${text}`,
    );
    if (this.#executing && this.#replies === this.#options.wait) this.#closeWith(ExitCode.Ok);
  }

  /**
   * Prints a Ping or Pong (§5.5.2, §5.5.3): received ones, those `-p` and `/ping` send, and the Pongs
   * answering them, as "< [pong] data". With -x, stdout holds only the replies (JSON excepted).
   * The data is the peer's: Printer.event escapes it unless --raw.
   */
  #onControl(event: 'ping' | 'pong', direction: 'in' | 'out', data: string, quiet = false): void {
    const text = `${direction === 'in' ? '<' : '>'} [${event}]${data === '' ? '' : ` ${data}`}`;
    this.#printer.event({ event, direction, data }, this.#executing || quiet ? null : text);
  }

  #onClose(code: number, reason: Buffer): void {
    const text = reason.toString('utf8');
    // (A ReconnectingWebSocket emits 'close' once, when it stops for good: this is the end either way.)
    if (!this.#failed) {
      // With -x, stdout holds only the replies (JSON events excepted).
      this.#printer.event(
        { event: 'close', code, reason: text },
        this.#executing
          ? null
          : `* closed ${code}${text ? ` ${text}` : ''}${code === CloseCode.Abnormal ? ' (no close frame: the connection was lost)' : ''}`,
      );
    }
    let exitCode = this.#exitCode;
    if (exitCode === null) {
      if (this.#failed) {
        exitCode = ExitCode.Failure; // already reported, in one line
      } else if (this.#executing) {
        this.#printer.error(
          `the connection closed (${code}) after ${this.#replies} of ${this.#options.wait} replies`,
        );
        exitCode = ExitCode.Failure;
      } else {
        exitCode = this.#failed || code === CloseCode.Abnormal ? ExitCode.Failure : ExitCode.Ok;
      }
    }
    this.#finish(exitCode);
  }

  #userClose(code: number, reason: string): void {
    this.#closeWith(ExitCode.Ok, code, reason);
  }

  #closeWith(exitCode: number, code: number = CloseCode.Normal, reason = ''): void {
    const ws = this.#ws;
    this.#exitCode ??= exitCode;
    // Stop reading stdin; cleared first so that the readline's 'close' does not close with 1000.
    const readline = this.#readline;
    this.#readline = null;
    this.#printer.prompt = null;
    readline?.close();
    if (ws === null || ws.readyState === ReadyState.CLOSED) {
      this.#finish(this.#exitCode);
      return;
    }
    try {
      ws.close(code, reason);
    } catch (error) {
      // An invalid code or reason from the user: say so, and close normally instead.
      this.#printer.error(describeError(error));
      ws.close(CloseCode.Normal, '');
    }
  }

  #fail(error: unknown): void {
    this.#failed = true;
    this.#printer.error(describeError(error, this.#options.url));
    if (this.#options.verbose) process.stderr.write(`${verboseDetails(error)}\n`);
  }

  /** Runs a user action; an exception (e.g. an invalid close code) is reported, not fatal. */
  #safely(action: () => void): void {
    try {
      action();
    } catch (error) {
      this.#printer.error(describeError(error));
      if (this.#options.verbose) process.stderr.write(`${verboseDetails(error)}\n`);
    }
  }

  #finish(code: number): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers = [];
    if (this.#pinger !== null) clearInterval(this.#pinger);
    this.#pinger = null;
    const readline = this.#readline;
    this.#readline = null;
    readline?.close();
    this.#done(code);
  }
}
