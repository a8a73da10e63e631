import { OutboxWorker } from "../../../src/provisioning/outbox-worker";
import type { Logger } from "../../../src/log/logger";
import type { OutboxJob, OutboxStats } from "../../../src/provisioning/records";
import type { OutboxRepository } from "../../../src/provisioning/ports";

// A request waits up to SYNC_WAIT_MS for its DigiCert job, unless the outbox is so deep that the job cannot run
// before then at DigiCert's rate budget: then it is answered at once, still pending.

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

function worker(unfinished: number, ratePerSecond: number, status: OutboxJob["status"] = "pending") {
  const gets: number[][] = [];
  const outbox = {
    stats: async (): Promise<OutboxStats> => ({ pending: unfinished, running: 0, failed: 0, oldestUnfinished: null }),
    doneSince: async () => 0,
    get: async (ids: number[]) => {
      gets.push(ids);
      return ids.map((id) => job(id, status));
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
    nominalRatePerSecond: ratePerSecond,
  });
  return { w, gets };
}

describe("waiting for a job behind the outbox", () => {
  test("more unfinished jobs than the rate budget runs before the deadline: pending at once, without waiting", async () => {
    // 5.4 jobs/s (CertCentral's 1,000 per 3 min at 97 %) for 5 s is 27 jobs; 100 are queued.
    const { w, gets } = worker(100, 5.4);
    const started = Date.now();
    await expect(w.waitFor([7], 5000)).resolves.toEqual({ status: "pending" });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(gets).toEqual([]);
  });

  test("a short queue: the request waits for its job as before", async () => {
    const { w, gets } = worker(10, 100);
    const started = Date.now();
    await expect(w.waitFor([7], 300)).resolves.toEqual({ status: "pending" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(gets.length).toBeGreaterThan(1);
  });

  test("a short queue and the job already done: done", async () => {
    const { w } = worker(1, 100, "done");
    await expect(w.waitFor([7], 5000)).resolves.toEqual({ status: "done" });
  });
});
