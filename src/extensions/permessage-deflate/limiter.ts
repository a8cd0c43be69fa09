/**
 * Bounds how many zlib jobs run at once. zlib work runs on libuv's thread pool (4 threads by default,
 * shared with file system and DNS work); thousands of connections compressing at once would queue
 * there and fragment memory, so jobs beyond the limit wait their turn here (as `ws`'s concurrencyLimit).
 */
export class ConcurrencyLimiter {
  readonly #limit: number;
  #running = 0;
  readonly #waiting: ((release: () => void) => void)[] = [];

  constructor(limit: number) {
    this.#limit = Math.max(1, limit);
  }

  /** Runs `job` now or when a slot frees up; the job calls `release` exactly once when done. */
  run(job: (release: () => void) => void): void {
    if (this.#running < this.#limit) {
      this.#running++;
      job(this.#release);
    } else {
      this.#waiting.push(job);
    }
  }

  readonly #release = (): void => {
    const next = this.#waiting.shift();
    if (next === undefined) {
      this.#running--;
      return;
    }
    // Start the next job on a fresh stack so long queues cannot grow the call stack.
    queueMicrotask(() => next(this.#release));
  };
}
