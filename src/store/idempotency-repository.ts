import type { Kysely } from "kysely";
import type { Database } from "./db";
import type { IdempotencyRepository, StoredResponse } from "./types";

export class SqlIdempotencyRepository implements IdempotencyRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async get(credential: string, key: string): Promise<StoredResponse | null> {
    const row = await this.db
      .selectFrom("scim_idempotency_keys")
      .selectAll()
      .where("credential", "=", credential)
      .where("idempotency_key", "=", key)
      .executeTakeFirst();
    if (!row) return null;
    return {
      credential: row.credential,
      key: row.idempotency_key,
      requestHash: row.request_hash,
      status: row.status,
      location: row.location,
      body: row.body,
      created: row.created,
    };
  }

  async put(r: Omit<StoredResponse, "created">): Promise<void> {
    await this.db
      .insertInto("scim_idempotency_keys")
      .values({
        credential: r.credential,
        idempotency_key: r.key,
        request_hash: r.requestHash,
        status: r.status,
        location: r.location,
        body: r.body,
        created: new Date().toISOString(),
      })
      .onConflict((oc) => oc.columns(["credential", "idempotency_key"]).doNothing())
      .execute();
  }

  async purgeBefore(before: string): Promise<number> {
    const res = await this.db.deleteFrom("scim_idempotency_keys").where("created", "<", before).executeTakeFirst();
    return Number(res.numDeletedRows ?? 0);
  }
}
