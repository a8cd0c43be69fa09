/**
 * Where the built sockwire library lives: `dist/` of this repo, or the
 * directory in SOCKWIRE_DIST (set by `bench/run.ts --sockwire-dist DIR`, e.g.
 * to compare against a build of another commit).
 */
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export function sockwireDistDir(): string {
  const d = process.env.SOCKWIRE_DIST;
  if (d === undefined || d === '') return join(ROOT, 'dist');
  return isAbsolute(d) ? d : resolve(ROOT, d);
}

/** file: URL of a module inside the sockwire dist directory, e.g. `frame/mask.js`. */
export function sockwireModuleUrl(rel: string): string {
  return pathToFileURL(join(sockwireDistDir(), rel)).href;
}
