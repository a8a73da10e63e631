import { Kysely, Transaction } from "kysely";
import { inTransaction, type Database } from "./db";
import { rethrowMapped } from "./errors";
import { StoreVersionConflictError } from "./types";

/** Retries of an unconditional update that lost a compare-and-set race to another writer. */
const UPDATE_RETRIES = 5;

/**
 * Runs a read-check-write update in a transaction. `once` answers "lost-race" when the row's version moved
 * between its read and its write. With expectedVersion that is exactly a conflict; without it the caller asked
 * for last-writer-wins, so the update is re-read and tried again.
 */
export async function updateWithRetry<T>(
  db: Kysely<Database>,
  expectedVersion: number | undefined,
  once: (trx: Transaction<Database>) => Promise<T | "lost-race">,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    let outcome: T | "lost-race";
    try {
      outcome = await inTransaction(db, once);
    } catch (error) {
      rethrowMapped(error);
    }
    if (outcome !== "lost-race") return outcome;
    if (expectedVersion !== undefined || attempt >= UPDATE_RETRIES) throw new StoreVersionConflictError();
  }
}
