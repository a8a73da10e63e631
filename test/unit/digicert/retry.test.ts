import { DigiCertError } from "../../../src/digicert/errors";
import { isIdempotent, retryCause, retryDelayMs, RetryTiming } from "../../../src/digicert/retry";
import { CircuitBreaker, CircuitSnapshot } from "../../../src/digicert/circuit";

const err = (kind: any, status?: number, retryAfterSeconds?: number) => new DigiCertError(kind, "x", { status, retryAfterSeconds });

describe("retry policy", () => {
  test("only GET, PUT and DELETE are retried automatically", () => {
    expect(["GET", "PUT", "DELETE", "POST"].filter((m) => isIdempotent(m as any))).toEqual(["GET", "PUT", "DELETE"]);
  });

  test.each([
    [err("rate_limited", 429), { reason: "429", rateLimited: true }],
    [err("rate_limited", 429, 7), { reason: "429", rateLimited: true, retryAfterMs: 7000 }],
    [err("unavailable", 503, 2), { reason: "503", rateLimited: false, retryAfterMs: 2000 }],
    [err("unavailable", 503), { reason: "503", rateLimited: false }],
    [err("unavailable", 500), { reason: "500", rateLimited: false }],
    [err("unavailable", 408), { reason: "408", rateLimited: false }],
  ])("%s is retried", (e, cause) => {
    expect(retryCause(e, undefined)).toEqual({ retryAfterMs: undefined, ...cause });
  });

  test.each([400, 401, 403, 404, 409, 413, 422])("%i is never retried", (status) => {
    expect(retryCause(err("validation", status), undefined)).toBeUndefined();
  });

  test("transport failures: resets, refusals and timeouts are retried; DNS misses, pacing give-ups and non-DigiCert errors are not", () => {
    for (const t of ["timeout", "connection reset", "connection refused", "DNS lookup failed (temporary)"]) {
      expect(retryCause(err("unavailable"), t)).toEqual({ reason: t, rateLimited: false });
    }
    expect(retryCause(err("unavailable"), "DNS lookup failed")).toBeUndefined();
    expect(retryCause(err("unavailable"), "cancelled")).toBeUndefined();
    expect(retryCause(err("unavailable", undefined, 10), undefined)).toBeUndefined(); // pacing give-up
    expect(retryCause(new Error("boom"), "timeout")).toBeUndefined();
  });

  const timing = (r: number): RetryTiming => ({ baseDelayMs: 250, rateLimitBackoffMs: 5000, random: () => r });

  test("Retry-After wins, whatever the retry number", () => {
    expect(retryDelayMs({ reason: "503", rateLimited: false, retryAfterMs: 3000 }, 3, timing(0.5))).toBe(3000);
    expect(retryDelayMs({ reason: "429", rateLimited: true, retryAfterMs: 0 }, 1, timing(0.5))).toBe(0);
  });

  test("transient failures: full jitter in [0, 250·2^(n-1)]", () => {
    const c = { reason: "502", rateLimited: false };
    expect([1, 2, 3, 4].map((n) => retryDelayMs(c, n, timing(0.999999)))).toEqual([250, 500, 1000, 2000]);
    expect([1, 2, 3].map((n) => retryDelayMs(c, n, timing(0)))).toEqual([0, 0, 0]);
    expect(retryDelayMs(c, 2, timing(0.5))).toBe(250);
  });

  test("429 without Retry-After: at least 5 s, doubling, at most 20 % jitter on top", () => {
    const c = { reason: "429", rateLimited: true };
    expect([1, 2, 3].map((n) => retryDelayMs(c, n, timing(0)))).toEqual([5000, 10000, 20000]);
    expect(retryDelayMs(c, 1, timing(0.999999))).toBe(6000);
  });
});

describe("circuit breaker", () => {
  function make(threshold = 3, cooldownMs = 1000) {
    let now = Date.parse("2025-01-01T00:00:00Z");
    const changes: CircuitSnapshot[] = [];
    const b = new CircuitBreaker({ threshold, cooldownMs, now: () => now, onChange: (c) => changes.push(c) });
    const call = (outcome: "success" | "failure" | "neutral") => b.record(b.admit(), outcome);
    return { b, call, changes, tick: (ms: number) => (now += ms) };
  }

  test("opens after the threshold of consecutive failures and fails fast until the cool-down ends", () => {
    const { b, call, changes, tick } = make();
    call("failure");
    call("failure");
    expect(b.snapshot()).toEqual({ state: "closed", consecutiveFailures: 2 });
    call("failure");
    expect(b.snapshot()).toEqual({ state: "open", openUntil: "2025-01-01T00:00:01.000Z", consecutiveFailures: 3 });
    expect(changes.map((c) => c.state)).toEqual(["open"]);
    tick(400);
    let thrown: any;
    try {
      b.admit();
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(DigiCertError);
    expect(thrown.kind).toBe("unavailable");
    expect(thrown.message).toBe("DigiCert circuit open after repeated failures; retrying at 2025-01-01T00:00:01.000Z");
    expect(thrown.retryAfterSeconds).toBe(1);
  });

  test("successes and neutral outcomes: success resets, neutral leaves the count", () => {
    const { b, call } = make();
    call("failure");
    call("failure");
    call("neutral");
    expect(b.snapshot().consecutiveFailures).toBe(2);
    call("success");
    call("failure");
    call("failure");
    expect(b.snapshot()).toEqual({ state: "closed", consecutiveFailures: 2 });
  });

  test("half-open: one trial; success closes, failure re-opens, neutral frees the slot", () => {
    const { b, call, tick, changes } = make(2, 1000);
    call("failure");
    call("failure");
    tick(1000);
    expect(b.snapshot().state).toBe("half-open");
    const trial = b.admit();
    expect(trial).toBe(true);
    expect(() => b.admit()).toThrow(/circuit open/);
    b.record(trial, "neutral");
    const second = b.admit();
    b.record(second, "failure");
    expect(b.snapshot()).toMatchObject({ state: "open", consecutiveFailures: 3 });
    tick(999);
    expect(() => b.admit()).toThrow(/circuit open/);
    tick(1);
    b.record(b.admit(), "success");
    expect(b.snapshot()).toEqual({ state: "closed", consecutiveFailures: 0 });
    expect(changes.map((c) => c.state)).toEqual(["open", "half-open", "open", "half-open", "closed"]);
  });

  test("late results of calls admitted before the circuit opened are ignored", () => {
    const { b, call } = make(1);
    const early = b.admit();
    call("failure");
    b.record(early, "success");
    expect(b.snapshot().state).toBe("open");
  });

  test("threshold 0 never opens", () => {
    const { b, call } = make(0);
    for (let i = 0; i < 20; i++) call("failure");
    expect(b.snapshot()).toEqual({ state: "closed", consecutiveFailures: 20 });
  });
});
