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

/**
 * Builds a database at migration 0009 (before userName keys) holding users written the way that code wrote them
 * (user_name_lower = toLowerCase), in the order given (each one created after the one before).
 */
export async function seedUserNamesBeforeKeys(
  db: Kysely<any>,
  dialect: Dialect,
  users: { id: string; userName: string }[],
  migrationTableSchema?: string,
): Promise<void> {
  const earlier = Object.fromEntries(Object.entries(buildMigrations(dialect)).filter(([name]) => name < "0011"));
  const migrator = new Migrator({ db, provider: { getMigrations: async () => earlier }, migrationTableSchema });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
  const bool = (v: boolean) => (dialect === "sqlite" ? (v ? 1 : 0) : v);
  const start = Date.now() - 60_000;
  let n = 0;
  for (const u of users) {
    const at = new Date(start + n++ * 1000).toISOString();
    await db
      .insertInto("scim_users")
      .values({
        id: u.id,
        user_name: u.userName,
        user_name_lower: u.userName.toLowerCase(),
        external_id: null,
        active: bool(true),
        resource: JSON.stringify({ userName: u.userName }),
        digicert_id: null,
        adopted: bool(false),
        created: at,
        last_modified: at,
        version: 1,
      })
      .execute();
  }
}

/** Users whose names were distinct under lower-casing but share a key (src/user-name.ts), and one that moves. */
export const COLLIDING_USERS = [
  { id: "00000000-0000-4000-8000-000000000001", userName: "José" },
  { id: "00000000-0000-4000-8000-000000000002", userName: "Jose\u0301" },
  { id: "00000000-0000-4000-8000-000000000003", userName: "ＪＯＳÉ" },
  { id: "00000000-0000-4000-8000-000000000004", userName: "Ｗide" },
  { id: "00000000-0000-4000-8000-000000000005", userName: "plain" },
];
