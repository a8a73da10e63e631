// Opens the configured database, applies migrations, and hands out the Store.
import fs from "node:fs";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect, sql, type SqliteDatabase } from "kysely";
import { Pool } from "pg";
import type { Logger } from "../log/logger";
import { DatabaseTarget, describeTarget, parseDatabaseUrl } from "./database-url";
import { runTransaction, type Database, type Dialect } from "./db";
import { migrateToLatest } from "./migrate";
import { ConnectionLossDialect, PG_APPLICATION_NAME, watchPoolConnections } from "./pg-connection";
import { SqlIdempotencyRepository } from "./idempotency-repository";
import { SqlAuditRepository } from "./audit-repository";
import { SqlGroupRepository } from "./group-repository";
import { SqlOutboxRepository } from "./outbox-repository";
import { SqlReconcileRepository } from "./reconcile-repository";
import type { ReconcileRepository } from "./types";
import { SqlTokenRepository } from "./token-repository";
import { SqlRoleListRepository } from "./role-list-repository";
import type { RoleListRepository, TokenRepository } from "./types";
import type { AuditRepository, GroupRepository, IdempotencyRepository, OutboxRepository, ScopeOptions, Store, StoreTransaction, UserRepository } from "./types";
import { SqlUserRepository } from "./user-repository";
import { DEFAULT_TENANT, PRIMARY_TARGET, scopeOf, TenantScopePlugin, type TenantScope } from "./tenant-scope";
import { FanOut } from "./fan-out";
import { linkStoreFor, type LinkStore } from "./target-links";

export * from "./types";
export * from "./reconcile-repository";
export * from "./token-repository";
export { parseDatabaseUrl } from "./database-url";
export { DEFAULT_TENANT, PRIMARY_TARGET } from "./tenant-scope";

export interface OpenStoreOptions {
  /** PostgreSQL only: schema to create (if absent) and put alone on every connection's search_path. */
  pgSchema?: string;
  logger?: Logger;
}

// Lower-case identifiers only: they are used unquoted in the search_path startup option, where case would fold.
const PG_SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;

export async function openStore(databaseUrl: string, opts: OpenStoreOptions = {}): Promise<Store> {
  const target = parseDatabaseUrl(databaseUrl);
  const db = target.dialect === "sqlite" ? openSqlite(target.filename) : openPostgres(target, opts);
  try {
    await migrateToLatest(db, target.dialect, opts);
  } catch (error) {
    await db.destroy().catch(() => undefined);
    if (error instanceof Error && error.message.startsWith("database migration")) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot prepare the database at ${describeTarget(target)}: ${reason}`, { cause: error });
  }
  opts.logger?.info("store opened", { database: describeTarget(target) });
  return new SqlStore(db, target.dialect, scopeOf(DEFAULT_TENANT));
}

function openSqlite(filename: string): Kysely<Database> {
  const memory = filename === ":memory:";
  if (!memory) fs.mkdirSync(path.dirname(path.resolve(filename)), { recursive: true });
  const database = new BetterSqlite3(memory ? ":memory:" : path.resolve(filename));
  // WAL lets readers proceed during a write; it does not apply to an in-memory database.
  if (!memory) database.pragma("journal_mode = WAL");
  database.pragma("foreign_keys = ON"); // needed for ON DELETE CASCADE of emails and group memberships
  database.pragma("busy_timeout = 5000"); // wait for another process's write lock instead of failing at once
  // Case-insensitive filters fold text as JavaScript does; SQLite's lower() folds only A-Z (src/store/user-query.ts).
  database.function("scim_lower", { deterministic: true }, (s: unknown) => (typeof s === "string" ? s.toLowerCase() : s));
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: reusingStatements(database) }) });
}

/** Distinct statements kept prepared: the bridge's own are a few hundred (IN lists of other lengths make more). */
const STATEMENT_CACHE_SIZE = 1000;

/**
 * Kysely's SQLite driver prepares every statement anew, and SQLite compiling the same SQL again was a tenth of the
 * CPU of a SCIM read (benchmarks/RESULTS.md). This keeps prepared statements by SQL text, least recently used out
 * first. Safe because the driver runs one statement at a time on its one connection, to completion (all/run).
 */
function reusingStatements(database: BetterSqlite3.Database): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => database.close(),
    prepare(text: string) {
      let stmt = cache.get(text);
      if (stmt) {
        cache.delete(text); // re-inserted below: most recently used last
      } else {
        stmt = database.prepare(text);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
      }
      cache.set(text, stmt);
      return stmt;
    },
  };
}

function openPostgres(target: Extract<DatabaseTarget, { dialect: "postgres" }>, opts: OpenStoreOptions): Kysely<Database> {
  if (opts.pgSchema !== undefined && !PG_SCHEMA.test(opts.pgSchema)) {
    throw new Error("pgSchema must be a lower-case identifier (letters, digits, underscore; at most 63 characters)");
  }
  const pool = new Pool({
    connectionString: target.connectionString,
    // Names the bridge's sessions in pg_stat_activity (an application_name in DATABASE_URL or PGAPPNAME wins).
    fallback_application_name: PG_APPLICATION_NAME,
    // Set at connection start-up, so every pooled connection resolves tables in this schema only.
    ...(opts.pgSchema ? { options: `-c search_path=${opts.pgSchema}` } : {}),
  });
  // A connection the server drops (idle or in use) must not crash the process: see pg-connection.ts.
  watchPoolConnections(pool, opts.logger);
  return new Kysely<Database>({ dialect: new ConnectionLossDialect(new PostgresDialect({ pool })) });
}

class SqlStore implements Store {
  private readonly db: Kysely<Database>;
  private readonly links: LinkStore;
  private readonly fanOut: FanOut | undefined;
  readonly users: UserRepository;
  readonly groups: GroupRepository;
  readonly outbox: OutboxRepository;
  readonly idempotency: IdempotencyRepository;
  readonly audit: AuditRepository;
  readonly reconcile: ReconcileRepository;
  readonly tokens: TokenRepository;
  readonly roleLists: RoleListRepository;

  constructor(
    private readonly root: Kysely<Database>,
    readonly dialect: Dialect,
    readonly scope: TenantScope,
    private readonly owner = true,
    opts: ScopeOptions = {},
  ) {
    const db = root.withPlugin(new TenantScopePlugin(scope));
    this.db = db;
    this.links = linkStoreFor(scope, dialect);
    if (opts.fanOut?.length) {
      if (scope.target !== PRIMARY_TARGET) throw new Error("only a tenant's primary target fans out to its other targets");
      if (opts.fanOut.some((t) => t === PRIMARY_TARGET) || new Set(opts.fanOut).size !== opts.fanOut.length) throw new Error("fan-out targets need distinct, non-empty names");
      this.fanOut = new FanOut(scope.tenant, [...opts.fanOut], dialect);
    }
    this.users = new SqlUserRepository(db, dialect, this.links, this.fanOut);
    this.groups = new SqlGroupRepository(db, dialect);
    this.outbox = new SqlOutboxRepository(db, dialect, this.links, this.fanOut);
    this.idempotency = new SqlIdempotencyRepository(db);
    this.audit = new SqlAuditRepository(db, dialect);
    this.reconcile = new SqlReconcileRepository(db, dialect);
    this.tokens = new SqlTokenRepository(db, dialect);
    this.roleLists = new SqlRoleListRepository(db);
  }

  transaction<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    return runTransaction(this.db, (trx) =>
      fn({
        users: new SqlUserRepository(trx, this.dialect, this.links, this.fanOut),
        groups: new SqlGroupRepository(trx, this.dialect),
        outbox: new SqlOutboxRepository(trx, this.dialect, this.links, this.fanOut),
        audit: new SqlAuditRepository(trx, this.dialect),
      }),
    );
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  scoped(tenant: string, target: string = PRIMARY_TARGET, opts: ScopeOptions = {}): Store {
    return new SqlStore(this.root, this.dialect, scopeOf(tenant, target), false, opts);
  }

  async close(): Promise<void> {
    if (this.owner) await this.root.destroy();
  }
}
