import type { Kysely } from "kysely";
import type { Database } from "./db";
import { IDEMPOTENCY_IN_FLIGHT, type IdempotencyRepository, type StoredResponse } from "./types";

/**
 * Idempotency-Key answers and in-flight markers (see StoredResponse.status). The primary key (credential, key)
 * makes a claim unique across replicas; every change of a row is a conditional write, so two requests can never
 * both believe they own a key.
 */
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
      status: Number(row.status),
      location: row.location,
      body: row.body,
      created: row.created,
    };
  }

  async claim(credential: string, key: string, requestHash: string, token: string, staleBefore: string): Promise<boolean> {
    const now = new Date().toISOString();
    const marker = { request_hash: requestHash, status: IDEMPOTENCY_IN_FLIGHT, location: null, body: token, created: now };
    const inserted = await this.db
      .insertInto("scim_idempotency_keys")
      .values({ credential, idempotency_key: key, ...marker })
      .onConflict((oc) => oc.columns(["credential", "idempotency_key"]).doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) return true;
    // Taken over: a failed answer (not kept for new requests) or a marker whose owner is presumed dead.
    const taken = await this.db
      .updateTable("scim_idempotency_keys")
      .set(marker)
      .where("credential", "=", credential)
      .where("idempotency_key", "=", key)
      .where((eb) =>
        eb.or([
          eb("status", ">=", 400),
          eb.and([eb("status", "=", IDEMPOTENCY_IN_FLIGHT), eb("created", "<", staleBefore)]),
        ]),
      )
      .executeTakeFirst();
    return Number(taken.numUpdatedRows) > 0;
  }

  async complete(r: Omit<StoredResponse, "created">, token: string): Promise<void> {
    await this.db
      .updateTable("scim_idempotency_keys")
      .set({ request_hash: r.requestHash, status: r.status, location: r.location, body: r.body, created: new Date().toISOString() })
      .where("credential", "=", r.credential)
      .where("idempotency_key", "=", r.key)
      .where("status", "=", IDEMPOTENCY_IN_FLIGHT)
      .where("body", "=", token)
      .execute();
  }

  async purgeBefore(before: string): Promise<number> {
    const res = await this.db.deleteFrom("scim_idempotency_keys").where("created", "<", before).executeTakeFirst();
    return Number(res.numDeletedRows ?? 0);
  }
}
