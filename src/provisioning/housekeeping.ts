// Hourly purges of what the store keeps only for a while: Idempotency-Key answers, finished outbox jobs, and audit
// entries past AUDIT_RETENTION_DAYS. Each replica runs it; the deletes are idempotent.
import type { Logger } from "../log/logger";
import type { AuditRepository, IdempotencyRepository, OutboxRepository } from "./ports";
import { purgeAudit } from "./audit";

const HOUR_MS = 60 * 60 * 1000;
/** Idempotency keys answer retries of the same request, not replays days later. */
const IDEMPOTENCY_TTL_MS = 24 * HOUR_MS;
/** Finished outbox jobs are kept a week, for looking into what happened; failed ones stay until retried. */
const FINISHED_JOB_TTL_MS = 7 * 24 * HOUR_MS;

export interface HousekeepingDeps {
  /** Absent for a fan-out tenant's other targets: they share the tenant's keys and trail, and purge only their outbox. */
  idempotency?: IdempotencyRepository;
  outbox: OutboxRepository;
  audit?: AuditRepository;
  /** AUDIT_RETENTION_DAYS (0 = keep forever). */
  auditRetentionDays: number;
  logger: Logger;
}

/** Starts the hourly purge; the returned function stops it. */
export function startHousekeeping(deps: HousekeepingDeps): () => void {
  const { logger } = deps;
  const warn = (what: string) => (err: unknown) => logger.warn(`could not purge ${what}`, { error: (err as Error)?.message });
  const timer = setInterval(() => {
    const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
    deps.idempotency?.purgeBefore(ago(IDEMPOTENCY_TTL_MS)).catch(warn("old Idempotency-Key responses"));
    deps.outbox.purgeFinishedBefore(ago(FINISHED_JOB_TTL_MS)).catch(warn("finished outbox jobs"));
    if (deps.audit) purgeAudit(deps.audit, deps.auditRetentionDays, logger).catch(warn("old audit entries"));
  }, HOUR_MS);
  timer.unref();
  return () => clearInterval(timer);
}
