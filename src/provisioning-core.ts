// What the server and every CLI command that reaches DigiCert build the same way: the client of the configured
// platform, the role mapping, the sync logic and reconcile over them (src/wiring.ts and src/tenant-runtime.ts
// build the server on it).
import type { AppConfig } from "./config";
import { createDigiCertClient, type ClosableDigiCertClient, type DigiCertClient, type DigiCertObservers, type DigiCertRole } from "./digicert";
import { dryRunClient } from "./digicert/dry-run";
import { withCallCause } from "./digicert/observer";
import { registerSecret, type Logger } from "./log/logger";
import { newTrace } from "./log/trace-context";
import { AccessPolicy } from "./provisioning/access-policy";
import type { AuditTrail } from "./provisioning/audit";
import { auditedClient } from "./provisioning/call-audit";
import { DigiCertSync } from "./provisioning/digicert-sync";
import { reconcile, type ReconcileOptions, type ReconcileReport } from "./provisioning/reconcile";
import { RoleResolver } from "./provisioning/role-resolver";
import { draftFromRow } from "./scim/user-mapping";
import type { OutboxJob, UserRow } from "./provisioning/records";
import type { Store } from "./provisioning/ports";

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
  /**
   * false: a fan-out tenant's secondary target. The roles an IdP assigns directly (SCIM `roles`) are ids of the
   * primary target's DigiCert, whose catalogue the tenant's SCIM surface offers; they mean nothing on another
   * target, which gives only what its own role mapping says.
   */
  assignedRoles?: boolean;
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
  const draftOf = opts.assignedRoles === false ? (row: UserRow) => ({ ...draftFromRow(row), assignedRoleIds: [] }) : draftFromRow;
  const sync = new DigiCertSync({
    users: store.users,
    groups: store.groups,
    outbox: store.outbox,
    digicert: writer,
    roles,
    access,
    certcentralDeactivation: config.digicert.certcentralDeactivation,
    draftOf,
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

