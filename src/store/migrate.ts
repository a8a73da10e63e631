// Applies pending migrations before the store is handed out.
import { Kysely, Migrator, sql } from "kysely";
import type { Logger } from "../log/logger";
import type { Database, Dialect } from "./db";
import { migrationProvider } from "./migrations";

/**
 * Fixed key for pg_advisory_lock: replicas starting together queue here, so only one of them creates the schema
 * and runs migrations while the others wait and then find nothing left to do. Distinct from kysely's own key.
 */
export const MIGRATION_LOCK_KEY = "7306142980334218811";

export interface MigrateOptions {
  pgSchema?: string;
  logger?: Logger;
}

export async function migrateToLatest(db: Kysely<Database>, dialect: Dialect, opts: MigrateOptions): Promise<void> {
  if (dialect === "sqlite") {
    await runMigrator(db, dialect, undefined, opts.logger);
    return;
  }
  // A session-level advisory lock lives on one connection, so everything below runs on the same one.
  await db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(${sql.raw(MIGRATION_LOCK_KEY)})`.execute(conn);
    try {
      // CREATE SCHEMA IF NOT EXISTS is not race-free in PostgreSQL; under the lock it is.
      if (opts.pgSchema) await sql`create schema if not exists ${sql.id(opts.pgSchema)}`.execute(conn);
      const current = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(conn);
      const schema = opts.pgSchema ?? current.rows[0]?.schema;
      if (!schema) throw new Error("database migration failed: no schema on the PostgreSQL search_path exists");
      // Pin kysely's bookkeeping tables to our schema: otherwise it may see another schema's tables and skip
      // creating its own.
      await runMigrator(conn, dialect, schema, opts.logger);
    } finally {
      await sql`select pg_advisory_unlock(${sql.raw(MIGRATION_LOCK_KEY)})`.execute(conn).catch(() => undefined);
    }
  });
}

async function runMigrator(
  db: Kysely<Database>,
  dialect: Dialect,
  migrationTableSchema: string | undefined,
  logger: Logger | undefined,
): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider(dialect, logger), migrationTableSchema });
  const { error, results } = await migrator.migrateToLatest();
  for (const r of results ?? []) {
    if (r.status === "Success") logger?.info("database migration applied", { migration: r.migrationName, dialect });
  }
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName;
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`database migration ${failed ? `"${failed}" ` : ""}failed: ${reason}`, { cause: error });
  }
}
