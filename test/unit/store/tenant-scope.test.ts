// The tenant scope (src/store/tenant-scope.ts) held to account on its own: the SQL it makes of each shape of query
// (compiled, no database), what those queries do to the rows of two tenants (SQLite in memory), and then every
// repository method of two scoped stores on one database (SQLite, and PostgreSQL with TEST_DATABASE_URL): what one
// tenant writes, the other never reads, counts, lists, claims, purges or deletes.
import { createHash, randomUUID } from "node:crypto";
import BetterSqlite3 from "better-sqlite3";
import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteDialect,
  SqliteIntrospector,
  SqliteQueryCompiler,
  sql,
  type Compilable,
} from "kysely";
import { TenantScopePlugin } from "../../../src/store/tenant-scope";
import { openStore } from "../../../src/store";
import type { Store } from "../../../src/provisioning/ports";
import type { NewAuditEntry, NewGroupRow, NewUserRow } from "../../../src/provisioning/records";
import type { ReconcileReport } from "../../../src/provisioning/drift";
import { dropSchema, PG_URL, uniqueSchema } from "../../support/databases";

const ACME = { tenant: "acme", target: "" };

/** A Kysely that only compiles (PostgreSQL's SQL: numbered parameters show which value goes where). */
function compiler(dialect: "postgres" | "sqlite" = "postgres"): Kysely<any> {
  return new Kysely<any>({
    dialect:
      dialect === "postgres"
        ? { createAdapter: () => new PostgresAdapter(), createDriver: () => new DummyDriver(), createIntrospector: (db) => new PostgresIntrospector(db), createQueryCompiler: () => new PostgresQueryCompiler() }
        : { createAdapter: () => new SqliteAdapter(), createDriver: () => new DummyDriver(), createIntrospector: (db) => new SqliteIntrospector(db), createQueryCompiler: () => new SqliteQueryCompiler() },
  });
}

const scoped = (scope = ACME, dialect: "postgres" | "sqlite" = "postgres") => compiler(dialect).withPlugin(new TenantScopePlugin(scope));
const compiled = (q: Compilable<unknown>) => {
  const c = q.compile();
  return { sql: c.sql, parameters: [...c.parameters] };
};

describe("TenantScopePlugin: the SQL it makes", () => {
  const db = scoped();

  it("confines a select, an update and a delete of a tenant table to the tenant", () => {
    expect(compiled(db.selectFrom("scim_users").selectAll().where("id", "=", "u1"))).toEqual({
      sql: 'select * from "scim_users" where ("id" = $1) and "scim_users"."tenant" = $2',
      parameters: ["u1", "acme"],
    });
    expect(compiled(db.updateTable("scim_groups").set({ version: 2 }).where("id", "=", "g1"))).toEqual({
      sql: 'update "scim_groups" set "version" = $1 where ("id" = $2) and "scim_groups"."tenant" = $3',
      parameters: [2, "g1", "acme"],
    });
    expect(compiled(db.deleteFrom("scim_idempotency_keys").where("created", "<", "2020"))).toEqual({
      sql: 'delete from "scim_idempotency_keys" where ("created" < $1) and "scim_idempotency_keys"."tenant" = $2',
      parameters: ["2020", "acme"],
    });
  });

  it("confines a query without a where (a count, a whole list, a purge)", () => {
    expect(compiled(db.selectFrom("scim_audit").select((eb) => eb.fn.countAll().as("n"))).sql).toBe(
      'select count(*) as "n" from "scim_audit" where "scim_audit"."tenant" = $1',
    );
    expect(compiled(db.deleteFrom("scim_user_emails"))).toEqual({ sql: 'delete from "scim_user_emails" where "scim_user_emails"."tenant" = $1', parameters: ["acme"] });
  });

  it("adds the target on the tables a DigiCert target owns, for every one of them", () => {
    for (const table of ["scim_outbox", "digicert_role_lists", "scim_reconcile_runs", "scim_reconcile_lease", "scim_user_targets"]) {
      expect(compiled(scoped({ tenant: "acme", target: "t2" }).selectFrom(table).selectAll())).toEqual({
        sql: `select * from "${table}" where "${table}"."tenant" = $1 and "${table}"."target" = $2`,
        parameters: ["acme", "t2"],
      });
    }
    // A tenant-wide table has no target.
    expect(compiled(scoped({ tenant: "acme", target: "t2" }).selectFrom("scim_users").selectAll()).parameters).toEqual(["acme"]);
  });

  it("scopes every tenant table of the bridge, and no other table", () => {
    const tables = [
      "scim_users",
      "scim_user_emails",
      "scim_groups",
      "scim_group_members",
      "scim_idempotency_keys",
      "scim_outbox",
      "scim_audit",
      "scim_reconcile_runs",
      "scim_reconcile_lease",
      "scim_tokens",
      "digicert_role_lists",
      "scim_user_targets",
    ];
    for (const t of tables) expect(compiled(db.selectFrom(t).selectAll()).sql).toContain(`"${t}"."tenant" = $1`);
    expect(compiled(db.selectFrom("kysely_migration").selectAll())).toEqual({ sql: 'select * from "kysely_migration"', parameters: [] });
  });

  it("names an aliased table by its alias", () => {
    expect(compiled(db.selectFrom("scim_outbox as o").select("o.id").where("o.status", "=", "pending"))).toEqual({
      sql: 'select "o"."id" from "scim_outbox" as "o" where ("o"."status" = $1) and "o"."tenant" = $2 and "o"."target" = $3',
      parameters: ["pending", "acme", ""],
    });
    expect(compiled(db.updateTable("scim_users as u").set({ version: 1 }).where("u.id", "=", "x")).sql).toBe(
      'update "scim_users" as "u" set "version" = $1 where ("u"."id" = $2) and "u"."tenant" = $3',
    );
    expect(compiled(db.deleteFrom("scim_group_members as m").where("m.group_id", "=", "g")).sql).toBe(
      'delete from "scim_group_members" as "m" where ("m"."group_id" = $1) and "m"."tenant" = $2',
    );
  });

  it("scopes several tables of one FROM, each by its own name", () => {
    expect(compiled(db.selectFrom(["scim_users as u", "scim_groups as g"]).select("u.id")).sql).toBe(
      'select "u"."id" from "scim_users" as "u", "scim_groups" as "g" where "u"."tenant" = $1 and "g"."tenant" = $2',
    );
  });

  it("puts a joined table's condition in its ON (a left join keeps its rows), the FROM table's in the WHERE", () => {
    expect(
      compiled(
        db
          .selectFrom("scim_group_members as m")
          .innerJoin("scim_users as u", "u.id", "m.user_id")
          .select(["u.id", "u.user_name"])
          .where("m.group_id", "=", "g1"),
      ),
    ).toEqual({
      sql: 'select "u"."id", "u"."user_name" from "scim_group_members" as "m" inner join "scim_users" as "u" on ("u"."id" = "m"."user_id") and "u"."tenant" = $1 where ("m"."group_id" = $2) and "m"."tenant" = $3',
      parameters: ["acme", "g1", "acme"],
    });
    expect(compiled(db.selectFrom("scim_users as u").leftJoin("scim_group_members as m", "m.user_id", "u.id").selectAll()).sql).toBe(
      'select * from "scim_users" as "u" left join "scim_group_members" as "m" on ("m"."user_id" = "u"."id") and "m"."tenant" = $1 where "u"."tenant" = $2',
    );
  });

  it("scopes sub-selects: in a where, in an exists, in the select list, in a CTE and in a union", () => {
    const inWhere = compiled(db.selectFrom("scim_users").select("id").where("id", "in", (eb: any) => eb.selectFrom("scim_user_emails").select("user_id").where("value_lower", "=", "a@x")));
    expect(inWhere.sql).toBe(
      'select "id" from "scim_users" where ("id" in (select "user_id" from "scim_user_emails" where ("value_lower" = $1) and "scim_user_emails"."tenant" = $2)) and "scim_users"."tenant" = $3',
    );
    const exists = compiled(
      db
        .selectFrom("scim_outbox as o")
        .select("o.id")
        .where((eb) => eb.not(eb.exists(eb.selectFrom("scim_outbox as p").select("p.id").whereRef("p.user_id", "=", "o.user_id").whereRef("p.id", "<", "o.id")))),
    );
    expect(exists.sql).toBe(
      'select "o"."id" from "scim_outbox" as "o" where (not exists (select "p"."id" from "scim_outbox" as "p" where ("p"."user_id" = "o"."user_id" and "p"."id" < "o"."id") and "p"."tenant" = $1 and "p"."target" = $2)) and "o"."tenant" = $3 and "o"."target" = $4',
    );
    const inSelect = compiled(
      db.selectFrom("scim_users as u").select((eb) => eb.selectFrom("scim_user_emails as e").select("e.value").whereRef("e.user_id", "=", "u.id").limit(1).as("email")),
    );
    expect(inSelect.sql).toContain('where ("e"."user_id" = "u"."id") and "e"."tenant" = $1 limit $2) as "email" from "scim_users" as "u" where "u"."tenant" = $3');
    const cte = compiled(db.with("x", (w) => w.selectFrom("scim_users").select("id")).selectFrom("x").selectAll());
    expect(cte).toEqual({ sql: 'with "x" as (select "id" from "scim_users" where "scim_users"."tenant" = $1) select * from "x"', parameters: ["acme"] });
    // A query built apart (as the store's listViews builds its page) is scoped by its own builder and again inside the
    // outer query: redundant, never missing.
    const union = compiled(db.selectFrom("scim_users").select("id").union(db.selectFrom("scim_groups").select("id")));
    expect(union.sql).toMatch(/^select "id" from "scim_users" where "scim_users"\."tenant" = \$1 union select "id" from "scim_groups" where .*"scim_groups"\."tenant" = \$\d+$/);
    expect(union.parameters.every((p) => p === "acme")).toBe(true);
    const fromSubquery = compiled(db.selectFrom(db.selectFrom("scim_users").selectAll().limit(10).as("scim_users")).selectAll());
    expect(fromSubquery.sql).toMatch(/^select \* from \(select \* from "scim_users" where .*"scim_users"\."tenant" = \$\d+ limit \$\d+\) as "scim_users"$/);
  });

  it("parenthesises the caller's where, so an OR cannot reach around the tenant", () => {
    const q = compiled(db.selectFrom("scim_users").select("id").where((eb) => eb.or([eb("id", "=", "a"), eb("external_id", "=", "b")])));
    expect(q.sql).toBe('select "id" from "scim_users" where (("id" = $1 or "external_id" = $2)) and "scim_users"."tenant" = $3');
    // Two where calls are an AND inside the parentheses, whatever they hold.
    const two = compiled(db.selectFrom("scim_users").select("id").where("id", "=", "a").where((eb) => eb.or([eb("id", "=", "b"), eb("user_name", "=", "c")])));
    expect(two.sql).toBe('select "id" from "scim_users" where ("id" = $1 and ("id" = $2 or "user_name" = $3)) and "scim_users"."tenant" = $4');
    const join = compiled(db.selectFrom("scim_users as u").innerJoin("scim_groups as g", (j) => j.onRef("g.id", "=", "u.id").on((eb) => eb.or([eb("g.version", "=", 1), eb("g.version", "=", 2)]))).select("u.id"));
    expect(join.sql).toContain('on ("g"."id" = "u"."id" and ("g"."version" = $1 or "g"."version" = $2)) and "g"."tenant" = $3');
  });

  it("gives an insert the store's tenant (and target), over any value the caller gave", () => {
    expect(compiled(db.insertInto("scim_users").values({ id: "u1", user_name: "ada" }))).toEqual({
      sql: 'insert into "scim_users" ("id", "user_name", "tenant") values ($1, $2, $3)',
      parameters: ["u1", "ada", "acme"],
    });
    expect(compiled(db.insertInto("scim_users").values({ id: "u1", tenant: "globex" }))).toEqual({
      sql: 'insert into "scim_users" ("id", "tenant") values ($1, $2)',
      parameters: ["u1", "acme"],
    });
    expect(compiled(scoped({ tenant: "acme", target: "t2" }).insertInto("scim_outbox").values([{ user_id: "a", target: "", tenant: "globex" }, { user_id: "b" }]))).toEqual({
      sql: 'insert into "scim_outbox" ("user_id", "target", "tenant") values ($1, $2, $3), ($4, $5, $6)',
      parameters: ["a", "t2", "acme", "b", "t2", "acme"],
    });
    // A value written as an expression is replaced as well.
    expect(compiled(db.insertInto("scim_tokens").values({ id: "t", tenant: sql`'globex'` })).parameters).toEqual(["t", "acme"]);
  });

  it("refuses an insert it cannot confine (from a select, default values)", () => {
    expect(() => db.insertInto("scim_users").expression(db.selectFrom("scim_users").selectAll()).compile()).toThrow(/tenant/);
    expect(() => db.insertInto("scim_audit").defaultValues().compile()).toThrow(/tenant/);
  });

  it("prefixes an upsert's conflict target with the tenant (and target) on tenant-keyed tables only", () => {
    const idem = compiled(db.insertInto("scim_idempotency_keys").values({ credential: "c", idempotency_key: "k" }).onConflict((oc) => oc.columns(["credential", "idempotency_key"]).doNothing()));
    expect(idem.sql).toBe('insert into "scim_idempotency_keys" ("credential", "idempotency_key", "tenant") values ($1, $2, $3) on conflict ("tenant", "credential", "idempotency_key") do nothing');
    const roles = compiled(db.insertInto("digicert_role_lists").values({ platform: "one", kind: "roles", list: "[]" }).onConflict((oc) => oc.columns(["platform", "kind"]).doUpdateSet({ list: "[]" })));
    expect(roles.sql).toContain('on conflict ("tenant", "target", "platform", "kind") do update set "list" = $');
    const lease = compiled(db.insertInto("scim_reconcile_lease").values({ name: "reconcile" }).onConflict((oc) => oc.column("name").doNothing()));
    expect(lease.sql).toContain('on conflict ("tenant", "target", "name") do nothing');
    for (const [table, key] of [["scim_users", "user_name_lower"], ["scim_groups", "display_name_lower"], ["scim_tokens", "name"]] as const) {
      expect(compiled(db.insertInto(table).values({ [key]: "x" }).onConflict((oc) => oc.column(key).doNothing())).sql).toContain(`on conflict ("tenant", "${key}") do nothing`);
    }
    // Memberships are keyed by (group_id, user_id): ids no other tenant holds. No tenant in that key.
    const members = compiled(db.insertInto("scim_group_members").values({ group_id: "g", user_id: "u" }).onConflict((oc) => oc.columns(["group_id", "user_id"]).doNothing()));
    expect(members.sql).toContain('on conflict ("group_id", "user_id") do nothing');
  });

  it("never lets an update move a row to another tenant or target", () => {
    const plain = compiled(scoped({ tenant: "acme", target: "t2" }).updateTable("scim_outbox").set({ tenant: "globex", target: "", status: "done" }).where("id", "=", 1));
    expect(plain.sql).toBe('update "scim_outbox" set "status" = $1 where ("id" = $2) and "scim_outbox"."tenant" = $3 and "scim_outbox"."target" = $4');
    expect(plain.parameters).not.toContain("globex");
    // The column named by a dynamic or a raw reference, too.
    for (const column of [db.dynamic.ref("tenant"), sql.ref("tenant"), sql`tenant`, sql.ref("scim_users.tenant")]) {
      const referenced = compiled(db.updateTable("scim_users").set(column as never, "globex" as never).set("version", 3).where("id", "=", "x"));
      expect(referenced).toEqual({ sql: 'update "scim_users" set "version" = $1 where ("id" = $2) and "scim_users"."tenant" = $3', parameters: [3, "x", "acme"] });
    }
    // An update that would do nothing else is refused rather than sent as broken SQL.
    expect(() => db.updateTable("scim_users").set({ tenant: "globex" }).where("id", "=", "x").compile()).toThrow(/cannot move a row/);
    // Nor an upsert's DO UPDATE.
    const upsert = compiled(db.insertInto("scim_group_members").values({ group_id: "g", user_id: "u" }).onConflict((oc) => oc.columns(["group_id", "user_id"]).doUpdateSet({ tenant: "globex", user_id: "u" })));
    expect(upsert.parameters).not.toContain("globex");
  });

  it("confines an upsert's DO UPDATE to the tenant's own row where the conflict key does not name the tenant", () => {
    const upsert = compiled(db.insertInto("scim_group_members").values({ group_id: "g", user_id: "u" }).onConflict((oc) => oc.columns(["group_id", "user_id"]).doUpdateSet({ user_id: "u" })));
    expect(upsert.sql).toMatch(/do update set "user_id" = \$\d+ where "scim_group_members"\."tenant" = \$\d+$/);
  });

  it("confines the tables an update or delete reads from (UPDATE … FROM, DELETE … USING, joins)", () => {
    const from = compiled(db.updateTable("scim_users").from("scim_outbox").set({ version: 1 }).whereRef("scim_outbox.user_id", "=", "scim_users.id"));
    expect(from.sql).toBe(
      'update "scim_users" set "version" = $1 from "scim_outbox" where ("scim_outbox"."user_id" = "scim_users"."id") and "scim_users"."tenant" = $2 and "scim_outbox"."tenant" = $3 and "scim_outbox"."target" = $4',
    );
    const using = compiled(db.deleteFrom("scim_group_members").using("scim_users").whereRef("scim_users.id", "=", "scim_group_members.user_id"));
    expect(using.sql).toContain('"scim_group_members"."tenant" = $');
    expect(using.sql).toContain('"scim_users"."tenant" = $');
    const joined = compiled(db.updateTable("scim_users as u").from("scim_outbox as o").innerJoin("scim_groups as g", "g.id", "o.user_id").set({ version: 1 }).whereRef("o.user_id", "=", "u.id"));
    expect(joined.sql).toContain('inner join "scim_groups" as "g" on ("g"."id" = "o"."user_id") and "g"."tenant" = $');
    expect(joined.sql).toMatch(/"u"\."tenant" = \$\d+ and "o"\."tenant" = \$\d+ and "o"\."target" = \$\d+$/);
  });

  it("refuses what it cannot confine: a raw statement on a bridge table, a MERGE, a raw table in a FROM", async () => {
    await expect(sql`select * from scim_users`.execute(db)).rejects.toThrow(/raw SQL on scim_users cannot be confined/);
    await expect(sql`delete from "scim_outbox" where id = ${1}`.execute(db)).rejects.toThrow(/scim_outbox/);
    await expect(sql`update scim_user_targets set sync_state = 'synced'`.execute(db)).rejects.toThrow(/scim_user_targets/);
    expect(() => db.mergeInto("scim_users as u").using("scim_groups as g", "g.id", "u.id").whenMatched().thenDelete().compile()).toThrow(/tenant/);
    expect(() => db.selectFrom(sql`scim_users`.as("u")).selectAll().compile()).toThrow(/tenant/);
    expect(() => db.selectFrom("scim_groups as g").innerJoin(sql`scim_group_members`.as("m"), "m.group_id", "g.id").selectAll().compile()).toThrow(/tenant/);
  });

  it("lets raw SQL through that touches no bridge table (a ping; a table whose name only begins like one)", async () => {
    const ping = await sql`select 1 as one`.execute(scopedSqlite());
    expect(ping.rows).toEqual([{ one: 1 }]);
    expect(() => sql`select * from scim_users_backup`.compile(db)).not.toThrow();
  });
});

/** A plain in-memory SQLite with a plugin: real rows, so the scope is judged by what comes back. */
function scopedSqlite(raw?: Kysely<any>, scope = ACME): Kysely<any> {
  const base = raw ?? new Kysely<any>({ dialect: new SqliteDialect({ database: new BetterSqlite3(":memory:") }) });
  return base.withPlugin(new TenantScopePlugin(scope));
}

describe("TenantScopePlugin: what the queries do to two tenants' rows", () => {
  let raw: Kysely<any>;
  let acme: Kysely<any>;
  let globex: Kysely<any>;

  beforeEach(async () => {
    raw = new Kysely<any>({ dialect: new SqliteDialect({ database: new BetterSqlite3(":memory:") }) });
    await sql`create table scim_users (id text primary key, tenant text not null, user_name text not null, version integer not null)`.execute(raw);
    await sql`create table scim_groups (id text primary key, tenant text not null, display_name text not null)`.execute(raw);
    await sql`create table scim_group_members (tenant text not null, group_id text not null, user_id text not null, primary key (group_id, user_id))`.execute(raw);
    await sql`create table scim_outbox (id integer primary key autoincrement, tenant text not null, target text not null, user_id text not null, status text not null)`.execute(raw);
    await raw
      .insertInto("scim_users")
      .values([
        { id: "a1", tenant: "acme", user_name: "ada", version: 1 },
        { id: "a2", tenant: "acme", user_name: "bob", version: 1 },
        { id: "g1", tenant: "globex", user_name: "ada", version: 1 },
        { id: "g2", tenant: "globex", user_name: "bob", version: 1 },
      ])
      .execute();
    await raw.insertInto("scim_groups").values([{ id: "ga", tenant: "acme", display_name: "Admins" }, { id: "gg", tenant: "globex", display_name: "Admins" }]).execute();
    await raw.insertInto("scim_group_members").values([{ tenant: "acme", group_id: "ga", user_id: "a1" }, { tenant: "globex", group_id: "gg", user_id: "g1" }]).execute();
    await raw
      .insertInto("scim_outbox")
      .values([
        { tenant: "acme", target: "", user_id: "a1", status: "pending" },
        { tenant: "acme", target: "t2", user_id: "a1", status: "pending" },
        { tenant: "globex", target: "", user_id: "g1", status: "pending" },
      ])
      .execute();
    acme = scopedSqlite(raw, ACME);
    globex = scopedSqlite(raw, { tenant: "globex", target: "" });
  });

  afterEach(async () => {
    await raw.destroy();
  });

  it("an OR of the caller's finds only the tenant's rows", async () => {
    const rows = await acme.selectFrom("scim_users").select("id").where((eb) => eb.or([eb("user_name", "=", "ada"), eb("user_name", "=", "bob")])).orderBy("id").execute();
    expect(rows.map((r) => r.id)).toEqual(["a1", "a2"]);
    const byId = await acme.selectFrom("scim_users").select("id").where((eb) => eb.or([eb("id", "=", "g1"), eb("id", "=", "a2")])).execute();
    expect(byId.map((r) => r.id)).toEqual(["a2"]);
  });

  it("a left join keeps the tenant's rows that have no match, and never matches another tenant's", async () => {
    // globex's membership of a1 (should one exist) must not show up as a1's.
    await raw.insertInto("scim_group_members").values({ tenant: "globex", group_id: "gg", user_id: "a2" }).execute();
    const rows = await acme
      .selectFrom("scim_users as u")
      .leftJoin("scim_group_members as m", "m.user_id", "u.id")
      .select(["u.id", "m.group_id"])
      .orderBy("u.id")
      .execute();
    expect(rows).toEqual([
      { id: "a1", group_id: "ga" },
      { id: "a2", group_id: null },
    ]);
  });

  it("an update or delete by another tenant's id changes nothing; by its own, only its row", async () => {
    expect(Number((await globex.updateTable("scim_users").set({ version: 9 }).where("id", "=", "a1").executeTakeFirst()).numUpdatedRows)).toBe(0);
    expect(Number((await globex.deleteFrom("scim_users").where("user_name", "=", "bob").executeTakeFirst()).numDeletedRows)).toBe(1);
    const left = await raw.selectFrom("scim_users").select(["id", "version"]).orderBy("id").execute();
    expect(left).toEqual([
      { id: "a1", version: 1 },
      { id: "a2", version: 1 },
      { id: "g1", version: 1 },
    ]);
  });

  it("an update that tries to take a row to another tenant leaves it where it is", async () => {
    await acme.updateTable("scim_users").set({ tenant: "globex", version: 2 }).where("id", "=", "a1").execute();
    await acme.updateTable("scim_users").set(sql.ref("tenant") as never, "globex" as never).set("version", 3).where("id", "=", "a2").execute();
    expect(await raw.selectFrom("scim_users").select(["id", "tenant", "version"]).where("id", "in", ["a1", "a2"]).orderBy("id").execute()).toEqual([
      { id: "a1", tenant: "acme", version: 2 },
      { id: "a2", tenant: "acme", version: 3 },
    ]);
  });

  it("an upsert's DO UPDATE cannot reach another tenant's row under a key without the tenant", async () => {
    // Same (group_id, user_id) as globex's row: the conflict is on globex's row, which acme must not touch.
    await acme
      .insertInto("scim_group_members")
      .values({ group_id: "gg", user_id: "g1" })
      .onConflict((oc) => oc.columns(["group_id", "user_id"]).doUpdateSet({ user_id: "a1", tenant: "acme" }))
      .execute();
    expect(await raw.selectFrom("scim_group_members").selectAll().where("group_id", "=", "gg").execute()).toEqual([{ tenant: "globex", group_id: "gg", user_id: "g1" }]);
  });

  it("a DELETE … USING never deletes by another tenant's rows", async () => {
    // SQLite has no USING: the same check through a sub-select, which is what the store writes.
    await globex.deleteFrom("scim_group_members").where("user_id", "in", (eb: any) => eb.selectFrom("scim_users").select("id").where("user_name", "=", "ada")).execute();
    expect((await raw.selectFrom("scim_group_members").select("user_id").orderBy("user_id").execute()).map((r) => r.user_id)).toEqual(["a1"]);
  });

  it("one target's outbox is apart from the tenant's other target's", async () => {
    const t2 = scopedSqlite(raw, { tenant: "acme", target: "t2" });
    expect((await acme.selectFrom("scim_outbox").select("target").execute()).map((r) => r.target)).toEqual([""]);
    expect((await t2.selectFrom("scim_outbox").select("target").execute()).map((r) => r.target)).toEqual(["t2"]);
    await t2.updateTable("scim_outbox").set({ status: "done" }).execute();
    expect((await raw.selectFrom("scim_outbox").select(["tenant", "target", "status"]).orderBy("id").execute())).toEqual([
      { tenant: "acme", target: "", status: "pending" },
      { tenant: "acme", target: "t2", status: "done" },
      { tenant: "globex", target: "", status: "pending" },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Every repository method of two scoped stores on one database.

const variants: ["SQLite" | "PostgreSQL", () => Promise<{ root: Store; cleanup(): Promise<void> }>][] = [
  ["SQLite", async () => ({ root: await openStore("sqlite::memory:"), cleanup: async () => undefined })],
];
if (PG_URL) {
  variants.push([
    "PostgreSQL",
    async () => {
      const schema = uniqueSchema("tenant_scope");
      return { root: await openStore(PG_URL!, { pgSchema: schema }), cleanup: () => dropSchema(schema) };
    },
  ]);
} else {
  console.warn("PostgreSQL variant of the tenant scope tests skipped: TEST_DATABASE_URL not set");
}

const page = { offset: 0, limit: 100 };
const sha = (s: string) => createHash("sha256").update(s).digest("hex");
const future = () => new Date(Date.now() + 86_400_000).toISOString();

function user(userName: string, extra: Partial<NewUserRow> = {}): NewUserRow {
  return {
    id: randomUUID(),
    userName,
    externalId: "ext-1",
    active: true,
    resource: { userName, title: "Engineer" },
    emails: [{ value: userName, type: "work", primary: true }],
    digicertId: null,
    adopted: false,
    ...extra,
  };
}
const group = (displayName: string): NewGroupRow => ({ id: randomUUID(), displayName, externalId: "gext-1", resource: { displayName } });
const auditOf = (resourceId: string, userName: string): NewAuditEntry => ({
  kind: "scim",
  action: "user.create",
  outcome: "ok",
  resourceType: "User",
  resourceId,
  userName,
  changes: [],
});
const report = (platform: string): ReconcileReport => {
  const now = new Date().toISOString();
  return {
    trigger: "cli",
    fix: false,
    platform,
    startedAt: now,
    finishedAt: now,
    counts: {} as ReconcileReport["counts"],
    stats: {} as ReconcileReport["stats"],
    entries: [],
  };
};

describe.each(variants)("two tenants' stores on one %s database", (_label, open) => {
  let root: Store;
  let cleanup: () => Promise<void>;
  let a: Store;
  let b: Store;

  beforeAll(async () => {
    ({ root, cleanup } = await open());
    a = root.scoped("acme");
    b = root.scoped("globex");
  });
  afterAll(async () => {
    await root?.close();
    await cleanup?.();
  });

  it("tells its scope", () => {
    expect(a.scope).toEqual({ tenant: "acme", target: "" });
    expect(root.scoped("acme", "t2").scope).toEqual({ tenant: "acme", target: "t2" });
    expect(root.scope).toEqual({ tenant: "default", target: "" });
  });

  it("users: the same userName in both; neither reads, counts, lists, updates, links or deletes the other's", async () => {
    const ua = await a.users.insert(user("ada@example.com", { externalId: "same-ext" }));
    const ub = await b.users.insert(user("ADA@example.com", { externalId: "same-ext" }));
    expect(ub.id).not.toBe(ua.id);
    // Still unique within a tenant.
    await expect(a.users.insert(user("Ada@Example.com"))).rejects.toThrow(/userName/);

    expect(await b.users.getById(ua.id)).toBeNull();
    expect(await b.users.view(ua.id)).toBeNull();
    expect((await b.users.getByUserName("ada@example.com"))?.id).toBe(ub.id);
    expect((await a.users.getByUserName("ada@example.com"))?.id).toBe(ua.id);
    expect(await root.users.getByUserName("ada@example.com")).toBeNull();

    const ids = async (s: Store, q: Parameters<Store["users"]["list"]>[0]) => (await s.users.list(q, page)).rows.map((r) => r.id);
    expect(await ids(b, undefined)).toEqual([ub.id]);
    expect(await ids(b, { anyOf: [[{ attr: "id", value: ua.id }]] })).toEqual([]);
    expect(await ids(b, { anyOf: [[{ attr: "userName", value: "ada@example.com" }]] })).toEqual([ub.id]);
    expect(await ids(b, { anyOf: [[{ attr: "externalId", value: "same-ext" }]] })).toEqual([ub.id]);
    expect(await ids(b, { anyOf: [[{ attr: "email", value: "ada@example.com" }]] })).toEqual([ub.id]);
    expect(await ids(b, { where: { or: [{ field: { kind: "id" }, op: "eq", value: ua.id }, { field: { kind: "userName" }, op: "pr" }] } })).toEqual([ub.id]);
    expect(await ids(b, { where: { anyEmail: { field: { kind: "email", column: "value" }, op: "co", value: "ada" } } })).toEqual([ub.id]);
    expect(await ids(b, { where: { field: { kind: "json", path: ["title"], type: "string", caseExact: false }, op: "eq", value: "Engineer" } })).toEqual([ub.id]);
    expect((await b.users.list({ anyOf: [[{ attr: "id", value: ua.id }]] }, page)).total).toBe(0);

    for (const withGroups of [true, false]) {
      const views = await b.users.listViews(undefined, page, undefined, withGroups);
      expect(views.total).toBe(1);
      expect(views.rows.map((v) => v.row.id)).toEqual([ub.id]);
      expect((await b.users.listViews({ anyOf: [[{ attr: "id", value: ua.id }]] }, page, undefined, withGroups)).total).toBe(0);
      expect((await b.users.listViews({ anyOf: [[{ attr: "userName", value: "ADA@example.com" }]] }, page, undefined, withGroups)).rows.map((v) => v.row.id)).toEqual([ub.id]);
      expect((await b.users.listViews({ where: { field: { kind: "externalId" }, op: "eq", value: "same-ext" } }, { offset: 0, limit: 0 }, undefined, withGroups)).total).toBe(1);
    }
    // A sorted page too.
    expect((await b.users.list(undefined, page, { field: { kind: "userName" }, descending: true })).rows.map((r) => r.id)).toEqual([ub.id]);

    expect(await b.users.update(ua.id, { active: false, emails: [] })).toBeNull();
    expect(await b.users.setLink(ua.id, { digicertId: "dc-x", adopted: true, digicertEnabled: false, digicertRoleIds: ["r"] })).toBe(false);
    expect(await b.users.delete(ua.id)).toBe(false);
    expect(await b.users.existingIds([ua.id, ub.id])).toEqual([ub.id]);
    expect(await b.users.count()).toBe(1);
    expect(await a.users.count()).toBe(1);
    expect(await root.users.count()).toBe(0);
    expect((await b.users.countByState()).total).toBe(1);

    // acme's user came through all that untouched, emails included.
    const after = await a.users.getById(ua.id);
    expect(after).toEqual(ua);
    expect(after?.emails).toEqual([{ value: "ada@example.com", type: "work", primary: true }]);

    // A rename to a name only the other tenant holds is fine.
    await b.users.insert(user("bob@example.com"));
    expect((await a.users.update(ua.id, { userName: "bob@example.com" }))?.userName).toBe("bob@example.com");
    expect(await a.users.update(ua.id, { userName: "ada@example.com" })).not.toBeNull();
  });

  it("users in one transaction are the store's tenant's too", async () => {
    const id = await a.transaction(async (tx) => (await tx.users.insert(user("tx@example.com"))).id);
    expect(await b.users.getById(id)).toBeNull();
    expect(await b.transaction((tx) => tx.users.getById(id))).toBeNull();
    expect(await b.transaction((tx) => tx.users.delete(id))).toBe(false);
    expect((await a.users.getById(id))?.userName).toBe("tx@example.com");
    await a.users.delete(id);
  });

  it("groups: the same displayName in both; members, filters and changes stay in their tenant", async () => {
    const ua = await a.users.insert(user("member@example.com"));
    const ub = await b.users.insert(user("member@example.com"));
    const ga = await a.groups.insert(group("Admins"), [ua.id]);
    const gb = await b.groups.insert(group("ADMINS"), [ub.id]);
    await expect(a.groups.insert(group("admins"), [])).rejects.toThrow(/displayName/);

    expect(await b.groups.getById(ga.id)).toBeNull();
    expect((await b.groups.list(undefined, page)).rows.map((g) => g.id)).toEqual([gb.id]);
    expect((await b.groups.list({ anyOf: [[{ attr: "displayName", value: "admins" }]] }, page)).rows.map((g) => g.id)).toEqual([gb.id]);
    expect((await b.groups.list({ anyOf: [[{ attr: "id", value: ga.id }]] }, page)).total).toBe(0);
    expect((await b.groups.list({ anyOf: [[{ attr: "externalId", value: "gext-1" }]] }, page)).rows.map((g) => g.id)).toEqual([gb.id]);
    expect((await b.groups.list({ anyOf: [[{ attr: "member", value: ua.id }]] }, page)).total).toBe(0);
    expect((await b.groups.list({ where: { anyMember: { field: { kind: "memberValue" }, op: "eq", value: ua.id } } }, page)).total).toBe(0);
    expect((await b.groups.list({ where: { field: { kind: "displayName" }, op: "sw", value: "adm" } }, page, { by: "displayName", descending: false })).rows.map((g) => g.id)).toEqual([gb.id]);
    expect(await b.groups.members(ga.id)).toEqual({ total: 0, rows: [] });
    expect(await b.groups.members(ga.id, page)).toEqual({ total: 0, rows: [] });
    expect((await b.groups.groupsOfUsers([ua.id])).get(ua.id)).toEqual([]);
    expect((await a.groups.groupsOfUsers([ua.id, ub.id])).get(ub.id)).toEqual([]);
    expect((await b.groups.allGroupRefs()).map((g) => g.id)).toEqual([gb.id]);
    expect(await b.groups.count()).toBe(1);

    // Writes by another tenant's group id change nothing.
    expect(await b.groups.update(ga.id, { displayName: "Taken over" })).toBeNull();
    expect(await b.groups.addMembers(ga.id, [ub.id])).toEqual({ added: [], removed: [] });
    expect(await b.groups.removeMembers(ga.id, [ua.id])).toEqual({ added: [], removed: [] });
    expect(await b.groups.replaceMembers(ga.id, [])).toEqual({ added: [], removed: [] });
    expect(await b.groups.delete(ga.id)).toBeNull();
    // Removing the other tenant's user from one's own group: nothing to remove.
    expect(await b.groups.removeMembers(gb.id, [ua.id])).toEqual({ added: [], removed: [] });

    const still = await a.groups.getById(ga.id);
    expect(still).toEqual(ga);
    expect((await a.groups.members(ga.id)).rows).toEqual([{ userId: ua.id, userName: "member@example.com" }]);
    // The users' reads show their own tenant's group only.
    expect((await a.users.view(ua.id))?.groups.map((g) => g.id)).toEqual([ga.id]);
    expect((await b.users.view(ub.id))?.groups.map((g) => g.id)).toEqual([gb.id]);

    // Deleting a user takes its memberships, in its tenant only.
    await b.users.delete(ub.id);
    expect((await b.groups.members(gb.id)).total).toBe(0);
    expect((await a.groups.members(ga.id)).total).toBe(1);
    await a.groups.delete(ga.id);
    expect(await b.groups.getById(gb.id)).not.toBeNull();
  });

  it("a user's read never shows another tenant's group, even if a membership row pointed across", async () => {
    // The services refuse such a member (GroupService.requireUsers; test/integration/tenancy); the store's one-query
    // read must not lean on that.
    const ua = await a.users.insert(user("cross@example.com"));
    const gb = await b.groups.insert(group("Cross"), []);
    await b.groups.addMembers(gb.id, [ua.id]);
    expect((await a.users.view(ua.id))?.groups).toEqual([]);
    expect((await a.users.listViews({ anyOf: [[{ attr: "id", value: ua.id }]] }, page, undefined, true)).rows[0]?.groups).toEqual([]);
    expect((await a.users.listViews(undefined, page, undefined, true)).rows.find((v) => v.row.id === ua.id)?.groups).toEqual([]);
    expect((await a.groups.groupsOfUsers([ua.id])).get(ua.id)).toEqual([]);
    await b.groups.delete(gb.id);
    await a.users.delete(ua.id);
  });

  it("outbox: neither tenant counts, lists, gets, claims, finishes, retries, cancels or purges the other's jobs", async () => {
    const ua = await a.users.insert(user("jobs@example.com"));
    const ub = await b.users.insert(user("jobs@example.com"));
    const [jobA, jobA2] = await a.outbox.enqueue([
      { userId: ua.id, kind: "create", payload: { userName: ua.userName } },
      { userId: ua.id, kind: "update", payload: {} },
    ]);
    const [jobB] = await b.outbox.enqueue([{ userId: ub.id, kind: "create", payload: { userName: ub.userName } }]);
    expect((await a.users.getById(ua.id))?.syncState).toBe("pending");

    expect(await b.outbox.stats()).toMatchObject({ pending: 1, running: 0, failed: 0 });
    expect(await a.outbox.stats()).toMatchObject({ pending: 2 });
    expect(await root.outbox.stats()).toMatchObject({ pending: 0, running: 0, failed: 0, oldestUnfinished: null });
    expect((await b.outbox.list({ limit: 10 })).map((j) => j.id)).toEqual([jobB]);
    expect(await b.outbox.list({ userId: ua.id, limit: 10 })).toEqual([]);
    expect(await b.outbox.get([jobA!, jobA2!])).toEqual([]);
    expect(await b.outbox.countAhead(Number.MAX_SAFE_INTEGER)).toBe(1);

    // The same worker name in both tenants (two replicas' workers are named alike by nothing but chance).
    const claimedB = await b.outbox.claim("worker-1", 10, 60_000);
    expect(claimedB.map((j) => j.id)).toEqual([jobB]);
    expect(await b.outbox.claim("worker-1", 10, 60_000)).toEqual([]);
    const claimedA = await a.outbox.claim("worker-1", 10, 60_000);
    expect(claimedA.map((j) => j.id)).toEqual([jobA]);

    // globex's worker cannot finish, reschedule, fail or release acme's job, though it names it and its owner.
    const err = { cause: { source: "internal" as const }, message: "x" };
    await b.outbox.renew([jobA!], "worker-1", 1);
    expect(await b.outbox.complete(jobA!, "worker-1")).toBe(false);
    expect(await b.outbox.reschedule(jobA!, "worker-1", future(), err, true)).toBe(false);
    expect(await b.outbox.fail(jobA!, "worker-1", err)).toBe(false);
    expect(await b.outbox.release("worker-1")).toBe(1);
    expect((await a.outbox.get([jobA!]))[0]).toMatchObject({ status: "running", leaseOwner: "worker-1" });
    expect(new Date((await a.outbox.get([jobA!]))[0]!.leaseUntil!).getTime()).toBeGreaterThan(Date.now() + 30_000);

    // acme's job fails; globex's retries do not bring it back.
    expect(await a.outbox.fail(jobA!, "worker-1", err)).toBe(true);
    expect(await b.outbox.retryFailed([jobA!])).toBe(0);
    expect(await b.outbox.retryFailed()).toBe(0);
    expect(await b.outbox.cancelUnfinished(ua.id)).toBe(0);
    expect((await a.outbox.get([jobA!]))[0]?.status).toBe("failed");
    expect((await b.users.getById(ub.id))?.syncState).toBe("pending");

    // globex finishes its own job: done counts and purges are its own.
    const [again] = await b.outbox.claim("worker-1", 10, 60_000);
    expect(again?.id).toBe(jobB);
    expect(await b.outbox.complete(jobB!, "worker-1")).toBe(true);
    expect((await b.users.getById(ub.id))?.syncState).toBe("synced");
    expect((await a.users.getById(ua.id))?.syncState).toBe("failed");
    const since = new Date(Date.now() - 60_000).toISOString();
    expect(await b.outbox.doneSince(since)).toBe(1);
    expect(await a.outbox.doneSince(since)).toBe(0);
    expect(await a.outbox.cancelUnfinished(ua.id)).toBe(2);
    expect(await a.outbox.purgeFinishedBefore(future())).toBe(2);
    expect(await b.outbox.get([jobB!])).toHaveLength(1);
    expect(await b.outbox.purgeFinishedBefore(future())).toBe(1);
    expect(await b.outbox.list({ limit: 10 })).toEqual([]);
  });

  it("outbox: one tenant's targets are apart from each other", async () => {
    const ua = await a.users.insert(user("targets@example.com"));
    const t2 = root.scoped("acme", "t2");
    const [primaryJob] = await a.outbox.enqueue([{ userId: ua.id, kind: "create", payload: {} }]);
    const [t2Job] = await t2.outbox.enqueue([{ userId: ua.id, kind: "create", payload: {} }]);
    // The user is the tenant's: the t2 store sees it.
    expect((await t2.users.getById(ua.id))?.id).toBe(ua.id);
    expect((await t2.outbox.list({ limit: 10 })).map((j) => j.id)).toEqual([t2Job]);
    expect((await a.outbox.list({ limit: 10 })).map((j) => j.id)).toEqual([primaryJob]);
    // Each target's first job runs: one target's queue does not hold the other's.
    expect((await t2.outbox.claim("w", 10, 60_000)).map((j) => j.id)).toEqual([t2Job]);
    expect((await a.outbox.claim("w", 10, 60_000)).map((j) => j.id)).toEqual([primaryJob]);
    expect(await t2.outbox.release("w")).toBe(1);
    expect(await a.outbox.release("w")).toBe(1);
    await a.outbox.cancelUnfinished(ua.id);
    await t2.outbox.cancelUnfinished(ua.id);
    await a.users.delete(ua.id);
  });

  it("idempotency keys: the same credential name and key in both, each its own", async () => {
    const stale = new Date(Date.now() - 60_000).toISOString();
    expect(await a.idempotency.claim("token:ci", "key-1", "hash-a", "owner-a", stale)).toBe(true);
    expect(await b.idempotency.claim("token:ci", "key-1", "hash-b", "owner-b", stale)).toBe(true);
    expect(await b.idempotency.claim("token:ci", "key-1", "hash-b", "owner-b2", stale)).toBe(false);
    await b.idempotency.complete({ credential: "token:ci", key: "key-1", requestHash: "hash-b", status: 201, location: "/b", body: "{}" }, "owner-b");
    // globex's completion did not touch acme's marker (its owner token differs, and so does its tenant).
    await b.idempotency.complete({ credential: "token:ci", key: "key-1", requestHash: "hash-b", status: 201, location: "/x", body: "{}" }, "owner-a");
    expect(await a.idempotency.get("token:ci", "key-1")).toMatchObject({ requestHash: "hash-a", body: "owner-a" });
    expect(await b.idempotency.get("token:ci", "key-1")).toMatchObject({ requestHash: "hash-b", status: 201, location: "/b" });
    expect(await root.idempotency.get("token:ci", "key-1")).toBeNull();
    expect(await b.idempotency.purgeBefore(future())).toBe(1);
    expect(await a.idempotency.get("token:ci", "key-1")).not.toBeNull();
    expect(await a.idempotency.purgeBefore(future())).toBe(1);
  });

  it("audit: each tenant's trail holds its own entries only", async () => {
    const id = randomUUID();
    const entry = await a.audit.append(auditOf(id, "audited@example.com"));
    await a.audit.appendMany([auditOf(id, "audited@example.com")]);
    await b.audit.append(auditOf(randomUUID(), "other@example.com"));
    expect(entry.resourceId).toBe(id);
    expect(await b.audit.query({ resourceId: id })).toEqual([]);
    expect(await b.audit.query({ userName: "AUDITED@example.com" })).toEqual([]);
    expect((await b.audit.query({})).map((e) => e.userName)).toEqual(["other@example.com"]);
    expect((await b.audit.recent(10)).map((e) => e.userName)).toEqual(["other@example.com"]);
    expect(await a.audit.query({ resourceId: id })).toHaveLength(2);
    expect(await root.audit.recent(10)).toEqual([]);
    expect(await b.audit.purgeBefore(future())).toBe(1);
    expect(await a.audit.recent(10)).toHaveLength(2);
    expect(await a.audit.purgeBefore(future())).toBe(2);
  });

  it("reconcile: runs and the schedule's lease are each tenant's (and target's)", async () => {
    const runA = await a.reconcile.save(report("certcentral"));
    expect(await b.reconcile.latest()).toBeNull();
    expect(await b.reconcile.latestSummary()).toBeNull();
    expect(await b.reconcile.list(10)).toEqual([]);
    expect(await root.scoped("acme", "t2").reconcile.latest()).toBeNull();
    expect((await a.reconcile.latest())?.id).toBe(runA);
    const runB = await b.reconcile.save(report("one"));
    expect((await b.reconcile.list(10)).map((r) => r.id)).toEqual([runB]);
    // purgeBefore keeps the newest of its own tenant, whatever the other holds.
    expect(await b.reconcile.purgeBefore(future())).toBe(0);
    expect((await a.reconcile.latest())?.platform).toBe("certcentral");

    // The same lease name: each tenant's schedule runs.
    expect(await a.reconcile.tryLease("reconcile", "replica-1", 60_000, 0)).toBe(true);
    expect(await b.reconcile.tryLease("reconcile", "replica-2", 60_000, 0)).toBe(true);
    expect(await root.scoped("acme", "t2").reconcile.tryLease("reconcile", "replica-3", 60_000, 0)).toBe(true);
    expect(await a.reconcile.tryLease("reconcile", "replica-2", 60_000, 0)).toBe(false);
    expect(await b.reconcile.renewLease("reconcile", "replica-1", 60_000)).toBe(false);
    await b.reconcile.releaseLease("reconcile", "replica-1");
    expect(await a.reconcile.renewLease("reconcile", "replica-1", 60_000)).toBe(true);
    await b.reconcile.releaseLease("reconcile", "replica-2");
    await a.reconcile.releaseLease("reconcile", "replica-1");
  });

  it("store tokens: the same name in both; a digest opens its own tenant's token only", async () => {
    const ta = await a.tokens.create({ name: "okta", scope: "scim", sha256: sha("token-of-acme"), expires: null });
    const tb = await b.tokens.create({ name: "okta", scope: "scim", sha256: sha("token-of-globex"), expires: null });
    await expect(a.tokens.create({ name: "okta", scope: "admin", sha256: sha("another"), expires: null })).rejects.toThrow(/exists already/);
    expect(await b.tokens.findByDigest(sha("token-of-acme"))).toBeNull();
    expect(await root.tokens.findByDigest(sha("token-of-acme"))).toBeNull();
    expect((await a.tokens.findByDigest(sha("token-of-acme")))?.id).toBe(ta.id);
    expect((await b.tokens.getByName("okta"))?.id).toBe(tb.id);
    expect((await b.tokens.list()).map((t) => t.id)).toEqual([tb.id]);
    expect((await b.tokens.revoke("okta"))?.id).toBe(tb.id);
    expect((await a.tokens.getByName("okta"))?.revoked).toBeNull();
    await b.tokens.touch(ta.id, new Date().toISOString(), new Date().toISOString());
    expect((await a.tokens.getByName("okta"))?.lastUsed).toBeNull();
  });

  it("role lists: each tenant's target keeps its own", async () => {
    await a.roleLists.save("certcentral", "roles", [{ id: "1", name: "Acme admin" }]);
    await b.roleLists.save("certcentral", "roles", [{ id: "2", name: "Globex admin" }]);
    await root.scoped("acme", "t2").roleLists.save("certcentral", "roles", [{ id: "3", name: "Acme t2" }]);
    expect((await a.roleLists.latest("certcentral", "roles"))?.list).toEqual([{ id: "1", name: "Acme admin" }]);
    expect((await b.roleLists.latest("certcentral", "roles"))?.list).toEqual([{ id: "2", name: "Globex admin" }]);
    expect((await root.scoped("acme", "t2").roleLists.latest("certcentral", "roles"))?.list).toEqual([{ id: "3", name: "Acme t2" }]);
    expect(await root.roleLists.latest("certcentral", "roles")).toBeNull();
    // A second save replaces the tenant's own list only.
    await b.roleLists.save("certcentral", "roles", [{ id: "4", name: "Globex admin 2" }]);
    expect((await a.roleLists.latest("certcentral", "roles"))?.list).toEqual([{ id: "1", name: "Acme admin" }]);
  });
});

describe("a scoped store's prepared reads", () => {
  // The read by id and userName is compiled once per store (src/store/user-repository.ts `prepared`); the scope adds
  // its own parameters, which must neither stop that nor leak another tenant's value into a reused statement.
  test("are compiled once, with each store's own tenant in them", async () => {
    const root = await openStore("sqlite::memory:");
    try {
      const a = root.scoped("acme");
      const b = root.scoped("globex");
      const row = (id: string): NewUserRow => ({ id, userName: "same@example.com", externalId: null, active: true, resource: { userName: "same@example.com" }, emails: [], digicertId: null, adopted: false });
      const [idA, idB] = [randomUUID(), randomUUID()];
      await a.users.insert(row(idA));
      await b.users.insert(row(idB));
      for (let i = 0; i < 2; i++) {
        expect((await a.users.view(idA))?.row.id).toBe(idA);
        expect(await a.users.view(idB)).toBeNull();
        expect((await b.users.view(idB))?.row.id).toBe(idB);
        expect(await b.users.view(idA)).toBeNull();
      }
      const plans = (s: Store) => (s.users as unknown as { compiled: Map<string, unknown> }).compiled;
      expect(plans(a).get("views by id")).not.toBeNull();
      expect(plans(b).get("views by id")).not.toBeNull();
    } finally {
      await root.close();
    }
  });
});
