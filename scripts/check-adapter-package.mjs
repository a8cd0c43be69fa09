// Proves the Redis adapter's artefact: packs sockwire (its built dist, as `.ci/run` leaves it) and
// @sockwire/redis-adapter (packages/redis-adapter, built by its prepack), installs both tarballs and
// node-redis into a fresh project outside the repository, then imports the adapter there, checks
// with `tsc --strict` that its RedisAdapter is a sockwire ServerAdapter, and that sockwire's
// package.json still has no dependencies. Needs no Redis (nothing connects).
//
// Usage: node scripts/check-adapter-package.mjs
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const scratch = mkdtempSync(join(tmpdir(), 'sockwire-adapter-package-'));
/** Runs a command; a failure's error carries what it printed (tsc reports on stdout). */
function run(command, args, cwd) {
  try {
    return execFileSync(command, args, {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, npm_config_fund: 'false', npm_config_audit: 'false' },
      timeout: 300_000,
    });
  } catch (error) {
    throw new Error(`${command} ${args.join(' ')} failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
  }
}

try {
  run('npm', ['pack', '--ignore-scripts', '--pack-destination', scratch], repo);
  run('npm', ['pack', '-w', 'packages/redis-adapter', '--pack-destination', scratch], repo);
  const tarballs = readdirSync(scratch).filter((name) => name.endsWith('.tgz'));
  const core = tarballs.find((name) => name.startsWith('sockwire-0'));
  const adapter = tarballs.find((name) => name.startsWith('sockwire-redis-adapter-'));
  if (core === undefined || adapter === undefined)
    throw new Error(`tarballs missing: ${tarballs.join(', ')}`);

  const app = join(scratch, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), '{ "name": "app", "private": true, "type": "module" }\n');
  const redisRange = JSON.parse(readFileSync(join(repo, 'packages/redis-adapter/package.json'), 'utf8'))
    .devDependencies.redis;
  run('npm', ['install', '--ignore-scripts', `../${core}`, `../${adapter}`, `redis@${redisRange}`], app);

  const installed = JSON.parse(readFileSync(join(app, 'node_modules/sockwire/package.json'), 'utf8'));
  if (Object.keys(installed.dependencies ?? {}).length > 0) throw new Error('sockwire has dependencies');

  writeFileSync(
    join(app, 'check.mjs'),
    [
      "import { createRedisAdapter, RedisAdapter, decodeEnvelope, encodeEnvelope } from '@sockwire/redis-adapter';",
      "import { WebSocketServer } from 'sockwire';",
      "const bytes = encodeEnvelope(Buffer.alloc(8), 'topic', 't', true, Buffer.from([1, 2]));",
      "if (typeof createRedisAdapter !== 'function' || decodeEnvelope(bytes).target !== 't') process.exit(1);",
      "const server = new WebSocketServer({ noServer: true, adapter: new RedisAdapter({ url: 'redis://127.0.0.1:1' }) });",
      "await server.close(); console.log('ok');",
    ].join('\n'),
  );
  const output = run(process.execPath, ['check.mjs'], app).trim();
  if (output !== 'ok') throw new Error(`check.mjs printed ${output}`);

  writeFileSync(
    join(app, 'check.ts'),
    [
      "import { createRedisAdapter, type RedisAdapter } from '@sockwire/redis-adapter';",
      "import { type ServerAdapter, WebSocketServer } from 'sockwire';",
      'export async function start(): Promise<WebSocketServer> {',
      "  const adapter: RedisAdapter = await createRedisAdapter({ url: 'redis://127.0.0.1:6379' });",
      '  const contract: ServerAdapter = adapter;',
      '  return new WebSocketServer({ port: 0, adapter: contract });',
      '}',
    ].join('\n'),
  );
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        exactOptionalPropertyTypes: true,
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        target: 'ES2022',
        noEmit: true,
        types: ['node'],
        typeRoots: [join(repo, 'node_modules/@types')],
      },
      files: ['check.ts'],
    }),
  );
  run(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', app], app);
  console.log(
    `check-adapter-package: ${adapter} installs beside ${core}, imports, and type-checks as a ServerAdapter`,
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
