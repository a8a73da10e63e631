// Responses to create requests that carried an Idempotency-Key, so a client retrying a create whose answer it
// never got receives the original answer again.
import { Kysely, Migration, sql } from "kysely";
import type { Dialect } from "../db";

export function idempotencyMigration(dialect: Dialect): Migration {
  const key = dialect === "postgres" ? sql`text collate "C"` : "text";
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable("scim_idempotency_keys")
        .addColumn("credential", key, (c) => c.notNull())
        .addColumn("idempotency_key", key, (c) => c.notNull())
        .addColumn("request_hash", "text", (c) => c.notNull())
        .addColumn("status", "integer", (c) => c.notNull())
        .addColumn("location", "text")
        .addColumn("body", "text", (c) => c.notNull())
        .addColumn("created", key, (c) => c.notNull())
        .addPrimaryKeyConstraint("scim_idempotency_keys_pkey", ["credential", "idempotency_key"])
        .execute();
      await db.schema.createIndex("scim_idempotency_keys_created_idx").on("scim_idempotency_keys").column("created").execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable("scim_idempotency_keys").execute();
    },
  };
}
