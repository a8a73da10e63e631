import type { Express } from "express";
import fs from "node:fs";
import { ConfigError, NO_AUTH_PROBLEM, StartupError, type AppConfig } from "./config";
import { createDigiCertClient, type ClosableDigiCertClient, type DigiCertClient, type DigiCertObservers, type DigiCertRole } from "./digicert";
import { dryRunClient } from "./digicert/dry-run";
import { sustainedRatePerSecond } from "./digicert/pacing";
import { withCallCause } from "./digicert/observer";
import { DigiCertActivity } from "./http/admin/activity";
import { closeApp, createApp } from "./http/app";
import { createMetrics } from "./http/metrics";
import { bridgeReadinessChecks } from "./http/readiness-checks";
import { roleMappingCheck } from "./http/role-mapping-check";
import { registerReconcileMetrics } from "./http/reconcile-metrics";
import { checkCredentialsAtStart, credentialsInEnv } from "./http/store-tokens";
import { registerSecret, type Logger } from "./log/logger";
import { newTrace, type TraceContext } from "./log/trace-context";
import { AccessPolicy } from "./provisioning/access-policy";
import { AuditTrail } from "./provisioning/audit";
import { auditedClient } from "./provisioning/call-audit";
import { DigiCertSync } from "./provisioning/digicert-sync";
import { GroupService } from "./provisioning/group-service";
import { startHousekeeping } from "./provisioning/housekeeping";
import { applyMappingToAllUsers, type MappingReport } from "./provisioning/mapping-rollout";
import { OutboxWorker } from "./provisioning/outbox-worker";
import { reconcile, type ReconcileOptions, type ReconcileReport } from "./provisioning/reconcile";
import { ReconcileSchedule } from "./provisioning/reconcile-schedule";
import { RoleResolver } from "./provisioning/role-resolver";
import { UserService } from "./provisioning/user-service";
import { UserReads } from "./provisioning/user-reads";
import { outboxAdmission } from "./provisioning/write-admission";
import { draftFromRow } from "./scim/user-mapping";
import { openStore, parseDatabaseUrl } from "./store";
import type { OutboxJob } from "./provisioning/records";
import type { Store } from "./provisioning/ports";

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

/** False for a store that cannot hold a token yet: in memory, or a SQLite file that does not exist. */
function mayHoldTokens(databaseUrl: string): boolean {
  try {
    const target = parseDatabaseUrl(databaseUrl);
    if (target.dialect !== "sqlite") return true;
    return target.filename !== ":memory:" && fs.existsSync(target.filename);
  } catch {
    return true; // a bad URL is reported when the store is opened
  }
}

/** The trace a job's DigiCert calls continue: the SCIM request's (payload), or one begun for this run. */
function traceOfJob(job: OutboxJob): TraceContext {
  const { traceId, traceFlags } = job.payload;
  return traceId && /^[0-9a-f]{32}$/.test(traceId) ? { traceId, flags: traceFlags && /^[0-9a-f]{2}$/.test(traceFlags) ? traceFlags : "01" } : newTrace();
}
/** How long shutdown lets running DigiCert jobs finish before handing them back. */
const SHUTDOWN_GRACE_MS = 5000;

/** What the server and the CLI commands that talk to DigiCert share: the client, the role mapping, the sync logic. */
export interface ProvisioningCore {
  digicert: ClosableDigiCertClient;
  /** The client DigiCert writes go through: `digicert`, or its dry-run stand-in under DRY_RUN. */
  writer: DigiCertClient;
  roles: RoleResolver;
  access: AccessPolicy;
  sync: DigiCertSync;
  /** Compares the store with DigiCert; `kick` wakes a local outbox worker after a fix queued jobs. */
  reconcile(opts: ReconcileOptions, kick?: () => void): Promise<ReconcileReport>;
}

export interface CoreOptions {
  /** DigiCert call and wait hooks (the server's metrics). */
  observer?: DigiCertObservers;
  /** The audit trail every job's DigiCert writes go to (the server; the CLI queues, it does not run jobs). */
  trail?: AuditTrail;
  onAdopted?: () => void;
}

/**
 * The DigiCert client of the configured platform, for the server and every command that reaches DigiCert. The API
 * key is registered with the log redactor first: a message that echoes it (a proxy's error page) is masked.
 */
export function openDigiCertClient(config: Pick<AppConfig, "digicert">, logger: Logger, observer?: DigiCertObservers): ClosableDigiCertClient {
  registerSecret(config.digicert.apiKey);
  return createDigiCertClient(config.digicert, logger, observer);
}

/**
 * The DigiCert side of the bridge, built the same way for the server and for every CLI command: client (dry-run
 * wrapped when DRY_RUN is on), role resolver, access policy (not yet loaded: the caller decides what a bad mapping
 * does), sync, and reconcile over them.
 */
export function buildProvisioningCore(config: AppConfig, logger: Logger, store: Store, opts: CoreOptions = {}): ProvisioningCore {
  const digicert = openDigiCertClient(config, logger, opts.observer);
  // DRY_RUN: the outbox's DigiCert writes are answered without being sent (reads still reach DigiCert).
  const writer = config.dryRun ? dryRunClient(digicert) : digicert;
  const platform = config.digicert.platform;
  // Every list DigiCert gives is kept in the store: a start while DigiCert is unreachable resolves the mapping from it.
  const keep = (kind: "roles" | "divisions") => (list: DigiCertRole[]) => {
    store.roleLists.save(platform, kind, list).catch((err) => logger.warn("could not keep DigiCert's role list in the store", { kind, error: (err as Error).message }));
  };
  const roles = new RoleResolver(digicert, Date.now, keep("roles"));
  const access = new AccessPolicy({
    platform,
    roles,
    fallbackDefaultRole: config.digicert.defaultRole,
    mappingFile: config.roleMappingFile,
    ...(digicert.listDivisions
      ? {
          listDivisions: async () => {
            const divisions = await digicert.listDivisions!();
            keep("divisions")(divisions);
            return divisions;
          },
        }
      : {}),
    storedRoles: store.roleLists,
    logger,
  });
  const trail = opts.trail;
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
    ...(opts.onAdopted ? { onAdopted: opts.onAdopted } : {}),
    // Every DigiCert write a job makes (or, dry-run, would make) goes to the audit trail.
    ...(trail
      ? { clientForJob: (job: OutboxJob) => auditedClient(writer, job, { trail, users: store.users, dryRun: config.dryRun, roleName: (id) => access.roleName(id) }) }
      : {}),
  });
  return {
    digicert,
    writer,
    roles,
    access,
    sync,
    // A run names itself on each DigiCert call it makes (status page, log) and is one trace (server and CLI alike).
    reconcile: (ropts, kick) =>
      withCallCause({ origin: `reconcile (${ropts.trigger ?? "cli"})`, trace: newTrace() }, () => reconcile(
        {
          store,
          digicert,
          targetOf: (row, profileChanged) => sync.targetOf(row, profileChanged),
          certcentralDeactivation: config.digicert.certcentralDeactivation,
          managedRoleIds: () => access.managedRoleIds(),
          logger,
          ...(kick ? { kick } : {}),
        },
        ropts,
      )),
  };
}

/**
 * Builds the whole bridge from a checked config: store (migrated), DigiCert client, role mapping (a file that does
 * not parse, or names roles DigiCert does not offer, stops the start; DigiCert unreachable does not: see
 * AccessPolicy.start), services, HTTP app.
 */
/** `fastReads: false` serves every SCIM read through SCIMMY: for tests that compare the two paths. */
export async function buildBridge(config: AppConfig, logger: Logger, opts: { pgSchema?: string; fastReads?: boolean } = {}): Promise<Bridge> {
  // With no credential in the environment only a store token can let the IdP in: a store that does not exist yet
  // holds none, so the start stops before creating it.
  if (!credentialsInEnv(config) && !mayHoldTokens(config.databaseUrl)) throw new ConfigError([NO_AUTH_PROBLEM]);
  const store = await openStore(config.databaseUrl, { logger, pgSchema: opts.pgSchema }).catch((err: unknown) => {
    throw new StartupError([`DATABASE_URL: ${(err as Error).message}`], { cause: err });
  });
  // The IdP needs a credential: from the environment, or a token in the store (digicert-scim tokens create).
  await checkCredentialsAtStart(config, store.tokens, logger).catch(async (err) => {
    await store.close();
    throw err;
  });
  // Gauges read on scrape (store counts, the DigiCert client's pacing); DigiCert calls and waits reported through hooks.
  const metrics = createMetrics(() => store.outbox.stats(), {
    users: () => store.users.countByState(),
    groups: () => store.groups.count(),
    pacing: () => core.digicert.pacing(),
  });
  const trail = new AuditTrail(() => store.audit, logger);
  // The status page's DigiCert view: recent calls with their cause, calls and outbox depth per minute (in memory).
  const activity = new DigiCertActivity({ limitPerMinute: sustainedRatePerSecond(config.digicert.rateLimit) * 60 });
  const observer = {
    ...metrics.digicert,
    call: (c: Parameters<NonNullable<typeof metrics.digicert.call>>[0]) => {
      metrics.digicert.call?.(c);
      activity.call(c);
    },
  };
  const core = buildProvisioningCore(config, logger, store, { observer, trail, onAdopted: () => metrics.adopted() });
  const { digicert, access, sync } = core;
  if (config.dryRun) {
    logger.warn("DRY_RUN is on: nothing is written to DigiCert; each would-be call is recorded in the audit trail (digicert-scim plan)");
  }
  // A configured mapping file is checked now (a bad file stops the start) and resolved against DigiCert's roles; while
  // DigiCert is unreachable, from the role list kept in the store, or in the background as soon as it answers
  // (jobs that need the mapping wait until then; /readyz shows `rolemapping`).
  let kickWorker: () => void = () => undefined;
  try {
    const state = await access.start({ onResolved: () => kickWorker() });
    if (state.state === "resolved") logger.info("role mapping loaded", { file: config.roleMappingFile });
  } catch (err) {
    await digicert.close();
    await store.close();
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
    nominalRatePerSecond: sustainedRatePerSecond(config.digicert.rateLimit),
    queueWaitMs: config.outbox.syncWaitQueueMs,
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
  kickWorker = () => worker.kick();
  // Jobs a crash or a shutdown left behind are picked up here (leases that ran out) like any others.
  worker.start();
  const runReconcile = (ropts: ReconcileOptions = {}) =>
    core.reconcile(ropts, () => worker.kick());
  const stopSampling = activity.startSampling(async () => {
    const s = await store.outbox.stats();
    return s.pending + s.running;
  }, 20_000);
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
    userReads: new UserReads(store.users),
    groups,
    roleName: (id) => access.roleName(id),
    roleCatalogue: () => access.listRoles(),
    idempotency: store.idempotency,
    admitWrite: outboxAdmission(() => worker.stats(), config.outbox.maxPending),
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
    fastReads: opts.fastReads,
    // The status page (/admin, with ADMIN_TOKENS or ADMIN_BASIC_USERS).
    status: {
      audit: store.audit,
      reconcile: store.reconcile,
      users: store.users,
      groups: store.groups,
      // Counts read fresh; the drain rate is measured from jobs finished (all replicas), never the budget.
      outbox: {
        stats: () => store.outbox.stats(),
        list: (filter) => store.outbox.list(filter),
        doneSince: (since) => store.outbox.doneSince(since),
      },
      access,
      activity,
      lookup: { users: store.users, outbox: store.outbox, audit: store.audit },
    },
    readinessChecks: [
      ...bridgeReadinessChecks({
        store,
        outboxStats: () => store.outbox.stats(),
        digicert,
        dryRun: config.dryRun,
        maxPending: config.outbox.maxPending,
        sharedRateBudget: !!config.digicert.redisUrl,
      }),
      ...(config.roleMappingFile ? [roleMappingCheck(() => access.status())] : []),
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
      stopSampling();
      access.stopRefresh();
      stopHousekeeping();
      await reconcileSchedule?.stop();
      await worker.stop(SHUTDOWN_GRACE_MS);
      await digicert.close();
      await store.close();
    },
  };
}
