// DigiCert's role list and CertCentral's divisions as last fetched (migration 0010): what ROLE_MAPPING_FILE is
// resolved from when the bridge starts while DigiCert is unreachable.
import type { Kysely } from "kysely";
import type { Database } from "./db";
import type { KnownRoleList, RoleListKind, RoleListRepository } from "./types";
import type { DigiCertRole } from "../digicert/types";

interface RoleListsTable {
  platform: string;
  kind: string;
  list: string;
  fetched_at: string;
}

interface RoleListTables {
  digicert_role_lists: RoleListsTable;
}

export class SqlRoleListRepository implements RoleListRepository {
  private readonly db: Kysely<RoleListTables>;

  constructor(db: Kysely<Database>) {
    // The table is this repository's own (migration 0010); typed here rather than in db.ts.
    this.db = db as unknown as Kysely<RoleListTables>;
  }

  async save(platform: string, kind: RoleListKind, list: DigiCertRole[], fetchedAt = new Date().toISOString()): Promise<void> {
    const row: RoleListsTable = {
      platform,
      kind,
      list: JSON.stringify(list.map((r) => ({ id: r.id, name: r.name, ...(r.application ? { application: r.application } : {}) }))),
      fetched_at: fetchedAt,
    };
    await this.db
      .insertInto("digicert_role_lists")
      .values(row)
      .onConflict((oc) => oc.columns(["platform", "kind"]).doUpdateSet({ list: row.list, fetched_at: row.fetched_at }))
      .execute();
  }

  async latest(platform: string, kind: RoleListKind): Promise<KnownRoleList | null> {
    const row = await this.db
      .selectFrom("digicert_role_lists")
      .select(["list", "fetched_at"])
      .where("platform", "=", platform)
      .where("kind", "=", kind)
      .executeTakeFirst();
    if (!row) return null;
    const parsed: unknown = JSON.parse(row.list);
    if (!Array.isArray(parsed)) return null;
    const list = parsed.filter((r): r is DigiCertRole => !!r && typeof r.id === "string" && typeof r.name === "string");
    return { list, fetchedAt: row.fetched_at };
  }
}
