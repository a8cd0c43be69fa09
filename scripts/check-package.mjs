// Proves the artefact users get, not the work tree: packs the package, installs the tarball into a
// fresh project outside the repository, and uses it there the ways users do: ESM import (named and
// default), CommonJS require, `tsc --strict` on typed ESM and CommonJS programs and on the README's
// TypeScript examples, `npx sockwire --version`, and a loopback echo in both module systems. Source
// maps must resolve to shipped files.
// Then the `ws` patterns (test/ws-patterns/: the usage patterns of ws's README, written as small
// programs against `ws`) run twice, as written against `ws` and with only the module name changed to
// `sockwire`: their output must be the same, apart from the differences listed in
// KNOWN_PATTERN_DIFFERENCES (each one also in docs/migrating-from-ws.md).
//
// Usage: node scripts/check-package.mjs [node-binary …]
//   Each extra runtime binary runs the ESM and CommonJS programs again: other Node versions (e.g. the
//   oldest and newest that `engines` allows, from scripts/install-node.sh), Bun, or Deno (run with
//   `deno run -A`, since Deno asks for permissions).
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
const extraRuntimes = process.argv.slice(2);
const scratch = mkdtempSync(join(tmpdir(), 'sockwire-package-'));

function run(command, args, cwd, env = {}) {
  return execFileSync(command, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, npm_config_fund: 'false', npm_config_audit: 'false', ...env },
    timeout: 300_000,
  });
}

function check(what, condition) {
  if (!condition) throw new Error(`check-package: ${what}`);
  console.log(`ok   ${what}`);
}

// A server and a client that echo one text and one binary message, then close with 1000.
const echoBody = `
const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
await new Promise((done) => server.on('listening', done));
server.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
const client = new WebSocket(\`ws://127.0.0.1:\${server.address().port}\`);
const replies = [];
await new Promise((done, fail) => {
  client.on('error', fail);
  client.on('open', () => { client.send('hello'); client.send(Buffer.from([1, 2, 3])); });
  client.on('message', (data, isBinary) => {
    replies.push(isBinary ? [...data].join(',') : data.toString());
    if (replies.length === 2) client.close(1000);
  });
  client.on('close', (code) => (code === 1000 ? done() : fail(new Error('close ' + code))));
});
await server.close();
if (replies.join('|') !== 'hello|1,2,3') throw new Error('echo: ' + replies.join('|'));
`;

const esmProgram = `
import WebSocket, { WebSocketServer, ErrorCode } from 'sockwire';
if (WebSocket.Server !== WebSocketServer || WebSocket.WebSocketServer !== WebSocketServer) throw new Error('default export statics');
if (WebSocket.WebSocket !== WebSocket || typeof ErrorCode !== 'object') throw new Error('named exports');
${echoBody}
console.log('esm ok');
`;

const cjsProgram = `
const WebSocket = require('sockwire');
const { WebSocketServer, ErrorCode } = require('sockwire');
if (typeof WebSocket !== 'function' || WebSocket.Server !== WebSocketServer) throw new Error('require shape');
if (typeof ErrorCode !== 'object') throw new Error('named exports on require');
(async () => {
${echoBody}
console.log('cjs ok');
})().catch((error) => { console.error(error); process.exit(1); });
`;

/** Patterns whose output differs from `ws`'s on purpose, with the reason (docs/migrating-from-ws.md). */
const KNOWN_PATTERN_DIFFERENCES = {
  'extensions-value.mjs': '`extensions` is the negotiated header value with its parameters, as in browsers',
};
/** Third-party packages the patterns use, pinned so that a run is reproducible. */
const PATTERN_PACKAGES = ['https-proxy-agent@9.1.0'];

/**
 * Runs each pattern as written for `ws`, then with only the module name changed, and returns the
 * patterns whose output (stdout, stderr, exit status) differs.
 */
function comparePatterns(app) {
  const sources = join(repo, 'test/ws-patterns');
  const differing = [];
  for (const name of readdirSync(sources).sort()) {
    const source = readFileSync(join(sources, name), 'utf8');
    const outputs = ['ws', 'sockwire'].map((module) => {
      const dir = join(app, 'patterns', module);
      mkdirSync(dir, { recursive: true });
      const program =
        module === 'ws'
          ? source
          : source
              .replaceAll("from 'ws'", "from 'sockwire'")
              .replaceAll("require('ws')", "require('sockwire')");
      writeFileSync(join(dir, name), program);
      const result = spawnSync(process.execPath, [name], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
      return `${result.stdout}${result.stderr}exit ${result.status ?? result.signal}`;
    });
    // A pattern that fails with ws too proves nothing: it must run to its end there.
    check(`${name} runs to its end with ws`, outputs[0].endsWith('exit 0'));
    if (outputs[0] === outputs[1]) continue;
    differing.push(name);
    if (!(name in KNOWN_PATTERN_DIFFERENCES)) {
      console.error(`--- ${name} with ws\n${outputs[0]}\n--- ${name} with sockwire\n${outputs[1]}`);
    }
  }
  return differing;
}

const typedEsm = `
import WebSocket, { WebSocketServer, type ServerOptions, type WebSocket as NamedWebSocket } from 'sockwire';
import type { KeepAliveOptions, PerMessageDeflateOptions, RawData, WebSocketEvents } from 'sockwire';
const deflate: PerMessageDeflateOptions = { threshold: 1024, serverNoContextTakeover: true };
const keepAlive: KeepAliveOptions = { interval: 30_000, timeout: 10_000 };
const options: ServerOptions = {
  port: 0,
  host: '127.0.0.1',
  perMessageDeflate: deflate,
  keepAlive,
  verifyClient: ({ req }) => req.url !== '/no',
};
const onMessage: (...args: WebSocketEvents['message']) => void = (data, isBinary) => console.log(data, isBinary);
const raw: RawData = Buffer.alloc(0);
const server: WebSocketServer = new WebSocket.Server(options);
const client: WebSocket = new WebSocket('ws://127.0.0.1:1');
const same: NamedWebSocket = client;
client.on('message', (data: Buffer, isBinary: boolean) => console.log(data.length, isBinary));
client.on('close', (code: number, reason: Buffer) => console.log(code, reason.toString()));
client.onmessage = (event) => console.log(event.data); // a MessageEvent, as in browsers
server.on('connection', (ws, request) => {
  const remote: string | undefined = request.socket.remoteAddress; // listener arguments are typed
  ws.send(\`hello \${remote ?? '?'} \${request.url ?? ''}\`);
});
server.on('handshakeRejected', ({ status, reason }) => console.log(status.toFixed(0), reason.trim()));
// @ts-expect-error a misspelled event name does not compile
server.on('conection', () => {});
void same;
void onMessage;
void raw;
void server.close();
`;

const typedCjs = `
import WebSocket = require('sockwire');
const client: WebSocket = new WebSocket('ws://127.0.0.1:1');
const server = new WebSocket.WebSocketServer({ noServer: true });
client.terminate();
void server.close();
`;

try {
  console.log(`check-package: packing ${pkg.name}@${pkg.version} into ${scratch}`);
  const tarballName = run('npm', ['pack', '--silent', '--pack-destination', scratch], repo)
    .trim()
    .split('\n')
    .pop();
  const tarball = join(scratch, tarballName);
  check('npm pack made a tarball', existsSync(tarball));

  const app = join(scratch, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, version: '1.0.0' }));
  const typescriptVersion = JSON.parse(
    readFileSync(join(repo, 'node_modules/typescript/package.json'), 'utf8'),
  ).version;
  run('npm', ['install', '--silent', tarball, `typescript@${typescriptVersion}`, '@types/node@20'], app);
  const installed = join(app, 'node_modules', 'sockwire');
  check('the tarball installs with its compiled code', existsSync(join(installed, 'dist/index.js')));
  check('zero runtime dependencies were installed with it', !existsSync(join(installed, 'node_modules')));

  // Every source map must point at a file the package ships (src/ is shipped for that purpose).
  const maps = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.map')) maps.push(path);
    }
  };
  walk(join(installed, 'dist'));
  const missing = maps.flatMap((map) =>
    JSON.parse(readFileSync(map, 'utf8'))
      .sources.map((source) => resolve(dirname(map), source))
      .filter((source) => !existsSync(source)),
  );
  check(`${maps.length} source maps resolve to shipped sources`, maps.length > 0 && missing.length === 0);

  writeFileSync(join(app, 'esm.mjs'), esmProgram);
  writeFileSync(join(app, 'cjs.cjs'), cjsProgram);
  writeFileSync(join(app, 'typed.mts'), typedEsm);
  writeFileSync(join(app, 'typed.cts'), typedCjs);
  // The README's TypeScript examples, each its own module, against the installed package.
  const readmeExamples = [
    ...readFileSync(join(repo, 'README.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g),
  ].map(([, code], index) => {
    const file = `readme-${index + 1}.mts`;
    writeFileSync(join(app, file), `${code}\nexport {};\n`);
    return file;
  });

  for (const runtime of [process.execPath, ...extraRuntimes]) {
    const prefix = basename(runtime) === 'deno' ? ['run', '-A'] : [];
    const version = run(runtime, ['--version'], app).trim().split('\n')[0].split(' (')[0]; // 'v20.19.0', 'deno 2.9.6'
    const name = /^v?\d/.test(version) ? `${basename(runtime).replace(/\.exe$/, '')} ${version}` : version;
    check(`ESM import and echo on ${name}`, run(runtime, [...prefix, 'esm.mjs'], app).includes('esm ok'));
    // require(esm) must load quietly: Node warns only when the require() call sits outside
    // node_modules, and ours sits in the installed package's cjs/index.cjs.
    const cjs = spawnSync(runtime, [...prefix, 'cjs.cjs'], { cwd: app, encoding: 'utf8', timeout: 60_000 });
    if (cjs.status !== 0 || cjs.stderr !== '') console.error(cjs.stderr);
    check(
      `CommonJS require and echo on ${name}, no warning`,
      cjs.status === 0 && cjs.stdout.includes('cjs ok') && cjs.stderr === '',
    );
  }

  const tsc = join(app, 'node_modules/typescript/bin/tsc');
  const tscArgs = [
    '--strict',
    '--noEmit',
    '--module',
    'nodenext',
    '--moduleResolution',
    'nodenext',
    '--target',
    'es2022',
    '--types',
    'node',
  ];
  run(process.execPath, [tsc, ...tscArgs, 'typed.mts', 'typed.cts', ...readmeExamples], app);
  check(
    `tsc --strict accepts typed ESM and CommonJS programs and the README's TypeScript examples (${readmeExamples.length})`,
    readmeExamples.length > 0,
  );

  const version = run('npx', ['--no-install', 'sockwire', '--version'], app).trim();
  check(`npx sockwire --version prints ${version}`, version === `sockwire ${pkg.version}`);

  const wsVersion = JSON.parse(readFileSync(join(repo, 'node_modules/ws/package.json'), 'utf8')).version;
  run('npm', ['install', '--silent', `ws@${wsVersion}`, ...PATTERN_PACKAGES], app);
  const differing = comparePatterns(app);
  const known = Object.keys(KNOWN_PATTERN_DIFFERENCES).sort();
  check(
    `the ws patterns give the same output with ws@${wsVersion} and sockwire` +
      (known.length > 0 ? ` (known differences: ${known.join(', ')})` : ''),
    differing.join() === known.join(),
  );
  console.log('check-package: the packed tarball works');
} catch (error) {
  console.error(error.stdout ?? '', error.stderr ?? '');
  console.error(error.message);
  process.exitCode = 1;
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
