// Reconciliation: the reports of `digicert-scim reconcile` and of the scheduled run (RECONCILE_INTERVAL), and the
// lease that lets one replica at a time run the schedule.
import { Kysely, Migration, sql } from "kysely";
import type { Dialect } from "../db";

export function reconcileMigration(dialect: Dialect): Migration {
  const jsonType = dialect === "postgres" ? "jsonb" : "text";
  const key = dialect === "postgres" ? sql`text collate "C"` : "text";
  const bool = dialect === "postgres" ? "boolean" : "integer";
  return {
    async up(db: Kysely<any>): Promise<void> {
      let table = db.schema.createTable("scim_reconcile_runs");
      table =
        dialect === "postgres"
          ? table.addColumn("id", "bigserial", (c) => c.primaryKey())
          : table.addColumn("id", "integer", (c) => c.primaryKey().autoIncrement());
      await table
        .addColumn("started", key, (c) => c.notNull())
        .addColumn("finished", key, (c) => c.notNull())
        // "cli" or "schedule"
        .addColumn("trigger", "text", (c) => c.notNull())
        .addColumn("fix", bool, (c) => c.notNull())
        .addColumn("platform", "text", (c) => c.notNull())
        // {kind: users}; the figures of the run (users listed, checked, skipped, jobs queued…); the findings.
        .addColumn("counts", jsonType, (c) => c.notNull())
        .addColumn("summary", jsonType, (c) => c.notNull())
        .addColumn("entries", jsonType, (c) => c.notNull())
        .execute();
      await db.schema.createIndex("scim_reconcile_runs_started_idx").on("scim_reconcile_runs").column("started").execute();

      await db.schema
        .createTable("scim_reconcile_lease")
        .addColumn("name", key, (c) => c.primaryKey())
        .addColumn("owner", "text")
        .addColumn("lease_until", key)
        .addColumn("last_started", key)
        .execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable("scim_reconcile_lease").execute();
      await db.schema.dropTable("scim_reconcile_runs").execute();
    },
  };
}
