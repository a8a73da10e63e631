// SCIM (and status page) bearer tokens kept in the store, managed with `digicert-scim tokens create|list|revoke`:
// an alternative to SCIM_BEARER_TOKENS / ADMIN_TOKENS. Only the SHA-256 digest of a token is stored.
import { Kysely, Migration, sql } from "kysely";
import type { Dialect } from "../db";

export function tokensMigration(dialect: Dialect): Migration {
  const key = dialect === "postgres" ? sql`text collate "C"` : "text";
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable("scim_tokens")
        // A UUID.
        .addColumn("id", key, (c) => c.primaryKey())
        // What the logs show (token:<name>); unique, revoked tokens included, so a log line names one token.
        .addColumn("name", key, (c) => c.notNull().unique())
        // scim | admin
        .addColumn("scope", "text", (c) => c.notNull())
        // Lower-case hex of the token's SHA-256; the token itself is never stored.
        .addColumn("token_sha256", key, (c) => c.notNull().unique())
        // ISO-8601 timestamps; expires and revoked null = never / not revoked; last_used updated at most once a minute.
        .addColumn("created", key, (c) => c.notNull())
        .addColumn("expires", key)
        .addColumn("revoked", key)
        .addColumn("last_used", key)
        .execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable("scim_tokens").execute();
    },
  };
}
