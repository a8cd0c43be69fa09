/**
 * Classes with one instance per connection have no `#` methods or accessors: V8 gives every
 * instance of such a class a hidden field holding the class's brand, 8 B per class per connection
 * (docs/architecture.md, "Conventions"). Their helpers are TypeScript `private` methods or
 * functions beside the class. `#` fields cost nothing more than other fields and stay.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const PER_CONNECTION_FILES = [
  'src/websocket/websocket.ts',
  'src/websocket/writer.ts',
  'src/websocket/outbox.ts',
  'src/websocket/driver.ts',
  'src/connection/connection.ts',
  'src/connection/frame-writer.ts',
  'src/connection/message-assembler.ts',
  'src/frame/byte-queue.ts',
  'src/frame/decoder.ts',
  'src/frame/utf8.ts',
];

/** `#name(` at the start of a class member: a `#` method, getter or setter. */
const HASH_METHOD = /^\s+(?:static\s+|async\s+|get\s+|set\s+|\*\s*)*#\w+\s*\(/gm;

describe('per-connection classes', () => {
  it.each(PER_CONNECTION_FILES)('%s defines no # methods or accessors', (file) => {
    const source = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
    expect(source.match(HASH_METHOD) ?? []).toEqual([]);
  });

  it('recognises a # method, getter and setter, and not a # field', () => {
    const sample = '  #count = 0;\n  #step(): void {}\n  get #size(): number {}\n  set #size(n) {}\n';
    expect(sample.match(HASH_METHOD)).toHaveLength(3);
  });
});
