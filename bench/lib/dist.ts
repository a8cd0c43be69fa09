/**
 * Where the built sockwire library lives: `dist/` of this repo, or the
 * directory in SOCKWIRE_DIST (set by `bench/run.ts --sockwire-dist DIR`, e.g.
 * to compare against a build of another commit).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * The checkout: the nearest directory above this file whose package.json is sockwire's. Found rather
 * than assumed two levels up, since the benchmark servers also run compiled under .cache/bench/.
 */
const ROOT = findCheckout(dirname(fileURLToPath(import.meta.url)));

function findCheckout(from: string): string {
  for (let at = from; ; at = dirname(at)) {
    const manifest = join(at, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'sockwire'
    )
      return at;
    if (dirname(at) === at) throw new Error(`no sockwire package.json above ${from}`);
  }
}

export function sockwireDistDir(): string {
  const d = process.env.SOCKWIRE_DIST;
  if (d === undefined || d === '') return join(ROOT, 'dist');
  return isAbsolute(d) ? d : resolve(ROOT, d);
}

/** file: URL of a module inside the sockwire dist directory, e.g. `frame/mask.js`. */
export function sockwireModuleUrl(rel: string): string {
  return pathToFileURL(join(sockwireDistDir(), rel)).href;
}

/**
 * Why a build directory would not load as it does from the package, or undefined. Node decides
 * whether a `.js` file is an ES module from the nearest package.json above it; a build copied out
 * of its checkout (e.g. to /tmp/base/dist) has none. Plain `node`, which runs the benchmark
 * servers, then takes its files for CommonJS; under tsx, which ran them until 2026-12-03, such a
 * build loaded compiled to CommonJS and measured 2x slower on large messages. A baseline must be
 * judged as users load it.
 */
export function moduleScopeProblem(dir: string): string | undefined {
  for (let at = resolve(dir); ; at = dirname(at)) {
    const manifest = join(at, 'package.json');
    if (existsSync(manifest)) {
      const type = (JSON.parse(readFileSync(manifest, 'utf8')) as { type?: string }).type;
      if (type === 'module') return undefined;
      return `${manifest} (the nearest package.json above ${dir}) does not say "type": "module"`;
    }
    if (dirname(at) === at) return `no package.json with "type": "module" above ${dir}`;
  }
}
