// The status page's user look-up (read-only): search by userName (any part, any case) or id, and one user's sync
// state, last error, outbox jobs and audit history. Served as /admin?q=… and /admin?user=…, and as JSON at
// /admin/api/users?q=… and /admin/api/users/{id}.
import type { AuditQuery } from "../../provisioning/records";
import type { OutboxRepository, UserRepository } from "../../provisioning/ports";
import type { UserRow } from "../../provisioning/records";
import { jobView, type JobView } from "./status";

export interface UserLookupSource {
  users: Pick<UserRepository, "list" | "getById">;
  outbox: Pick<OutboxRepository, "list">;
  audit?: { query(q: AuditQuery): Promise<readonly object[]> };
}

export interface UserSummaryView {
  id: string;
  userName: string;
  externalId: string | null;
  active: boolean;
  syncState: string;
  /** Why the last DigiCert job failed or is being retried; null once one succeeds. */
  syncError: string | null;
  syncedAt: string | null;
  digicertId: string | null;
}

export interface UserDetailView extends UserSummaryView {
  adopted: boolean;
  digicertRoleIds: string[] | null;
  created: string;
  lastModified: string;
  /** The user's last error: the sync error, else the error of its latest failed job; null when there is none. */
  lastError: string | null;
  /** The user's outbox jobs, newest first. */
  jobs: JobView[];
  /** Its audit history, newest first; null without an audit trail. */
  audit: object[] | null;
}

export interface UserSearchView {
  query: string;
  total: number;
  users: UserSummaryView[];
}

export const SEARCH_LIMIT = 20;
export const USER_JOBS_SHOWN = 20;
export const USER_AUDIT_SHOWN = 50;
export const MAX_QUERY_CHARS = 256;

function summary(r: UserRow): UserSummaryView {
  return {
    id: r.id,
    userName: r.userName,
    externalId: r.externalId,
    active: r.active,
    syncState: r.syncState,
    syncError: r.syncError,
    syncedAt: r.syncedAt,
    digicertId: r.digicertId,
  };
}

/** Users whose userName contains `q` (any case), or whose id or externalId is `q`; userName order. */
export async function searchUsers(source: UserLookupSource, query: string): Promise<UserSearchView> {
  const q = query.trim().slice(0, MAX_QUERY_CHARS);
  if (!q) return { query: q, total: 0, users: [] };
  const { total, rows } = await source.users.list(
    {
      where: {
        or: [
          { field: { kind: "userName" }, op: "co", value: q },
          { field: { kind: "id" }, op: "eq", value: q },
          { field: { kind: "externalId" }, op: "eq", value: q },
        ],
      },
    },
    { offset: 0, limit: SEARCH_LIMIT },
    { field: { kind: "userName" }, descending: false },
  );
  return { query: q, total, users: rows.map(summary) };
}

/** One user with its jobs and audit history; null when there is no such user. */
export async function userDetail(source: UserLookupSource, id: string): Promise<UserDetailView | null> {
  const row = await source.users.getById(id);
  if (!row) return null;
  const [jobs, audit] = await Promise.all([
    source.outbox.list({ userId: row.id, limit: USER_JOBS_SHOWN }),
    source.audit ? source.audit.query({ resourceId: row.id, userName: row.userName, limit: USER_AUDIT_SHOWN }) : Promise.resolve(null),
  ]);
  const failed = jobs.find((j) => j.status === "failed" && j.error);
  return {
    ...summary(row),
    adopted: row.adopted,
    digicertRoleIds: row.digicertRoleIds,
    created: row.created,
    lastModified: row.lastModified,
    lastError: row.syncError ?? failed?.error?.message ?? null,
    jobs: jobs.map(jobView),
    // The trail answers oldest first; the page reads newest first.
    audit: audit ? [...audit].reverse() : null,
  };
}
