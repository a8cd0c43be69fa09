/**
 * `ws` server peer. With WS_NO_BUFFER_UTIL=1 and WS_NO_UTF_8_VALIDATE=1 in the
 * environment (set by the runner for the `ws-nobu` peer) ws uses its JS paths.
 */
import * as ws from 'ws';
import { type PeerModule, runWsLikeServer } from './wslike.ts';

runWsLikeServer(ws as unknown as PeerModule);
