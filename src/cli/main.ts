#!/usr/bin/env node
/**
 * The `sockwire` command: `sockwire connect <url>` (an interactive client, or a one-shot one with
 * `-x`) and `sockwire listen <port>` (an echo or broadcast server). Zero dependencies: arguments are
 * parsed with `node:util.parseArgs`.
 *
 * Errors are one line on stderr and a non-zero exit status; `--verbose` adds the stack trace.
 */
import { readFileSync } from 'node:fs';
import { runConnect } from './connect.ts';
import { describeError, ExitCode, UsageError, verboseDetails } from './errors.ts';
import { runListen } from './listen.ts';
import { visible } from './output.ts';

const HELP = `Usage: sockwire <command> [options]

Commands:
  connect <url>    talk to a WebSocket server (ws://, wss://, ws+unix://)
  listen <port>    start an echo or broadcast WebSocket server

Examples:
  sockwire listen 8080
  sockwire connect ws://127.0.0.1:8080
  sockwire connect wss://localhost:8443 --ca cert.pem -x '{"op":"ping"}' --wait 1 --json

Run "sockwire <command> --help" for the options of a command.
  -h, --help       show this help
  -V, --version    show the version`;

function version(): string {
  // src/cli/main.ts and dist/cli/main.js are both two levels below package.json.
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Runs the command line; resolves with the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'connect':
      return runConnect(rest);
    case 'listen':
      return runListen(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(`${HELP}\n`);
      return command === undefined ? ExitCode.Usage : ExitCode.Ok;
    case '-V':
    case '--version':
      process.stdout.write(`sockwire ${version()}\n`);
      return ExitCode.Ok;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

function isUsageError(error: unknown): boolean {
  // parseArgs throws TypeErrors with codes such as ERR_PARSE_ARGS_UNKNOWN_OPTION.
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'));
}

const argv = process.argv.slice(2);
const verbose = argv.includes('--verbose') || argv.includes('-v');
let exitCode: number;
try {
  exitCode = await main(argv);
} catch (error) {
  const usage = isUsageError(error);
  // describeError adds the --help hint to our UsageErrors; parseArgs' own errors get it here.
  const message =
    usage && !(error instanceof UsageError)
      ? // Some span lines ("…is ambiguous.\nDid you forget…"): one line on stderr, as for every error.
        `${(error as Error).message.replace(/\s*\n/g, ' ')} (see sockwire --help)`
      : describeError(error);
  process.stderr.write(`sockwire: ${visible(message)}\n`);
  if (verbose) process.stderr.write(`${verboseDetails(error)}\n`);
  exitCode = usage ? ExitCode.Usage : ExitCode.Failure;
}
// Exit explicitly: stdin, a pending handshake socket or a readline must not keep the process alive.
process.stdout.write('', () => process.exit(exitCode));
