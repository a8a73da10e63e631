// DigiCert's role list (and CertCentral's divisions) as last fetched, so a bridge restarted while DigiCert is
// unreachable can resolve ROLE_MAPPING_FILE's role names from it instead of refusing to start. One row per platform
// and kind (roles, divisions), replaced each time the list is fetched.
import { Kysely, Migration, sql } from "kysely";
import type { Dialect } from "../db";

export function roleListsMigration(dialect: Dialect): Migration {
  const key = dialect === "postgres" ? sql`text collate "C"` : "text";
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable("digicert_role_lists")
        // certcentral | one (the registry's platform names)
        .addColumn("platform", key, (c) => c.notNull())
        // roles | divisions
        .addColumn("kind", key, (c) => c.notNull())
        // JSON array of { id, name, application? } as DigiCert listed them.
        .addColumn("list", "text", (c) => c.notNull())
        // ISO-8601: when DigiCert answered with this list.
        .addColumn("fetched_at", key, (c) => c.notNull())
        .addPrimaryKeyConstraint("digicert_role_lists_pk", ["platform", "kind"])
        .execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable("digicert_role_lists").execute();
    },
  };
}
