/** sockwire server peer: imports the built library from dist/. */
import { sockwireModuleUrl } from '../lib/dist.ts';
import { type PeerModule, runWsLikeServer } from './wslike.ts';

const spec: string = sockwireModuleUrl('index.js');
try {
  const mod = (await import(spec)) as PeerModule;
  if (typeof mod.WebSocketServer !== 'function')
    throw new Error('dist/index.js has no WebSocketServer export');
  runWsLikeServer(mod);
} catch (err) {
  process.stdout.write(`UNAVAILABLE ${(err as Error).message.split('\n')[0]}\n`);
  process.exit(3);
}
