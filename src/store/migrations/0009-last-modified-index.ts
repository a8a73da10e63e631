// HR systems and Entra's API-driven provisioning sync by `meta.lastModified ge "…"`: an index makes that range a
// seek instead of a scan of every user (ids break ties for stable paging).
import { Kysely, Migration } from "kysely";

export function lastModifiedIndexMigration(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.createIndex("scim_users_last_modified_idx").on("scim_users").columns(["last_modified", "id"]).execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropIndex("scim_users_last_modified_idx").execute();
    },
  };
}
