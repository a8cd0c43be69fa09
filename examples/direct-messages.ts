/**
 * User-to-user messaging: clients authenticate with a token (in the query, `?token=…`, for browsers,
 * which cannot set headers on a WebSocket, or in `Authorization: Bearer …`), the server checks it in
 * `verifyClient` before the upgrade, and keeps a registry of open connections by user id. A message
 * `{"to":"bob","text":"hi"}` reaches every connection (every tab) of bob as `{"from":"alice","text":"hi"}`.
 *
 *   npx tsx examples/direct-messages.ts      # ws://127.0.0.1:8082 (PORT overrides); prints tokens
 *
 * Tokens here are `<user id>.<HMAC-SHA256 of the user id>`, signed with a server secret: a stand-in for
 * the session cookie or JWT a real application would check.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import {
  type UpgradeRequestInfo,
  type VerifyClientInfo,
  type WebSocket,
  WebSocketServer,
} from '../src/index.ts';

type Request = IncomingMessage | UpgradeRequestInfo;

export interface MessagingServer {
  readonly wss: WebSocketServer;
  readonly url: string;
  /** A token for `userId`, signed with this server's secret. */
  issueToken(userId: string): string;
  /** Open connections by user id. */
  readonly online: ReadonlyMap<string, ReadonlySet<WebSocket>>;
  close(): Promise<void>;
}

const USER_ID = /^[a-z0-9_-]{1,32}$/;

export async function startMessagingServer(
  options: { port?: number; secret?: Buffer } = {},
): Promise<MessagingServer> {
  const secret = options.secret ?? randomBytes(32);
  const sign = (userId: string) => createHmac('sha256', secret).update(userId).digest();
  const issueToken = (userId: string) => `${userId}.${sign(userId).toString('base64url')}`;

  /** The user id a request's token proves, or null. */
  function authenticate(request: Request): string | null {
    const header = request.headers.authorization;
    const bearer = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : null;
    const token = bearer ?? new URL(request.url ?? '/', 'ws://localhost').searchParams.get('token');
    if (token === null) return null;
    const dot = token.lastIndexOf('.');
    const userId = token.slice(0, dot);
    if (dot <= 0 || !USER_ID.test(userId)) return null;
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = sign(userId);
    // Constant-time comparison: `===` (or Buffer.equals) stops at the first differing byte, so the
    // time a rejection takes tells an attacker how many leading bytes of a forged signature are
    // right, and a signature can then be guessed byte by byte over many attempts. timingSafeEqual
    // takes the same time whatever the contents. (It needs equal lengths; the length of an HMAC is
    // public, so checking it first leaks nothing.)
    return given.length === expected.length && timingSafeEqual(given, expected) ? userId : null;
  }

  const users = new WeakMap<Request, string>();
  const online = new Map<string, Set<WebSocket>>();
  const wss = new WebSocketServer({
    port: options.port ?? 8082,
    host: '127.0.0.1',
    // Checked before the upgrade: a client without a valid token gets a plain HTTP 401, and never
    // a WebSocket (RFC 6455 §4.2.2: the server may require authentication before accepting).
    verifyClient: ({ req }: VerifyClientInfo) => {
      const userId = authenticate(req);
      if (userId === null) {
        return {
          accept: false,
          status: 401,
          reason: 'Unauthorized',
          headers: { 'WWW-Authenticate': 'Bearer' },
        };
      }
      users.set(req, userId);
      return true;
    },
  });

  wss.on('connection', (ws: WebSocket, request: Request) => {
    const me = users.get(request)!;
    const mine = online.get(me) ?? new Set<WebSocket>();
    online.set(me, mine);
    mine.add(ws);
    ws.send(JSON.stringify({ welcome: me, online: [...online.keys()] }));

    ws.on('message', (data: Buffer, isBinary: boolean) => {
      let message: { to?: unknown; text?: unknown };
      try {
        message = isBinary ? {} : (JSON.parse(data.toString()) as typeof message);
      } catch {
        message = {};
      }
      if (typeof message.to !== 'string' || typeof message.text !== 'string') {
        ws.send(JSON.stringify({ error: 'send {"to": "<user>", "text": "<message>"}' }));
        return;
      }
      const recipients = online.get(message.to);
      if (recipients === undefined) {
        ws.send(JSON.stringify({ error: `${message.to} is not online` }));
        return;
      }
      const out = JSON.stringify({ from: me, text: message.text });
      for (const connection of recipients) connection.send(out);
      ws.send(JSON.stringify({ delivered: recipients.size, to: message.to }));
    });
    ws.on('close', () => {
      mine.delete(ws);
      if (mine.size === 0) online.delete(me);
    });
  });

  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const { port } = wss.address() as AddressInfo;
  return { wss, url: `ws://127.0.0.1:${port}`, issueToken, online, close: () => wss.close() };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const server = await startMessagingServer({ port: Number(process.env.PORT ?? 8082) });
  console.log(`direct messages on ${server.url}; connect as alice or bob, in two terminals:`);
  for (const user of ['alice', 'bob']) {
    console.log(`  npx tsx examples/console-client.ts "${server.url}/?token=${server.issueToken(user)}"`);
  }
  console.log('then type {"to":"bob","text":"hi bob"} as alice. Ctrl-C stops.');
  process.once('SIGINT', () => void server.close().then(() => process.exit(0)));
}
