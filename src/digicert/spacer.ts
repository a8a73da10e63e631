// Strict spacing of call starts inside one process, without Bottleneck: the pacer's limiter when no Redis is
// configured and while Redis is unreachable (the fallback). The Redis-shared limiter stays Bottleneck's.
//
// Why not Bottleneck locally: Bottleneck counts a call that holds its slot but waits for its start time as running,
// so at most maxConcurrent calls are planned ahead, and the next plan is made only after a finished call has gone
// through two setTimeout(0) hops. On a busy event loop (the bridge serving SCIM requests on two cores) the plan runs
// dry and the spacing restarts from "now": the pacing benchmark measured 1–2 % of the rate lost that way, up to 17 %
// in a heavily loaded run, with calls waiting all the while.

/** What the pacer needs of a limiter: Bottleneck's `schedule` and `stop` have this shape. */
export interface Slots {
  schedule<T>(options: { priority: number }, fn: () => Promise<T>): Promise<T>;
  stop(options: { dropWaitingJobs: boolean }): Promise<void>;
}

export interface SpacerClock {
  /** Milliseconds, fractional, monotonic. */
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(timer: unknown): void;
}

const realClock: SpacerClock = {
  now: () => performance.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (t) => clearTimeout(t as NodeJS.Timeout),
};

export interface SpacerOptions {
  /** Milliseconds between two planned starts (fractions kept). */
  intervalMs: number;
  /** Calls in flight at once (started, not yet settled). Calls waiting for their start do not count. */
  maxConcurrent: number;
  /**
   * How far the plan may lag behind the clock and still be caught up, ms. The next start is planned one interval
   * after the previous plan, or now if that is more than catchUpMs ago, and made when the clock reaches it. So no
   * call ever starts more than catchUpMs after its place in a strictly spaced plan: a late timer or a blocked event
   * loop costs no rate up to that much (the calls it held back start at once), and beyond it the plan restarts.
   * This is part of the displacement the rate plan allows for (JITTER_MS), so it must not exceed it.
   */
  catchUpMs: number;
  clock?: SpacerClock;
}

interface Job {
  fn: () => Promise<unknown>;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

const PRIORITIES = 10;

export class Spacer implements Slots {
  private readonly queues: Job[][] = Array.from({ length: PRIORITIES }, () => []);
  private readonly clock: SpacerClock;
  /** Planned time of the next start (clock ms). */
  private next = -Infinity;
  private inFlight = 0;
  private timer: unknown;
  private stopped = false;
  private idle?: () => void;

  constructor(private readonly opts: SpacerOptions) {
    if (!(opts.intervalMs > 0)) throw new Error("intervalMs must be positive");
    if (!(opts.maxConcurrent >= 1)) throw new Error("maxConcurrent must be at least 1");
    this.clock = opts.clock ?? realClock;
  }

  /** Calls waiting for their start. */
  queued(): number {
    return this.queues.reduce((n, q) => n + q.length, 0);
  }

  running(): number {
    return this.inFlight;
  }

  schedule<T>(options: { priority: number }, fn: () => Promise<T>): Promise<T> {
    if (this.stopped) return Promise.reject(new Error("the limiter is stopped"));
    return new Promise<T>((resolve, reject) => {
      const p = Math.min(PRIORITIES - 1, Math.max(0, Math.floor(options.priority)));
      this.queues[p].push({ fn, resolve: resolve as (v: unknown) => void, reject });
      this.pump();
    });
  }

  /** Drops the calls still waiting (their promises reject); resolves when the calls in flight have settled. */
  stop(options: { dropWaitingJobs: boolean } = { dropWaitingJobs: true }): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    if (options.dropWaitingJobs) {
      for (const q of this.queues) for (const job of q.splice(0)) job.reject(new Error("the limiter is stopped"));
    }
    if (this.inFlight === 0 && this.queued() === 0) return Promise.resolve();
    return new Promise<void>((resolve) => (this.idle = resolve));
  }

  private first(): Job[] | undefined {
    return this.queues.find((q) => q.length > 0);
  }

  private pump(): void {
    if (this.timer !== undefined) return; // the timer pumps when it fires
    for (;;) {
      const queue = this.first();
      if (!queue || this.inFlight >= this.opts.maxConcurrent) return;
      const now = this.clock.now();
      const at = this.next >= now - this.opts.catchUpMs ? this.next : now;
      if (at > now) {
        this.timer = this.clock.setTimer(() => {
          this.timer = undefined;
          this.pump();
        }, at - now);
        return;
      }
      const job = queue.shift()!;
      this.next = at + this.opts.intervalMs;
      this.inFlight++;
      let result: Promise<unknown>;
      try {
        result = Promise.resolve(job.fn());
      } catch (e) {
        result = Promise.reject(e);
      }
      result.then(job.resolve, job.reject).finally(() => {
        this.inFlight--;
        if (this.stopped) {
          if (this.inFlight === 0 && this.queued() === 0) this.idle?.();
          return;
        }
        this.pump();
      });
    }
  }
}
