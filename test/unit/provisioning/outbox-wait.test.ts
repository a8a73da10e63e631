import { drainRate, OutboxWorker, queueDelayMs } from "../../../src/provisioning/outbox-worker";
import type { Logger } from "../../../src/log/logger";
import type { OutboxJob, OutboxStats } from "../../../src/provisioning/records";
import type { OutboxRepository } from "../../../src/provisioning/ports";

// A request waits up to SYNC_WAIT_MS for its DigiCert job when the jobs ahead of it drain within the queue
// allowance (SYNC_WAIT_QUEUE_MS) at the measured drain rate; behind a longer queue it is answered at once, pending.

function job(id: number, status: OutboxJob["status"]): OutboxJob {
  const now = new Date().toISOString();
  return {
    id,
    userId: `u${id}`,
    kind: "create",
    payload: { userName: `u${id}@example.com` },
    status,
    attempts: 0,
    runAfter: now,
    leaseOwner: null,
    leaseUntil: null,
    error: null,
    created: now,
    updated: now,
    finished: null,
  } as OutboxJob;
}

interface Setup {
  /** Runnable jobs queued before the one waited for. */
  ahead: number;
  /** Unfinished jobs in all (decides whether the outbox counts as backlogged). */
  unfinished?: number;
  /** Jobs done in the measurement window. */
  done?: number;
  nominalRatePerSecond: number;
  queueWaitMs?: number;
  status?: OutboxJob["status"];
  /** Age of the worker, so the drain can be measured (it needs 5 s of observation). */
  ageMs?: number;
}

function worker(s: Setup) {
  const gets: number[][] = [];
  const aheadOf: number[] = [];
  const outbox = {
    stats: async (): Promise<OutboxStats> => ({ pending: s.unfinished ?? s.ahead, running: 0, failed: 0, oldestUnfinished: null }),
    doneSince: async () => s.done ?? 0,
    countAhead: async (id: number) => {
      aheadOf.push(id);
      return s.ahead;
    },
    get: async (ids: number[]) => {
      gets.push(ids);
      return ids.map((id) => job(id, s.status ?? "pending"));
    },
  } as unknown as OutboxRepository;
  const logger = { info() {}, warn() {}, error() {}, debug() {} } as unknown as Logger;
  const w = new OutboxWorker({
    outbox,
    run: async () => undefined,
    logger,
    concurrency: 8,
    maxAttempts: 3,
    baseBackoffMs: 100,
    maxBackoffMs: 1000,
    leaseMs: 60_000,
    pollMs: 500,
    nominalRatePerSecond: s.nominalRatePerSecond,
    queueWaitMs: s.queueWaitMs ?? 1000,
  });
  if (s.ageMs) (w as unknown as { createdAt: number }).createdAt = Date.now() - s.ageMs;
  return { w, gets, aheadOf };
}

describe("waiting for a job behind the outbox", () => {
  test("nothing ahead: the request waits for its job, however slow the budget", async () => {
    const { w, gets } = worker({ ahead: 0, nominalRatePerSecond: 0.01 });
    const started = Date.now();
    await expect(w.waitFor([7], 300)).resolves.toEqual({ status: "pending" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(gets.length).toBeGreaterThan(1);
  });

  test("nothing ahead and the job done: DigiCert's result", async () => {
    const { w } = worker({ ahead: 0, nominalRatePerSecond: 5.6, status: "done" });
    await expect(w.waitFor([7], 5000)).resolves.toEqual({ status: "done" });
  });

  test("a job DigiCert refused: failed, not pending", async () => {
    const { w } = worker({ ahead: 2, nominalRatePerSecond: 100, status: "failed" });
    await expect(w.waitFor([7], 5000)).resolves.toMatchObject({ status: "failed" });
  });

  test("ahead of it, more than the queue allowance drains: pending at once, the job not even read", async () => {
    // CertCentral's 1,000 per 3 min is 5.6 jobs/s at most: 10 jobs ahead take 1.8 s, past the 1 s allowance.
    const { w, gets, aheadOf } = worker({ ahead: 10, nominalRatePerSecond: 5.6 });
    const started = Date.now();
    await expect(w.waitFor([9, 7, 8], 5000)).resolves.toEqual({ status: "pending" });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(gets).toEqual([]);
    // Counted from the first of the request's jobs.
    expect(aheadOf).toEqual([7]);
  });

  test("a short queue that drains within the allowance: the request waits", async () => {
    // 4 jobs ahead at 5.6/s: 0.7 s, within the 1 s allowance and the request's 0.9 s.
    const { w, gets } = worker({ ahead: 4, nominalRatePerSecond: 5.6 });
    const started = Date.now();
    await expect(w.waitFor([7], 900)).resolves.toEqual({ status: "pending" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(890);
    expect(gets.length).toBeGreaterThan(1);
  });

  test("behind a short queue the wait ends with the allowance, not SYNC_WAIT_MS", async () => {
    // 1 job ahead at 100/s drains in 10 ms, within 300 ms; the job is still pending after 300 ms: answered pending.
    const { w, gets } = worker({ ahead: 1, nominalRatePerSecond: 100, queueWaitMs: 300 });
    const started = Date.now();
    await expect(w.waitFor([7], 5000)).resolves.toEqual({ status: "pending" });
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(4000);
    expect(gets.length).toBeGreaterThan(1);
  });

  test("the allowance is never longer than the request's own wait", async () => {
    // 4 jobs ahead drain in 0.7 s: within a 1 s allowance, not within a 500 ms wait.
    const { w, gets } = worker({ ahead: 4, nominalRatePerSecond: 5.6 });
    await expect(w.waitFor([7], 500)).resolves.toEqual({ status: "pending" });
    expect(gets).toEqual([]);
  });

  test("SYNC_WAIT_QUEUE_MS=0: a request waits only with nothing ahead", async () => {
    const { w, gets } = worker({ ahead: 1, nominalRatePerSecond: 1000, queueWaitMs: 0 });
    await expect(w.waitFor([7], 5000)).resolves.toEqual({ status: "pending" });
    expect(gets).toEqual([]);
  });

  test("a backlogged outbox plans with the measured drain, not the budget", async () => {
    // The budget would drain 4 jobs in 0.4 s; measured, 30 jobs done in 30 s (1/s) while 40 are queued: 4 s.
    const measured = worker({ ahead: 4, unfinished: 40, done: 30, nominalRatePerSecond: 10, ageMs: 60_000 });
    await expect(measured.w.waitFor([7], 5000)).resolves.toEqual({ status: "pending" });
    expect(measured.gets).toEqual([]);
    await expect(measured.w.stats()).resolves.toMatchObject({ drainPerSecond: 1 });
  });

  test("SYNC_WAIT_MS=0 never waits and never asks the queue", async () => {
    const { w, aheadOf } = worker({ ahead: 100, nominalRatePerSecond: 5.6 });
    await expect(w.waitFor([7], 0)).resolves.toEqual({ status: "pending" });
    expect(aheadOf).toEqual([]);
  });
});

describe("the drain rate to plan with", () => {
  test("backlogged: what was measured, even below the budget", () => {
    expect(drainRate(2.8, 5.6, true)).toBe(2.8);
  });
  test("quiet: the budget, since few finished jobs mean few writes, not a slow DigiCert", () => {
    expect(drainRate(0.2, 5.6, false)).toBe(5.6);
    expect(drainRate(9, 5.6, false)).toBe(9);
  });
  test("nothing measured yet: the budget", () => {
    expect(drainRate(0, 5.6, true)).toBe(5.6);
  });
  test("queue delay", () => {
    expect(queueDelayMs(11, 5.5)).toBe(2000);
    expect(queueDelayMs(1, 0)).toBe(Infinity);
  });
});
