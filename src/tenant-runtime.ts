// One tenant of the bridge, built the same way for each: its own store scope, DigiCert client(s), role mapping,
// outbox worker and services. The server (src/wiring.ts) builds one per tenant of TENANTS_FILE (the environment's
// default tenant among them) and mounts each at its SCIM path; nothing here is shared between tenants but the
// database connections, the metrics registry and the process.
//
// A tenant with several targets (fan-out) gets one of each DigiCert-side piece per target: client, role mapping,
// sync, outbox worker, reconcile, each on its target's store (src/store/target-links.ts keeps a secondary target's
// link and sync state apart). Its SCIM surface works on the primary target's store made to fan out
// (src/store/fan-out.ts): every job it queues is queued for each target, and a request waits for the primary's
// only, so a target that is down or refuses holds nothing up and rolls nothing back (its users show it per target).
import { DEFAULT_TENANT_ID, type AppConfig, type TenantConfig, type TenantTarget } from "./config";
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
import { PRIMARY_TARGET } from "./store";
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
      oauth: tenant.id === DEFAULT_TENANT_ID ? config.scim.oauth : undefined,
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

/** One DigiCert target of a tenant at work: its client, mapping, sync, the worker that runs its outbox, reconcile. */
export interface TargetRuntime {
  name: string;
  /** The config this target's code sees (configForTarget). */
  config: AppConfig;
  /** The target's own store: its outbox, role lists, reconcile runs, and (but for the primary) its users' links. */
  store: Store;
  core: ProvisioningCore;
  worker: OutboxWorker;
  reconcileSchedule: ReconcileSchedule | null;
  reconcile(opts?: ReconcileOptions): Promise<ReconcileReport>;
  close(): Promise<void>;
}

export interface TenantRuntime {
  id: string;
  tenant: TenantConfig;
  /** The primary target's view of the config: what the tenant's SCIM surface works with. */
  config: AppConfig;
  logger: Logger;
  /** What the tenant's SCIM surface reads and writes through (a fan-out store when the tenant has several targets). */
  store: Store;
  trail: AuditTrail;
  primary: TargetRuntime;
  /** Every target, the primary first. */
  targets: TargetRuntime[];
  digicert: ClosableDigiCertClient;
  access: AccessPolicy;
  users: UserService;
  groups: GroupService;
  userReads: UserReads;
  outbox: OutboxWorker;
  reconcileSchedule: ReconcileSchedule | null;
  /** Reloads every target's role mapping and applies each to its users; answers with the primary's report. */
  reloadRoleMapping(): Promise<MappingReport>;
  /** Reconciles every target with its DigiCert (each report saved on its target); answers with the primary's. */
  reconcile(opts?: ReconcileOptions): Promise<ReconcileReport>;
  close(): Promise<void>;
}

interface TargetSetup {
  config: AppConfig;
  tenant: TenantConfig;
  target: TenantTarget;
  store: Store;
  primary: boolean;
  logger: Logger;
  trail: AuditTrail;
  deps: TenantDeps;
}

/**
 * Starts one target: checks its role mapping (a bad file stops the start; DigiCert unreachable does not), starts its
 * outbox worker, housekeeping and reconcile schedule.
 */
async function startTarget(s: TargetSetup): Promise<TargetRuntime> {
  const { config, tenant, target, store, logger } = s;
  // Each target reports through its own hooks (metrics labelled with its tenant and target).
  const deps: TargetHooks = s.primary ? s.deps : (s.deps.forTarget?.(target) ?? s.deps);
  const targetConfig = configForTarget(config, tenant, target);
  const core = buildProvisioningCore(targetConfig, logger, store, {
    trail: s.trail,
    ...(deps.observer ? { observer: deps.observer } : {}),
    ...(deps.onAdopted ? { onAdopted: deps.onAdopted } : {}),
    ...(s.primary ? {} : { assignedRoles: false }),
  });
  const { digicert, access, sync } = core;
  let kickWorker: () => void = () => undefined;
  try {
    const state = await access.start({ onResolved: () => kickWorker() });
    if (state.state === "resolved" && targetConfig.roleMappingFile) logger.info("role mapping loaded", { file: targetConfig.roleMappingFile });
  } catch (err) {
    await digicert.close();
    throw err;
  }
  access.startRefresh(ROLE_REFRESH_MS);
  const stopHousekeeping = startHousekeeping({
    // The tenant's Idempotency-Keys and audit trail are one for all its targets: the primary purges them.
    ...(s.primary ? { idempotency: store.idempotency, audit: store.audit } : {}),
    outbox: store.outbox,
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
    nominalRatePerSecond: sustainedRatePerSecond(target.digicert.rateLimit),
    queueWaitMs: config.outbox.syncWaitQueueMs,
    ...(deps.onJobEnd ? { onJobEnd: deps.onJobEnd } : {}),
  });
  kickWorker = () => worker.kick();
  // Jobs a crash or a shutdown left behind are picked up here (leases that ran out) like any others.
  worker.start();
  const reconcile = (ropts: ReconcileOptions = {}) => core.reconcile(ropts, () => worker.kick());
  // RECONCILE_INTERVAL: report only, one replica at a time (a lease in the store, per target).
  // A DRY_RUN tenant's links point at pretend users (dry-run-…): comparing them with DigiCert would report them all.
  const intervalMs = tenant.dryRun ? null : config.reconcile.intervalMs;
  const reconcileSchedule = intervalMs
    ? new ReconcileSchedule({ repo: store.reconcile, intervalMs, logger, run: (signal) => reconcile({ trigger: "schedule", signal }) })
    : null;
  reconcileSchedule?.start();
  return {
    name: target.name,
    config: targetConfig,
    store,
    core,
    worker,
    reconcileSchedule,
    reconcile,
    async close() {
      access.stopRefresh();
      stopHousekeeping();
      await reconcileSchedule?.stop();
      await worker.stop(SHUTDOWN_GRACE_MS);
      await digicert.close();
    },
  };
}

/** Users a fan-out target added to a tenant that already had users knows nothing of, handed over per page. */
const BACKFILL_PAGE = 500;

/**
 * Queues a job on a secondary target for each user it has no record of (the target was added to a tenant that
 * already had users), so they reach it without waiting for their next change. In the background: a start never
 * waits for it. Replicas started together may both queue some users; a job finding nothing to do is cheap.
 */
async function backfill(t: TargetRuntime, logger: Logger): Promise<void> {
  let queued = 0;
  const seen = new Set<string>();
  try {
    for (;;) {
      const ids = await t.store.users.unlinkedIds(BACKFILL_PAGE);
      // Queuing gives each user its record on the target; one that comes back anyway is not queued forever.
      if (!ids.length || ids.every((id) => seen.has(id))) break;
      for (const id of ids) seen.add(id);
      await t.store.outbox.enqueue(ids.map((userId) => ({ userId, kind: "create" as const, payload: { profileChanged: true } })));
      queued += ids.length;
      t.worker.kick();
    }
  } catch (err) {
    logger.warn("could not queue the users this target has not seen yet; they reach it with their next change", { target: t.name, error: (err as Error).message });
  }
  if (queued) logger.info("users queued for a target that had not seen them", { target: t.name, users: queued });
}

function checkTargetNames(tenant: TenantConfig): void {
  if (!tenant.targets.length) throw new Error(`tenant ${tenant.id}: no DigiCert target`);
  const others = tenant.targets.slice(1).map((t) => t.name);
  if (others.some((n) => !n) || new Set(tenant.targets.map((t) => t.name)).size !== tenant.targets.length) {
    throw new Error(`tenant ${tenant.id}: each DigiCert target needs its own name`);
  }
}

/**
 * Builds one tenant on `store` (already confined to it, primary target): starts each of its targets (checking its
 * role mapping: a bad file stops the start; DigiCert unreachable does not), then its SCIM services.
 */
export async function buildTenant(config: AppConfig, tenant: TenantConfig, store: Store, deps: TenantDeps): Promise<TenantRuntime> {
  const logger = tenant.id === DEFAULT_TENANT_ID ? deps.logger : deps.logger.child({ tenant: tenant.id });
  checkTargetNames(tenant);
  const trail = new AuditTrail(() => store.audit, logger);
  if (tenant.dryRun) {
    logger.warn("DRY_RUN is on: nothing is written to DigiCert; each would-be call is recorded in the audit trail (digicert-scim plan)");
    if (config.reconcile.intervalMs) logger.warn("RECONCILE_INTERVAL is ignored while DRY_RUN is on: the links are pretend");
  }
  const others = tenant.targets.slice(1);
  const targets: TargetRuntime[] = [];
  try {
    for (const [i, target] of tenant.targets.entries()) {
      const primary = i === 0;
      targets.push(
        await startTarget({
          config,
          tenant,
          target,
          store: primary ? store : store.scoped(tenant.id, target.name),
          primary,
          logger: primary || !others.length ? logger : logger.child({ target: target.name }),
          trail,
          deps,
        }),
      );
    }
  } catch (err) {
    await Promise.all(targets.map((t) => t.close()));
    throw err;
  }
  const primary = targets[0]!;
  // The SCIM surface's store: with other targets, every job it queues is queued for them too, and its user reads
  // show the user's state on each.
  const scimStore = others.length ? store.scoped(tenant.id, PRIMARY_TARGET, { fanOut: others.map((t) => t.name) }) : store;
  const { digicert, access } = primary.core;
  const users = new UserService({
    store: scimStore,
    digicert,
    access,
    // The request waits for the primary target's job only (the store's enqueue answers with its ids).
    dispatcher: primary.worker,
    syncWaitMs: config.outbox.syncWaitMs,
    draftOf: draftFromRow,
    logger,
  });
  const groups = new GroupService({
    store: scimStore,
    userService: users,
    access,
    logger,
    // A membership change re-checks its members on every target when any target maps groups to roles.
    groupsGrantAccess: () => targets.some((t) => t.core.access.managed),
  });
  for (const t of targets.slice(1)) void backfill(t, logger);
  // Each target applies its own mapping to its own links (the primary's through the tenant's UserService).
  const rollouts = targets.map((t, i) => ({
    t,
    users:
      i === 0
        ? users
        : new UserService({ store: t.store, digicert: t.core.digicert, access: t.core.access, dispatcher: t.worker, syncWaitMs: 0, draftOf: draftFromRow, logger }),
  }));
  return {
    id: tenant.id,
    tenant,
    config: primary.config,
    logger,
    store: scimStore,
    trail,
    primary,
    targets,
    digicert,
    access,
    users,
    groups,
    userReads: new UserReads(scimStore.users),
    outbox: primary.worker,
    reconcileSchedule: primary.reconcileSchedule,
    async reloadRoleMapping() {
      const reports: MappingReport[] = [];
      for (const { t, users: targetUsers } of rollouts) {
        await t.core.access.load();
        reports.push(await applyMappingToAllUsers({ users: targetUsers, store: t.store, access: t.core.access, logger, kick: () => t.worker.kick() }));
      }
      return reports[0]!;
    },
    async reconcile(ropts: ReconcileOptions = {}) {
      // Progress is the primary's to report (the CLI prints it); the other targets run alongside, on their own DigiCert.
      const { onProgress: _progress, ...quiet } = ropts;
      const [mine, ...rest] = await Promise.allSettled(targets.map((t, i) => t.reconcile(i === 0 ? ropts : quiet)));
      rest.forEach((r, i) => {
        if (r.status === "rejected") logger.warn("reconcile of a target failed", { target: targets[i + 1]!.name, error: (r.reason as Error)?.message });
      });
      if (mine!.status === "rejected") throw mine!.reason;
      return mine!.value;
    },
    async close() {
      await Promise.all(targets.map((t) => t.close()));
    },
  };
}
