import { describe, expect, it } from 'vitest';
import { defineFlags } from '../../../src/websocket/flags.ts';

class Sample {
  flags = 0;
  declare receiving: boolean;
  declare userPaused: boolean;
  declare opening: boolean;
}
defineFlags(Sample.prototype, ['receiving', 'userPaused', 'opening']);

describe('defineFlags: booleans kept as bits of one number', () => {
  it('starts every boolean false and sets each without touching the others', () => {
    const sample = new Sample();
    expect([sample.receiving, sample.userPaused, sample.opening]).toEqual([false, false, false]);
    sample.userPaused = true;
    expect([sample.receiving, sample.userPaused, sample.opening]).toEqual([false, true, false]);
    sample.opening = true;
    sample.receiving = true;
    sample.userPaused = false;
    expect([sample.receiving, sample.userPaused, sample.opening]).toEqual([true, false, true]);
    sample.receiving = true; // setting a set bit keeps it set
    expect(sample.receiving).toBe(true);
    sample.opening = false;
    sample.receiving = false;
    expect(sample.flags).toBe(0);
  });

  it('keeps each object its own booleans', () => {
    const a = new Sample();
    const b = new Sample();
    a.opening = true;
    expect(b.opening).toBe(false);
    expect(Object.keys(a)).toEqual(['flags']); // no field per boolean
  });
});
