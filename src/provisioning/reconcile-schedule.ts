// Scheduled reconciliation (RECONCILE_INTERVAL): report only, one replica at a time. Every replica looks now and
// then; the one that takes the store's lease runs, the others see it taken (or the last run too recent) and wait.
// The lease lives in the store, so it works the same on SQLite and across PostgreSQL replicas, and a replica that
// dies mid-run loses it when it runs out.
import { randomUUID } from "node:crypto";
import type { Logger } from "../log/logger";
import type { ReconcileRepository } from "./ports";
import { ReconcileAbortedError, type ReconcileReport } from "./reconcile";

export const RECONCILE_LEASE = "schedule";

export interface ReconcileScheduleOptions {
  repo: Pick<ReconcileRepository, "tryLease" | "renewLease" | "releaseLease" | "purgeBefore">;
  /** Runs one report-only reconciliation (saving its report); aborts when the signal does. */
  run: (signal: AbortSignal) => Promise<ReconcileReport>;
  intervalMs: number;
  logger: Logger;
  /** How often a replica looks whether a run is due; default min(intervalMs, 60 s). */
  checkEveryMs?: number;
  /** How long the lease holds without renewal (renewed every third of it during a run); default 5 minutes. */
  leaseMs?: number;
  /** Reports older than this are forgotten after a run (the newest is always kept); default 30 days. */
  keepReportsMs?: number;
  owner?: string;
}

export class ReconcileSchedule {
  readonly owner: string;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private abort = new AbortController();
  private stopped = true;

  constructor(private readonly opts: ReconcileScheduleOptions) {
    this.owner = opts.owner ?? `reconcile-${randomUUID()}`;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.abort = new AbortController();
    // A first look soon after start (spread a little so replicas started together do not all ask at once).
    this.schedule(Math.min(this.checkEveryMs, 1000 + Math.floor(Math.random() * 1000)));
  }

  /** Stops looking; a run in progress is aborted and its lease released. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.abort.abort();
    await this.running?.catch(() => undefined);
  }

  /** Runs now if this replica gets the lease and a run is due; true when it ran. For tests and the timer. */
  async tick(): Promise<boolean> {
    if (this.running) return false;
    let ran = false;
    this.running = (async () => {
      const { repo, logger } = this.opts;
      const leaseMs = this.opts.leaseMs ?? 5 * 60_000;
      let taken: boolean;
      try {
        taken = await repo.tryLease(RECONCILE_LEASE, this.owner, leaseMs, this.opts.intervalMs);
      } catch (err) {
        logger.warn("scheduled reconcile: cannot read the lease", { error: (err as Error).message });
        return;
      }
      if (!taken) return;
      ran = true;
      const renew = setInterval(() => {
        repo.renewLease(RECONCILE_LEASE, this.owner, leaseMs).then(
          (held) => {
            if (!held) logger.warn("scheduled reconcile: lost its lease; another replica may start a run");
          },
          (err) => logger.warn("scheduled reconcile: cannot renew the lease", { error: (err as Error).message }),
        );
      }, Math.max(250, Math.floor(leaseMs / 3)));
      renew.unref();
      try {
        await this.opts.run(this.abort.signal);
        const keepMs = this.opts.keepReportsMs ?? 30 * 86_400_000;
        await repo.purgeBefore(new Date(Date.now() - keepMs).toISOString()).catch(() => undefined);
      } catch (err) {
        if (err instanceof ReconcileAbortedError) logger.info("scheduled reconcile stopped by shutdown");
        else logger.error("scheduled reconcile failed", { error: (err as Error).message });
      } finally {
        clearInterval(renew);
        await repo.releaseLease(RECONCILE_LEASE, this.owner).catch(() => undefined);
      }
    })();
    try {
      await this.running;
    } finally {
      this.running = null;
    }
    return ran;
  }

  private get checkEveryMs(): number {
    return this.opts.checkEveryMs ?? Math.min(this.opts.intervalMs, 60_000);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.tick().finally(() => this.schedule(this.checkEveryMs));
    }, ms);
    this.timer.unref();
  }
}
