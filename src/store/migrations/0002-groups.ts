// DigiCert access state on users, and groups with their memberships. Same portability conventions as 0001:
// 0/1 integers and JSON text on SQLite, boolean and jsonb on PostgreSQL, byte-order ("C") key columns.
import { Kysely, Migration, sql } from "kysely";
import type { Dialect } from "../db";
import { GROUP_DISPLAY_NAME_UNIQUE } from "../errors";

export function groupsMigration(dialect: Dialect): Migration {
  const boolType = dialect === "postgres" ? "boolean" : "integer";
  const jsonType = dialect === "postgres" ? "jsonb" : "text";
  const key = dialect === "postgres" ? sql`text collate "C"` : "text";
  const trueValue = dialect === "postgres" ? sql`true` : sql`1`;
  return {
    async up(db: Kysely<any>): Promise<void> {
      // Existing rows take the default: enabled, roles unknown. One column per statement (SQLite's ALTER TABLE).
      await db.schema
        .alterTable("scim_users")
        .addColumn("digicert_enabled", boolType, (c) => c.notNull().defaultTo(trueValue))
        .execute();
      await db.schema.alterTable("scim_users").addColumn("digicert_role_ids", jsonType).execute();

      await db.schema
        .createTable("scim_groups")
        .addColumn("id", key, (c) => c.primaryKey())
        .addColumn("display_name", "text", (c) => c.notNull())
        // Lower-cased in JS (toLowerCase) on every write and lookup, like scim_users.user_name_lower.
        .addColumn("display_name_lower", key, (c) => c.notNull())
        .addColumn("external_id", key)
        .addColumn("resource", jsonType, (c) => c.notNull())
        .addColumn("created", key, (c) => c.notNull())
        .addColumn("last_modified", key, (c) => c.notNull())
        .addColumn("version", "integer", (c) => c.notNull())
        .addUniqueConstraint(GROUP_DISPLAY_NAME_UNIQUE, ["display_name_lower"])
        .execute();
      await db.schema.createIndex("scim_groups_external_id_idx").on("scim_groups").column("external_id").execute();
      // list() orders by (created, id).
      await db.schema.createIndex("scim_groups_created_idx").on("scim_groups").columns(["created", "id"]).execute();

      await db.schema
        .createTable("scim_group_members")
        .addColumn("group_id", key, (c) => c.notNull().references("scim_groups.id").onDelete("cascade"))
        .addColumn("user_id", key, (c) => c.notNull().references("scim_users.id").onDelete("cascade"))
        // Also serves "members of a group" lookups (leading group_id).
        .addPrimaryKeyConstraint("scim_group_members_pkey", ["group_id", "user_id"])
        .execute();
      // "Groups of a user", and the cascade when a user is deleted.
      await db.schema.createIndex("scim_group_members_user_idx").on("scim_group_members").column("user_id").execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable("scim_group_members").execute();
      await db.schema.dropTable("scim_groups").execute();
      await db.schema.alterTable("scim_users").dropColumn("digicert_role_ids").execute();
      await db.schema.alterTable("scim_users").dropColumn("digicert_enabled").execute();
    },
  };
}
