// Bearer tokens kept in the store (migration 0007), made by `digicert-scim tokens create`: an alternative to the
// SCIM_BEARER_TOKENS / ADMIN_TOKENS lists. Only digests are stored; the token is shown once, when it is made.
import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { Database, Dialect } from "./db";
import { StoreError } from "./types";
import type { NewStoredToken, StoredToken, TokenRepository, TokenScope } from "./types";
import { TokenNameTakenError } from "./types";

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
