// Users and their indexed emails. Portable DDL: only the JSON and boolean column types differ per dialect.
import { Kysely, Migration, sql } from "kysely";
import type { Dialect } from "../db";
import { USER_NAME_UNIQUE } from "../errors";

export function initialMigration(dialect: Dialect): Migration {
  // SQLite has no boolean or JSON type: 0/1 integers and JSON text, converted by the repository's codec.
  const boolType = dialect === "postgres" ? "boolean" : "integer";
  const jsonType = dialect === "postgres" ? "jsonb" : "text";
  // Compared and ordered columns use byte order on PostgreSQL too (SQLite's BINARY default), so uniqueness,
  // equality and "ORDER BY created, id" behave the same whatever the database's locale.
  const key = dialect === "postgres" ? sql`text collate "C"` : "text";
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable("scim_users")
        .addColumn("id", key, (c) => c.primaryKey())
        .addColumn("user_name", "text", (c) => c.notNull())
        // Lower-cased in JS (toLowerCase) on every write and lookup, so uniqueness and filters agree.
        .addColumn("user_name_lower", key, (c) => c.notNull())
        .addColumn("external_id", key)
        .addColumn("active", boolType, (c) => c.notNull())
        .addColumn("resource", jsonType, (c) => c.notNull())
        .addColumn("digicert_id", key)
        .addColumn("adopted", boolType, (c) => c.notNull())
        .addColumn("created", key, (c) => c.notNull())
        .addColumn("last_modified", key, (c) => c.notNull())
        .addColumn("version", "integer", (c) => c.notNull())
        .addUniqueConstraint(USER_NAME_UNIQUE, ["user_name_lower"])
        .execute();
      await db.schema.createIndex("scim_users_external_id_idx").on("scim_users").column("external_id").execute();
      await db.schema.createIndex("scim_users_digicert_id_idx").on("scim_users").column("digicert_id").execute();
      // list() orders by (created, id).
      await db.schema.createIndex("scim_users_created_idx").on("scim_users").columns(["created", "id"]).execute();

      await db.schema
        .createTable("scim_user_emails")
        .addColumn("user_id", key, (c) => c.notNull().references("scim_users.id").onDelete("cascade"))
        .addColumn("position", "integer", (c) => c.notNull())
        .addColumn("value", "text", (c) => c.notNull())
        .addColumn("value_lower", key, (c) => c.notNull())
        .addColumn("type", "text")
        .addColumn("type_lower", key)
        .addColumn("is_primary", boolType, (c) => c.notNull())
        .addPrimaryKeyConstraint("scim_user_emails_pkey", ["user_id", "position"])
        .execute();
      await db.schema.createIndex("scim_user_emails_value_idx").on("scim_user_emails").column("value_lower").execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable("scim_user_emails").execute();
      await db.schema.dropTable("scim_users").execute();
    },
  };
}
