// UserRepository over kysely, identical behaviour on SQLite and PostgreSQL.
import { CompiledQuery, Insertable, Kysely, RawBuilder, Selectable, sql, Transaction, Updateable, type Compilable } from "kysely";
import { chunksOf, distinct } from "./chunks";
import { nextTimestamp } from "./clock";
import type { Codec, Database, Dialect, UserEmailsTable, UsersTable } from "./db";
import { codecFor, inTransaction } from "./db";
import { rethrowMapped } from "./errors";
import { updateWithRetry } from "./optimistic";
import { userFilter, userOrder } from "./user-query";
import type { FanOut } from "./fan-out";
import { linkStoreFor, type LinkStore } from "./target-links";
import { scopeOf } from "./tenant-scope";
import { userNameKey } from "../user-name";
import {
  NewUserRow,
  Page,
  StoredEmail,
  StoreVersionConflictError,
  SyncState,
  UserChanges,
  UserStateCounts,
  UserLink,
  UserQuery,
  UserRepository,
  UserRow,
  UserSort,
  UserView,
  UserFilterNode,
  GroupRef,
} from "./types";

type Db = Kysely<Database> | Transaction<Database>;
type DbBoolLike = boolean | number;

/** `userName eq "…"` or `id eq "…"` alone (an IdP's lookup): the column and the value it must hold, else null. */
function lookupOf(query: UserQuery | undefined): { column: "user_name_lower" | "id"; value: string } | null {
  if (!query) return null;
  let attr: string | undefined;
  let value: unknown;
  if ("anyOf" in query) {
    const c = query.anyOf.length === 1 && query.anyOf[0].length === 1 ? query.anyOf[0][0] : undefined;
    if (c?.attr === "userName" || c?.attr === "id") [attr, value] = [c.attr, c.value];
  } else if ("field" in query.where && query.where.op === "eq") {
    [attr, value] = [query.where.field.kind, query.where.value];
  }
  if (typeof value !== "string") return null;
  if (attr === "userName") return { column: "user_name_lower", value: userNameKey(value) };
  return attr === "id" ? { column: "id", value } : null;
}

/** Whether a query can match one user at most: it requires a given id or userName (both unique). */
function atMostOneUser(query: UserQuery | undefined): boolean {
  if (!query) return false;
  if ("anyOf" in query) return query.anyOf.length === 1 && query.anyOf[0].some((c) => c.attr === "id" || c.attr === "userName");
  const unique = (node: UserFilterNode): boolean => {
    if ("and" in node) return node.and.some(unique);
    return "field" in node && node.op === "eq" && typeof node.value === "string" && (node.field.kind === "id" || node.field.kind === "userName");
  };
  return unique(query.where);
}

/** Rows per multi-row insert into scim_users (13 columns: about 5,000 bound parameters per statement). */
const USER_INSERT_CHUNK = 400;

export class SqlUserRepository implements UserRepository {
  private readonly codec: Codec;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
    /** Where this store's target keeps the users' link and sync state (src/store/target-links.ts). */
    private readonly links: LinkStore = linkStoreFor(scopeOf(""), dialect),
    /** A fan-out tenant's primary store: reads carry the other targets' state too (src/store/fan-out.ts). */
    private readonly fanOut?: FanOut,
  ) {
    this.codec = codecFor(dialect);
  }

  async insert(row: NewUserRow): Promise<UserRow> {
    const now = nextTimestamp();
    try {
      return await inTransaction(this.db, async (trx) => {
        await trx.insertInto("scim_users").values(this.toInsertable(row, now)).execute();
        await this.writeEmails(trx, row.id, row.emails);
        return this.requireById(trx, row.id);
      });
    } catch (error) {
      rethrowMapped(error);
    }
  }

  /**
   * Bulk import fast path (not part of UserRepository): inserts every row in one transaction with multi-row
   * INSERTs, all or nothing. Each row gets its own increasing `created`, in input order. Throws
   * StoreConflictError on a userName clash (with a stored user or within `rows`).
   */
  async insertMany(rows: NewUserRow[]): Promise<void> {
    if (rows.length === 0) return;
    try {
      await inTransaction(this.db, async (trx) => {
        const values = rows.map((row) => this.toInsertable(row, nextTimestamp()));
        for (const chunk of chunksOf(values, USER_INSERT_CHUNK)) await trx.insertInto("scim_users").values(chunk).execute();
        const emails = rows.flatMap((row) => this.emailValues(row.id, row.emails));
        for (const chunk of chunksOf(emails)) await trx.insertInto("scim_user_emails").values(chunk).execute();
      });
    } catch (error) {
      rethrowMapped(error);
    }
  }

  async existingIds(ids: string[]): Promise<string[]> {
    const found: string[] = [];
    for (const chunk of chunksOf(distinct(ids))) {
      const rows = await this.db.selectFrom("scim_users").select("id").where("id", "in", chunk).execute();
      for (const r of rows) found.push(r.id);
    }
    return found;
  }

  unlinkedIds(limit: number): Promise<string[]> {
    return this.links.unlinkedIds(this.db, limit);
  }

  async getById(id: string): Promise<UserRow | null> {
    const row = await this.db.selectFrom("scim_users").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? (await this.hydrate(this.db, [row]))[0]! : null;
  }

  async getByUserName(userName: string): Promise<UserRow | null> {
    const row = await this.db
      .selectFrom("scim_users")
      .selectAll()
      .where("user_name_lower", "=", userNameKey(userName))
      .executeTakeFirst();
    return row ? (await this.hydrate(this.db, [row]))[0]! : null;
  }

  async list(query: UserQuery | undefined, page: Page, sort?: UserSort): Promise<{ total: number; rows: UserRow[] }> {
    const filter = userFilter(query, this.codec, this.dialect);
    if (filter === "none") return { total: 0, rows: [] };
    const base = filter === "all" ? this.db.selectFrom("scim_users") : this.db.selectFrom("scim_users").where(filter);

    const counted = await base.select((eb) => eb.fn.countAll<number | string | bigint>().as("n")).executeTakeFirst();
    const total = Number(counted?.n ?? 0);
    const limit = Math.max(0, Math.floor(page.limit));
    const offset = Math.max(0, Math.floor(page.offset));
    if (limit === 0 || offset >= total) return { total, rows: [] };

    let ordered = base.selectAll();
    if (sort) for (const term of userOrder(sort, this.codec, this.dialect)) ordered = ordered.orderBy(term as never);
    // SQLite would walk the creation-order index for ORDER BY … LIMIT and test the filter row by row (a scan of the
    // store for a delta sync that matches a few users); `+created` makes it seek the filter's index and sort the matches.
    else if (filter !== "all" && this.dialect === "sqlite") ordered = ordered.orderBy(sql`+created` as never).orderBy(sql`+scim_users.id` as never);
    else ordered = ordered.orderBy("created").orderBy("id");
    const rows = await ordered.limit(limit).offset(offset).execute();
    return { total, rows: await this.hydrate(this.db, rows) };
  }

  async view(id: string): Promise<UserView | null> {
    return (await this.viewsWhere("id", id))[0] ?? null;
  }

  /** Users (with emails and groups) whose unique `column` holds `value`: the one-query read of a user. */
  private async viewsWhere(column: "id" | "user_name_lower", value: string): Promise<UserView[]> {
    const rows = await this.prepared(`views by ${column}`, (v: string) =>
      this.db
        .selectFrom("scim_users")
        .selectAll()
        .select([this.emailsJson().as("emails_json"), this.groupsJson().as("groups_json"), this.targetsJson().as("targets_json")])
        .where(column, "=", v),
    )(value);
    return this.ownLinks(rows.map((r) => this.toView(r, r.emails_json, r.groups_json, r.targets_json)));
  }

  /** The other targets' state of a fan-out tenant's users, in the read's own query; nothing otherwise. */
  private targetsJson(): RawBuilder<unknown> {
    return this.fanOut ? this.fanOut.targetsJson() : sql<unknown>`null`;
  }

  /** A secondary target's store: the views with that target's link and sync state. */
  private async ownLinks(views: UserView[]): Promise<UserView[]> {
    const rows = await this.links.overlay(this.db, views.map((v) => v.row));
    return views.map((v, i) => ({ ...v, row: rows[i]! }));
  }

  private readonly compiled = new Map<string, string | null>();

  /**
   * A query whose SQL text does not depend on its values, compiled by Kysely once and then run with new values:
   * building and compiling it costs more than SQLite takes to answer it. Used only when the compiled parameters are
   * the values given, in order (else it is built every time).
   */
  private prepared<P extends unknown[], R>(key: string, build: (...params: P) => Compilable<R>): (...params: P) => Promise<R[]> {
    return async (...params: P) => {
      const text = this.compiled.get(key);
      if (text) return (await this.db.executeQuery<R>(CompiledQuery.raw(text, params))).rows;
      const query = build(...params).compile();
      const same = query.parameters.length === params.length && query.parameters.every((p, i) => p === params[i]);
      if (text === undefined) this.compiled.set(key, same ? query.sql : null);
      return (await this.db.executeQuery<R>(query)).rows;
    };
  }

  async listViews(query: UserQuery | undefined, page: Page, sort: UserSort | undefined, withGroups: boolean): Promise<{ total: number; rows: UserView[] }> {
    const filter = userFilter(query, this.codec, this.dialect);
    if (filter === "none") return { total: 0, rows: [] };
    const base = filter === "all" ? this.db.selectFrom("scim_users") : this.db.selectFrom("scim_users").where(filter);
    const limit = Math.max(0, Math.floor(page.limit));
    const offset = Math.max(0, Math.floor(page.offset));
    const countAll = async () => {
      const counted = await base.select((eb) => eb.fn.countAll<number | string | bigint>().as("n")).executeTakeFirst();
      return Number(counted?.n ?? 0);
    };
    // `userName eq` (an IdP's lookup before every create) matches one user at most: its page is its total, read as
    // a read by id is.
    const lookup = lookupOf(query);
    if (lookup && offset === 0 && limit > 0) {
      const views = await this.viewsWhere(lookup.column, lookup.value);
      if (!withGroups) for (const v of views) v.groups = [];
      return { total: views.length, rows: views };
    }
    if (limit === 0) return { total: await countAll(), rows: [] };

    let ordered = base.selectAll();
    const terms = sort ? userOrder(sort, this.codec, this.dialect) : [];
    if (sort) for (const term of terms) ordered = ordered.orderBy(term as never);
    // As in list(): SQLite seeks the filter's index and sorts the matches instead of walking the creation order.
    else if (filter !== "all" && this.dialect === "sqlite") ordered = ordered.orderBy(sql`+created` as never).orderBy(sql`+scim_users.id` as never);
    else ordered = ordered.orderBy("created").orderBy("id");
    // The page is cut first and only its users get their emails and groups: PostgreSQL would otherwise work out the
    // subqueries of every row the offset skips. The page keeps the table's name, so the subqueries and the sort
    // terms read it as they would the table.
    let cut = this.db
      .selectFrom(ordered.limit(limit).offset(offset).as("scim_users"))
      .selectAll()
      .select([this.emailsJson().as("emails_json"), (withGroups ? this.groupsJson() : sql<unknown>`null`).as("groups_json"), this.targetsJson().as("targets_json")]);
    if (sort) for (const term of terms) cut = cut.orderBy(term as never);
    else cut = cut.orderBy("created").orderBy("id");
    const rows = await cut.execute();
    const views = await this.ownLinks(rows.map((r) => this.toView(r, r.emails_json, r.groups_json, r.targets_json)));
    // The page first, then a count only when the page cannot tell the total: a page that is neither full nor empty
    // ends the matches (total = offset + its rows), which covers a lookup that finds its user (most filtered reads:
    // `emails.value eq`, a delta sync) and the last page of an import; nothing on the first page means nothing at
    // all. A full page, or an empty one past the first, counts (a page past the end still reports totalResults).
    if (rows.length > 0 && rows.length < limit) return { total: offset + rows.length, rows: views };
    if (rows.length === 0 && offset === 0) return { total: 0, rows: views };
    if (atMostOneUser(query) && offset === 0) return { total: rows.length, rows: views };
    return { total: await countAll(), rows: views };
  }

  /** The user's emails in their stored order, as one JSON array (a correlated subquery of scim_users). */
  private emailsJson(): RawBuilder<unknown> {
    return this.dialect === "postgres"
      ? sql`(select coalesce(json_agg(json_build_object('value', ve.value, 'type', ve.type, 'primary', ve.is_primary) order by ve.position), '[]'::json) from scim_user_emails ve where ve.user_id = scim_users.id)`
      : sql`(select json_group_array(json_object('value', ve.value, 'type', ve.type, 'primary', ve.is_primary) order by ve.position) from scim_user_emails ve where ve.user_id = scim_users.id)`;
  }

  /** The user's groups as groupsOfUsers orders them, as one JSON array. */
  private groupsJson(): RawBuilder<unknown> {
    return this.dialect === "postgres"
      ? sql`(select coalesce(json_agg(json_build_object('id', vg.id, 'displayName', vg.display_name, 'externalId', vg.external_id) order by vg.display_name_lower, vg.id), '[]'::json) from scim_group_members vm join scim_groups vg on vg.id = vm.group_id where vm.user_id = scim_users.id)`
      : sql`(select json_group_array(json_object('id', vg.id, 'displayName', vg.display_name, 'externalId', vg.external_id) order by vg.display_name_lower, vg.id) from scim_group_members vm join scim_groups vg on vg.id = vm.group_id where vm.user_id = scim_users.id)`;
  }

  private toView(r: Selectable<UsersTable>, emailsJson: unknown, groupsJson: unknown, targetsJson: unknown): UserView {
    const emails = (typeof emailsJson === "string" ? JSON.parse(emailsJson) : emailsJson ?? []) as { value: string; type: string | null; primary: DbBoolLike }[];
    const groups = (typeof groupsJson === "string" ? JSON.parse(groupsJson) : groupsJson ?? []) as GroupRef[];
    const row = this.toUser(r, emails.map((e) => ({ value: e.value, type: e.type, primary: this.codec.readBool(e.primary) })));
    if (this.fanOut) row.targets = this.fanOut.targetsOf(targetsJson);
    return {
      row,
      groups: groups.map((g) => ({ id: g.id, displayName: g.displayName, externalId: g.externalId ?? null })),
    };
  }

  update(id: string, changes: UserChanges, expectedVersion?: number): Promise<UserRow | null> {
    return updateWithRetry(this.db, expectedVersion, (trx) => this.updateOnce(trx, id, changes, expectedVersion));
  }

  private async updateOnce(
    trx: Transaction<Database>,
    id: string,
    changes: UserChanges,
    expectedVersion: number | undefined,
  ): Promise<UserRow | null | "lost-race"> {
    let read = trx.selectFrom("scim_users").select(["version", "last_modified", "user_name"]).where("id", "=", id);
    // PostgreSQL: lock the row so concurrent updates queue instead of losing the compare-and-set below.
    if (this.dialect === "postgres") read = read.forUpdate();
    const current = await read.executeTakeFirst();
    if (!current) return null;
    if (expectedVersion !== undefined && current.version !== expectedVersion) throw new StoreVersionConflictError();

    const set: Updateable<UsersTable> = {
      version: current.version + 1,
      // Never earlier than (nor equal to) the stored value, even if clocks differ between replicas.
      last_modified: nextTimestamp(current.last_modified),
    };
    // The key is rewritten only with a new userName: a row 0010 found colliding keeps its marker until renamed.
    if (changes.userName !== undefined && changes.userName !== current.user_name) {
      set.user_name = changes.userName;
      set.user_name_lower = userNameKey(changes.userName);
    }
    if (changes.externalId !== undefined) set.external_id = changes.externalId;
    if (changes.active !== undefined) set.active = this.codec.bool(changes.active);
    if (changes.resource !== undefined) set.resource = this.codec.json(changes.resource);
    Object.assign(set, this.links.linkColumns(changes));

    // Compare-and-set on the version just read: the write only lands if nobody moved it meanwhile.
    const result = await trx
      .updateTable("scim_users")
      .set(set)
      .where("id", "=", id)
      .where("version", "=", current.version)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return "lost-race";

    if (changes.emails !== undefined) {
      await trx.deleteFrom("scim_user_emails").where("user_id", "=", id).execute();
      await this.writeEmails(trx, id, changes.emails);
    }
    return this.requireById(trx, id);
  }

  setLink(id: string, link: UserLink): Promise<boolean> {
    return this.links.setLink(this.db, id, link);
  }

  async delete(id: string): Promise<boolean> {
    // Emails and group memberships go with the user via ON DELETE CASCADE (foreign_keys=ON on SQLite).
    const result = await this.db.deleteFrom("scim_users").where("id", "=", id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async count(): Promise<number> {
    const r = await this.db
      .selectFrom("scim_users")
      .select((eb) => eb.fn.countAll<number | string | bigint>().as("n"))
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  countByState(): Promise<UserStateCounts> {
    return this.links.countByState(this.db);
  }

  private toInsertable(row: NewUserRow, now: string): Insertable<UsersTable> {
    return {
      id: row.id,
      user_name: row.userName,
      user_name_lower: userNameKey(row.userName),
      external_id: row.externalId,
      active: this.codec.bool(row.active),
      resource: this.codec.json(row.resource),
      digicert_id: row.digicertId,
      adopted: this.codec.bool(row.adopted),
      digicert_enabled: this.codec.bool(row.digicertEnabled ?? true),
      digicert_role_ids: this.codec.stringList(row.digicertRoleIds ?? null),
      sync_state: "synced",
      created: now,
      last_modified: now,
      version: 1,
    };
  }

  private async writeEmails(trx: Transaction<Database>, userId: string, emails: StoredEmail[]): Promise<void> {
    const values = this.emailValues(userId, emails);
    for (const chunk of chunksOf(values)) await trx.insertInto("scim_user_emails").values(chunk).execute();
  }

  private emailValues(userId: string, emails: StoredEmail[]): Insertable<UserEmailsTable>[] {
    return emails.map((e, position) => ({
      user_id: userId,
      position,
      value: e.value,
      value_lower: e.value.toLowerCase(),
      type: e.type ?? null,
      type_lower: e.type == null ? null : e.type.toLowerCase(),
      is_primary: this.codec.bool(e.primary === true),
    }));
  }

  private async requireById(db: Db, id: string): Promise<UserRow> {
    const row = await db.selectFrom("scim_users").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
    return (await this.hydrate(db, [row]))[0]!;
  }

  /** Turns user rows into UserRows, loading their emails in as few queries as possible. */
  private async hydrate(db: Db, rows: Selectable<UsersTable>[]): Promise<UserRow[]> {
    const emailsByUser = new Map<string, StoredEmail[]>();
    const ids = rows.map((r) => r.id);
    for (const chunk of chunksOf(ids)) {
      const emailRows = await db
        .selectFrom("scim_user_emails")
        .selectAll()
        .where("user_id", "in", chunk)
        .orderBy("user_id")
        .orderBy("position")
        .execute();
      for (const e of emailRows) {
        const list = emailsByUser.get(e.user_id) ?? [];
        list.push(this.toEmail(e));
        emailsByUser.set(e.user_id, list);
      }
    }
    const users = await this.links.overlay(db, rows.map((r) => this.toUser(r, emailsByUser.get(r.id) ?? [])));
    return this.fanOut ? this.fanOut.attach(db, users) : users;
  }

  private toEmail(e: Selectable<UserEmailsTable>): StoredEmail {
    // Normalised shape: type is null when absent, primary always a boolean.
    return { value: e.value, type: e.type, primary: this.codec.readBool(e.is_primary) };
  }

  private toUser(r: Selectable<UsersTable>, emails: StoredEmail[]): UserRow {
    return {
      id: r.id,
      userName: r.user_name,
      externalId: r.external_id,
      active: this.codec.readBool(r.active),
      resource: this.codec.readJson(r.resource),
      emails,
      digicertId: r.digicert_id,
      adopted: this.codec.readBool(r.adopted),
      digicertEnabled: this.codec.readBool(r.digicert_enabled),
      digicertRoleIds: this.codec.readStringList(r.digicert_role_ids),
      digicertDivisionIds: this.codec.readStringList(r.digicert_division_ids),
      syncState: (r.sync_state as SyncState) ?? "synced",
      syncError: r.sync_error,
      syncedAt: r.synced_at,
      created: r.created,
      lastModified: r.last_modified,
      version: Number(r.version),
    };
  }
}
