/**
 * `sockwire listen <port>`: a small server for trying clients out. It echoes every message back to
 * its sender (`--echo`, the default) or sends it to every connected client (`--broadcast`), prints
 * each connection, message and close, and sends the lines typed on stdin to every client.
 */
import type { Buffer } from 'node:buffer';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { ReadyState, type WebSocket, WebSocketServer } from '../index.ts';
import { parseCommandArgs, readPem } from './args.ts';
import { describeError, ExitCode, UsageError, verboseDetails } from './errors.ts';
import { type BinaryDisplay, binaryLabel, Printer } from './output.ts';

export const LISTEN_HELP = `Usage: sockwire listen <port> [options]

Starts a WebSocket server and prints every connection, message and close ("< #id message").
Lines typed on stdin are sent to every connected client. Port 0 picks a free port.

Options:
      --echo               send every message back to its sender (default)
      --broadcast          send every message to every connected client, sender included
      --host <address>     address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)
      --cert <file>        TLS certificate (PEM): serve wss://
      --key <file>         TLS private key (PEM)
  -c, --compress           accept permessage-deflate (default off, as in ws)
  -b, --binary <hex|base64>  how to show binary messages (default hex)
      --json               print one JSON object per event (for scripts)
      --raw                print the clients' text (messages, close reasons) as received; by
                           default control characters are shown escaped (\x1b, \r, \n, \u009b) so
                           that a client cannot send escape sequences to your terminal
  -v, --verbose            show stack traces of errors
  -h, --help               show this help

Ctrl-C closes every connection with 1001 and exits.`;

/** Runs `sockwire listen`; resolves with the exit status once the server has closed. */
export function runListen(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      echo: { type: 'boolean' },
      broadcast: { type: 'boolean' },
      host: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      compress: { type: 'boolean', short: 'c' },
      binary: { type: 'string', short: 'b' },
      json: { type: 'boolean' },
      raw: { type: 'boolean' },
      verbose: { type: 'boolean', short: 'v' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${LISTEN_HELP}\n`);
    return Promise.resolve(ExitCode.Ok);
  }
  const portText = positionals[0];
  const port = Number(portText);
  if (
    portText === undefined ||
    positionals.length > 1 ||
    !Number.isInteger(port) ||
    port < 0 ||
    port > 65535
  ) {
    throw new UsageError('listen takes one <port> (0–65535)');
  }
  if (values.echo && values.broadcast) throw new UsageError('choose --echo or --broadcast, not both');
  if (values.raw && values.json) throw new UsageError('choose --raw or --json, not both');
  if ((values.cert === undefined) !== (values.key === undefined)) {
    throw new UsageError('TLS needs both --cert and --key');
  }
  const binary = (values.binary ?? 'hex') as BinaryDisplay;
  if (binary !== 'hex' && binary !== 'base64') throw new UsageError('--binary must be hex or base64');
  const host = values.host ?? '127.0.0.1';
  const mode = values.broadcast ? 'broadcast' : 'echo';
  const cert = readPem('--cert', values.cert);
  const key = readPem('--key', values.key);
  const tls = cert === undefined || key === undefined ? undefined : { cert, key };
  const printer = new Printer({ json: values.json === true, raw: values.raw === true, binary });

  return new Promise<number>((resolve) => {
    const server = new WebSocketServer({
      port,
      host,
      ...(tls === undefined ? {} : { tls }),
      perMessageDeflate: values.compress === true,
    });
    let nextId = 1;
    const ids = new Map<WebSocket, number>();
    let exitCode: number = ExitCode.Ok;

    const stop = (code: number) => {
      exitCode = code;
      void server.close({ timeout: 2000 });
    };
    process.once('SIGINT', () => stop(ExitCode.Ok));
    process.once('SIGTERM', () => stop(ExitCode.Ok));
    server.on('close', () => resolve(exitCode));

    server.on('error', (error: Error) => {
      printer.error(`cannot listen on ${host}:${port}: ${describeError(error)}`);
      if (values.verbose) process.stderr.write(`${verboseDetails(error)}\n`);
      resolve(ExitCode.Failure);
    });

    server.on('listening', () => {
      const address = server.address() as AddressInfo;
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      const url = `${tls === undefined ? 'ws' : 'wss'}://${shownHost}:${address.port}`;
      printer.event(
        { event: 'listening', url, mode },
        `* listening on ${url} (${mode}); try: sockwire connect ${url}`,
      );
      readStdin(server, printer);
    });

    server.on('connection', (ws: WebSocket, request) => {
      const id = nextId++;
      ids.set(ws, id);
      const remote = `${request.socket.remoteAddress ?? '?'}:${request.socket.remotePort ?? '?'}`;
      printer.event(
        {
          event: 'open',
          id,
          url: request.url ?? '/',
          path: request.url ?? '/',
          remote,
          protocol: ws.protocol,
          extensions: ws.extensions,
        },
        `* #${id} connected from ${remote} ${request.url}`,
      );
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        const shown = printer.payload(data, isBinary);
        printer.event(
          {
            event: 'message',
            direction: 'in',
            id,
            binary: isBinary,
            data: shown,
            ...(isBinary ? { encoding: binary } : {}),
          },
          `< #${id} ${isBinary ? binaryLabel(data, shown, binary) : shown}`,
        );
        if (mode === 'echo') {
          ws.send(data, { binary: isBinary });
          return;
        }
        for (const client of server.clients) {
          if (client.readyState === ReadyState.OPEN) client.send(data, { binary: isBinary });
        }
      });
      ws.on('error', (error: Error) => printer.error(`#${id}: ${describeError(error)}`));
      ws.on('close', (code: number, reason: Buffer) => {
        ids.delete(ws);
        const text = reason.toString('utf8');
        printer.event(
          { event: 'close', id, code, reason: text },
          `* #${id} closed ${code}${text ? ` ${text}` : ''}`,
        );
      });
    });
  });
}

/** Lines typed on stdin go to every client. */
function readStdin(server: WebSocketServer, printer: Printer): void {
  const readline = createInterface({ input: process.stdin, terminal: false });
  readline.on('line', (line) => {
    if (line === '') return;
    let sent = 0;
    for (const client of server.clients) {
      if (client.readyState !== ReadyState.OPEN) continue;
      client.send(line);
      sent++;
    }
    printer.event(
      { event: 'message', direction: 'out', binary: false, data: line },
      `> (${sent} ${sent === 1 ? 'client' : 'clients'}) ${line}`,
    );
  });
  server.once('close', () => readline.close());
}
