/**
 * Picks the WebSocket implementation the Autobahn agents run against.
 *
 * `AUTOBAHN_IMPL=sockwire` (default) loads this repository's library from `../src/index.ts`;
 * `AUTOBAHN_IMPL=ws` loads the `ws` package (a devDependency) as a stand-in, so the harness
 * can be developed and validated before sockwire exists, and compared against it afterwards.
 * permessage-deflate is on for both agents (12.x/13.x really run; about 25 minutes with both
 * directions in parallel, since wstest compresses in pure Python); `AUTOBAHN_DEFLATE=0` turns it
 * off on both sides, so 12.x/13.x answer UNIMPLEMENTED within a second.
 *
 * Only the ws-compatible subset of the API that the agents use is typed here, so this file
 * type-checks whatever `src/index.ts` exports today.
 */

export interface AgentSocket {
  on(event: 'open', listener: () => void): this;
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): this;
  on(event: 'close', listener: (code: number, reason: Buffer) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  send(data: Buffer | string, options: { binary: boolean }): void;
  close(): void;
}

export interface AgentServer {
  on(event: 'listening', listener: () => void): this;
  on(event: 'connection', listener: (ws: AgentSocket) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  close(): void;
}

export interface Impl {
  readonly name: string;
  readonly WebSocket: new (url: string, options: Record<string, unknown>) => AgentSocket;
  readonly WebSocketServer: new (options: Record<string, unknown>) => AgentServer;
  /** Extra options for both constructors (e.g. permessage-deflate for the ws stand-in). */
  readonly extraOptions: Record<string, unknown>;
}

/** 64 MiB: section 9.x sends messages of up to 16 MiB. */
export const MAX_PAYLOAD = 64 * 1024 * 1024;

export async function loadImpl(): Promise<Impl> {
  const name = process.env.AUTOBAHN_IMPL ?? 'sockwire';
  const deflate = process.env.AUTOBAHN_DEFLATE !== '0';
  let mod: unknown;
  if (name === 'ws') {
    mod = await import('ws');
  } else if (name === 'sockwire') {
    mod = await import('../src/index.ts');
  } else {
    throw new Error(`AUTOBAHN_IMPL must be "sockwire" or "ws", got "${name}"`);
  }
  const { WebSocket, WebSocketServer } = mod as Partial<Impl>;
  if (typeof WebSocket !== 'function' || typeof WebSocketServer !== 'function') {
    throw new Error(`${name} does not export WebSocket and WebSocketServer (yet)`);
  }
  let extraOptions: Record<string, unknown> = {};
  if (name === 'ws') {
    // ws's client offers permessage-deflate by default and its server does not: make both explicit.
    // ws >= 8.2x caps a message at 16384 fragments by default (a DoS guard, closing with 1008);
    // 9.3.1/9.3.2/9.4.1/9.4.2 send a 4 MiB message in 64/256-byte fragments, so lift the cap
    // the same way maxPayload is lifted for 9.x.
    extraOptions = { perMessageDeflate: deflate, maxFragments: 0 };
  } else {
    // sockwire's client, like ws's, offers permessage-deflate by default: make both sides explicit,
    // so 12.x/13.x run only when asked for (they take half an hour per direction with deflate).
    extraOptions = { perMessageDeflate: deflate };
  }
  return { name, WebSocket, WebSocketServer, extraOptions };
}

/**
 * When started by the runner (AUTOBAHN_PARENT_PID set), exit once the runner is gone, so an
 * agent never outlives a runner that was killed with SIGKILL (the runner cleans up otherwise).
 */
export function exitWithParent(): void {
  const parent = Number(process.env.AUTOBAHN_PARENT_PID);
  if (!Number.isInteger(parent) || parent <= 0) return;
  setInterval(() => {
    try {
      process.kill(parent, 0);
    } catch {
      process.exit(3);
    }
  }, 2000).unref();
}
