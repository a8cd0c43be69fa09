/**
 * The per-user registry of one server: `server.setUser(ws, id)` files an open socket under a user id
 * (a user may have several sockets: tabs, devices; and, with an adapter, on several processes), so
 * that `server.sendToUser(id, data)` reaches all of them. A socket leaves when it closes (the
 * server's close hook, src/server/negotiate.ts, calls `remove()`).
 */
import { ReadyState } from '../ready-state.ts';
import type { WebSocket } from '../websocket/websocket.ts';
import type { MembershipListener } from './adapter.ts';
import { SocketGroups } from './socket-groups.ts';

/** Sockets by user id, and the user id of each socket. */
export class Users {
  /** Sockets by user id; its listener hears of a user's first and last local socket (the adapter's subscriptions). */
  readonly #sockets: SocketGroups;
  readonly #userOf = new WeakMap<WebSocket, string>();

  constructor(onMembership?: MembershipListener) {
    this.#sockets = new SocketGroups(onMembership);
  }

  /** The local sockets of `userId`, if any. */
  sockets(userId: string): ReadonlySet<WebSocket> | undefined {
    return this.#sockets.get(userId);
  }

  /** The user id `ws` is filed under, if any. */
  userOf(ws: WebSocket): string | undefined {
    return this.#userOf.get(ws);
  }

  /** Files an OPEN `ws` under `userId` (moving it from another user); false if already there or not OPEN. */
  add(ws: WebSocket, userId: string): boolean {
    if (ws.readyState !== ReadyState.OPEN) return false;
    const previous = this.#userOf.get(ws);
    if (previous === userId) return false;
    if (previous !== undefined) this.#sockets.delete(previous, ws);
    this.#userOf.set(ws, userId);
    this.#sockets.add(userId, ws);
    return true;
  }

  /** Removes `ws` from its user; false if it had none. */
  remove(ws: WebSocket): boolean {
    const userId = this.#userOf.get(ws);
    if (userId === undefined) return false;
    this.#userOf.delete(ws);
    this.#sockets.delete(userId, ws);
    return true;
  }
}
