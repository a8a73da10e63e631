// The outbox toward DigiCert, and each user's sync state. A job is written in the same transaction as the SCIM
// change it carries, so a change the IdP was told succeeded cannot be lost between the store and DigiCert.
import { Kysely, Migration, sql } from "kysely";
import type { Dialect } from "../db";

export function outboxMigration(dialect: Dialect): Migration {
  const jsonType = dialect === "postgres" ? "jsonb" : "text";
  const key = dialect === "postgres" ? sql`text collate "C"` : "text";
  return {
    async up(db: Kysely<any>): Promise<void> {
      // Users stored before the outbox existed were in step with DigiCert when they were written.
      await db.schema.alterTable("scim_users").addColumn("sync_state", "text", (c) => c.notNull().defaultTo("synced")).execute();
      await db.schema.alterTable("scim_users").addColumn("sync_error", "text").execute();
      await db.schema.alterTable("scim_users").addColumn("synced_at", key).execute();

      let table = db.schema.createTable("scim_outbox");
      table =
        dialect === "postgres"
          ? table.addColumn("id", "bigserial", (c) => c.primaryKey())
          : table.addColumn("id", "integer", (c) => c.primaryKey().autoIncrement());
      await table
        // No foreign key: a delete job outlives the user row it is about.
        .addColumn("user_id", key, (c) => c.notNull())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("payload", jsonType, (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("run_after", key, (c) => c.notNull())
        .addColumn("lease_owner", "text")
        .addColumn("lease_until", key)
        .addColumn("error_kind", "text")
        .addColumn("last_error", "text")
        .addColumn("created", key, (c) => c.notNull())
        .addColumn("updated", key, (c) => c.notNull())
        .addColumn("finished", key)
        .execute();
      await db.schema.createIndex("scim_outbox_status_idx").on("scim_outbox").columns(["status", "run_after"]).execute();
      await db.schema.createIndex("scim_outbox_user_idx").on("scim_outbox").columns(["user_id", "id"]).execute();
      await db.schema.createIndex("scim_outbox_finished_idx").on("scim_outbox").column("finished").execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable("scim_outbox").execute();
      await db.schema.alterTable("scim_users").dropColumn("synced_at").execute();
      await db.schema.alterTable("scim_users").dropColumn("sync_error").execute();
      await db.schema.alterTable("scim_users").dropColumn("sync_state").execute();
    },
  };
}
