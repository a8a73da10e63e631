// Bearer tokens kept in the store (migration 0007), made by `digicert-scim tokens create`: an alternative to the
// SCIM_BEARER_TOKENS / ADMIN_TOKENS lists. Only digests are stored; the token is shown once, when it is made.
import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { Database, Dialect } from "./db";
import { StoreError } from "./types";

/** What a stored token opens: `scim` the SCIM endpoint (/scim/v2), `admin` the status page and /metrics. */
export type TokenScope = "scim" | "admin";
export const TOKEN_SCOPES: readonly TokenScope[] = ["scim", "admin"];

export interface StoredToken {
  id: string;
  /** Shown in logs as token:<name>; unique among all stored tokens, revoked ones included. */
  name: string;
  scope: TokenScope;
  /** ISO-8601 timestamps; null = never expires / not revoked / never used. */
  created: string;
  expires: string | null;
  revoked: string | null;
  /** Updated at most once a minute per token (see TokenRepository.touch). */
  lastUsed: string | null;
}

export interface NewStoredToken {
  name: string;
  scope: TokenScope;
  /** Lower-case hex SHA-256 of the token. */
  sha256: string;
  expires: string | null;
}

/** `create` with a name that is taken (revoked tokens keep theirs). */
export class TokenNameTakenError extends StoreError {
  constructor(readonly tokenName: string) {
    super(`a token named "${tokenName}" exists already (revoked tokens keep their name); choose another name`);
    this.name = "TokenNameTakenError";
  }
}

export interface TokenRepository {
  /** Stores a new token; TokenNameTakenError when the name is taken. */
  create(token: NewStoredToken, now?: string): Promise<StoredToken>;
  /**
   * The token with this digest (lower-case hex), revoked and expired ones included (the caller decides), with its
   * digest as stored, for a constant-time comparison by the caller; null when there is none.
   */
  findByDigest(sha256: string): Promise<(StoredToken & { sha256: string }) | null>;
  getByName(name: string): Promise<StoredToken | null>;
  /** Every token, oldest first. Never the digests. */
  list(): Promise<StoredToken[]>;
  /** Marks the token revoked now (a token revoked earlier keeps its time); null when there is no such name. */
  revoke(name: string, now?: string): Promise<StoredToken | null>;
  /** Sets last_used = `at` unless it is already later than `notBefore` (so replicas write it at most once a minute). */
  touch(id: string, at: string, notBefore: string): Promise<void>;
}

interface TokensTable {
  id: string;
  name: string;
  scope: string;
  token_sha256: string;
  created: string;
  expires: string | null;
  revoked: string | null;
  last_used: string | null;
}

interface TokenTables {
  scim_tokens: TokensTable;
}

const PUBLIC_COLUMNS = ["id", "name", "scope", "created", "expires", "revoked", "last_used"] as const;

function tokenOf(row: Pick<TokensTable, (typeof PUBLIC_COLUMNS)[number]>): StoredToken {
  return {
    id: row.id,
    name: row.name,
    scope: row.scope as TokenScope,
    created: row.created,
    expires: row.expires,
    revoked: row.revoked,
    lastUsed: row.last_used,
  };
}

function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY" || code === "23505";
}

export class SqlTokenRepository implements TokenRepository {
  private readonly db: Kysely<TokenTables>;

  constructor(db: Kysely<Database>, _dialect: Dialect) {
    // The table is this repository's own (migration 0007); typed here rather than in db.ts.
    this.db = db as unknown as Kysely<TokenTables>;
  }

  async create(token: NewStoredToken, now = new Date().toISOString()): Promise<StoredToken> {
    const row: TokensTable = {
      id: randomUUID(),
      name: token.name,
      scope: token.scope,
      token_sha256: token.sha256.toLowerCase(),
      created: now,
      expires: token.expires,
      revoked: null,
      last_used: null,
    };
    try {
      await this.db.insertInto("scim_tokens").values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err) && (await this.getByName(token.name))) throw new TokenNameTakenError(token.name);
      throw err;
    }
    return tokenOf(row);
  }

  async findByDigest(sha256: string): Promise<(StoredToken & { sha256: string }) | null> {
    const row = await this.db
      .selectFrom("scim_tokens")
      .select([...PUBLIC_COLUMNS, "token_sha256"])
      .where("token_sha256", "=", sha256.toLowerCase())
      .executeTakeFirst();
    return row ? { ...tokenOf(row), sha256: row.token_sha256 } : null;
  }

  async getByName(name: string): Promise<StoredToken | null> {
    const row = await this.db.selectFrom("scim_tokens").select(PUBLIC_COLUMNS).where("name", "=", name).executeTakeFirst();
    return row ? tokenOf(row) : null;
  }

  async list(): Promise<StoredToken[]> {
    const rows = await this.db.selectFrom("scim_tokens").select(PUBLIC_COLUMNS).orderBy("created").orderBy("name").execute();
    return rows.map(tokenOf);
  }

  async revoke(name: string, now = new Date().toISOString()): Promise<StoredToken | null> {
    await this.db.updateTable("scim_tokens").set({ revoked: now }).where("name", "=", name).where("revoked", "is", null).execute();
    return this.getByName(name);
  }

  async touch(id: string, at: string, notBefore: string): Promise<void> {
    await this.db
      .updateTable("scim_tokens")
      .set({ last_used: at })
      .where("id", "=", id)
      .where((eb) => eb.or([eb("last_used", "is", null), eb("last_used", "<", notBefore)]))
      .execute();
  }
}
