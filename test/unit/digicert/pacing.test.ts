import { parseRateLimit, planBucket, sharedIntervalMs, limiterId, DEFAULT_WINDOWS, JITTER_MS, SHARED_JITTER_MS, type RateWindow } from "../../../src/digicert/pacing";
import { RollingLimiter } from "../../../src/simulator/faults";

describe("parseRateLimit", () => {
  test("parses several windows and units", () => {
    expect(parseRateLimit("1000/180s,100/5s")).toEqual(DEFAULT_WINDOWS);
    expect(parseRateLimit(" 10 / 500ms , 5/2m,1/1h ")).toEqual([
      { count: 10, windowMs: 500 },
      { count: 5, windowMs: 120_000 },
      { count: 1, windowMs: 3_600_000 },
    ]);
    expect(parseRateLimit("3/s")).toEqual([{ count: 3, windowMs: 1000 }]);
  });
  test.each(["", "100", "100/5", "100/5x", "0/5s", "-1/5s", "a/5s", "100/0s", "100/5s,", "1.5/5s"])(
    "refuses %p with a clear message",
    (spec) => {
      expect(() => parseRateLimit(spec)).toThrow(/count|window|empty|e\.g\./);
    },
  );
});

/**
 * Calls planned `intervalMs` apart reach a DigiCert that counts every window exactly (the simulator's limiter, on
 * whole-millisecond stamps as DigiCert's clock would give), each displaced by 0..displacementMs. The worst case
 * for a rolling window is every call before some point arriving as late as allowed and every call after it on
 * time: that packs W + displacement of the plan into one window. Returns how many calls DigiCert refused.
 */
function refusedWhenDisplaced(windows: RateWindow[], intervalMs: number, displacementMs: number): number {
  const longest = Math.max(...windows.map((w) => w.windowMs));
  const calls = Math.ceil((3 * longest) / intervalMs) + 10;
  let refused = 0;
  // Where the switch from late to on time falls, at several phases of the plan.
  const switches = [0, 1, 2, 3, 5, 8].map((k) => Math.floor(longest / intervalMs) + k);
  for (const at of switches) {
    const limiter = new RollingLimiter(windows);
    for (let k = 0; k < calls; k++) {
      const arrival = Math.floor(1000 + k * intervalMs + (k < at ? displacementMs : 0));
      if (!limiter.admit(arrival).ok) refused++;
    }
  }
  return refused;
}

const CASES: RateWindow[][] = [
  DEFAULT_WINDOWS,
  [{ count: 100, windowMs: 500 }, { count: 1000, windowMs: 18_000 }],
  [{ count: 5, windowMs: 1000 }],
  [{ count: 1, windowMs: 1000 }],
  [{ count: 2, windowMs: 1000 }],
  [{ count: 60, windowMs: 4000 }],
  [{ count: 3, windowMs: 300 }, { count: 6, windowMs: 2000 }],
  [{ count: 1300, windowMs: 3_600_000 }, { count: 100, windowMs: 10_000 }],
];

describe("planBucket", () => {
  test.each(CASES)("every window holds for %j, also with calls displaced by the jitter allowance", (...windows) => {
    for (const jitter of [0, JITTER_MS, JITTER_MS + SHARED_JITTER_MS]) {
      const plan = planBucket(windows, jitter);
      expect(plan.burst).toBe(0);
      for (const w of windows) expect(Math.ceil((w.windowMs + jitter) / plan.intervalMs)).toBeLessThanOrEqual(w.count);
      // The allowance less a millisecond (DigiCert's clock rounds the stamps down).
      expect(refusedWhenDisplaced(windows, plan.intervalMs, Math.max(0, jitter - 1))).toBe(0);
    }
  });

  test("the displacement check can fail: calls displaced past the allowance are refused", () => {
    const windows = [{ count: 100, windowMs: 500 }, { count: 1000, windowMs: 18_000 }];
    const plan = planBucket(windows);
    expect(refusedWhenDisplaced(windows, plan.intervalMs, JITTER_MS + 3 * plan.intervalMs)).toBeGreaterThan(0);
    // The old plan's whole milliseconds with no allowance for displacement: an exact 18 ms spacing.
    expect(refusedWhenDisplaced(windows, 18, 40)).toBeGreaterThan(0);
  });

  test("spacing is kept to the microsecond, not rounded up to whole milliseconds", () => {
    // The benchmark's limit (CertCentral's compressed ten times): 18 ms per call, plus 250 ms per 18 s window.
    expect(planBucket([{ count: 100, windowMs: 500 }, { count: 1000, windowMs: 18_000 }]).intervalMs).toBe(18.25);
    // No allowance but the 1 % of the window: 1010 / 3, rounded up to the microsecond.
    expect(planBucket([{ count: 3, windowMs: 1000 }], 0).intervalMs).toBe(336.667);
    expect(planBucket([{ count: 100_000, windowMs: 1000 }]).intervalMs).toBe(0.013);
  });

  test("the margin is time (the jitter allowance), at least 1 % of a long window", () => {
    // CertCentral's 1,000 per 3 min binds: 1 % of it (1.8 s) is more than 250 ms.
    const plan = planBucket(DEFAULT_WINDOWS);
    expect(plan.intervalMs).toBeCloseTo(181.8, 6);
    expect(180_000 / plan.intervalMs / 1000).toBeGreaterThan(0.99);
    // A short window pays the whole allowance: 60 per 4 s → (4000 + 250) / 60.
    expect(planBucket([{ count: 60, windowMs: 4000 }]).intervalMs).toBe(70.834);
    expect(planBucket([{ count: 60, windowMs: 4000 }], JITTER_MS + SHARED_JITTER_MS).intervalMs).toBe(75);
  });

  test("the compressed benchmark limit plans at over 0.98 of the limit locally and 0.97 shared", () => {
    const windows = [{ count: 100, windowMs: 500 }, { count: 1000, windowMs: 18_000 }];
    expect(18 / planBucket(windows).intervalMs).toBeGreaterThan(0.98);
    expect(18 / planBucket(windows, JITTER_MS + SHARED_JITTER_MS).intervalMs).toBeGreaterThan(0.97);
  });

  test("the Redis-shared spacing is whole milliseconds (Bottleneck's PEXPIRE takes no fractions)", () => {
    expect(sharedIntervalMs([{ count: 100, windowMs: 500 }, { count: 1000, windowMs: 18_000 }])).toBe(19);
    expect(sharedIntervalMs(DEFAULT_WINDOWS)).toBe(182);
    expect(sharedIntervalMs([{ count: 60, windowMs: 4000 }])).toBe(75);
    expect(sharedIntervalMs([{ count: 100_000, windowMs: 1000 }])).toBe(1);
  });
});

test("limiterId hashes the key and never contains it", () => {
  const id = limiterId("super-secret-key");
  expect(id).not.toContain("super-secret-key");
  expect(id).toMatch(/^digicert-[0-9a-f]{32}$/);
  expect(limiterId("super-secret-key")).toBe(id);
  expect(limiterId("other")).not.toBe(id);
});
