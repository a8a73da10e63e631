import type { Generated, Kysely, Transaction } from "kysely";
import { StoreUnavailableError } from "./types";
// Kysely table shapes. Column values differ per dialect (SQLite has no boolean or JSON type), so the
// repository converts through `Codec` rather than trusting these types for booleans and JSON.

/** SQLite hands back 0/1; PostgreSQL true/false. */
export type DbBool = boolean | number;

export interface UsersTable {
  id: string;
  user_name: string;
  user_name_lower: string;
  external_id: string | null;
  active: DbBool;
  /** JSON text on SQLite, jsonb on PostgreSQL (written as text, read back parsed by pg). */
  resource: unknown;
  digicert_id: string | null;
  adopted: DbBool;
  /** Added by 0002; not null, default true. */
  digicert_enabled: DbBool;
  /** Added by 0002; a JSON array of strings, or null. Text on SQLite, jsonb on PostgreSQL. */
  digicert_role_ids: unknown;
  /** Added by 0008: CertCentral division ids the bridge restricted the user to (JSON array), or null. */
  digicert_division_ids: unknown;
  /** Added by 0004: synced | pending | failed. */
  sync_state: string;
  sync_error: string | null;
  synced_at: string | null;
  created: string;
  last_modified: string;
  version: number;
}

export interface UserEmailsTable {
  user_id: string;
  /** Keeps the caller's order so emails round-trip as given. */
  position: number;
  value: string;
  value_lower: string;
  type: string | null;
  type_lower: string | null;
  is_primary: DbBool;
}

export interface GroupsTable {
  id: string;
  display_name: string;
  display_name_lower: string;
  external_id: string | null;
  /** JSON text on SQLite, jsonb on PostgreSQL. */
  resource: unknown;
  created: string;
  last_modified: string;
  version: number;
}

export interface GroupMembersTable {
  group_id: string;
  user_id: string;
}

export interface IdempotencyKeysTable {
  credential: string;
  idempotency_key: string;
  request_hash: string;
  status: number;
  location: string | null;
  body: string;
  created: string;
}

export interface OutboxTable {
  /** bigserial on PostgreSQL (read back as a string), integer on SQLite. */
  id: Generated<number | string>;
  user_id: string;
  kind: string;
  /** JSON text on SQLite, jsonb on PostgreSQL. */
  payload: unknown;
  status: string;
  attempts: number;
  run_after: string;
  lease_owner: string | null;
  lease_until: string | null;
  error_kind: string | null;
  last_error: string | null;
  created: string;
  updated: string;
  finished: string | null;
}

/** Added by 0005: the audit trail. */
export interface AuditTable {
  /** bigserial on PostgreSQL (read back as a string), integer on SQLite. */
  id: Generated<number | string>;
  at: string;
  kind: string;
  action: string;
  actor: string | null;
  idp: string | null;
  request_id: string | null;
  resource_type: string | null;
  resource_id: string | null;
  user_name: string | null;
  user_name_lower: string | null;
  /** JSON text on SQLite, jsonb on PostgreSQL; an array. */
  changes: unknown;
  outcome: string;
  status: number | null;
  detail: string | null;
  /** bigint: pg reads it back as a string. */
  job_id: number | string | null;
  dry_run: DbBool;
  dc_operation: string | null;
  dc_id: string | null;
  dc_error_kind: string | null;
}

/** Added by 0012: a fan-out tenant's user on one of its secondary targets (the primary's are scim_users' columns). */
export interface UserTargetsTable {
  user_id: string;
  digicert_id: string | null;
  adopted: DbBool;
  digicert_enabled: DbBool;
  /** JSON array of strings, or null (text on SQLite, jsonb on PostgreSQL). */
  digicert_role_ids: unknown;
  digicert_division_ids: unknown;
  sync_state: string;
  sync_error: string | null;
  synced_at: string | null;
}

export interface Database {
  scim_audit: AuditTable;
  scim_outbox: OutboxTable;
  scim_idempotency_keys: IdempotencyKeysTable;
  scim_users: UsersTable;
  scim_user_emails: UserEmailsTable;
  scim_groups: GroupsTable;
  scim_group_members: GroupMembersTable;
  scim_user_targets: UserTargetsTable;
}

export type Dialect = "sqlite" | "postgres";

/** Per-dialect value conversions, so booleans and JSON read back identically on both. */
export interface Codec {
  bool(value: boolean): DbBool;
  readBool(value: DbBool): boolean;
  json(value: Record<string, unknown>): string;
  readJson(value: unknown): Record<string, unknown>;
  /** A nullable list of strings as JSON (null stays SQL NULL). */
  stringList(value: string[] | null): string | null;
  readStringList(value: unknown): string[] | null;
}

export function codecFor(dialect: Dialect): Codec {
  return {
    // better-sqlite3 refuses to bind JS booleans.
    bool: dialect === "sqlite" ? (v) => (v ? 1 : 0) : (v) => v,
    readBool: (v) => v === true || v === 1,
    json: (v) => JSON.stringify(v),
    // pg parses jsonb itself; SQLite returns the text.
    readJson: (v) => (typeof v === "string" ? JSON.parse(v) : v) as Record<string, unknown>,
    stringList: (v) => (v === null ? null : JSON.stringify(v)),
    readStringList: (v) => {
      if (v === null || v === undefined) return null;
      const parsed: unknown = typeof v === "string" ? JSON.parse(v) : v;
      if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === "string")) {
        throw new Error("stored id list (digicert_role_ids, digicert_division_ids) is not a JSON array of strings");
      }
      return parsed;
    },
  };
}

/**
 * Runs `fn` in a transaction, or inside the caller's when `db` already is one (Kysely cannot nest them), so a
 * repository method keeps its atomicity alone and joins a wider unit of work when given a transaction.
 */
export function inTransaction<T>(db: Kysely<Database>, fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db as Transaction<Database>) : runTransaction(db, fn);
}

/**
 * Runs `fn` in a new transaction. One that failed because its connection died before COMMIT was sent left nothing
 * behind (the server rolled it back), so it is run once more, on a new connection; one that died during COMMIT may
 * have been applied and is not: its StoreUnavailableError reaches the caller (a SCIM 503 the IdP retries, which
 * idempotency keys and adoption make safe). `fn` must touch nothing but the transaction.
 */
export async function runTransaction<T>(db: Kysely<Database>, fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  try {
    return await db.transaction().execute(fn);
  } catch (err) {
    if (!(err instanceof StoreUnavailableError) || err.maybeApplied) throw err;
    return db.transaction().execute(fn);
  }
}
