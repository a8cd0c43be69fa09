/**
 * The Node benchmark servers, compiled to plain JavaScript, so that they run under plain `node` as
 * users run their servers. Under a TypeScript loader, sockwire's modules went through the loader
 * too: the heap held megabytes more, and every major GC cost more (bench/results/targets.md,
 * "Soak" and "Large messages"). `bench/run.ts` and `bench/soak.ts` build them once per run, from
 * `bench/servers/tsconfig.json` into `.cache/bench/`.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

/** Where the compiled servers are: `<peer>-server.js`, next to their shared modules. */
const SERVERS_BUILD = join(ROOT, '.cache', 'bench', 'bench', 'servers');

/** The compiled path of a server given by its source name, e.g. `ws-server.ts`. */
export function compiledServer(script: string): string {
  return join(SERVERS_BUILD, script.replace(/\.ts$/, '.js'));
}

/**
 * Compiles the servers with the project's TypeScript.
 * @throws {Error} with the compiler's output when it fails.
 */
export function buildServers(): void {
  const build = spawnSync(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-p',
      join(ROOT, 'bench', 'servers', 'tsconfig.json'),
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  if (build.status !== 0) {
    throw new Error(`building the benchmark servers failed:\n${build.stdout}${build.stderr}`);
  }
}
