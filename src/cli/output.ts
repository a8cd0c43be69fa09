/**
 * How the CLI prints: human-readable lines with direction markers (`> ` sent, `< ` received, `* ` for
 * what happens to the connection), or one JSON object per line with `--json` for scripts.
 *
 * Errors always go to stderr as one line (see {@link describeError}); everything else goes to stdout.
 */
import type { Interface as ReadlineInterface } from 'node:readline';
import { clearLine, cursorTo } from 'node:readline';

/** How binary messages are shown: as hex or base64 text. */
export type BinaryDisplay = 'hex' | 'base64';

/** One thing that happened, as printed by `--json` (one object per line). */
export type CliEvent =
  | { readonly event: 'listening'; readonly url: string; readonly mode: string }
  | {
      readonly event: 'open';
      readonly url: string;
      readonly protocol: string;
      readonly extensions: string;
      readonly id?: number;
      readonly remote?: string;
      readonly path?: string;
    }
  | {
      readonly event: 'message';
      readonly direction: 'in' | 'out';
      readonly binary: boolean;
      readonly data: string;
      /** Present for binary data: how `data` encodes the bytes. */
      readonly encoding?: BinaryDisplay;
      readonly id?: number;
    }
  | {
      readonly event: 'ping' | 'pong';
      readonly direction: 'in' | 'out';
      readonly data: string;
      readonly id?: number;
    }
  | {
      readonly event: 'close';
      readonly code: number;
      readonly reason: string;
      readonly id?: number;
    }
  | { readonly event: 'reconnecting'; readonly attempt: number; readonly delay: number }
  | { readonly event: 'error'; readonly message: string; readonly id?: number };

export class Printer {
  readonly json: boolean;
  readonly binary: BinaryDisplay;
  /** Interactive prompt to redraw after asynchronous output, when stdin is a terminal. */
  prompt: ReadlineInterface | null = null;

  constructor(options: { readonly json: boolean; readonly binary: BinaryDisplay }) {
    this.json = options.json;
    this.binary = options.binary;
  }

  /** Shows a payload as text: UTF-8 for text messages, hex or base64 for binary ones. */
  payload(data: Buffer, binary: boolean): string {
    return binary ? data.toString(this.binary) : data.toString('utf8');
  }

  /** Prints an event: as JSON with `--json`, else as `text` (nothing when `text` is null). */
  event(event: CliEvent, text: string | null): void {
    if (this.json) this.#write(`${JSON.stringify(event)}\n`);
    else if (text !== null) this.#write(`${text}\n`);
  }

  /** One line on stderr (and, with `--json`, an error event on stdout so that scripts see it too). */
  error(message: string): void {
    if (this.json) this.#write(`${JSON.stringify({ event: 'error', message } satisfies CliEvent)}\n`);
    process.stderr.write(`sockwire: ${message}\n`);
  }

  #write(text: string): void {
    const prompt = this.prompt;
    if (prompt === null || !process.stdout.isTTY) {
      process.stdout.write(text);
      return;
    }
    // Print above the prompt line and redraw it with what the user had typed so far.
    clearLine(process.stdout, 0);
    cursorTo(process.stdout, 0);
    process.stdout.write(text);
    prompt.prompt(true);
  }
}

/** Describes a received binary message for humans: its size, then its bytes. */
export function binaryLabel(data: Buffer, shown: string, display: BinaryDisplay): string {
  return `[binary ${data.length} B, ${display}] ${shown}`;
}
