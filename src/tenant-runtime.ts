// One tenant of the bridge, built the same way for each: its own store scope, DigiCert client(s), role mapping,
// outbox worker and services. The server (src/wiring.ts) builds one per tenant of TENANTS_FILE (the environment's
// default tenant among them) and mounts each at its SCIM path; nothing here is shared between tenants but the
// database connections, the metrics registry and the process.
import type { AppConfig, TenantConfig, TenantTarget } from "./config";
import type { ClosableDigiCertClient, DigiCertObservers } from "./digicert";
import { sustainedRatePerSecond } from "./digicert/pacing";
import { withCallCause } from "./digicert/observer";
import type { Logger } from "./log/logger";
import { newTrace, type TraceContext } from "./log/trace-context";
import type { AccessPolicy } from "./provisioning/access-policy";
import { AuditTrail } from "./provisioning/audit";
import { GroupService } from "./provisioning/group-service";
import { startHousekeeping } from "./provisioning/housekeeping";
import { applyMappingToAllUsers, type MappingReport } from "./provisioning/mapping-rollout";
import { OutboxWorker } from "./provisioning/outbox-worker";
import type { ReconcileOptions, ReconcileReport } from "./provisioning/reconcile";
import { ReconcileSchedule } from "./provisioning/reconcile-schedule";
import { UserReads } from "./provisioning/user-reads";
import { UserService } from "./provisioning/user-service";
import type { OutboxJob } from "./provisioning/records";
import type { Store } from "./provisioning/ports";
import { draftFromRow } from "./scim/user-mapping";
import { buildProvisioningCore, type ProvisioningCore } from "./provisioning-core";

/** How long shutdown lets running DigiCert jobs finish before handing them back. */
const SHUTDOWN_GRACE_MS = 5000;
const ROLE_REFRESH_MS = 15 * 60 * 1000;

/**
 * The whole-bridge config as one target of one tenant sees it: the tenant's credentials and DRY_RUN, the target's
 * DigiCert block and role mapping; everything else (outbox, limits, logging) is the process's.
 */
export function configForTarget(config: AppConfig, tenant: TenantConfig, target: TenantTarget): AppConfig {
  return {
    ...config,
    scim: {
      ...config.scim,
      bearerTokens: tenant.credentials.bearerTokens,
      basicUsers: tenant.credentials.basicUsers,
      // OAuth clients (OAUTH_CLIENTS) are the environment's, so they open the default tenant only.
      oauth: tenant.id === "default" ? config.scim.oauth : undefined,
    },
    digicert: target.digicert,
    roleMappingFile: target.roleMappingFile,
    dryRun: tenant.dryRun,
  };
}

/** The trace a job's DigiCert calls continue: the SCIM request's (payload), or one begun for this run. */
function traceOfJob(job: OutboxJob): TraceContext {
  const { traceId, traceFlags } = job.payload;
  return traceId && /^[0-9a-f]{32}$/.test(traceId) ? { traceId, flags: traceFlags && /^[0-9a-f]{2}$/.test(traceFlags) ? traceFlags : "01" } : newTrace();
}

/** What one target's runtime reports through (metrics labelled with its tenant and target, the status page). */
export interface TargetHooks {
  /** DigiCert call and wait hooks (metrics, the status page's activity). */
  observer?: DigiCertObservers;
  onAdopted?: () => void;
  onJobEnd?: (job: OutboxJob, outcome: string, ms: number) => void;
}

/** The fields of TargetHooks are the primary target's; `forTarget` gives any other target's (fan-out). */
export interface TenantDeps extends TargetHooks {
  logger: Logger;
  forTarget?: (target: TenantTarget) => TargetHooks;
}

/** A tenant's primary DigiCert target at work: its client, mapping, sync and the worker that runs its outbox. */
export interface TargetRuntime {
  name: string;
  /** The config this target's code sees (configForTarget). */
  config: AppConfig;
  store: Store;
  core: ProvisioningCore;
  worker: OutboxWorker;
}

export interface TenantRuntime {
  id: string;
  tenant: TenantConfig;
  /** The primary target's view of the config: what the tenant's SCIM surface works with. */
  config: AppConfig;
  logger: Logger;
  store: Store;
  trail: AuditTrail;
  primary: TargetRuntime;
  targets: TargetRuntime[];
  digicert: ClosableDigiCertClient;
  access: AccessPolicy;
  users: UserService;
  groups: GroupService;
  userReads: UserReads;
  outbox: OutboxWorker;
  reconcileSchedule: ReconcileSchedule | null;
  reloadRoleMapping(): Promise<MappingReport>;
  reconcile(opts?: ReconcileOptions): Promise<ReconcileReport>;
  close(): Promise<void>;
}

/**
 * Builds one tenant on `store` (already confined to it): checks its role mappings (a bad file stops the start;
 * DigiCert unreachable does not), starts its outbox worker and reconcile schedule.
 */
export async function buildTenant(config: AppConfig, tenant: TenantConfig, store: Store, deps: TenantDeps): Promise<TenantRuntime> {
  const logger = tenant.id === "default" ? deps.logger : deps.logger.child({ tenant: tenant.id });
  const trail = new AuditTrail(() => store.audit, logger);
  const primaryTarget = tenant.targets[0];
  const primaryConfig = configForTarget(config, tenant, primaryTarget);
  const core = buildProvisioningCore(primaryConfig, logger, store, {
    trail,
    ...(deps.observer ? { observer: deps.observer } : {}),
    ...(deps.onAdopted ? { onAdopted: deps.onAdopted } : {}),
  });
  const { digicert, access, sync } = core;
  if (tenant.dryRun) {
    logger.warn("DRY_RUN is on: nothing is written to DigiCert; each would-be call is recorded in the audit trail (digicert-scim plan)");
  }
  let kickWorker: () => void = () => undefined;
  try {
    const state = await access.start({ onResolved: () => kickWorker() });
    if (state.state === "resolved" && primaryConfig.roleMappingFile) logger.info("role mapping loaded", { file: primaryConfig.roleMappingFile });
  } catch (err) {
    await digicert.close();
    throw err;
  }
  access.startRefresh(ROLE_REFRESH_MS);
  const stopHousekeeping = startHousekeeping({
    idempotency: store.idempotency,
    outbox: store.outbox,
    audit: store.audit,
    auditRetentionDays: config.audit.retentionDays,
    logger,
  });
  const worker: OutboxWorker = new OutboxWorker({
    outbox: store.outbox,
    // Each DigiCert call a job makes names the job, its user and the SCIM request that queued it (status page, log)
    // and continues that request's trace (traceparent); a job the bridge queued itself begins a trace per run.
    run: (job, signal) =>
      withCallCause(
        {
          origin: `outbox ${job.kind}`,
          jobId: job.id,
          userId: job.userId,
          userName: job.payload.userName ?? null,
          requestId: job.payload.requestId ?? null,
          trace: traceOfJob(job),
        },
        () => sync.run(job, signal),
      ),
    logger,
    concurrency: config.outbox.concurrency,
    maxAttempts: config.outbox.maxAttempts,
    baseBackoffMs: config.outbox.retryBaseMs,
    maxBackoffMs: config.outbox.retryMaxMs,
    leaseMs: config.outbox.leaseMs,
    pollMs: 500,
    nominalRatePerSecond: sustainedRatePerSecond(primaryTarget.digicert.rateLimit),
    queueWaitMs: config.outbox.syncWaitQueueMs,
    ...(deps.onJobEnd ? { onJobEnd: deps.onJobEnd } : {}),
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
  kickWorker = () => worker.kick();
  // Jobs a crash or a shutdown left behind are picked up here (leases that ran out) like any others.
  worker.start();
  const runReconcile = (ropts: ReconcileOptions = {}) => core.reconcile(ropts, () => worker.kick());
  // RECONCILE_INTERVAL: report only, one replica at a time (a lease in the store).
  // A DRY_RUN tenant's links point at pretend users (dry-run-…): comparing them with DigiCert would report them all.
  const intervalMs = tenant.dryRun ? null : config.reconcile.intervalMs;
  if (tenant.dryRun && config.reconcile.intervalMs) logger.warn("RECONCILE_INTERVAL is ignored while DRY_RUN is on: the links are pretend");
  const reconcileSchedule = intervalMs
    ? new ReconcileSchedule({ repo: store.reconcile, intervalMs, logger, run: (signal) => runReconcile({ trigger: "schedule", signal }) })
    : null;
  reconcileSchedule?.start();
  const primary: TargetRuntime = { name: primaryTarget.name, config: primaryConfig, store, core, worker };
  return {
    id: tenant.id,
    tenant,
    config: primaryConfig,
    logger,
    store,
    trail,
    primary,
    targets: [primary],
    digicert,
    access,
    users,
    groups,
    userReads: new UserReads(store.users),
    outbox: worker,
    reconcileSchedule,
    async reloadRoleMapping() {
      await access.load();
      return applyMappingToAllUsers({ users, store, access, logger, kick: () => worker.kick() });
    },
    reconcile: runReconcile,
    async close() {
      access.stopRefresh();
      stopHousekeeping();
      await reconcileSchedule?.stop();
      await worker.stop(SHUTDOWN_GRACE_MS);
      await digicert.close();
    },
  };
}
