/**
 * How the CLI prints: human-readable lines with direction markers (`> ` sent, `< ` received, `* ` for
 * what happens to the connection), or one JSON object per line with `--json` for scripts.
 *
 * Errors always go to stderr as one line (see {@link describeError}); everything else goes to stdout.
 *
 * What the peer sends (messages, Pong data, close reasons, and error texts that may quote it) reaches
 * a terminal, which obeys escape sequences: a window title (OSC 0), a clipboard write (OSC 52), a
 * cleared screen, a bare CR that overprints a line with a forged one. So human output shows control
 * characters escaped ({@link visible}) unless `--raw` asks for the text as received; `--json` escapes
 * them by construction (and C1 controls as well, see {@link jsonLine}).
 */
import type { Buffer } from 'node:buffer';
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

/**
 * Control characters a terminal may act on: C0 (U+0000–U+001F) but tab, DEL (U+007F), and C1
 * (U+0080–U+009F: some terminals take U+009B, even UTF-8-encoded, as CSI, the same as ESC [).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;

function escapeControl(char: string): string {
  const code = char.charCodeAt(0);
  if (code === 0x0a) return '\\n';
  if (code === 0x0d) return '\\r';
  const hex = code.toString(16).padStart(2, '0');
  // C1 as \u00XX: the code point received (in UTF-8 it is two bytes, e.g. C2 9B).
  return code >= 0x80 ? `\\u00${hex}` : `\\x${hex}`;
}

/**
 * `text` with its control characters shown as escapes (`\x1b`, `\x07`, `\r`, `\n`, `\u009b`), so that
 * it prints as one inert line. Tabs stay (they only move the cursor right); backslashes are not
 * doubled, so ordinary text (JSON with escapes, Windows paths) reads as before.
 * @throws Never.
 */
export function visible(text: string): string {
  return text.replace(CONTROL, escapeControl);
}

/**
 * One `--json` line. `JSON.stringify` escapes U+0000–U+001F but leaves DEL and C1 controls raw; they
 * are escaped too (`\u009b`), which any JSON parser reads back as the same string.
 * @throws Never.
 */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\u009f]/g,
    (char) => `\\u00${char.charCodeAt(0).toString(16)}`,
  );
}

export class Printer {
  readonly json: boolean;
  /** `--raw`: print the peer's text as received, control characters included. */
  readonly raw: boolean;
  readonly binary: BinaryDisplay;
  /** Interactive prompt to redraw after asynchronous output, when stdin is a terminal. */
  prompt: ReadlineInterface | null = null;

  constructor(options: { readonly json: boolean; readonly raw?: boolean; readonly binary: BinaryDisplay }) {
    this.json = options.json;
    this.raw = options.raw === true;
    this.binary = options.binary;
  }

  /** Human text as it will be printed: escaped (see {@link visible}) unless `--raw`. */
  human(text: string): string {
    return this.raw ? text : visible(text);
  }

  /** Shows a payload as text: UTF-8 for text messages, hex or base64 for binary ones. */
  payload(data: Buffer, binary: boolean): string {
    return binary ? data.toString(this.binary) : data.toString('utf8');
  }

  /**
   * Prints an event: as JSON with `--json`, else as `text` (nothing when `text` is null), escaped as
   * a whole: one event, one line, whatever the peer put in it.
   */
  event(event: CliEvent, text: string | null): void {
    if (this.json) this.#write(`${jsonLine(event)}\n`);
    else if (text !== null) this.#write(`${this.human(text)}\n`);
  }

  /**
   * One line on stderr (and, with `--json`, an error event on stdout so that scripts see it too).
   * Escaped like events: an error text may quote what the peer sent (a proxy's reason phrase).
   */
  error(message: string): void {
    if (this.json) this.#write(`${jsonLine({ event: 'error', message } satisfies CliEvent)}\n`);
    process.stderr.write(`sockwire: ${this.human(message)}\n`);
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
