// CertCentral divisions a user was restricted to by the bridge (container_id_assignments, set through a mapping
// rule's `divisions`), kept like digicert_role_ids: a JSON array of container ids, or null = never set by the
// bridge (existing rows: left as they are in DigiCert).
import { Kysely, Migration } from "kysely";
import type { Dialect } from "../db";

export function divisionsMigration(dialect: Dialect): Migration {
  const jsonType = dialect === "postgres" ? "jsonb" : "text";
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable("scim_users").addColumn("digicert_division_ids", jsonType).execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable("scim_users").dropColumn("digicert_division_ids").execute();
    },
  };
}
