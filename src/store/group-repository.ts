// GroupRepository over kysely, identical behaviour on SQLite and PostgreSQL.
// Membership operations lock the group row (PostgreSQL; SQLite serialises every transaction on its one
// connection), touch only the member rows named in the call, and bump the group's version only on a change.
import { Insertable, Kysely, Selectable, sql, Transaction, Updateable } from "kysely";
import { chunksOf, distinct } from "./chunks";
import { nextTimestamp } from "./clock";
import type { Codec, Database, Dialect, GroupMembersTable, GroupsTable } from "./db";
import { codecFor, inTransaction } from "./db";
import { rethrowMapped } from "./errors";
import { updateWithRetry } from "./optimistic";
import { groupFilter } from "./group-query";
import {
  GroupChanges,
  GroupMember,
  GroupQuery,
  GroupSort,
  GroupRef,
  GroupRepository,
  GroupRow,
  MembershipChange,
  NewGroupRow,
  Page,
  StoreVersionConflictError,
} from "./types";

type Db = Kysely<Database> | Transaction<Database>;
type Locked = { version: number; last_modified: string };


const GROUP_SORT_COLUMNS = {
  displayName: "display_name_lower",
  externalId: "external_id",
  id: "id",
  created: "created",
  lastModified: "last_modified",
} as const;

export class SqlGroupRepository implements GroupRepository {
  private readonly codec: Codec;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {
    this.codec = codecFor(dialect);
  }

  async insert(row: NewGroupRow, memberIds: string[]): Promise<GroupRow> {
    const now = nextTimestamp();
    try {
      return await inTransaction(this.db, async (trx) => {
        await trx
          .insertInto("scim_groups")
          .values({
            id: row.id,
            display_name: row.displayName,
            display_name_lower: row.displayName.toLowerCase(),
            external_id: row.externalId,
            resource: this.codec.json(row.resource),
            created: now,
            last_modified: now,
            version: 1,
          })
          .execute();
        await this.insertMembers(trx, row.id, distinct(memberIds));
        return this.requireById(trx, row.id);
      });
    } catch (error) {
      rethrowMapped(error);
    }
  }

  async getById(id: string): Promise<GroupRow | null> {
    const row = await this.db.selectFrom("scim_groups").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? this.toGroup(row) : null;
  }

  async list(query: GroupQuery | undefined, page: Page, sort?: GroupSort): Promise<{ total: number; rows: GroupRow[] }> {
    const filter = groupFilter(query, this.codec, this.dialect);
    if (filter === "none") return { total: 0, rows: [] };
    const base = filter === "all" ? this.db.selectFrom("scim_groups") : this.db.selectFrom("scim_groups").where(filter);

    const counted = await base.select((eb) => eb.fn.countAll<number | string | bigint>().as("n")).executeTakeFirst();
    const total = Number(counted?.n ?? 0);
    const { limit, offset } = window(page);
    if (limit === 0 || offset >= total) return { total, rows: [] };

    const column = sort ? GROUP_SORT_COLUMNS[sort.by] : null;
    const dir = sort?.descending ? "desc" : "asc";
    const ordered = column
      ? base.selectAll().orderBy(sql`(case when ${sql.ref(column)} is null then 1 else 0 end)`).orderBy(column, dir).orderBy("id", dir)
      : base.selectAll().orderBy("created").orderBy("id");
    const rows = await ordered.limit(limit).offset(offset).execute();
    return { total, rows: rows.map((r) => this.toGroup(r)) };
  }

  update(id: string, changes: GroupChanges, expectedVersion?: number): Promise<GroupRow | null> {
    return updateWithRetry(this.db, expectedVersion, (trx) => this.updateOnce(trx, id, changes, expectedVersion));
  }

  private async updateOnce(
    trx: Transaction<Database>,
    id: string,
    changes: GroupChanges,
    expectedVersion: number | undefined,
  ): Promise<GroupRow | null | "lost-race"> {
    const current = await this.lockGroup(trx, id);
    if (!current) return null;
    if (expectedVersion !== undefined && current.version !== expectedVersion) throw new StoreVersionConflictError();

    const set: Updateable<GroupsTable> = {
      version: current.version + 1,
      last_modified: nextTimestamp(current.last_modified),
    };
    if (changes.displayName !== undefined) {
      set.display_name = changes.displayName;
      set.display_name_lower = changes.displayName.toLowerCase();
    }
    if (changes.externalId !== undefined) set.external_id = changes.externalId;
    if (changes.resource !== undefined) set.resource = this.codec.json(changes.resource);

    const result = await trx
      .updateTable("scim_groups")
      .set(set)
      .where("id", "=", id)
      .where("version", "=", current.version)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return "lost-race";
    return this.requireById(trx, id);
  }

  async delete(id: string): Promise<string[] | null> {
    return inTransaction(this.db, async (trx) => {
      // Locked first, so no membership change can slip in between reading the members and the delete.
      if (!(await this.lockGroup(trx, id))) return null;
      const members = await trx
        .selectFrom("scim_group_members")
        .select("user_id")
        .where("group_id", "=", id)
        .orderBy("user_id")
        .execute();
      // Memberships go with the group via ON DELETE CASCADE.
      await trx.deleteFrom("scim_groups").where("id", "=", id).execute();
      return members.map((m) => m.user_id);
    });
  }

  async members(groupId: string, page?: Page): Promise<{ total: number; rows: GroupMember[] }> {
    const counted = await this.db
      .selectFrom("scim_group_members")
      .select((eb) => eb.fn.countAll<number | string | bigint>().as("n"))
      .where("group_id", "=", groupId)
      .executeTakeFirst();
    const total = Number(counted?.n ?? 0);
    let limit = total;
    let offset = 0;
    if (page !== undefined) ({ limit, offset } = window(page));
    if (limit === 0 || offset >= total) return { total, rows: [] };

    let query = this.db
      .selectFrom("scim_group_members as m")
      .innerJoin("scim_users as u", "u.id", "m.user_id")
      .select(["u.id as userId", "u.user_name as userName"])
      .where("m.group_id", "=", groupId)
      // user_name_lower is unique and byte-ordered on both dialects, so the order is total and portable.
      .orderBy("u.user_name_lower")
      .orderBy("u.id");
    if (page !== undefined) query = query.limit(limit).offset(offset);
    return { total, rows: await query.execute() };
  }

  async addMembers(groupId: string, userIds: string[]): Promise<MembershipChange> {
    const wanted = distinct(userIds);
    if (wanted.length === 0) return { added: [], removed: [] };
    return this.changeMembers(groupId, async (trx) => {
      const inserted = new Set<string>();
      for (const chunk of chunksOf(wanted)) {
        // Only the rows actually inserted come back: present members are skipped by the primary key.
        const rows = await trx
          .insertInto("scim_group_members")
          .values(chunk.map((userId) => ({ group_id: groupId, user_id: userId })))
          .onConflict((oc) => oc.columns(["group_id", "user_id"]).doNothing())
          .returning("user_id")
          .execute();
        for (const r of rows) inserted.add(r.user_id);
      }
      return { added: wanted.filter((id) => inserted.has(id)), removed: [] };
    });
  }

  async removeMembers(groupId: string, userIds: string[]): Promise<MembershipChange> {
    const unwanted = distinct(userIds);
    if (unwanted.length === 0) return { added: [], removed: [] };
    return this.changeMembers(groupId, async (trx) => {
      const deleted = new Set<string>();
      for (const chunk of chunksOf(unwanted)) {
        const rows = await trx
          .deleteFrom("scim_group_members")
          .where("group_id", "=", groupId)
          .where("user_id", "in", chunk)
          .returning("user_id")
          .execute();
        for (const r of rows) deleted.add(r.user_id);
      }
      return { added: [], removed: unwanted.filter((id) => deleted.has(id)) };
    });
  }

  async replaceMembers(groupId: string, userIds: string[]): Promise<MembershipChange> {
    const wanted = distinct(userIds);
    return this.changeMembers(groupId, async (trx) => {
      // Inherently O(group): the current list is needed to know what to drop.
      const current = await trx
        .selectFrom("scim_group_members")
        .select("user_id")
        .where("group_id", "=", groupId)
        .orderBy("user_id")
        .execute();
      const currentIds = new Set(current.map((r) => r.user_id));
      const wantedIds = new Set(wanted);
      const removed = current.map((r) => r.user_id).filter((id) => !wantedIds.has(id));
      const added = wanted.filter((id) => !currentIds.has(id));
      for (const chunk of chunksOf(removed)) {
        await trx.deleteFrom("scim_group_members").where("group_id", "=", groupId).where("user_id", "in", chunk).execute();
      }
      await this.insertMembers(trx, groupId, added);
      return { added, removed };
    });
  }

  async groupsOfUsers(userIds: string[]): Promise<Map<string, GroupRef[]>> {
    const result = new Map<string, GroupRef[]>();
    for (const id of userIds) result.set(id, []);
    for (const chunk of chunksOf(distinct(userIds))) {
      const rows = await this.db
        .selectFrom("scim_group_members as m")
        .innerJoin("scim_groups as g", "g.id", "m.group_id")
        .select(["m.user_id", "g.id", "g.display_name", "g.external_id"])
        .where("m.user_id", "in", chunk)
        .orderBy("g.display_name_lower")
        .orderBy("g.id")
        .execute();
      for (const r of rows) result.get(r.user_id)!.push({ id: r.id, displayName: r.display_name, externalId: r.external_id });
    }
    return result;
  }

  async allGroupRefs(): Promise<GroupRef[]> {
    const rows = await this.db
      .selectFrom("scim_groups")
      .select(["id", "display_name", "external_id"])
      .orderBy("created")
      .orderBy("id")
      .execute();
    return rows.map((r) => ({ id: r.id, displayName: r.display_name, externalId: r.external_id }));
  }

  async count(): Promise<number> {
    const r = await this.db
      .selectFrom("scim_groups")
      .select((eb) => eb.fn.countAll<number | string | bigint>().as("n"))
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  /**
   * Runs a membership change in one transaction with the group locked; bumps version and lastModified only when
   * something changed. A group that does not exist (or was just deleted) changes nothing.
   */
  private async changeMembers(
    groupId: string,
    work: (trx: Transaction<Database>) => Promise<MembershipChange>,
  ): Promise<MembershipChange> {
    return inTransaction(this.db, async (trx) => {
      const current = await this.lockGroup(trx, groupId);
      if (!current) return { added: [], removed: [] };
      const change = await work(trx);
      if (change.added.length > 0 || change.removed.length > 0) {
        await trx
          .updateTable("scim_groups")
          .set({ version: current.version + 1, last_modified: nextTimestamp(current.last_modified) })
          .where("id", "=", groupId)
          .execute();
      }
      return change;
    });
  }

  /** Reads the group's version, locking its row on PostgreSQL so concurrent writers to the group queue. */
  private async lockGroup(trx: Transaction<Database>, id: string): Promise<Locked | undefined> {
    let read = trx.selectFrom("scim_groups").select(["version", "last_modified"]).where("id", "=", id);
    if (this.dialect === "postgres") read = read.forUpdate();
    return read.executeTakeFirst();
  }

  /** Plain inserts of ids known not to be members yet (distinct). */
  private async insertMembers(trx: Transaction<Database>, groupId: string, userIds: string[]): Promise<void> {
    const values: Insertable<GroupMembersTable>[] = userIds.map((userId) => ({ group_id: groupId, user_id: userId }));
    for (const chunk of chunksOf(values)) await trx.insertInto("scim_group_members").values(chunk).execute();
  }

  private async requireById(db: Db, id: string): Promise<GroupRow> {
    return this.toGroup(await db.selectFrom("scim_groups").selectAll().where("id", "=", id).executeTakeFirstOrThrow());
  }

  private toGroup(r: Selectable<GroupsTable>): GroupRow {
    return {
      id: r.id,
      displayName: r.display_name,
      externalId: r.external_id,
      resource: this.codec.readJson(r.resource),
      created: r.created,
      lastModified: r.last_modified,
      version: Number(r.version),
    };
  }
}

/** A page clamped to non-negative integers. */
function window(page: Page): { limit: number; offset: number } {
  return { limit: Math.max(0, Math.floor(page.limit)), offset: Math.max(0, Math.floor(page.offset)) };
}
