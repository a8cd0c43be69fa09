/**
 * The benchmark's machine-speed check (bench/lib/calibrate.ts): the loops run and give figures a
 * machine can have, and a run is compared with the calibration stored with earlier results.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { calibrate, slowdown, stealSeconds, storedCalibration } from '../../bench/lib/calibrate.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function resultsFile(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sockwire-calibrate-'));
  dirs.push(dir);
  const file = join(dir, 'latest.json');
  writeFileSync(file, content);
  return file;
}

describe('machine-speed calibration', () => {
  it('times both loops in a pinned child: a step costs more than nothing and less than a millisecond', () => {
    const calibration = calibrate(0);
    expect(calibration).toBeDefined();
    const { computeNs, memoryNs } = calibration!;
    expect(computeNs).toBeGreaterThan(0.05);
    expect(computeNs).toBeLessThan(1e6);
    // A miss to memory costs more than a register operation, on any machine.
    expect(memoryNs).toBeGreaterThan(computeNs);
    expect(memoryNs).toBeLessThan(1e6);
  }, 60_000);

  it('calls a run slower by the worse of its two loops', () => {
    const before = { computeNs: 2, memoryNs: 100 };
    expect(slowdown({ computeNs: 2, memoryNs: 100 }, before)).toBe(1);
    expect(slowdown({ computeNs: 2, memoryNs: 190 }, before)).toBeCloseTo(1.9);
    expect(slowdown({ computeNs: 3, memoryNs: 100 }, before)).toBeCloseTo(1.5);
    expect(slowdown({ computeNs: 1, memoryNs: 50 }, before)).toBeCloseTo(0.5);
  });

  it('reads the calibration stored with earlier results, and nothing from results without one', () => {
    const start = { computeNs: 1.9, memoryNs: 170 };
    expect(storedCalibration(resultsFile(JSON.stringify({ meta: { calibration: { start } } })))).toEqual(
      start,
    );
    expect(
      storedCalibration(resultsFile(JSON.stringify({ meta: { date: 'before calibration' } }))),
    ).toBeUndefined();
    expect(storedCalibration(resultsFile('{ not json'))).toBeUndefined();
    expect(storedCalibration(join(tmpdir(), 'sockwire-no-such-dir', 'latest.json'))).toBeUndefined();
    const zero = { computeNs: 0, memoryNs: 170 };
    expect(
      storedCalibration(resultsFile(JSON.stringify({ meta: { calibration: { start: zero } } }))),
    ).toBeUndefined();
  });

  it('reads steal time as seconds that only grow', () => {
    const first = stealSeconds();
    if (first === undefined) return; // no /proc/stat on this system
    expect(first).toBeGreaterThanOrEqual(0);
    expect(stealSeconds()!).toBeGreaterThanOrEqual(first);
  });
});
