// A fan-out tenant's stores: the primary target keeps its users' DigiCert link and sync state on scim_users, every
// other target in scim_user_targets. Neither ever writes the other's, the fan-out store queues each job once per
// target in one transaction, and each target's outbox gives its jobs to its own claimers only. Raw reads of both
// tables check what is stored, not just what the repositories show.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "pg";
import BetterSqlite3 from "better-sqlite3";
import { openStore } from "../../../src/store";
import type { Store } from "../../../src/provisioning/ports";
import type { UserRow } from "../../../src/provisioning/records";
import { dropSchema, PG_URL, uniqueSchema } from "../../support/databases";
import { newUser } from "../store/store-suite";

const TENANT = "acme";
const SECONDARY = "one";

/** The columns of a user row a target's link and sync state could be written to. */
const LINK_COLUMNS = "digicert_id, adopted, digicert_enabled, digicert_role_ids, digicert_division_ids, sync_state, sync_error, synced_at, version, last_modified";

interface RawDb {
  userColumns(id: string): Promise<Record<string, unknown>>;
  targetRows(id: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

interface Variant {
  name: string;
  open(): Promise<{ store: Store; raw: RawDb; cleanup(): Promise<void> }>;
}

const variants: Variant[] = [
  {
    name: "SQLite",
    async open() {
      const file = join(mkdtempSync(join(tmpdir(), "target-links-")), "scim.db");
      const store = await openStore(`sqlite:${file}`);
      const db = new BetterSqlite3(file, { readonly: true });
      return {
        store,
        raw: {
          userColumns: async (id) => db.prepare(`select ${LINK_COLUMNS} from scim_users where id = ?`).get(id) as Record<string, unknown>,
          targetRows: async (id) => db.prepare("select * from scim_user_targets where user_id = ? order by target").all(id) as Record<string, unknown>[],
          close: async () => {
            db.close();
          },
        },
        cleanup: async () => undefined,
      };
    },
  },
];
if (PG_URL) {
  variants.push({
    name: "PostgreSQL",
    async open() {
      const pgSchema = uniqueSchema("target_links");
      const store = await openStore(PG_URL!, { pgSchema });
      const client = new Client({ connectionString: PG_URL, options: `-c search_path=${pgSchema}` });
      await client.connect();
      return {
        store,
        raw: {
          userColumns: async (id) => (await client.query(`select ${LINK_COLUMNS} from scim_users where id = $1`, [id])).rows[0],
          targetRows: async (id) => (await client.query("select * from scim_user_targets where user_id = $1 order by target", [id])).rows,
          close: () => client.end(),
        },
        cleanup: () => dropSchema(pgSchema),
      };
    },
  });
} else {
  console.warn("PostgreSQL variant of the fan-out store tests skipped: TEST_DATABASE_URL not set");
}

describe.each(variants.map((v) => [v.name, v] as const))("a fan-out tenant's link and sync state (%s)", (_name, variant) => {
  let root: Store;
  let raw: RawDb;
  let cleanup: () => Promise<void>;
  /** The primary target's own store (what its worker and sync use). */
  let primary: Store;
  /** The secondary target's store. */
  let secondary: Store;
  /** The tenant's SCIM store: the primary, fanning out to the secondary. */
  let fanOut: Store;

  beforeAll(async () => {
    const opened = await variant.open();
    root = opened.store;
    raw = opened.raw;
    cleanup = opened.cleanup;
    primary = root.scoped(TENANT);
    secondary = root.scoped(TENANT, SECONDARY);
    fanOut = root.scoped(TENANT, "", { fanOut: [SECONDARY] });
  });

  afterAll(async () => {
    await raw?.close();
    await root?.close();
    await cleanup?.();
  });

  async function user(): Promise<UserRow> {
    return primary.users.insert(newUser());
  }

  it("writes a secondary target's link and sync state to scim_user_targets only", async () => {
    const u = await user();
    const before = await raw.userColumns(u.id);
    expect(await raw.targetRows(u.id)).toEqual([]);

    // No row yet: no link, pending.
    expect(await secondary.users.getById(u.id)).toMatchObject({ digicertId: null, adopted: false, syncState: "pending", userName: u.userName });

    const [jobId] = await secondary.outbox.enqueue([{ userId: u.id, kind: "create", payload: {} }]);
    expect(await secondary.users.setLink(u.id, { digicertId: "one-1", adopted: true, digicertEnabled: false, digicertRoleIds: ["AM_DEFAULT_USER"], digicertDivisionIds: ["9"] })).toBe(true);
    const [job] = await secondary.outbox.claim("w-one", 10, 60_000);
    expect(job!.id).toBe(jobId);
    await secondary.outbox.fail(job!.id, "w-one", { cause: { source: "digicert", kind: "validation" }, message: "refused" });

    expect(await raw.userColumns(u.id)).toEqual(before);
    const rows = await raw.targetRows(u.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ tenant: TENANT, target: SECONDARY, digicert_id: "one-1", sync_state: "failed", sync_error: "refused" });
    expect(await secondary.users.getById(u.id)).toMatchObject({
      digicertId: "one-1",
      adopted: true,
      digicertEnabled: false,
      digicertRoleIds: ["AM_DEFAULT_USER"],
      digicertDivisionIds: ["9"],
      syncState: "failed",
      syncError: "refused",
    });
    // The primary sees none of it.
    expect(await primary.users.getById(u.id)).toMatchObject({ digicertId: null, adopted: false, syncState: "synced", syncError: null });
    expect((await secondary.users.countByState()).sync.failed).toBeGreaterThanOrEqual(1);
  });

  it("writes the primary target's link and sync state to scim_users only", async () => {
    const u = await user();
    await secondary.users.setLink(u.id, { digicertId: "one-2", adopted: false, digicertEnabled: true, digicertRoleIds: null });
    const before = await raw.targetRows(u.id);

    await primary.outbox.enqueue([{ userId: u.id, kind: "create", payload: {} }]);
    expect(await primary.users.setLink(u.id, { digicertId: "cc-2", adopted: false, digicertEnabled: true, digicertRoleIds: ["5"] })).toBe(true);
    const [job] = await primary.outbox.claim("w-cc", 10, 60_000);
    expect(await primary.outbox.complete(job!.id, "w-cc")).toBe(true);

    expect(await raw.targetRows(u.id)).toEqual(before);
    expect(await raw.userColumns(u.id)).toMatchObject({ digicert_id: "cc-2", sync_state: "synced" });
    expect(await secondary.users.getById(u.id)).toMatchObject({ digicertId: "one-2", syncState: "pending" });
    // A secondary target never claims the primary's jobs, nor the other way round.
    expect(await secondary.outbox.claim("w-one", 100, 60_000).then((jobs) => jobs.filter((j) => j.userId === u.id))).toEqual([]);
  });

  it("queues a fan-out store's job on every target in one go, and answers with the primary's ids", async () => {
    const u = await user();
    const ids = await fanOut.outbox.enqueue([{ userId: u.id, kind: "update", payload: { profileChanged: true } }]);
    expect(ids).toHaveLength(1);
    const [mine] = await primary.outbox.get(ids);
    expect(mine).toMatchObject({ userId: u.id, kind: "update" });
    const theirs = await secondary.outbox.list({ userId: u.id, limit: 10 });
    expect(theirs.map((j) => j.kind)).toEqual(["update"]);
    expect(theirs[0]!.id).not.toBe(ids[0]);
    expect(await raw.userColumns(u.id)).toMatchObject({ sync_state: "pending" });
    expect(await raw.targetRows(u.id)).toEqual([expect.objectContaining({ target: SECONDARY, sync_state: "pending" })]);

    // Each worker claims its own.
    const claimedHere = (await primary.outbox.claim("w-cc", 100, 60_000)).filter((j) => j.userId === u.id);
    const claimedThere = (await secondary.outbox.claim("w-one", 100, 60_000)).filter((j) => j.userId === u.id);
    expect(claimedHere.map((j) => j.id)).toEqual(ids);
    expect(claimedThere.map((j) => j.id)).toEqual([theirs[0]!.id]);
    await secondary.outbox.complete(claimedThere[0]!.id, "w-one");
    expect(await raw.targetRows(u.id)).toEqual([expect.objectContaining({ sync_state: "synced" })]);
    expect(await raw.userColumns(u.id)).toMatchObject({ sync_state: "pending" });
  });

  it("rolls the fan-out back with the transaction that queued it", async () => {
    const u = await user();
    await expect(
      fanOut.transaction(async (tx) => {
        await tx.outbox.enqueue([{ userId: u.id, kind: "roles", payload: {} }]);
        throw new Error("abandon");
      }),
    ).rejects.toThrow("abandon");
    expect(await primary.outbox.list({ userId: u.id, limit: 10 })).toEqual([]);
    expect(await secondary.outbox.list({ userId: u.id, limit: 10 })).toEqual([]);
    expect(await raw.targetRows(u.id)).toEqual([]);
  });

  it("gives each target's delete job that target's own DigiCert id", async () => {
    const u = await user();
    await primary.users.setLink(u.id, { digicertId: "cc-3", adopted: false, digicertEnabled: true, digicertRoleIds: null });
    await secondary.users.setLink(u.id, { digicertId: "one-3", adopted: false, digicertEnabled: true, digicertRoleIds: null });
    await fanOut.transaction(async (tx) => {
      await tx.outbox.enqueue([{ userId: u.id, kind: "delete", payload: { userName: u.userName, digicertId: "cc-3" } }]);
      await tx.users.delete(u.id);
    });
    expect((await primary.outbox.list({ userId: u.id, limit: 10 })).map((j) => j.payload.digicertId)).toEqual(["cc-3"]);
    expect((await secondary.outbox.list({ userId: u.id, limit: 10 })).map((j) => j.payload.digicertId)).toEqual(["one-3"]);
    // The user's links went with it.
    expect(await raw.targetRows(u.id)).toEqual([]);
    // A link written for a user that is gone is refused, not stored.
    expect(await secondary.users.setLink(u.id, { digicertId: "one-4", adopted: false, digicertEnabled: true, digicertRoleIds: null })).toBe(false);
    expect(await raw.targetRows(u.id)).toEqual([]);
  });

  it("reads every target's state with the user (view, page, getById)", async () => {
    const u = await user();
    await secondary.users.setLink(u.id, { digicertId: "one-5", adopted: false, digicertEnabled: true, digicertRoleIds: null });
    const expected = [{ target: SECONDARY, digicertId: "one-5", syncState: "pending", syncError: null, syncedAt: null }];
    expect((await fanOut.users.view(u.id))!.row.targets).toEqual(expected);
    expect((await fanOut.users.getById(u.id))!.targets).toEqual(expected);
    const page = await fanOut.users.listViews({ anyOf: [[{ attr: "id", value: u.id }]] }, { offset: 0, limit: 10 }, undefined, true);
    expect(page.rows.map((v) => v.row.targets)).toEqual([expected]);
    // A user with no record on the target yet shows it pending; stores without fan-out show no targets.
    const fresh = await user();
    expect((await fanOut.users.view(fresh.id))!.row.targets).toEqual([{ target: SECONDARY, digicertId: null, syncState: "pending", syncError: null, syncedAt: null }]);
    expect((await primary.users.view(u.id))!.row.targets).toBeUndefined();
    expect((await primary.users.getById(u.id))!.targets).toBeUndefined();
  });

  it("lists the users a target has no record of", async () => {
    const u = await user();
    expect(await secondary.users.unlinkedIds(100_000)).toContain(u.id);
    expect(await primary.users.unlinkedIds(100_000)).toEqual([]);
    await secondary.outbox.enqueue([{ userId: u.id, kind: "create", payload: {} }]);
    expect(await secondary.users.unlinkedIds(100_000)).not.toContain(u.id);
  });

  it("keeps another tenant's target rows apart", async () => {
    const u = await user();
    await secondary.users.setLink(u.id, { digicertId: "one-6", adopted: false, digicertEnabled: true, digicertRoleIds: null });
    const other = root.scoped("other", SECONDARY);
    expect(await other.users.getById(u.id)).toBeNull();
    expect(await other.users.setLink(u.id, { digicertId: "stolen", adopted: false, digicertEnabled: true, digicertRoleIds: null })).toBe(false);
    expect((await raw.targetRows(u.id)).map((r) => [r.tenant, r.digicert_id])).toEqual([[TENANT, "one-6"]]);
  });

  it("refuses an update that would write a secondary target's link to the shared user", async () => {
    const u = await user();
    await expect(secondary.users.update(u.id, { digicertId: "x" })).rejects.toThrow(/setLink/);
    expect(await raw.userColumns(u.id)).toMatchObject({ digicert_id: null });
  });

  it("builds a fan-out store only for a primary target, with distinct names", () => {
    expect(() => root.scoped(TENANT, SECONDARY, { fanOut: ["x"] })).toThrow();
    expect(() => root.scoped(TENANT, "", { fanOut: ["x", "x"] })).toThrow();
    expect(() => root.scoped(TENANT, "", { fanOut: [""] })).toThrow();
  });

  it("locks and completes a secondary job of a user deleted meanwhile without error", async () => {
    const u = await user();
    const [id] = await secondary.outbox.enqueue([{ userId: u.id, kind: "update", payload: {} }]);
    const [job] = (await secondary.outbox.claim("w-one", 100, 60_000)).filter((j) => j.id === id);
    await primary.users.delete(u.id);
    expect(await secondary.outbox.complete(job!.id, "w-one")).toBe(true);
    expect(await raw.targetRows(u.id)).toEqual([]);
  });
});
