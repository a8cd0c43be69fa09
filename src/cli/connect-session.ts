/**
 * One run of `sockwire connect` once its arguments are parsed: the socket, stdin, the timers and the
 * exit status. (src/cli/connect.ts parses the command line and starts a {@link Session}.)
 */
import type { Buffer } from 'node:buffer';
import { createInterface, type Interface as ReadlineInterface } from 'node:readline';
import { CloseCode, ReadyState, WebSocket } from '../index.ts';
import { describeError, ExitCode, UsageError, verboseDetails } from './errors.ts';
import { binaryLabel, type Printer } from './output.ts';

/**
 * What the CLI needs of a socket: a WebSocket, or a ReconnectingWebSocket, which has no `ping()` and
 * no `extensions` of its own but exposes the current connection as `socket`.
 */
export interface CliSocket {
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

/** What a {@link Session} was asked to do, from the command line. */
export interface SessionOptions {
  readonly url: string;
  readonly execute: readonly string[];
  readonly wait: number;
  readonly timeout: number;
  readonly pingEvery: number;
  readonly verbose: boolean;
}

/**
 * One run of `connect`: the socket, stdin, the timers, and the exit status.
 * @throws Never: failures are printed and turned into the exit status passed to `done`.
 */
export class Session {
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
