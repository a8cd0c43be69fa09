/**
 * The per-user registry of one server: `server.setUser(ws, id)` files an open socket under a user id
 * (a user may have several sockets: tabs, devices; and, with an adapter, on several processes), so
 * that `server.sendToUser(id, data)` reaches all of them. A socket leaves when it closes (the
 * server's close hook, src/server/negotiate.ts, calls `remove()`).
 */
import { ReadyState } from '../ready-state.ts';
import type { WebSocket } from '../websocket/websocket.ts';
import type { MembershipListener } from './adapter.ts';

/** Sockets by user id, and the user id of each socket. */
export class Users {
  readonly #sockets = new Map<string, Set<WebSocket>>();
  readonly #userOf = new WeakMap<WebSocket, string>();
  /** Told when a user gains their first local socket or loses their last (the adapter's subscriptions). */
  readonly #onMembership: MembershipListener | undefined;

  constructor(onMembership?: MembershipListener) {
    this.#onMembership = onMembership;
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
    if (previous !== undefined) this.#leave(ws, previous);
    this.#userOf.set(ws, userId);
    let sockets = this.#sockets.get(userId);
    if (sockets === undefined) {
      sockets = new Set();
      this.#sockets.set(userId, sockets);
      this.#onMembership?.(userId, true);
    }
    sockets.add(ws);
    return true;
  }

  /** Removes `ws` from its user; false if it had none. */
  remove(ws: WebSocket): boolean {
    const userId = this.#userOf.get(ws);
    if (userId === undefined) return false;
    this.#userOf.delete(ws);
    this.#leave(ws, userId);
    return true;
  }

  #leave(ws: WebSocket, userId: string): void {
    const sockets = this.#sockets.get(userId);
    sockets?.delete(ws);
    if (sockets?.size === 0) {
      this.#sockets.delete(userId);
      this.#onMembership?.(userId, false);
    }
  }
}
