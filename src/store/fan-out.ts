// A fan-out tenant provisions each user to several DigiCert targets. Its SCIM surface works on the primary target's
// store, made with the names of the other targets (Store.scoped(tenant, "", { fanOut })): what this module adds to
// that store. Every job the tenant's services queue is queued for each other target as well, in the same transaction
// (each target's worker runs its own: the scope plugin confines claims to one target), and the tenant's user reads
// carry each other target's link and sync state (UserRow.targets) from scim_user_targets, in the same one query.
import { sql, type Kysely, type RawBuilder, type Transaction } from "kysely";
import { chunksOf } from "./chunks";
import type { Database, Dialect } from "./db";
import { SqlOutboxRepository } from "./outbox-repository";
import { linkStoreFor } from "./target-links";
import { TenantScopePlugin } from "./tenant-scope";
import type { NewOutboxJob, SyncState, TargetSync, UserRow } from "./types";

interface StoredTarget {
  target: string;
  digicertId: string | null;
  syncState: string;
  syncError: string | null;
  syncedAt: string | null;
}

export class FanOut {
  constructor(
    private readonly tenant: string,
    /** The tenant's targets but the primary, in its order. */
    readonly targets: readonly string[],
    private readonly dialect: Dialect,
  ) {}

  /**
   * The user's scim_user_targets rows as one JSON array: a correlated subquery of scim_users, in raw SQL (the scope
   * plugin leaves fragments alone), which reaches only rows of a user the query already confined to the tenant, by
   * a UUID no other tenant holds. Targets no longer configured are dropped by targetsOf.
   */
  targetsJson(): RawBuilder<unknown> {
    return this.dialect === "postgres"
      ? sql`(select coalesce(json_agg(json_build_object('target', vt.target, 'digicertId', vt.digicert_id, 'syncState', vt.sync_state, 'syncError', vt.sync_error, 'syncedAt', vt.synced_at)), '[]'::json) from scim_user_targets vt where vt.user_id = scim_users.id)`
      : sql`(select json_group_array(json_object('target', vt.target, 'digicertId', vt.digicert_id, 'syncState', vt.sync_state, 'syncError', vt.sync_error, 'syncedAt', vt.synced_at)) from scim_user_targets vt where vt.user_id = scim_users.id)`;
  }

  /** targetsJson's value as UserRow.targets: every other target in the tenant's order, one without a row pending. */
  targetsOf(json: unknown): TargetSync[] {
    const stored = (typeof json === "string" ? JSON.parse(json) : json ?? []) as StoredTarget[];
    const byName = new Map(stored.map((t) => [t.target, t]));
    return this.targets.map((target) => {
      const t = byName.get(target);
      return t
        ? { target, digicertId: t.digicertId ?? null, syncState: t.syncState as SyncState, syncError: t.syncError ?? null, syncedAt: t.syncedAt ?? null }
        : { target, digicertId: null, syncState: "pending", syncError: null, syncedAt: null };
    });
  }

  /** Rows read without the subquery, with their targets (one query per chunk of users). */
  async attach(db: Kysely<Database>, rows: UserRow[]): Promise<UserRow[]> {
    const json = new Map<string, unknown>();
    for (const chunk of chunksOf(rows.map((r) => r.id))) {
      const found = await db.selectFrom("scim_users").select(["id", this.targetsJson().as("targets_json")]).where("id", "in", chunk).execute();
      for (const r of found) json.set(r.id, r.targets_json);
    }
    return rows.map((r) => ({ ...r, targets: this.targetsOf(json.get(r.id)) }));
  }

  /**
   * Queues `jobs` for every other target, in the caller's transaction. A delete job names the DigiCert user to
   * remove, which differs per target: each target's gets its own link's id (read before the user's row goes, which
   * takes its scim_user_targets rows with it).
   */
  async enqueue(trx: Transaction<Database>, jobs: NewOutboxJob[]): Promise<void> {
    for (const target of this.targets) {
      const db = this.on(trx, target);
      await this.outboxOf(db, target).enqueue(await this.ownDeletes(db, jobs));
    }
  }

  /** Cancels the user's unfinished jobs on every other target (a create rolled back). */
  async cancelUnfinished(trx: Transaction<Database>, userId: string): Promise<void> {
    for (const target of this.targets) await this.outboxOf(this.on(trx, target), target).cancelUnfinished(userId);
  }

  /** The caller's transaction, confined to `target` of the tenant instead of the primary. */
  private on(trx: Transaction<Database>, target: string): Transaction<Database> {
    return trx.withoutPlugins().withPlugin(new TenantScopePlugin({ tenant: this.tenant, target }));
  }

  private outboxOf(db: Kysely<Database>, target: string): SqlOutboxRepository {
    return new SqlOutboxRepository(db, this.dialect, linkStoreFor({ tenant: this.tenant, target }, this.dialect));
  }

  private async ownDeletes(db: Kysely<Database>, jobs: NewOutboxJob[]): Promise<NewOutboxJob[]> {
    const userIds = [...new Set(jobs.filter((j) => j.kind === "delete").map((j) => j.userId))];
    if (!userIds.length) return jobs;
    const linked = new Map<string, string | null>();
    for (const chunk of chunksOf(userIds)) {
      for (const r of await db.selectFrom("scim_user_targets").select(["user_id", "digicert_id"]).where("user_id", "in", chunk).execute()) linked.set(r.user_id, r.digicert_id);
    }
    return jobs.map((j) => (j.kind === "delete" ? { ...j, payload: { ...j.payload, digicertId: linked.get(j.userId) ?? null } } : j));
  }
}
