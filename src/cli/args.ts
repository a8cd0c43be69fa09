/**
 * Command-line parsing for the `sockwire` commands: `node:util.parseArgs`, with unknown options
 * reported in our own words. Node's message for them ("…as in '-- "--bogus"") suggests `--` for a
 * positional argument starting with "-", which no sockwire command takes, and quotes it unevenly.
 * Also the files options name (PEM certificates and keys), read once, as usage errors when unreadable.
 */
import type { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from './errors.ts';

/**
 * `parseArgs(config)` in strict mode, after a lenient pass that finds the first unknown option.
 * @throws {UsageError} `unknown option "--bogus"` for an option `config.options` does not list.
 * @throws {TypeError} parseArgs' own errors (code `ERR_PARSE_ARGS_…`) for a missing or extra value.
 */
export function parseCommandArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  const known = config.options ?? {};
  const { tokens } = parseArgs({ ...config, strict: false, tokens: true });
  for (const token of tokens ?? []) {
    if (token.kind === 'option' && !Object.hasOwn(known, token.name)) {
      throw new UsageError(`unknown option "${token.rawName}"`);
    }
  }
  return parseArgs(config);
}

/**
 * The file an option names (`--ca`, `--cert`, `--key`), or undefined when the option is absent.
 * @throws {UsageError} `cannot read --cert x.pem: ENOENT` when it cannot be read.
 */
export function readPem(option: string, path: string | undefined): Buffer | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (error) {
    throw new UsageError(`cannot read ${option} ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
}
