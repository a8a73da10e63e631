import type { Express } from "express";
import { buildTenant, type TargetHooks, type TenantRuntime } from "./tenant-runtime";
import { tenantsOf } from "./config/tenant-types";
import { DEFAULT_TENANT } from "./store";
import type { ScimTenantMount } from "./http/app";
export { buildProvisioningCore, openDigiCertClient, type CoreOptions, type ProvisioningCore } from "./provisioning-core";
import fs from "node:fs";
import { ConfigError, NO_AUTH_PROBLEM, StartupError, type AppConfig, type TenantConfig, type TenantTarget } from "./config";
import { createDigiCertClient, type ClosableDigiCertClient, type DigiCertClient, type DigiCertObservers, type DigiCertRole } from "./digicert";
import { dryRunClient } from "./digicert/dry-run";
import { sustainedRatePerSecond } from "./digicert/pacing";
import { withCallCause } from "./digicert/observer";
import { DigiCertActivity } from "./http/admin/activity";
import { closeApp, createApp } from "./http/app";
import { createMetrics } from "./http/metrics";
import { storeCheck, targetReadinessChecks, tenantDryRunCheck } from "./http/readiness-checks";
import type { ReadinessCheck } from "./http/health";
import type { StatusSource } from "./http/admin";
import { roleMappingCheck } from "./http/role-mapping-check";
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
  /** Every tenant by id (the fields above are the first's: the environment's default tenant when there is one). */
  tenants: ReadonlyMap<string, TenantRuntime>;
  close(): Promise<void>;
}


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


/**
 * Builds the whole bridge from a checked config: store (migrated), then each tenant (src/tenant-runtime.ts: its
 * DigiCert client, role mapping, services and outbox worker; a mapping file that does not parse, or names roles
 * DigiCert does not offer, stops the start; DigiCert unreachable does not: see AccessPolicy.start), then the HTTP
 * app serving every tenant at /t/{tenant}/scim/v2 and the default one at /scim/v2 too.
 */
/** `fastReads: false` serves every SCIM read through SCIMMY: for tests that compare the two paths. */
export async function buildBridge(config: AppConfig, logger: Logger, opts: { pgSchema?: string; fastReads?: boolean } = {}): Promise<Bridge> {
  const tenants = tenantsOf(config);
  // With no credential in the environment only a store token can let the IdP in: a store that does not exist yet
  // holds none, so the start stops before creating it.
  const envTenant = tenants.find((t) => t.id === DEFAULT_TENANT);
  if (envTenant && !credentialsInEnv(config) && !mayHoldTokens(config.databaseUrl)) throw new ConfigError([NO_AUTH_PROBLEM]);
  const store = await openStore(config.databaseUrl, { logger, pgSchema: opts.pgSchema }).catch((err: unknown) => {
    throw new StartupError([`DATABASE_URL: ${(err as Error).message}`], { cause: err });
  });
  // The IdP needs a credential: from the environment, or a token in the store (digicert-scim tokens create).
  if (envTenant) {
    await checkCredentialsAtStart(config, store.tokens, logger).catch(async (err) => {
      await store.close();
      throw err;
    });
  }
  // The first tenant (the environment's, when it has one) is the one the Bridge's own fields describe.
  const main = envTenant ?? tenants[0];
  // Gauges read every tenant's store and targets on scrape; DigiCert calls, waits and jobs are reported through each
  // target's own hooks, labelled {tenant, target}.
  const metrics = createMetrics();
  // Each tenant's status page shows its primary target's DigiCert calls and outbox depth per minute (in memory).
  const activities = new Map<string, DigiCertActivity>();
  const hooksOf = (tenant: TenantConfig, target: TenantTarget, activity?: DigiCertActivity): TargetHooks => {
    const m = metrics.forTarget(tenant.id, target.name);
    return {
      observer: {
        pacing: m.digicert.pacing,
        call: (c) => {
          m.digicert.call?.(c);
          activity?.call(c);
        },
      },
      onAdopted: () => m.adopted(),
      onJobEnd: (job, outcome, ms) => m.jobEnded(job.kind, outcome as never, ms / 1000),
    };
  };
  const runtimes: TenantRuntime[] = [];
  try {
    for (const tenant of [main, ...tenants.filter((t) => t !== main)]) {
      const activity = new DigiCertActivity({ limitPerMinute: sustainedRatePerSecond(tenant.targets[0].digicert.rateLimit) * 60 });
      activities.set(tenant.id, activity);
      runtimes.push(
        await buildTenant(config, tenant, store.scoped(tenant.id), {
          logger,
          ...hooksOf(tenant, tenant.targets[0], activity),
          forTarget: (target) => hooksOf(tenant, target),
        }),
      );
    }
  } catch (err) {
    await Promise.all(runtimes.map((r) => r.close()));
    await store.close();
    throw err;
  }
  for (const r of runtimes) {
    metrics.addTenant({
      tenant: r.id,
      users: () => r.store.users.countByState(),
      groups: () => r.store.groups.count(),
      targets: r.targets.map((t, i) => ({
        target: t.name,
        outbox: () => t.store.outbox.stats(),
        pacing: () => t.core.digicert.pacing(),
        reconcile: () => t.store.reconcile.latestSummary(),
        // The primary target's sync state is on the user rows (the tenant's users read); another's on its links.
        ...(i > 0 ? { sync: async () => (await t.store.users.countByState()).sync } : {}),
      })),
    });
  }
  const first = runtimes[0];
  const stopSampling = runtimes.map((r) =>
    activities.get(r.id)!.startSampling(async () => {
      const s = await r.store.outbox.stats();
      return s.pending + s.running;
    }, 20_000),
  );
  const scimTenant = (r: TenantRuntime): ScimTenantMount => ({
    id: r.id,
    scim: r.config.scim,
    platform: r.config.digicert.platform,
    ...(r.targets.length > 1 ? { targets: r.targets.map((t) => ({ name: t.name, platform: t.config.digicert.platform })) } : {}),
    users: r.users,
    userReads: r.userReads,
    groups: r.groups,
    roleName: (id) => r.access.roleName(id),
    roleCatalogue: () => r.access.listRoles(),
    idempotency: r.store.idempotency,
    admitWrite: outboxAdmission(() => r.outbox.stats(), config.outbox.maxPending),
    // Refused SCIM writes go to the audit trail (accepted ones are recorded by the services, with the change).
    audit: {
      record: (entries) => r.trail.record(entries),
      userNameOf: async (id) => (await r.store.users.getById(id))?.userName ?? null,
      failed: (err) => r.logger.warn("a refused request could not be recorded in the audit trail", { error: (err as Error)?.message }),
    },
    // Bearer tokens of `digicert-scim tokens --tenant`, besides those of the configuration.
    tokens: r.store.tokens,
    ...(r.tenant.idp ? { idp: r.tenant.idp } : {}),
  });
  // The status page of a tenant (/admin?tenant=…): its own store's users, outbox, audit and reconcile runs.
  const statusOf = (r: TenantRuntime): StatusSource => ({
    audit: r.store.audit,
    reconcile: r.store.reconcile,
    users: r.store.users,
    groups: r.store.groups,
    // Counts read fresh; the drain rate is measured from jobs finished (all replicas), never the budget.
    outbox: {
      stats: () => r.store.outbox.stats(),
      list: (filter) => r.store.outbox.list(filter),
      doneSince: (since) => r.store.outbox.doneSince(since),
    },
    access: r.access,
    activity: activities.get(r.id),
    lookup: { users: r.store.users, outbox: r.store.outbox, audit: r.store.audit },
  });
  const app = createApp({
    config: first.config,
    tenants: runtimes.map(scimTenant),
    // The first tenant's store tokens of scope admin open /metrics (and its own status page).
    tokens: first.store.tokens,
    metrics,
    metricsTokens: config.metricsTokens,
    logger,
    fastReads: opts.fastReads,
    // The status page (/admin, with ADMIN_TOKENS or ADMIN_BASIC_USERS, or a tenant's store tokens of scope admin).
    status: runtimes.map((r) => ({ id: r.id, source: statusOf(r) })),
    readinessChecks: readinessChecksOf(runtimes, store, config),
  });
  return {
    app,
    store: first.store,
    digicert: first.digicert,
    users: first.users,
    groups: first.groups,
    access: first.access,
    outbox: first.outbox,
    tenants: new Map(runtimes.map((r) => [r.id, r])),
    reloadRoleMapping: () => first.reloadRoleMapping(),
    reconcile: (ropts) => first.reconcile(ropts),
    reconcileSchedule: first.reconcileSchedule,
    async close() {
      await closeApp(app);
      for (const stop of stopSampling) stop();
      await Promise.all(runtimes.map((r) => r.close()));
      await store.close();
    },
  };
}

/**
 * /readyz of a bridge of tenants: the store, then each tenant's targets. The default tenant's primary target keeps
 * the names and the behaviour /readyz has always had (its refused API key makes the bridge unready); every other
 * target is named `<check>:<tenant>/<target>` and at worst degraded, so one tenant's bad key or unreachable DigiCert
 * never takes the others' SCIM surface out of the load balancer.
 */
function readinessChecksOf(runtimes: TenantRuntime[], store: { ping(): Promise<void> }, config: AppConfig): ReadinessCheck[] {
  const checks: ReadinessCheck[] = [storeCheck(store)];
  for (const r of runtimes) {
    const isDefault = r.id === DEFAULT_TENANT;
    if (r.tenant.dryRun) checks.push(tenantDryRunCheck(isDefault ? undefined : { tenant: r.id }));
    r.targets.forEach((t, i) => {
      const scope = isDefault && i === 0 ? undefined : { tenant: r.id, target: t.name };
      checks.push(
        ...targetReadinessChecks(
          {
            outboxStats: () => t.store.outbox.stats(),
            digicert: t.core.digicert,
            maxPending: config.outbox.maxPending,
            sharedRateBudget: !!t.config.digicert.redisUrl,
          },
          scope,
        ),
      );
      if (t.config.roleMappingFile) checks.push(roleMappingCheck(() => t.core.access.status(), scope));
    });
  }
  return checks;
}
