/**
 * Sockets grouped under a name: the subscribers of a topic (broadcast.ts) or the sockets of a user
 * (users.ts). A group exists while it has sockets (no empty sets left behind), and the listener
 * hears when a name gains its first socket or loses its last: that is when an adapter starts or
 * stops listening to it on the broker (adapter.ts).
 */
import type { WebSocket } from '../websocket/websocket.ts';
import type { MembershipListener } from './adapter.ts';

export class SocketGroups {
  readonly #groups = new Map<string, Set<WebSocket>>();
  readonly #onMembership: MembershipListener | undefined;

  constructor(onMembership?: MembershipListener) {
    this.#onMembership = onMembership;
  }

  /** The sockets of `name`, if it has any. */
  get(name: string): ReadonlySet<WebSocket> | undefined {
    return this.#groups.get(name);
  }

  /** Adds `ws` to `name`'s group, made now (and announced) if it had none. */
  add(name: string, ws: WebSocket): void {
    let group = this.#groups.get(name);
    if (group === undefined) {
      group = new Set();
      this.#groups.set(name, group);
      this.#onMembership?.(name, true);
    }
    group.add(ws);
  }

  /** Removes `ws` from `name`'s group; the group goes (announced) with its last socket. */
  delete(name: string, ws: WebSocket): void {
    const group = this.#groups.get(name);
    if (group === undefined || !group.delete(ws) || group.size > 0) return;
    this.#groups.delete(name);
    this.#onMembership?.(name, false);
  }
}
