import { Spacer, type SpacerClock } from "../../../src/digicert/spacer";

/** A clock that only moves when told; timers fire in order, each `lateness()` ms after it was due. */
class FakeClock implements SpacerClock {
  t = 1000;
  private timers: { at: number; fn: () => void }[] = [];
  now(): number {
    return this.t;
  }
  setTimer(fn: () => void, ms: number): unknown {
    const timer = { at: this.t + ms, fn };
    this.timers.push(timer);
    return timer;
  }
  clearTimer(timer: unknown): void {
    this.timers = this.timers.filter((t) => t !== timer);
  }
  pending(): number {
    return this.timers.length;
  }
  /** Fires timers until none is left (or `until` is passed), letting promises settle between them. */
  async run(lateness: () => number = () => 0, until = Infinity): Promise<void> {
    for (;;) {
      await settle();
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > until) return;
      this.timers.shift();
      this.t = Math.max(this.t, next.at + lateness());
      next.fn();
    }
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

function spacer(clock: FakeClock, over: Partial<{ intervalMs: number; maxConcurrent: number; catchUpMs: number }> = {}): Spacer {
  return new Spacer({ intervalMs: 18.25, maxConcurrent: 4, catchUpMs: 100, clock, ...over });
}

/** Schedules n calls at once that record their start and settle at once. */
function burst(s: Spacer, clock: FakeClock, n: number, starts: number[]): Promise<unknown[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => s.schedule({ priority: 5 }, async () => (starts.push(clock.now()), i))));
}

/** Most starts inside any half-open window of `windowMs`. */
function maxIn(times: number[], windowMs: number): number {
  let best = 0;
  for (let i = 0, j = 0; j < times.length; j++) {
    while (times[j] - times[i] >= windowMs) i++;
    best = Math.max(best, j - i + 1);
  }
  return best;
}

describe("Spacer", () => {
  test("starts are spaced by the fractional interval, the first at once, each call once and in order", async () => {
    const clock = new FakeClock();
    const s = spacer(clock);
    const starts: number[] = [];
    const done = burst(s, clock, 9, starts);
    await clock.run();
    await expect(done).resolves.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(starts.map((t) => Math.round((t - 1000) * 1000) / 1000)).toEqual([0, 18.25, 36.5, 54.75, 73, 91.25, 109.5, 127.75, 146]);
  });

  test("a late timer costs no rate: the calls it held back start at once and the plan goes on", async () => {
    const clock = new FakeClock();
    const s = spacer(clock);
    const starts: number[] = [];
    const done = burst(s, clock, 12, starts);
    let n = 0;
    // The fourth timer fires 60 ms late (a busy event loop), the others on time.
    await clock.run(() => (++n === 4 ? 60 : 0));
    await done;
    const at = starts.map((t) => t - 1000);
    // Planned 18.25 apart: calls 4..7 were due by 73+60; they start together, then the plan resumes on its grid.
    expect(at.slice(4, 8).every((t) => t === at[4])).toBe(true);
    expect(at[8]).toBeCloseTo(8 * 18.25, 6);
    expect(at[11]).toBeCloseTo(11 * 18.25, 6);
    for (let k = 0; k < at.length; k++) expect(at[k] - k * 18.25).toBeLessThanOrEqual(100 + 1e-9);
  });

  test("a stall longer than the catch-up restarts the plan instead of bursting", async () => {
    const clock = new FakeClock();
    const s = spacer(clock);
    const starts: number[] = [];
    const done = burst(s, clock, 10, starts);
    let n = 0;
    await clock.run(() => (++n === 2 ? 500 : 0));
    await done;
    const at = starts.map((t) => t - 1000);
    // Call 2 starts 500 ms late; nothing planned before it is caught up, the rest follow it one interval apart.
    expect(at[2]).toBeCloseTo(36.5 + 500, 6);
    for (let k = 3; k < at.length; k++) expect(at[k] - at[k - 1]).toBeCloseTo(18.25, 6);
  });

  test("with timers late at random, no window holds more starts than the plan plus the catch-up allows", async () => {
    for (const seed of [1, 2, 3]) {
      const clock = new FakeClock();
      const s = spacer(clock, { intervalMs: 7.3, catchUpMs: 40 });
      const starts: number[] = [];
      let x = seed;
      const random = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      const done = burst(s, clock, 600, starts);
      await clock.run(() => (random() < 0.1 ? random() * 150 : random() * 2));
      await done;
      expect(starts).toHaveLength(600);
      for (const w of [10, 50, 200, 1000]) expect(maxIn(starts, w)).toBeLessThanOrEqual(Math.ceil((w + 40) / 7.3));
    }
  });

  test("the check above can fail: without the catch-up bound, a long stall bunches more starts", async () => {
    const clock = new FakeClock();
    const s = spacer(clock, { intervalMs: 7.3, catchUpMs: 1000 });
    const starts: number[] = [];
    const done = burst(s, clock, 200, starts);
    let n = 0;
    await clock.run(() => (++n === 5 ? 300 : 0));
    await done;
    expect(maxIn(starts, 10)).toBeGreaterThan(Math.ceil((10 + 40) / 7.3));
  });

  test("only calls in flight count against maxConcurrent; a waiting call does not hold a place", async () => {
    const clock = new FakeClock();
    const s = spacer(clock, { intervalMs: 10, maxConcurrent: 2 });
    const release: (() => void)[] = [];
    const starts: number[] = [];
    const calls = Array.from({ length: 4 }, () =>
      s.schedule({ priority: 5 }, () => new Promise<void>((r) => (starts.push(clock.now()), release.push(r)))),
    );
    await clock.run();
    expect(starts.map((t) => t - 1000)).toEqual([0, 10]);
    expect(s.running()).toBe(2);
    expect(s.queued()).toBe(2);
    clock.t += 200;
    release[0]();
    await clock.run();
    // The third starts as soon as the first is done (its planned time, 20, is too long past to catch up: the plan
    // restarts), the fourth waits for a place although its time has come.
    expect(starts.map((t) => t - 1000)).toEqual([0, 10, 210]);
    expect(clock.pending()).toBe(0);
    release[1]();
    await clock.run();
    expect(starts.map((t) => t - 1000)).toEqual([0, 10, 210, 220]);
    release[2]();
    release[3]();
    await Promise.all(calls);
  });

  test("a lower priority number goes first; failures reach their caller", async () => {
    const clock = new FakeClock();
    const s = spacer(clock, { maxConcurrent: 1 });
    const order: string[] = [];
    const first = s.schedule({ priority: 5 }, async () => void order.push("first"));
    const late = s.schedule({ priority: 5 }, async () => void order.push("new"));
    const moved = s.schedule({ priority: 4 }, async () => void order.push("moved"));
    const failing = s
      .schedule({ priority: 5 }, async () => {
        throw new Error("boom");
      })
      .catch((e: Error) => e.message);
    await clock.run();
    await Promise.all([first, late, moved]);
    expect(await failing).toBe("boom");
    expect(order).toEqual(["first", "moved", "new"]);
  });

  test("stop() drops waiting calls and resolves once the calls in flight settle", async () => {
    const clock = new FakeClock();
    const s = spacer(clock, { intervalMs: 1000 });
    let release!: () => void;
    const running = s.schedule({ priority: 5 }, () => new Promise<string>((r) => (release = () => r("ran"))));
    const waiting = s.schedule({ priority: 5 }, async () => "never").catch((e: Error) => e.message);
    await settle();
    let stopped = false;
    const stopping = s.stop({ dropWaitingJobs: true }).then(() => (stopped = true));
    expect(await waiting).toMatch(/stopped/);
    expect(clock.pending()).toBe(0);
    await settle();
    expect(stopped).toBe(false);
    release();
    await stopping;
    await expect(running).resolves.toBe("ran");
    await expect(s.schedule({ priority: 5 }, async () => 1)).rejects.toThrow(/stopped/);
  });
});
