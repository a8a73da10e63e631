// Tenants: every table gets a `tenant` column, and the tables a DigiCert target owns (outbox, role lists, reconcile
// runs and lease, the per-target links of a fan-out tenant) a `target` column. Every row written before is the
// default tenant's and its primary target's ("" in `target`), so a single-tenant database upgrades in place and is
// served as before. The keys that were unique across the database become unique per tenant (userName,
// displayName, Idempotency-Key, token name, role lists, reconcile lease). src/store/tenant-scope.ts confines each
// store's queries to its scope.
//
// SQLite cannot change a table's constraints: those tables are rebuilt (new table from the old one's own CREATE
// statement with the key edited, rows copied, indexes re-made), with foreign keys off so that dropping the old
// scim_users does not cascade to its emails and memberships. PostgreSQL drops and re-adds the constraints.
import { Kysely, Migration, sql } from "kysely";
import type { Dialect } from "../db";
import { GROUP_DISPLAY_NAME_UNIQUE, USER_NAME_UNIQUE } from "../errors";

// The tables as they were when this migration shipped: a copy of tenant-scope.ts's list on purpose, so a table
// added later (with its own tenant column) never changes what this migration does.
const TENANT_TABLES = [
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
];
const TARGET_TABLES = ["scim_outbox", "digicert_role_lists", "scim_reconcile_runs", "scim_reconcile_lease"];

/** One key made per tenant: its SQLite CREATE text edit, and its PostgreSQL constraint. */
interface KeyChange {
  table: string;
  sqlite: (create: string) => string;
  pg: { drop: string; add: string; columns: string[]; primary: boolean };
}

const q = (s: string) => `"${s}"`;
const list = (cols: string[]) => cols.map(q).join(", ");

function constraintEdit(name: string, kind: "unique" | "primary key", from: string[], to: string[]): (create: string) => string {
  return (create) => {
    const before = `constraint ${q(name)} ${kind} (${list(from)})`;
    if (!create.includes(before)) throw new Error(`migration 0012: ${name} is not as 0001–0011 made it`);
    return create.replace(before, `constraint ${q(name)} ${kind} (${list(to)})`);
  };
}

const KEY_CHANGES: KeyChange[] = [
  {
    table: "scim_users",
    sqlite: constraintEdit(USER_NAME_UNIQUE, "unique", ["user_name_lower"], ["tenant", "user_name_lower"]),
    pg: { drop: USER_NAME_UNIQUE, add: USER_NAME_UNIQUE, columns: ["tenant", "user_name_lower"], primary: false },
  },
  {
    table: "scim_groups",
    sqlite: constraintEdit(GROUP_DISPLAY_NAME_UNIQUE, "unique", ["display_name_lower"], ["tenant", "display_name_lower"]),
    pg: { drop: GROUP_DISPLAY_NAME_UNIQUE, add: GROUP_DISPLAY_NAME_UNIQUE, columns: ["tenant", "display_name_lower"], primary: false },
  },
  {
    table: "scim_idempotency_keys",
    sqlite: constraintEdit("scim_idempotency_keys_pkey", "primary key", ["credential", "idempotency_key"], ["tenant", "credential", "idempotency_key"]),
    pg: { drop: "scim_idempotency_keys_pkey", add: "scim_idempotency_keys_pkey", columns: ["tenant", "credential", "idempotency_key"], primary: true },
  },
  {
    table: "digicert_role_lists",
    sqlite: constraintEdit("digicert_role_lists_pk", "primary key", ["platform", "kind"], ["tenant", "target", "platform", "kind"]),
    pg: { drop: "digicert_role_lists_pk", add: "digicert_role_lists_pk", columns: ["tenant", "target", "platform", "kind"], primary: true },
  },
  {
    table: "scim_reconcile_lease",
    sqlite: (create) => {
      const before = `${q("name")} text primary key`;
      if (!create.includes(before)) throw new Error("migration 0012: scim_reconcile_lease is not as 0006 made it");
      return create.replace(before, `${q("name")} text not null`).replace(/\)\s*$/, `, constraint "scim_reconcile_lease_pkey" primary key ("tenant", "target", "name"))`);
    },
    pg: { drop: "scim_reconcile_lease_pkey", add: "scim_reconcile_lease_pkey", columns: ["tenant", "target", "name"], primary: true },
  },
  {
    table: "scim_tokens",
    sqlite: (create) => {
      const before = `${q("name")} text not null unique`;
      if (!create.includes(before)) throw new Error("migration 0012: scim_tokens is not as 0007 made it");
      return create.replace(before, `${q("name")} text not null`).replace(/\)\s*$/, `, constraint "scim_tokens_name_key" unique ("tenant", "name"))`);
    },
    pg: { drop: "scim_tokens_name_key", add: "scim_tokens_name_key", columns: ["tenant", "name"], primary: false },
  },
];

/** SQLite: remakes `table` from its own CREATE statement as `edit` changes it, keeping rows and indexes. */
async function rebuildSqliteTable(db: Kysely<any>, table: string, edit: (create: string) => string): Promise<void> {
  const rows = await sql<{ type: string; name: string; sql: string | null }>`select type, name, sql from sqlite_master where tbl_name = ${table}`.execute(db);
  const create = rows.rows.find((r) => r.type === "table")?.sql;
  if (!create) throw new Error(`migration 0012: no table ${table}`);
  const indexes = rows.rows.filter((r) => r.type === "index" && r.sql).map((r) => r.sql!);
  const fresh = `${table}__0012`;
  const edited = edit(create).replace(/^create table\s+("?)[A-Za-z0-9_]+\1/i, `create table "${fresh}"`);
  await sql.raw(edited).execute(db);
  await sql.raw(`insert into "${fresh}" select * from "${table}"`).execute(db);
  await sql.raw(`drop table "${table}"`).execute(db);
  await sql.raw(`alter table "${fresh}" rename to "${table}"`).execute(db);
  for (const index of indexes) await sql.raw(index).execute(db);
}

export function tenantsMigration(dialect: Dialect): Migration {
  const key = dialect === "postgres" ? sql`text collate "C"` : "text";
  const boolType = dialect === "postgres" ? "boolean" : "integer";
  const jsonType = dialect === "postgres" ? "jsonb" : "text";
  const trueValue = dialect === "postgres" ? sql`true` : sql`1`;
  return {
    async up(db: Kysely<any>): Promise<void> {
      for (const table of TENANT_TABLES) {
        await db.schema.alterTable(table).addColumn("tenant", key, (c) => c.notNull().defaultTo("default")).execute();
      }
      for (const table of TARGET_TABLES) {
        await db.schema.alterTable(table).addColumn("target", key, (c) => c.notNull().defaultTo("")).execute();
      }
      if (dialect === "sqlite") {
        // Outside any transaction (Kysely runs SQLite migrations without one), so the pragma takes effect.
        await sql`pragma foreign_keys = off`.execute(db);
        try {
          for (const change of KEY_CHANGES) await rebuildSqliteTable(db, change.table, change.sqlite);
          const broken = await sql`pragma foreign_key_check`.execute(db);
          if (broken.rows.length) throw new Error(`migration 0012: ${broken.rows.length} rows lost their parent`);
        } finally {
          await sql`pragma foreign_keys = on`.execute(db);
        }
      } else {
        for (const { table, pg } of KEY_CHANGES) {
          await sql`alter table ${sql.table(table)} drop constraint ${sql.id(pg.drop)}`.execute(db);
          await sql`alter table ${sql.table(table)} add constraint ${sql.id(pg.add)} ${sql.raw(pg.primary ? "primary key" : "unique")} (${sql.join(pg.columns.map((c) => sql.id(c)))})`.execute(db);
        }
      }
      // Lists and pages read one tenant's rows: these keep them from scanning the others'.
      await db.schema.createIndex("scim_users_tenant_created_idx").on("scim_users").columns(["tenant", "created", "id"]).execute();
      await db.schema.createIndex("scim_groups_tenant_created_idx").on("scim_groups").columns(["tenant", "created", "id"]).execute();
      await db.schema.createIndex("scim_outbox_tenant_status_idx").on("scim_outbox").columns(["tenant", "target", "status", "run_after"]).execute();
      await db.schema.createIndex("scim_audit_tenant_at_idx").on("scim_audit").columns(["tenant", "at", "id"]).execute();

      // A fan-out tenant's link and sync state of each user on each target but the primary (whose stay on scim_users).
      await db.schema
        .createTable("scim_user_targets")
        .addColumn("tenant", key, (c) => c.notNull())
        .addColumn("target", key, (c) => c.notNull())
        .addColumn("user_id", key, (c) => c.notNull().references("scim_users.id").onDelete("cascade"))
        .addColumn("digicert_id", key)
        .addColumn("adopted", boolType, (c) => c.notNull())
        .addColumn("digicert_enabled", boolType, (c) => c.notNull().defaultTo(trueValue))
        .addColumn("digicert_role_ids", jsonType)
        .addColumn("digicert_division_ids", jsonType)
        .addColumn("sync_state", "text", (c) => c.notNull().defaultTo("pending"))
        .addColumn("sync_error", "text")
        .addColumn("synced_at", key)
        .addPrimaryKeyConstraint("scim_user_targets_pkey", ["tenant", "target", "user_id"])
        .execute();
      await db.schema.createIndex("scim_user_targets_user_idx").on("scim_user_targets").column("user_id").execute();
    },
    async down(): Promise<void> {
      // Tenants other than the default cannot be folded back into one without losing rows: there is no way down.
      throw new Error("migration 0012 (tenants) cannot be undone");
    },
  };
}
