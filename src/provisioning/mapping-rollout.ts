import type { Logger } from "../log/logger";
import type { Store } from "./ports";
import type { AccessPolicy } from "./access-policy";
import { logAudit, safeChanges } from "./audit";
import type { UserService } from "./user-service";

export interface RoleChange {
  userId: string;
  userName: string;
  gained: string[];
  lost: string[];
}

export interface MappingReport {
  usersChecked: number;
  /** Users whose DigiCert roles or access the new mapping changes; a job for each is queued in the outbox. */
  changes: RoleChange[];
  failures: { userId: string; error: string }[];
}

const PAGE = 500;

/**
 * Applies the mapping in force to every stored user (after a reload), one page at a time: says who gains or
 * loses which role and queues an outbox job for each of them, which the worker carries out within the rate budget.
 */
export async function applyMappingToAllUsers(deps: { users: UserService; store: Store; access: AccessPolicy; logger: Logger; kick?: () => void }): Promise<MappingReport> {
  const { users, store, access, logger } = deps;
  const report: MappingReport = { usersChecked: 0, changes: [], failures: [] };
  const name = (id: string) => access.roleName(id) ?? id;
  for (let offset = 0; ; offset += PAGE) {
    const { rows } = await store.users.list(undefined, { offset, limit: PAGE });
    if (!rows.length) break;
    report.usersChecked += rows.length;
    try {
      const changes = await users.accessChanges(rows.map((r) => r.id));
      const jobIds = await store.outbox.enqueue(users.accessJobs(changes.map((c) => c.userId)));
      deps.kick?.();
      // The audit trail: the bridge changes these users' roles on its own (no SCIM request asked).
      const audit = changes.map((c, i) => ({
        kind: "bridge" as const,
        action: "mapping.reload",
        outcome: "ok" as const,
        resourceType: "User" as const,
        resourceId: c.userId,
        userName: c.userName,
        changes: safeChanges([{ path: "roles", before: (c.before ?? []).map(name), after: (c.after ?? []).map(name) }]),
        jobId: jobIds[i] ?? null,
        detail: "the role mapping was reloaded",
      }));
      await store.audit.appendMany(audit);
      logAudit(logger, audit);
      for (const c of changes) {
        const before = new Set(c.before ?? []);
        const after = new Set(c.after ?? []);
        const change = {
          userId: c.userId,
          userName: c.userName,
          gained: [...after].filter((r) => !before.has(r)).map(name),
          lost: [...before].filter((r) => !after.has(r)).map(name),
        };
        report.changes.push(change);
        logger.info("role mapping applied to user", change);
      }
    } catch (err) {
      for (const row of rows) report.failures.push({ userId: row.id, error: (err as Error).message });
      logger.warn("role mapping could not be applied to a page of users", { users: rows.length, error: (err as Error).message });
    }
    if (rows.length < PAGE) break;
  }
  logger.info("role mapping reloaded", { usersChecked: report.usersChecked, changed: report.changes.length, failed: report.failures.length });
  return report;
}
