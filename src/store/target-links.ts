// Where a store keeps its users' DigiCert link (id, adopted, enabled, roles, divisions) and sync state. A tenant's
// primary target keeps them on scim_users' own columns, as before there were tenants (a single-target tenant pays
// nothing); each other target of a fan-out tenant keeps them in scim_user_targets, one row per user and target
// (migration 0012), while the SCIM user itself (userName, active, resource, emails, groups) stays the one record all
// its targets share. The user and outbox repositories reach the link and the sync state through this interface
// only, so the sync, the worker and reconcile run unchanged on a secondary target's store.
import type { Kysely, Selectable, Transaction, Updateable } from "kysely";
import { chunksOf } from "./chunks";
import { codecFor, inTransaction, type Codec, type Database, type Dialect, type UsersTable, type UserTargetsTable } from "./db";
import { PRIMARY_TARGET, type TenantScope } from "./tenant-scope";
import type { SyncState, UserChanges, UserLink, UserRow, UserStateCounts } from "./types";

type Db = Kysely<Database>;

export interface LinkStore {
  /** Rows as scim_users holds them, with this target's link and sync state. */
  overlay(db: Db, rows: UserRow[]): Promise<UserRow[]>;
  /** False when the user is gone. */
  setLink(db: Db, id: string, link: UserLink): Promise<boolean>;
  /** `error` undefined leaves the stored error as it is. Users that are gone are passed over. */
  setState(db: Db, userIds: string[], state: SyncState, error: string | null | undefined, syncedAt?: string): Promise<void>;
  /**
   * PostgreSQL: locks, until `trx` ends, the row an enqueue for this user marks pending, so a job's end and a new
   * job for the same user cannot both miss each other (SqlOutboxRepository.complete).
   */
  lockUser(trx: Transaction<Database>, userId: string): Promise<void>;
  /** Users by SCIM active flag and by this target's sync state. */
  countByState(db: Db): Promise<UserStateCounts>;
  /** The scim_users columns an update's link fields are written to. */
  linkColumns(changes: UserChanges): Updateable<UsersTable>;
  /** Up to `limit` users without a record on this target. */
  unlinkedIds(db: Db, limit: number): Promise<string[]>;
}

export function linkStoreFor(scope: TenantScope, dialect: Dialect): LinkStore {
  return scope.target === PRIMARY_TARGET ? new UserColumns(dialect) : new TargetRows(dialect);
}

function emptyCounts(): UserStateCounts {
  return { total: 0, active: 0, inactive: 0, sync: { synced: 0, pending: 0, failed: 0 } };
}

function addCount(out: UserStateCounts, active: boolean, state: string, n: number): void {
  out.total += n;
  if (active) out.active += n;
  else out.inactive += n;
  if (state in out.sync) out.sync[state as SyncState] += n;
}

/** The primary target: scim_users' columns. */
class UserColumns implements LinkStore {
  private readonly codec: Codec;

  constructor(dialect: Dialect) {
    this.codec = codecFor(dialect);
  }

  async overlay(_db: Db, rows: UserRow[]): Promise<UserRow[]> {
    return rows;
  }

  async setLink(db: Db, id: string, link: UserLink): Promise<boolean> {
    const result = await db
      .updateTable("scim_users")
      .set({
        digicert_id: link.digicertId,
        adopted: this.codec.bool(link.adopted),
        digicert_enabled: this.codec.bool(link.digicertEnabled),
        digicert_role_ids: this.codec.stringList(link.digicertRoleIds),
        ...(link.digicertDivisionIds !== undefined ? { digicert_division_ids: this.codec.stringList(link.digicertDivisionIds) } : {}),
      })
      .where("id", "=", id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async setState(db: Db, userIds: string[], state: SyncState, error: string | null | undefined, syncedAt?: string): Promise<void> {
    for (const chunk of chunksOf(userIds)) {
      await db
        .updateTable("scim_users")
        .set({
          sync_state: state,
          ...(error !== undefined ? { sync_error: error } : {}),
          ...(syncedAt ? { synced_at: syncedAt } : {}),
        })
        .where("id", "in", chunk)
        .execute();
    }
  }

  async lockUser(trx: Transaction<Database>, userId: string): Promise<void> {
    await trx.selectFrom("scim_users").select("id").where("id", "=", userId).forUpdate().execute();
  }

  async countByState(db: Db): Promise<UserStateCounts> {
    const rows = await db
      .selectFrom("scim_users")
      .select(["active", "sync_state", (eb) => eb.fn.countAll<number | string | bigint>().as("n")])
      .groupBy(["active", "sync_state"])
      .execute();
    const out = emptyCounts();
    for (const r of rows) addCount(out, this.codec.readBool(r.active), r.sync_state, Number(r.n));
    return out;
  }

  linkColumns(changes: UserChanges): Updateable<UsersTable> {
    const set: Updateable<UsersTable> = {};
    if (changes.digicertId !== undefined) set.digicert_id = changes.digicertId;
    if (changes.adopted !== undefined) set.adopted = this.codec.bool(changes.adopted);
    if (changes.digicertEnabled !== undefined) set.digicert_enabled = this.codec.bool(changes.digicertEnabled);
    if (changes.digicertRoleIds !== undefined) set.digicert_role_ids = this.codec.stringList(changes.digicertRoleIds);
    return set;
  }

  async unlinkedIds(): Promise<string[]> {
    return [];
  }
}

/** What a user with no scim_user_targets row has on that target: no link yet, and jobs still to reach it. */
const UNLINKED = {
  digicertId: null,
  adopted: false,
  digicertEnabled: true,
  digicertRoleIds: null,
  digicertDivisionIds: null,
  syncState: "pending",
  syncError: null,
  syncedAt: null,
} satisfies Partial<UserRow>;

/**
 * A secondary target: scim_user_targets, one row per user, made on the first write for that user (an upsert). The
 * store's TenantScopePlugin confines every query to the store's tenant and target, in the upsert's conflict key too.
 */
class TargetRows implements LinkStore {
  private readonly codec: Codec;

  constructor(private readonly dialect: Dialect) {
    this.codec = codecFor(dialect);
  }

  async overlay(db: Db, rows: UserRow[]): Promise<UserRow[]> {
    if (!rows.length) return rows;
    const byUser = new Map<string, Selectable<UserTargetsTable>>();
    for (const chunk of chunksOf(rows.map((r) => r.id))) {
      for (const t of await db.selectFrom("scim_user_targets").selectAll().where("user_id", "in", chunk).execute()) byUser.set(t.user_id, t);
    }
    return rows.map((row) => {
      const t = byUser.get(row.id);
      if (!t) return { ...row, ...UNLINKED, syncState: "pending" as const };
      return {
        ...row,
        digicertId: t.digicert_id,
        adopted: this.codec.readBool(t.adopted),
        digicertEnabled: this.codec.readBool(t.digicert_enabled),
        digicertRoleIds: this.codec.readStringList(t.digicert_role_ids),
        digicertDivisionIds: this.codec.readStringList(t.digicert_division_ids),
        syncState: t.sync_state as SyncState,
        syncError: t.sync_error,
        syncedAt: t.synced_at,
      };
    });
  }

  async setLink(db: Db, id: string, link: UserLink): Promise<boolean> {
    return inTransaction(db, async (trx) => {
      if (!(await this.holdUsers(trx, [id])).length) return false;
      const columns = {
        digicert_id: link.digicertId,
        adopted: this.codec.bool(link.adopted),
        digicert_enabled: this.codec.bool(link.digicertEnabled),
        digicert_role_ids: this.codec.stringList(link.digicertRoleIds),
        ...(link.digicertDivisionIds !== undefined ? { digicert_division_ids: this.codec.stringList(link.digicertDivisionIds) } : {}),
      };
      await trx
        .insertInto("scim_user_targets")
        .values({ user_id: id, ...columns, sync_state: "pending" })
        .onConflict((oc) => oc.column("user_id").doUpdateSet(columns))
        .execute();
      return true;
    });
  }

  async setState(db: Db, userIds: string[], state: SyncState, error: string | null | undefined, syncedAt?: string): Promise<void> {
    if (!userIds.length) return;
    const changes = {
      sync_state: state,
      ...(error !== undefined ? { sync_error: error } : {}),
      ...(syncedAt ? { synced_at: syncedAt } : {}),
    };
    await inTransaction(db, async (trx) => {
      for (const chunk of chunksOf(await this.holdUsers(trx, userIds), 200)) {
        await trx
          .insertInto("scim_user_targets")
          .values(chunk.map((id) => ({ user_id: id, adopted: this.codec.bool(false), digicert_enabled: this.codec.bool(true), ...changes })))
          .onConflict((oc) => oc.column("user_id").doUpdateSet(changes))
          .execute();
      }
    });
  }

  async lockUser(trx: Transaction<Database>, userId: string): Promise<void> {
    // The row must exist to be locked; a user gone has nothing left to mark.
    if (!(await this.holdUsers(trx, [userId])).length) return;
    await trx
      .insertInto("scim_user_targets")
      .values({ user_id: userId, adopted: this.codec.bool(false), digicert_enabled: this.codec.bool(true), sync_state: "pending" })
      .onConflict((oc) => oc.column("user_id").doNothing())
      .execute();
    await trx.selectFrom("scim_user_targets").select("user_id").where("user_id", "=", userId).forUpdate().execute();
  }

  async countByState(db: Db): Promise<UserStateCounts> {
    const rows = await db
      .selectFrom("scim_users")
      .leftJoin("scim_user_targets as ut", "ut.user_id", "scim_users.id")
      .select(["scim_users.active as active", "ut.sync_state as sync_state", (eb) => eb.fn.countAll<number | string | bigint>().as("n")])
      .groupBy(["scim_users.active", "ut.sync_state"])
      .execute();
    const out = emptyCounts();
    for (const r of rows) addCount(out, this.codec.readBool(r.active), r.sync_state ?? UNLINKED.syncState, Number(r.n));
    return out;
  }

  linkColumns(changes: UserChanges): Updateable<UsersTable> {
    if (changes.digicertId !== undefined || changes.adopted !== undefined || changes.digicertEnabled !== undefined || changes.digicertRoleIds !== undefined) {
      throw new Error("a secondary target's link is written with setLink, never with the shared user's update");
    }
    return {};
  }

  async unlinkedIds(db: Db, limit: number): Promise<string[]> {
    const rows = await db
      .selectFrom("scim_users")
      .leftJoin("scim_user_targets as ut", "ut.user_id", "scim_users.id")
      .select("scim_users.id as id")
      .where("ut.user_id", "is", null)
      .orderBy("scim_users.created")
      .limit(Math.max(0, limit))
      .execute();
    return rows.map((r) => r.id);
  }

  /**
   * Which of `ids` are still users; on PostgreSQL each is held (FOR KEY SHARE) until the transaction ends, so a
   * delete cannot slip in before the row that references it is written (its foreign key would refuse the write).
   */
  private async holdUsers(trx: Db, ids: string[]): Promise<string[]> {
    const found: string[] = [];
    for (const chunk of chunksOf([...new Set(ids)])) {
      let q = trx.selectFrom("scim_users").select("id").where("id", "in", chunk);
      if (this.dialect === "postgres") q = q.forKeyShare();
      for (const r of await q.execute()) found.push(r.id);
    }
    return found;
  }
}
