import { parseRateLimit, planBucket, limiterId, DEFAULT_WINDOWS } from "../../../src/digicert/pacing";

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

/** Worst case of a token bucket: full bucket plus every refill inside the window. */
function worstCase(plan: { intervalMs: number; burst: number }, windowMs: number): number {
  return plan.burst === 0 ? Math.ceil(windowMs / plan.intervalMs) : plan.burst + Math.ceil(windowMs / plan.intervalMs);
}

describe("planBucket", () => {
  test.each([
    [DEFAULT_WINDOWS],
    [[{ count: 5, windowMs: 1000 }]],
    [[{ count: 1, windowMs: 1000 }]],
    [[{ count: 2, windowMs: 1000 }]],
    [[{ count: 3, windowMs: 300 }, { count: 6, windowMs: 2000 }]],
    [[{ count: 1300, windowMs: 3_600_000 }, { count: 100, windowMs: 10_000 }]],
  ])("every window holds for %j", (windows) => {
    const plan = planBucket(windows);
    for (const w of windows) expect(worstCase(plan, w.windowMs)).toBeLessThanOrEqual(w.count);
  });
  test("the DigiCert defaults pace at over 95% of the strictest window (1000 per 3 min)", () => {
    const plan = planBucket(DEFAULT_WINDOWS);
    expect(plan.burst).toBe(0);
    expect((180_000 / plan.intervalMs) / 1000).toBeGreaterThan(0.95);
    expect(Math.ceil(180_000 / plan.intervalMs)).toBeLessThanOrEqual(1000);
  });
});

test("limiterId hashes the key and never contains it", () => {
  const id = limiterId("super-secret-key");
  expect(id).not.toContain("super-secret-key");
  expect(id).toMatch(/^digicert-[0-9a-f]{32}$/);
  expect(limiterId("super-secret-key")).toBe(id);
  expect(limiterId("other")).not.toBe(id);
});
