// The audit trail: every change the bridge makes or refuses (SCIM writes, the DigiCert calls their jobs make,
// rollbacks, mapping reloads). Append-only; rows older than AUDIT_RETENTION_DAYS are purged.
import { Kysely, Migration, sql } from "kysely";
import type { Dialect } from "../db";

export function auditMigration(dialect: Dialect): Migration {
  const boolType = dialect === "postgres" ? "boolean" : "integer";
  const jsonType = dialect === "postgres" ? "jsonb" : "text";
  const key = dialect === "postgres" ? sql`text collate "C"` : "text";
  return {
    async up(db: Kysely<any>): Promise<void> {
      let table = db.schema.createTable("scim_audit");
      table =
        dialect === "postgres"
          ? table.addColumn("id", "bigserial", (c) => c.primaryKey())
          : table.addColumn("id", "integer", (c) => c.primaryKey().autoIncrement());
      await table
        .addColumn("at", key, (c) => c.notNull())
        // scim | digicert | bridge
        .addColumn("kind", "text", (c) => c.notNull())
        // user.create, group.patch, digicert.createUser, …
        .addColumn("action", "text", (c) => c.notNull())
        // The credential's name (never its secret); null for what the bridge does on its own.
        .addColumn("actor", "text")
        .addColumn("idp", "text")
        .addColumn("request_id", key)
        .addColumn("resource_type", "text")
        // No foreign key: the trail outlives the users and groups it is about.
        .addColumn("resource_id", key)
        .addColumn("user_name", "text")
        // Lower-cased in JS, like scim_users.user_name_lower, so a history is found whatever the case.
        .addColumn("user_name_lower", key)
        // A JSON array of { path, op?, before?, after? }, secrets masked.
        .addColumn("changes", jsonType)
        // ok | refused | error
        .addColumn("outcome", "text", (c) => c.notNull())
        // The HTTP status a refused write was answered with.
        .addColumn("status", "integer")
        .addColumn("detail", "text")
        .addColumn("job_id", "bigint")
        .addColumn("dry_run", boolType, (c) => c.notNull())
        // DigiCert calls: which operation, on which DigiCert user, and the error kind when it failed.
        .addColumn("dc_operation", "text")
        .addColumn("dc_id", "text")
        .addColumn("dc_error_kind", "text")
        .execute();
      await db.schema.createIndex("scim_audit_resource_idx").on("scim_audit").columns(["resource_id", "at"]).execute();
      await db.schema.createIndex("scim_audit_user_name_idx").on("scim_audit").columns(["user_name_lower", "at"]).execute();
      await db.schema.createIndex("scim_audit_at_idx").on("scim_audit").columns(["at", "id"]).execute();
      await db.schema.createIndex("scim_audit_request_idx").on("scim_audit").column("request_id").execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable("scim_audit").execute();
    },
  };
}
