// Runs outbox jobs: claims runnable ones under a lease, runs up to `concurrency` at once (the DigiCert pacer then
// spaces their calls), retries what DigiCert may accept later with backoff, and tells waiting requests how their
// job ended. Any number of workers (replicas) can share one outbox.
import { randomUUID } from "node:crypto";
import type { Logger } from "../log/logger";
import type { JobError, OutboxJob, OutboxStats } from "./records";
import type { OutboxRepository } from "./ports";
import { jobFailureCode } from "./job-failure-codes";
import { jobErrorOf, verdictOf } from "./job-errors";

export interface OutboxWorkerOptions {
  outbox: OutboxRepository;
  /**
   * Carries out one job; throws to fail it (see job-errors.ts for what is retried). `signal` aborts when the worker
   * is killed (crash()): the run must then record nothing more.
   */
  run: (job: OutboxJob, signal: AbortSignal) => Promise<void>;
  logger: Logger;
  /** Jobs run at once by this worker. */
  concurrency: number;
  /** Tries of one job before it is failed (each try may itself retry single DigiCert calls). */
  maxAttempts: number;
  /** First backoff after a failed try; doubles each try, with jitter, up to maxBackoffMs. */
  baseBackoffMs: number;
  maxBackoffMs: number;
  /** How long a claimed job stays ours without renewal; a dead worker's jobs are taken over after it. */
  leaseMs: number;
  /** Poll interval while idle (a local enqueue wakes the worker at once). */
  pollMs: number;
  /**
   * The most jobs per second DigiCert's rate budget lets finish (each job makes at least one call): the drain rate
   * while none is measured.
   */
  nominalRatePerSecond: number;
  /**
   * SYNC_WAIT_QUEUE_MS: how long a write may wait behind other jobs. When the jobs ahead of it would take longer at
   * the drain rate, it is answered at once (pending) instead of waiting; 0 = wait only with nothing ahead.
   */
  queueWaitMs: number;
  owner?: string;
  /** Called after each job ends, for metrics. */
  onJobEnd?: (job: OutboxJob, outcome: "done" | "retry" | "failed", ms: number) => void;
}

export type JobOutcome =
  | { status: "done" }
  | { status: "failed"; error: JobError }
  /** Not finished when the wait ended: it will complete later. */
  | { status: "pending" };

interface Waiter {
  ids: Set<number>;
  resolve: () => void;
}

const STATS_TTL_MS = 1000;
/** The drain rate is measured over the last RATE_WINDOW_MS, or since start when that is shorter. */
const RATE_WINDOW_MS = 30_000;
/** Before this much observation, the nominal rate is a better guess than a count of a few jobs. */
const MIN_OBSERVATION_MS = 5_000;

/** How long `ahead` jobs take to drain at `perSecond`; unbounded when nothing drains. */
export function queueDelayMs(ahead: number, perSecond: number): number {
  return perSecond > 0 ? (ahead / perSecond) * 1000 : Infinity;
}

/**
 * The drain rate to plan with. Jobs finished per second measure DigiCert's pace only while jobs queue up; on a
 * quiet outbox they measure how few writes arrived, and the budget's rate is the better bound.
 */
export function drainRate(observedPerSecond: number, nominalPerSecond: number, backlogged: boolean): number {
  if (backlogged && observedPerSecond > 0) return observedPerSecond;
  return Math.max(observedPerSecond, nominalPerSecond);
}

export class OutboxWorker {
  readonly owner: string;
  private readonly running = new Map<number, Promise<void>>();
  private readonly waiters = new Set<Waiter>();
  private timer: NodeJS.Timeout | null = null;
  private renewTimer: NodeJS.Timeout | null = null;
  private ticking = false;
  private again = false;
  private stopped = true;
  /** Set by crash(): in-flight jobs finish their DigiCert calls but record nothing, like a killed process. */
  private dead = false;
  private abort = new AbortController();
  private statsCache: { at: number; value: OutboxStats & { drainPerSecond: number } } | null = null;
  private readonly createdAt = Date.now();

  constructor(private readonly opts: OutboxWorkerOptions) {
    this.owner = opts.owner ?? `worker-${randomUUID()}`;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.dead = false;
    this.abort = new AbortController();
    this.renewTimer = setInterval(() => this.renewLeases(), Math.max(250, Math.floor(this.opts.leaseMs / 3)));
    this.renewTimer.unref();
    this.kick();
  }

  /** Looks for work now (called after an enqueue). */
  kick(): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    void this.tick();
  }

  /**
   * Waits up to `timeoutMs` for the jobs to finish (here or on another replica) and says how each ended. Failed
   * wins over pending: a request whose job DigiCert refused must hear it.
   */
  async waitFor(ids: number[], timeoutMs: number): Promise<JobOutcome> {
    if (!ids.length) return { status: "done" };
    // Behind a queue that would not drain soon, the answer could only be "pending" after a long wait: give it now,
    // so a burst is answered at the store's pace while a lone write still hears DigiCert's result. Behind a short
    // queue it waits no longer than the allowance: the estimate may be off (a job can cost several calls).
    const plan = await this.planWait(ids, timeoutMs);
    if (plan === "answer-now") return { status: "pending" };
    const deadline = Date.now() + plan;
    for (;;) {
      const jobs = await this.opts.outbox.get(ids);
      const failed = jobs.find((j) => j.status === "failed");
      if (failed) return { status: "failed", error: failed.error ?? { cause: { source: "internal" }, message: "job failed" } };
      if (jobs.every((j) => j.status !== "pending" && j.status !== "running")) return { status: "done" };
      const left = deadline - Date.now();
      if (left <= 0) return { status: "pending" };
      // Woken by a local finish; polling covers jobs another replica runs.
      await new Promise<void>((resolve) => {
        const waiter: Waiter = { ids: new Set(ids), resolve: () => undefined };
        const timer = setTimeout(() => done(), Math.min(left, 200));
        const done = () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve();
        };
        waiter.resolve = done;
        this.waiters.add(waiter);
      });
    }
  }

  /**
   * How long to wait for these jobs: "answer-now" when the jobs ahead of them (all replicas', runnable now) would
   * take longer than the queue allowance (queueWaitMs, at most `timeoutMs`) at the measured drain rate; else the
   * whole `timeoutMs` with nothing ahead, the allowance behind others. When the store cannot say, `timeoutMs`.
   */
  private async planWait(ids: number[], timeoutMs: number): Promise<number | "answer-now"> {
    if (timeoutMs <= 0) return timeoutMs;
    try {
      const ahead = await this.opts.outbox.countAhead(Math.min(...ids));
      if (ahead === 0) return timeoutMs;
      const allowance = Math.min(timeoutMs, this.opts.queueWaitMs);
      const { drainPerSecond } = await this.stats();
      return queueDelayMs(ahead, drainPerSecond) > allowance ? "answer-now" : allowance;
    } catch {
      return timeoutMs;
    }
  }

  /** Outbox depth and drain rate, cached for a second (back-pressure asks on every write). */
  async stats(): Promise<OutboxStats & { drainPerSecond: number }> {
    const now = Date.now();
    if (this.statsCache && now - this.statsCache.at < STATS_TTL_MS) return this.statsCache.value;
    const span = Math.min(RATE_WINDOW_MS, now - this.createdAt);
    const [stats, done] = await Promise.all([
      this.opts.outbox.stats(),
      this.opts.outbox.doneSince(new Date(now - span).toISOString()),
    ]);
    const observed = span >= MIN_OBSERVATION_MS && done > 0 ? done / (span / 1000) : 0;
    const backlogged = stats.pending + stats.running > this.opts.concurrency;
    const value = { ...stats, drainPerSecond: drainRate(observed, this.opts.nominalRatePerSecond, backlogged) };
    this.statsCache = { at: now, value };
    return value;
  }

  /** Jobs this worker is running now. */
  get inFlight(): number {
    return this.running.size;
  }

  /**
   * Stops claiming, lets running jobs finish for up to `graceMs`, then hands back whatever is still running so
   * another worker (or this one after a restart) takes it over at once. Nothing pending is lost: it stays stored.
   */
  async stop(graceMs: number): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.timer = this.renewTimer = null;
    const all = Promise.allSettled([...this.running.values()]);
    await Promise.race([all, new Promise((r) => setTimeout(r, graceMs).unref())]);
    if (this.running.size) {
      const released = await this.opts.outbox.release(this.owner).catch(() => 0);
      this.opts.logger.warn("stopped with DigiCert jobs still running; handed back for a later run", { jobs: released });
    }
  }

  /** Test hook: stops as a killed process would, leaving running jobs leased and recording nothing more. */
  crash(): void {
    this.dead = true;
    this.abort.abort();
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.timer = this.renewTimer = null;
  }

  // ---------------------------------------------------------------------------------------------------------

  private async tick(): Promise<void> {
    this.ticking = true;
    let claimed = 0;
    try {
      do {
        this.again = false;
        const free = this.opts.concurrency - this.running.size;
        if (free <= 0 || this.stopped) break;
        const jobs = await this.opts.outbox.claim(this.owner, free, this.opts.leaseMs);
        claimed = jobs.length;
        for (const job of jobs) this.launch(job);
      } while ((this.again || claimed > 0) && !this.stopped);
    } catch (err) {
      this.opts.logger.error("could not claim DigiCert jobs from the outbox", { error: (err as Error).message });
    } finally {
      this.ticking = false;
      this.schedule();
    }
  }

  private schedule(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.tick();
    }, this.opts.pollMs);
    this.timer.unref();
  }

  private launch(job: OutboxJob): void {
    const started = Date.now();
    const p = this.execute(job, started).finally(() => {
      this.running.delete(job.id);
      this.notify(job.id);
      // A slot is free and this user's next job may now be runnable.
      this.kick();
    });
    this.running.set(job.id, p);
  }

  private async execute(job: OutboxJob, started: number): Promise<void> {
    const { outbox, logger } = this.opts;
    let err: unknown = null;
    try {
      await this.opts.run(job, this.abort.signal);
    } catch (e) {
      err = e;
    }
    if (this.dead) return;
    try {
      if (err === null) {
        if (!(await outbox.complete(job.id, this.owner))) logger.warn("lost the lease of a DigiCert job before it finished", { job: job.id });
        this.opts.onJobEnd?.(job, "done", Date.now() - started);
        return;
      }
      const error = jobErrorOf(err);
      const verdict = verdictOf(err);
      const context = { job: job.id, kind: job.kind, userId: job.userId, userName: job.payload.userName, attempt: job.attempts, error: error.message };
      if (verdict.retry && (job.attempts < this.opts.maxAttempts || !verdict.countAttempt || verdict.persist)) {
        const delay = verdict.afterMs ?? this.backoff(job.attempts);
        await outbox.reschedule(job.id, this.owner, new Date(Date.now() + delay).toISOString(), error, verdict.countAttempt);
        // Past its attempts only a job that must not give up (removing access) is still retried: say so louder.
        const overdue = job.attempts >= this.opts.maxAttempts && verdict.countAttempt;
        if (overdue) logger.error("DigiCert job still failing; retried until it succeeds", { ...context, retryInMs: delay });
        else logger.warn("DigiCert job will be retried", { ...context, retryInMs: delay });
        this.opts.onJobEnd?.(job, "retry", Date.now() - started);
        return;
      }
      await outbox.fail(job.id, this.owner, error);
      logger.error("DigiCert job failed", { ...context, errorKind: jobFailureCode(error.cause) });
      this.opts.onJobEnd?.(job, "failed", Date.now() - started);
    } catch (storeErr) {
      // The store is unreachable: the lease runs out and the job is taken over later.
      logger.error("could not record the end of a DigiCert job", { job: job.id, error: (storeErr as Error).message });
    }
  }

  /** Exponential backoff with full jitter in [half, whole], so retries of many jobs do not arrive together. */
  private backoff(attempt: number): number {
    const exp = Math.min(this.opts.maxBackoffMs, this.opts.baseBackoffMs * 2 ** Math.max(0, attempt - 1));
    return Math.round(exp / 2 + Math.random() * (exp / 2));
  }

  private notify(id: number): void {
    for (const w of this.waiters) if (w.ids.has(id)) w.resolve();
  }

  private renewLeases(): void {
    if (!this.running.size || this.dead) return;
    this.opts.outbox
      .renew([...this.running.keys()], this.owner, this.opts.leaseMs)
      .catch((err) => this.opts.logger.warn("could not renew DigiCert job leases", { error: (err as Error).message }));
  }
}
