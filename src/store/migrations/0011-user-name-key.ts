// userNames are compared by their key (src/user-name.ts: NFKC, lower-case, NFC) instead of a plain lower-casing,
// so a Kelvin sign (U+212A), a fullwidth letter or an NFD `é` cannot make a look-alike second user. The key lives
// in the existing user_name_lower column, whose unique constraint (USER_NAME_UNIQUE) now guards it; this
// migration rewrites it for the rows written before.
//
// Rows that were distinct under lower-casing can collide under the key. The migration must not fail a start over
// that: the first of them (oldest created, then id) keeps the key, and each later one gets a marker that no
// userName's key can equal (keys hold no ASCII capitals), so it is still listed and served by id, but not found by
// its userName (lookups and `userName` filters find the first) until it is renamed. Each collision is logged.
import { Kysely, Migration } from "kysely";
import type { Logger } from "../../log/logger";
import { userNameKey } from "../../user-name";

/** What a colliding row's user_name_lower becomes; never a key (see userNameKey). */
export function duplicateMarker(id: string): string {
  return `#DUPLICATE ${id}`;
}

export function userNameKeyMigration(logger?: Logger): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      const rows: { id: string; user_name: string; user_name_lower: string }[] = await db
        .selectFrom("scim_users")
        .select(["id", "user_name", "user_name_lower"])
        .orderBy("created")
        .orderBy("id")
        .execute();
      const holder = new Map<string, { id: string; userName: string }>();
      const changes: { id: string; to: string }[] = [];
      for (const r of rows) {
        const key = userNameKey(r.user_name);
        const first = holder.get(key);
        let to = key;
        if (first) {
          to = duplicateMarker(r.id);
          logger?.warn("two users have the same userName under Unicode normalisation: the first keeps it, rename the other", {
            key,
            kept: { id: first.id, userName: first.userName },
            duplicate: { id: r.id, userName: r.user_name },
          });
        } else {
          holder.set(key, { id: r.id, userName: r.user_name });
        }
        if (to !== r.user_name_lower) changes.push({ id: r.id, to });
      }
      // Two passes, so that no row is ever given a value another row still holds (the unique constraint is checked
      // per statement): first every changed row gets a value of its own, then its key.
      for (const pass of ["park", "final"] as const) {
        for (const c of changes) {
          const value = pass === "park" ? `#MIGRATING ${c.id}` : c.to;
          await db.updateTable("scim_users").set({ user_name_lower: value }).where("id", "=", c.id).execute();
        }
      }
      if (changes.length) logger?.info("userName keys rewritten", { users: changes.length, duplicates: rows.length - holder.size });
    },
    async down(): Promise<void> {
      // The keys stay: lower-cased keys of the old rule would be no more unique than these.
    },
  };
}
