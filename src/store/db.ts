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

export interface Database {
  scim_users: UsersTable;
  scim_user_emails: UserEmailsTable;
}

export type Dialect = "sqlite" | "postgres";

/** Per-dialect value conversions, so booleans and JSON read back identically on both. */
export interface Codec {
  bool(value: boolean): DbBool;
  readBool(value: DbBool): boolean;
  json(value: Record<string, unknown>): string;
  readJson(value: unknown): Record<string, unknown>;
}

export function codecFor(dialect: Dialect): Codec {
  return {
    // better-sqlite3 refuses to bind JS booleans.
    bool: dialect === "sqlite" ? (v) => (v ? 1 : 0) : (v) => v,
    readBool: (v) => v === true || v === 1,
    json: (v) => JSON.stringify(v),
    // pg parses jsonb itself; SQLite returns the text.
    readJson: (v) => (typeof v === "string" ? JSON.parse(v) : v) as Record<string, unknown>,
  };
}
