// Builds a database at migration 0001 only, with one user row written the way 0001-era code wrote it, so the
// dialect tests can check what 0002 does to existing data.
import { Kysely, Migrator } from "kysely";
import type { Dialect } from "../../../src/store/db";
import { buildMigrations } from "../../../src/store/migrations";

export async function seedAtInitialMigration(
  db: Kysely<any>,
  dialect: Dialect,
  userId: string,
  /** PostgreSQL: pin kysely's bookkeeping tables to this schema, as src/store/migrate.ts does. */
  migrationTableSchema?: string,
): Promise<void> {
  const migrations = buildMigrations(dialect);
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => ({ "0001-initial": migrations["0001-initial"]! }) },
    migrationTableSchema,
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
  const bool = (v: boolean) => (dialect === "sqlite" ? (v ? 1 : 0) : v);
  const now = new Date().toISOString();
  await db
    .insertInto("scim_users")
    .values({
      id: userId,
      user_name: "old-timer",
      user_name_lower: "old-timer",
      external_id: null,
      active: bool(true),
      resource: JSON.stringify({ userName: "old-timer" }),
      digicert_id: "dc-1",
      adopted: bool(false),
      created: now,
      last_modified: now,
      version: 1,
    })
    .execute();
}
