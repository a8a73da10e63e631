import type { Express } from "express";
import type { AppConfig } from "./config";
import { createDigiCertClient, type ClosableDigiCertClient } from "./digicert";
import { isDigiCertError } from "./digicert/errors";
import { closeApp, createApp } from "./http/app";
import { checkCredentialsAtStart } from "./http/store-tokens";
import { createMetrics } from "./http/metrics";
import type { Logger } from "./log/logger";
import { AccessPolicy } from "./provisioning/access-policy";
import { AuditTrail, purgeAudit } from "./provisioning/audit";
import { auditedClient } from "./provisioning/call-audit";
import { dryRunClient } from "./digicert/dry-run";
import { GroupService } from "./provisioning/group-service";
import { applyMappingToAllUsers, type MappingReport } from "./provisioning/mapping-rollout";
import { RoleResolver } from "./provisioning/role-resolver";
import { UserService } from "./provisioning/user-service";
import { DigiCertSync } from "./provisioning/digicert-sync";
import { OutboxWorker } from "./provisioning/outbox-worker";
import { reconcile, type ReconcileOptions, type ReconcileReport } from "./provisioning/reconcile";
import { ReconcileSchedule } from "./provisioning/reconcile-schedule";
import { registerReconcileMetrics } from "./http/reconcile-metrics";
import type { WriteAdmission } from "./scim/back-pressure";
import type { RateWindow } from "./digicert/pacing";
import { draftFromRow } from "./scim/user-mapping";
import { openStore } from "./store";
import type { Store } from "./store/types";

export interface Bridge {
  app: Express;
  store: Store;
  digicert: ClosableDigiCertClient;
  users: UserService;
  groups: GroupService;
  access: AccessPolicy;
  outbox: OutboxWorker;
  /** Re-reads ROLE_MAPPING_FILE and applies it to every user; the old mapping stays if the new one is invalid. */
  reloadRoleMapping(): Promise<MappingReport>;
  /** Compares the store with DigiCert now (see provisioning/reconcile.ts); with `fix`, queues the repairs. */
  reconcile(opts?: ReconcileOptions): Promise<ReconcileReport>;
  /** The RECONCILE_INTERVAL schedule; null when it is not set. */
  reconcileSchedule: ReconcileSchedule | null;
  close(): Promise<void>;
}

const ROLE_REFRESH_MS = 15 * 60 * 1000;
const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** Finished outbox jobs are kept a week, for looking into what happened; failed ones stay until retried. */
const FINISHED_JOB_TTL_MS = 7 * 24 * 60 * 60 * 1000;
/** How long shutdown lets running DigiCert jobs finish before handing them back. */
const SHUTDOWN_GRACE_MS = 5000;

/** The sustained request rate the tightest window allows, per second. */
function sustainedRate(windows: RateWindow[]): number {
  return Math.min(...windows.map((w) => w.count / (w.windowMs / 1000)));
}

/** 429 while the outbox is deeper than its bound; Retry-After is the time to drain back under it at the current rate. */
function writeAdmission(worker: OutboxWorker, maxPending: number): WriteAdmission {
  return async () => {
    if (maxPending <= 0) return null;
    const stats = await worker.stats();
    const pending = stats.pending + stats.running;
    if (pending < maxPending) return null;
    const seconds = Math.ceil((pending - maxPending + 1) / Math.max(0.01, stats.drainPerSecond));
    // Capped: the estimate is rough, and an IdP told to wait too long stalls when the outbox drains quickly.
    return { pending, retryAfterSeconds: Math.min(60, Math.max(1, seconds)) };
  };
}

/** What /readyz may say about a DigiCert failure to an unauthenticated caller: no hostnames, no configuration. */
function describeDigiCertFailure(err: unknown, digicert: ClosableDigiCertClient): string {
  const circuit = digicert.circuit?.();
  if (circuit?.state === "open") return `DigiCert circuit open after repeated failures, until ${circuit.openUntil ?? "the cool-down ends"}`;
  if (isDigiCertError(err) && (err.kind === "auth" || err.kind === "forbidden")) return "DigiCert refused the API key or its permissions";
  if (isDigiCertError(err) && err.kind === "rate_limited") return "DigiCert is rate limiting";
  return "DigiCert is unreachable or failing";
}

/**
 * Builds the whole bridge from a checked config: store (migrated), DigiCert client, role mapping (validated
 * against DigiCert's roles when a file is configured: a bad file stops the start), services, HTTP app.
 */
export async function buildBridge(config: AppConfig, logger: Logger, opts: { pgSchema?: string } = {}): Promise<Bridge> {
  const store = await openStore(config.databaseUrl, { logger, pgSchema: opts.pgSchema });
  // The IdP needs a credential: from the environment, or a token in the store (digicert-scim tokens create).
  await checkCredentialsAtStart(config, store.tokens, logger).catch(async (err) => {
    await store.close();
    throw err;
  });
  // Gauges read on scrape (store counts, the DigiCert client's pacing); DigiCert calls and waits reported through hooks.
  const metrics = createMetrics(() => store.outbox.stats(), {
    users: () => store.users.countByState(),
    groups: () => store.groups.count(),
    pacing: () => digicert.pacing(),
  });
  const digicert = createDigiCertClient(config.digicert, logger, metrics.digicert);
  // DRY_RUN: the outbox's DigiCert writes are answered without being sent (reads still reach DigiCert).
  const writer = config.dryRun ? dryRunClient(digicert) : digicert;
  if (config.dryRun) {
    logger.warn("DRY_RUN is on: nothing is written to DigiCert; each would-be call is recorded in the audit trail (digicert-scim plan)");
  }
  const trail = new AuditTrail(() => store.audit, logger);
  const roles = new RoleResolver(digicert);
  const access = new AccessPolicy({
    platform: config.digicert.platform,
    roles,
    fallbackDefaultRole: config.digicert.defaultRole,
    mappingFile: config.roleMappingFile,
    ...(digicert.listDivisions ? { listDivisions: () => digicert.listDivisions!() } : {}),
    logger,
  });
  if (config.roleMappingFile) {
    try {
      const mapping = await access.load();
      logger.info("role mapping loaded", { file: config.roleMappingFile, rules: mapping.rules.length });
    } catch (err) {
      await digicert.close();
      await store.close();
      throw err;
    }
  }
  access.startRefresh(ROLE_REFRESH_MS);
  // Idempotency keys answer retries of the same request, not replays days later.
  const purge = setInterval(() => {
    store.idempotency
      .purgeBefore(new Date(Date.now() - IDEMPOTENCY_TTL_MS).toISOString())
      .catch((err) => logger.warn("could not purge old Idempotency-Key responses", { error: (err as Error).message }));
    store.outbox
      .purgeFinishedBefore(new Date(Date.now() - FINISHED_JOB_TTL_MS).toISOString())
      .catch((err) => logger.warn("could not purge finished outbox jobs", { error: (err as Error).message }));
    // AUDIT_RETENTION_DAYS (0 = keep forever).
    purgeAudit(store.audit, config.audit.retentionDays, logger).catch((err) =>
      logger.warn("could not purge old audit entries", { error: (err as Error).message }),
    );
  }, 60 * 60 * 1000);
  purge.unref();
  const sync = new DigiCertSync({
    users: store.users,
    groups: store.groups,
    outbox: store.outbox,
    digicert: writer,
    roles,
    access,
    certcentralDeactivation: config.digicert.certcentralDeactivation,
    draftOf: draftFromRow,
    logger,
    onAdopted: () => metrics.adopted(),
    // Every DigiCert write a job makes (or, dry-run, would make) goes to the audit trail.
    clientForJob: (job) =>
      auditedClient(writer, job, { trail, users: store.users, dryRun: config.dryRun, roleName: (id) => access.roleName(id) }),
  });
  const worker: OutboxWorker = new OutboxWorker({
    outbox: store.outbox,
    run: (job, signal) => sync.run(job, signal),
    logger,
    concurrency: config.outbox.concurrency,
    maxAttempts: config.outbox.maxAttempts,
    baseBackoffMs: config.outbox.retryBaseMs,
    maxBackoffMs: config.outbox.retryMaxMs,
    leaseMs: config.outbox.leaseMs,
    pollMs: 500,
    nominalRatePerSecond: sustainedRate(config.digicert.rateLimit),
    onJobEnd: (job, outcome, ms) => metrics.jobEnded(job.kind, outcome, ms / 1000),
  });
  const users = new UserService({
    store,
    digicert,
    access,
    dispatcher: worker,
    syncWaitMs: config.outbox.syncWaitMs,
    draftOf: draftFromRow,
    logger,
  });
  const groups = new GroupService({ store, userService: users, access, logger });
  // Jobs a crash or a shutdown left behind are picked up here (leases that ran out) like any others.
  worker.start();
  const runReconcile = (opts: ReconcileOptions = {}) =>
    reconcile(
      {
        store,
        digicert,
        targetOf: (row, profileChanged) => sync.targetOf(row, profileChanged),
        certcentralDeactivation: config.digicert.certcentralDeactivation,
        managedRoleIds: () => access.managedRoleIds(),
        logger,
        kick: () => worker.kick(),
      },
      opts,
    );
  registerReconcileMetrics(metrics.registry, () => store.reconcile.latestSummary());
  // RECONCILE_INTERVAL: report only, one replica at a time (a lease in the store).
  // A DRY_RUN bridge's links point at pretend users (dry-run-…): comparing them with DigiCert would report them all.
  const intervalMs = config.dryRun ? null : config.reconcile.intervalMs;
  if (config.dryRun && config.reconcile.intervalMs) logger.warn("RECONCILE_INTERVAL is ignored while DRY_RUN is on: the links are pretend");
  const reconcileSchedule = intervalMs
    ? new ReconcileSchedule({ repo: store.reconcile, intervalMs, logger, run: (signal) => runReconcile({ trigger: "schedule", signal }) })
    : null;
  reconcileSchedule?.start();
  const app = createApp({
    config,
    platform: config.digicert.platform,
    users,
    groups,
    roleName: (id) => access.roleName(id),
    roleCatalogue: () => access.listRoles(),
    idempotency: store.idempotency,
    admitWrite: writeAdmission(worker, config.outbox.maxPending),
    // Refused SCIM writes go to the audit trail (accepted ones are recorded by the services, with the change).
    audit: {
      record: (entries) => trail.record(entries),
      userNameOf: async (id) => (await store.users.getById(id))?.userName ?? null,
      failed: (err) => logger.warn("a refused request could not be recorded in the audit trail", { error: (err as Error)?.message }),
    },
    metrics,
    metricsTokens: config.metricsTokens,
    // Bearer tokens of `digicert-scim tokens`, besides those of the environment.
    tokens: store.tokens,
    logger,
    // The status page (/admin, with ADMIN_TOKENS or ADMIN_BASIC_USERS).
    status: {
      audit: store.audit,
      reconcile: store.reconcile,
      users: store.users,
      groups: store.groups,
      // Counts read fresh (the worker caches its stats for a second); the drain rate is the worker's.
      outbox: {
        stats: async () => ({ ...(await store.outbox.stats()), drainPerSecond: (await worker.stats()).drainPerSecond }),
        list: (filter) => store.outbox.list(filter),
      },
      access,
    },
    readinessChecks: [
      { name: "store", check: () => store.ping(), describe: () => "the store does not answer" },
      // DRY_RUN: said on every readiness answer (degraded, still ready), so nobody mistakes a dry run for the real thing.
      ...(config.dryRun
        ? [
            {
              name: "dryrun",
              cacheMs: 0,
              check: async () => ({ degraded: "DRY_RUN: nothing is written to DigiCert; would-be calls are in the audit trail (digicert-scim plan)" }),
              describe: () => "dry-run",
            },
          ]
        : []),
      {
        name: "digicert",
        // DigiCert down is degraded, not unready: writes still go into the outbox and drain when it is back, so a
        // load balancer must keep sending them. A refused API key is unready: nothing the bridge does can land.
        check: async () => {
          const circuit = digicert.circuit?.();
          if (circuit?.state === "open") return { degraded: `${describeDigiCertFailure(null, digicert)}; changes are queued` };
          try {
            await digicert.ping();
          } catch (err) {
            if (isDigiCertError(err) && (err.kind === "auth" || err.kind === "forbidden")) throw err;
            return { degraded: `${describeDigiCertFailure(err, digicert)}; changes are queued` };
          }
        },
        describe: (err) => describeDigiCertFailure(err, digicert),
      },
      {
        name: "outbox",
        cacheMs: 0,
        check: async () => {
          const s = await store.outbox.stats();
          const waiting = s.pending + s.running;
          const age = s.oldestUnfinished ? Math.round((Date.now() - Date.parse(s.oldestUnfinished)) / 1000) : 0;
          const problems = [
            ...(s.failed ? [`${s.failed} failed job${s.failed > 1 ? "s" : ""} (digicert-scim outbox list --status failed)`] : []),
            ...(config.outbox.maxPending > 0 && waiting >= config.outbox.maxPending ? [`${waiting} jobs waiting: writes get 429`] : []),
          ];
          if (problems.length) return { degraded: `${problems.join("; ")}; oldest unfinished ${age} s` };
        },
        describe: () => "the outbox cannot be read",
      },
      // Configured to disable (ONE_DEACTIVATE=disable): once DigiCert refused the disable route, deactivation deletes; say so. Local state.
      ...(digicert.deactivation?.().configured === "disable"
        ? [
            {
              name: "deactivation",
              cacheMs: 0,
              check: async () => {
                const d = digicert.deactivation?.();
                if (d && d.effective !== d.configured) return { degraded: `ONE_DEACTIVATE=disable: ${d.detail ?? "the disable route is refused"}` };
              },
              describe: () => "the deactivation mode is unknown",
            },
          ]
        : []),
      // The shared rate budget (REDIS_URL): degraded, still ready, while Redis is unreachable and this replica
      // paces alone at its share. Local state, read on every request.
      ...(config.digicert.redisUrl
        ? [
            {
              name: "ratelimit",
              cacheMs: 0,
              check: async () => {
                const p = digicert.pacing();
                if (p.mode === "fallback") {
                  // Unauthenticated callers see this: no BRIDGE_REPLICAS value (the pacer's warning in the log has it).
                  return { degraded: "Redis unreachable: this replica paces DigiCert calls alone at its share of the rate limit" };
                }
              },
              describe: () => "the rate limiter state is unknown",
            },
          ]
        : []),
    ],
  });
  return {
    app,
    store,
    digicert,
    users,
    groups,
    access,
    outbox: worker,
    async reloadRoleMapping() {
      await access.load();
      return applyMappingToAllUsers({ users, store, access, logger, kick: () => worker.kick() });
    },
    reconcile: runReconcile,
    reconcileSchedule,
    async close() {
      await closeApp(app);
      access.stopRefresh();
      clearInterval(purge);
      await reconcileSchedule?.stop();
      await worker.stop(SHUTDOWN_GRACE_MS);
      await digicert.close();
      await store.close();
    },
  };
}
