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
  it('times every loop in a pinned child: a step costs more than nothing and less than a millisecond', () => {
    const calibration = calibrate(0);
    expect(calibration).toBeDefined();
    const { computeNs, cacheNs, memoryNs, syscallNs } = calibration!;
    for (const ns of [computeNs, cacheNs, memoryNs, syscallNs]) {
      expect(ns).toBeGreaterThan(0.05);
      expect(ns).toBeLessThan(1e6);
    }
    // A miss to memory costs more than a register operation, on any machine; a system call too.
    expect(memoryNs).toBeGreaterThan(computeNs);
    expect(syscallNs).toBeGreaterThan(computeNs);
  }, 60_000);

  it('calls a run slower by the worst of its loops', () => {
    const before = { computeNs: 2, cacheNs: 50, memoryNs: 100, syscallNs: 500 };
    expect(slowdown({ ...before }, before)).toBe(1);
    expect(slowdown({ ...before, memoryNs: 190 }, before)).toBeCloseTo(1.9);
    expect(slowdown({ ...before, computeNs: 3, syscallNs: 600 }, before)).toBeCloseTo(1.5);
    expect(slowdown({ ...before, cacheNs: 65 }, before)).toBeCloseTo(1.3);
    expect(slowdown({ computeNs: 1, cacheNs: 25, memoryNs: 50, syscallNs: 250 }, before)).toBeCloseTo(0.5);
  });

  it('reads the calibration stored with earlier results, and nothing from results without one', () => {
    const start = { computeNs: 1.9, cacheNs: 117, memoryNs: 170, syscallNs: 700 };
    expect(storedCalibration(resultsFile(JSON.stringify({ meta: { calibration: { start } } })))).toEqual(
      start,
    );
    expect(
      storedCalibration(resultsFile(JSON.stringify({ meta: { date: 'before calibration' } }))),
    ).toBeUndefined();
    expect(storedCalibration(resultsFile('{ not json'))).toBeUndefined();
    expect(storedCalibration(join(tmpdir(), 'sockwire-no-such-dir', 'latest.json'))).toBeUndefined();
    // An older calibration, without the loops added since, is not compared with.
    const older = { computeNs: 1.9, memoryNs: 170 };
    expect(
      storedCalibration(resultsFile(JSON.stringify({ meta: { calibration: { start: older } } }))),
    ).toBeUndefined();
  });

  it('reads steal time as seconds that only grow', () => {
    const first = stealSeconds();
    if (first === undefined) return; // no /proc/stat on this system
    expect(first).toBeGreaterThanOrEqual(0);
    expect(stealSeconds()!).toBeGreaterThanOrEqual(first);
  });
});
