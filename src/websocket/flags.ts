/**
 * The driver's booleans, kept as the bits of one number instead of one field each.
 *
 * Every field of an object takes 8 B in Node's V8 (built without pointer compression), whatever it
 * holds. A driver has ten booleans: one word for all of them saves 72 B per connection, 4 % of an
 * idle connection's heap (bench/results/targets.md). The classes still read and write each one as
 * a property (`this.receiving = true`): it is an accessor on the class's prototype, declared in the
 * class with `declare` and defined here, which V8's optimizing compiler inlines to a load, a mask
 * and a store.
 */

/** Each boolean's bit in `flags`, for the three layers of the driver together (writer.ts, outbox.ts, driver.ts). */
const BITS = {
  // writer.ts
  receiving: 1 << 0,
  heardFromPeer: 1 << 1,
  flushScheduled: 1 << 2,
  userPaused: 1 << 3,
  // outbox.ts
  compressing: 1 << 4,
  closeAfterInflate: 1 << 5,
  sendingFragments: 1 << 6,
  fragmentsCompressed: 1 << 7,
  // driver.ts
  closeEmitted: 1 << 8,
  opening: 1 << 9,
} as const;

/** An object whose booleans live in `flags`. */
export interface Flagged {
  flags: number;
}

/** Defines each named boolean on `prototype` as an accessor of its bit in `flags`; each starts false. */
export function defineFlags(prototype: Flagged, names: readonly (keyof typeof BITS)[]): void {
  for (const name of names) {
    const bit = BITS[name];
    Object.defineProperty(prototype, name, {
      get(this: Flagged): boolean {
        return (this.flags & bit) !== 0;
      },
      set(this: Flagged, on: boolean) {
        this.flags = on ? this.flags | bit : this.flags & ~bit;
      },
      configurable: true,
    });
  }
}
