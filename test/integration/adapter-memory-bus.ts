/**
 * An in-memory broker for tests of the `adapter` contract: every server of one process that takes an
 * adapter of the same `MemoryBus` gets the others' messages, as processes sharing a Redis would. It
 * keeps the contract's rules: never back to the publisher, only for what the receiver subscribed to,
 * asynchronously (a broker hop is never synchronous), and it records what each adapter was told.
 */
import type { AdapterHost, FanOutMessage, ServerAdapter } from '../../src/index.ts';

export class MemoryBus {
  readonly adapters = new Set<MemoryAdapter>();

  adapter(): MemoryAdapter {
    const adapter = new MemoryAdapter(this);
    this.adapters.add(adapter);
    return adapter;
  }
}

export class MemoryAdapter implements ServerAdapter {
  readonly #bus: MemoryBus;
  host: AdapterHost | undefined;
  /** 'topic:x' / 'user:y' entries this adapter listens to. */
  readonly listening = new Set<string>();
  readonly published: FanOutMessage[] = [];
  /** Every subscribe/unsubscribe call, in order, as '+topic:x' / '-user:y'. */
  readonly calls: string[] = [];
  closed = false;

  constructor(bus: MemoryBus) {
    this.#bus = bus;
  }

  start(host: AdapterHost): void {
    this.host = host;
  }

  publish(message: FanOutMessage): void {
    this.published.push(message);
    const key = `${message.kind}:${message.target}`;
    for (const other of this.#bus.adapters) {
      if (other === this || other.closed) continue;
      if (message.kind !== 'broadcast' && !other.listening.has(key)) continue;
      setImmediate(() => other.host?.deliver(message));
    }
  }

  subscribe(kind: 'topic' | 'user', target: string): void {
    this.calls.push(`+${kind}:${target}`);
    this.listening.add(`${kind}:${target}`);
  }

  unsubscribe(kind: 'topic' | 'user', target: string): void {
    this.calls.push(`-${kind}:${target}`);
    this.listening.delete(`${kind}:${target}`);
  }

  close(): void {
    this.closed = true;
    this.#bus.adapters.delete(this);
  }
}
