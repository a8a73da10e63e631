// An existing single-tenant database upgrades in place and serves as before (issue 22's acceptance).
//
// A single-tenant bridge writes its data through SCIM the way it always has: users with several emails, groups
// with members under a role mapping, outbox jobs done and still pending (DigiCert refusing connections for the
// last users), audit entries, a store token, an Idempotency-Key's kept answer, DigiCert's role list and a
// reconcile run. Everything it serves is recorded. Its rows are then copied, column by column, into a database
// built by the real migrations up to 0011 (the schema before tenants), so that database holds exactly what that
// code wrote and nothing of 0012. openStore upgrades it (0012), and a bridge started on it must serve the same
// ids and the same JSON at /scim/v2, open to the same store token, run the pending jobs, and still cascade deletes.
import { createHash, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from "kysely";
import { Client, Pool } from "pg";
import { openStore } from "../../../src/store";
import { buildMigrations } from "../../../src/store/migrations";
import { startSimulator } from "../../../src/simulator";
import type { Simulator } from "../../../src/simulator/types";
import { API_KEY, CC_CONTAINER_ID, DC_EXT, oktaUser, ONE_ACCOUNT_ID, PATCH_OP, startHarness, type Harness } from "../../support/harness";
import { writeMapping } from "../../support/mapping";
import { PG_URL } from "../../support/databases";
import { scimClient, type ScimClient } from "../../support/tenancy";

jest.setTimeout(90_000);

const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const STORE_TOKEN = `store-token-${randomUUID()}`;
const REVOKED_TOKEN = `revoked-token-${randomUUID()}`;
const sha = (s: string) => createHash("sha256").update(s).digest("hex");
const MAPPING = `default: ["Standard User"]\nrules:\n  - group: "DigiCert Admins"\n    roles: ["Administrator"]\n  - group: "Finance"\n    roles: ["Finance Manager"]\n`;
/** Tables 0011 made, parents first (copy order under foreign keys). */
const FIRST = ["scim_users", "scim_user_emails", "scim_groups", "scim_group_members"];
const SERIAL = ["scim_outbox", "scim_audit", "scim_reconcile_runs"];
const TARGET_TABLES = new Set(["scim_outbox", "digicert_role_lists", "scim_reconcile_runs", "scim_reconcile_lease"]);

interface Served {
  users: Map<string, any>;
  groups: Map<string, any>;
  userList: any;
  groupList: any;
}

/** The database under test: a producer where the single-tenant bridge writes, and the 0011 copy that is upgraded. */
interface Variant {
  label: string;
  /** What the producing bridge is given. */
  producer: { databaseUrl: string; pgSchema?: string };
  /** What openStore and the upgraded bridge are given. */
  upgraded: { databaseUrl: string; pgSchema?: string };
  /** A Kysely on the copy, without any store code in between. */
  raw(): Kysely<any>;
  /** Builds the copy at 0011 and copies the producer's rows into it. */
  copyAt0011(): Promise<void>;
  cleanup(): Promise<void>;
}

const before0012 = (dialect: "sqlite" | "postgres") => Object.fromEntries(Object.entries(buildMigrations(dialect)).filter(([name]) => name < "0012"));

async function migrateTo0011(db: Kysely<any>, dialect: "sqlite" | "postgres", migrationTableSchema?: string): Promise<void> {
  const migrations = before0012(dialect);
  expect(Object.keys(migrations).pop()).toBe("0011-user-name-key");
  const { error } = await new Migrator({ db, provider: { getMigrations: async () => migrations }, migrationTableSchema }).migrateToLatest();
  if (error) throw error;
}

function sqliteVariant(): Variant {
  const dir = mkdtempSync(join(tmpdir(), "upgrade-0012-"));
  const producerFile = join(dir, "producer.db");
  const copyFile = join(dir, "single-tenant.db");
  const raw = () => {
    const database = new BetterSqlite3(copyFile);
    database.pragma("foreign_keys = ON");
    return new Kysely<any>({ dialect: new SqliteDialect({ database }) });
  };
  return {
    label: "SQLite file",
    producer: { databaseUrl: `sqlite:${producerFile}` },
    upgraded: { databaseUrl: `sqlite:${copyFile}` },
    raw,
    async copyAt0011() {
      const database = new BetterSqlite3(copyFile);
      const db = new Kysely<any>({ dialect: new SqliteDialect({ database }) });
      try {
        await migrateTo0011(db, "sqlite");
        const tables = (await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'kysely_%' and name not like 'sqlite_%'`.execute(db)).rows.map((r) => r.name);
        database.exec(`attach database '${producerFile.replace(/'/g, "''")}' as producer`);
        for (const table of [...FIRST, ...tables.filter((t) => !FIRST.includes(t))]) {
          const columns = database.prepare(`select name from pragma_table_info('${table}')`).all().map((r: any) => `"${r.name}"`).join(", ");
          database.exec(`insert into main."${table}" (${columns}) select ${columns} from producer."${table}"`);
        }
        database.exec("detach database producer");
      } finally {
        await db.destroy();
      }
    },
    async cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresVariant(): Variant {
  const tag = `${process.pid}_${randomUUID().slice(0, 8)}`;
  const producerSchema = `upgrade_producer_${tag}`;
  const copySchema = `upgrade_single_${tag}`;
  const pool = () => new Pool({ connectionString: PG_URL!, options: `-c search_path=${copySchema}` });
  const admin = async (text: string) => {
    const c = new Client({ connectionString: PG_URL! });
    await c.connect();
    try {
      return await c.query(text);
    } finally {
      await c.end();
    }
  };
  return {
    label: "PostgreSQL",
    producer: { databaseUrl: PG_URL!, pgSchema: producerSchema },
    upgraded: { databaseUrl: PG_URL!, pgSchema: copySchema },
    raw: () => new Kysely<any>({ dialect: new PostgresDialect({ pool: pool() }) }),
    async copyAt0011() {
      await admin(`create schema "${copySchema}"`);
      const db = new Kysely<any>({ dialect: new PostgresDialect({ pool: pool() }) });
      try {
        await migrateTo0011(db, "postgres", copySchema);
        const tables = (await admin(`select table_name from information_schema.tables where table_schema = '${copySchema}' and table_name not like 'kysely_%'`)).rows.map((r) => r.table_name as string);
        for (const table of [...FIRST, ...tables.filter((t) => !FIRST.includes(t))]) {
          const cols = (await admin(`select column_name from information_schema.columns where table_schema = '${copySchema}' and table_name = '${table}' order by ordinal_position`)).rows;
          const columns = cols.map((r) => `"${r.column_name}"`).join(", ");
          await admin(`insert into "${copySchema}"."${table}" (${columns}) select ${columns} from "${producerSchema}"."${table}"`);
        }
        // A database that wrote these rows itself has its id sequences past them.
        for (const table of SERIAL) {
          await admin(`select setval(pg_get_serial_sequence('"${copySchema}"."${table}"', 'id'), coalesce((select max(id) from "${copySchema}"."${table}"), 0) + 1, false)`);
        }
      } finally {
        await db.destroy();
      }
    },
    async cleanup() {
      await admin(`drop schema if exists "${producerSchema}" cascade`);
      await admin(`drop schema if exists "${copySchema}" cascade`);
    },
  };
}

const variants: [string, () => Variant][] = [["SQLite file", sqliteVariant]];
if (PG_URL) variants.push(["PostgreSQL", postgresVariant]);
else console.warn("PostgreSQL variant of the tenancy upgrade test skipped: TEST_DATABASE_URL not set");

/** Every row of every bridge table, in a stable order (kysely's own tables left out). */
async function dump(db: Kysely<any>, dialect: "sqlite" | "postgres"): Promise<Record<string, Record<string, unknown>[]>> {
  const tables =
    dialect === "sqlite"
      ? (await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'kysely_%' and name not like 'sqlite_%'`.execute(db)).rows.map((r) => r.name)
      : (await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema() and table_name not like 'kysely_%'`.execute(db)).rows.map((r) => r.name);
  const out: Record<string, Record<string, unknown>[]> = {};
  for (const table of tables.sort()) {
    const rows = (await db.selectFrom(table).selectAll().execute()) as Record<string, unknown>[];
    out[table] = rows.map((r) => JSON.parse(JSON.stringify(r))).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  }
  return out;
}

describe.each(variants)("a single-tenant database (%s) upgraded to tenants", (_label, make) => {
  const v = make();
  const dialect = v.label === "PostgreSQL" ? "postgres" : "sqlite";
  let sim: Simulator;
  let h: Harness;
  let client: ScimClient;
  const mapping = writeMapping(MAPPING);
  const served: Served = { users: new Map(), groups: new Map(), userList: null, groupList: null };
  const ids = { ada: "", bob: "", gone: "", pendingA: "", pendingB: "", admins: "", finance: "", idem: "" };
  let idemBody: unknown;
  let producerAudit: unknown[];
  let producerRun: unknown;
  let producerRoleList: { fetchedAt: string } | null;
  let rowsAt0011: Record<string, Record<string, unknown>[]>;
  let rowsAt0012: Record<string, Record<string, unknown>[]>;

  beforeAll(async () => {
    sim = await startSimulator({ port: 0, apiKey: API_KEY, certcentral: { containerId: CC_CONTAINER_ID }, one: { accountId: ONE_ACCOUNT_ID } });
    // 1. The single-tenant bridge at work.
    const producer = await startHarness({
      platform: "certcentral",
      sim,
      databaseUrl: v.producer.databaseUrl,
      ...(v.producer.pgSchema ? { pgSchema: v.producer.pgSchema } : {}),
      env: { ROLE_MAPPING_FILE: mapping, SYNC_WAIT_MS: "400", OUTBOX_MAX_ATTEMPTS: "1000" },
    });
    try {
      const store = producer.bridge.store;
      await store.tokens.create({ name: "okta", scope: "scim", sha256: sha(STORE_TOKEN), expires: null });
      await store.tokens.create({ name: "old-okta", scope: "scim", sha256: sha(REVOKED_TOKEN), expires: null });
      await store.tokens.revoke("old-okta");
      const p = scimClient(producer.app, "/scim/v2", STORE_TOKEN);
      const twoEmails = (u: string) => ({
        emails: [
          { value: u, type: "work", primary: true },
          { value: `home.${u}`, type: "home", primary: false },
        ],
      });
      const make = async (userName: string) => {
        const res = await p.post("/Users", oktaUser(userName, twoEmails(userName)));
        expect(res.status).toBe(201);
        return res.body.id as string;
      };
      ids.ada = await make("ada@example.com");
      ids.bob = await make("bob@example.com");
      ids.gone = await make("gone@example.com");
      const admins = await p.post("/Groups", { schemas: [GROUP], displayName: "DigiCert Admins", members: [{ value: ids.ada }, { value: ids.gone }] });
      const finance = await p.post("/Groups", { schemas: [GROUP], displayName: "Finance", externalId: "fin-1", members: [{ value: ids.ada }, { value: ids.bob }] });
      [ids.admins, ids.finance] = [admins.body.id, finance.body.id];
      expect((await p.patch(`/Users/${ids.gone}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "active", value: false }] })).status).toBe(200);
      const idem = await p.post("/Users", oktaUser("idem@example.com")).set("Idempotency-Key", "hr-import-42");
      expect(idem.status).toBe(201);
      [ids.idem, idemBody] = [idem.body.id, idem.body];
      await producer.drain();
      await producer.bridge.reconcile();
      // DigiCert stops taking connections: the last users' creates stay pending in the outbox.
      sim.failNext({ platform: "certcentral", method: "POST", path: /^\/user$/, network: "reset", times: 1_000_000 });
      ids.pendingA = await make("pending.a@example.com");
      ids.pendingB = await make("pending.b@example.com");
      expect((await p.patch(`/Groups/${ids.finance}`, { schemas: [PATCH_OP], Operations: [{ op: "add", path: "members", value: [{ value: ids.pendingA }] }] })).status).toBe(204);

      // What it served.
      for (const id of [ids.ada, ids.bob, ids.gone, ids.pendingA, ids.pendingB, ids.idem]) served.users.set(id, (await p.get(`/Users/${id}`)).body);
      for (const id of [ids.admins, ids.finance]) served.groups.set(id, (await p.get(`/Groups/${id}`)).body);
      served.userList = (await p.get("/Users?count=100")).body;
      served.groupList = (await p.get("/Groups?count=100")).body;
      expect(served.users.get(ids.pendingA)[DC_EXT].syncState).toBe("pending");
      expect(served.users.get(ids.ada)[DC_EXT].syncState).toBe("synced");
      expect(served.users.get(ids.ada).emails).toHaveLength(2);
      expect(served.users.get(ids.ada).groups).toHaveLength(2);
      producerAudit = await store.audit.query({});
      producerRun = await store.reconcile.latest();
      producerRoleList = await store.roleLists.latest("certcentral", "roles");
      expect(producerRoleList).not.toBeNull();
      // The two creates, and the Finance role job of the one added to it, wait behind its create.
      const waiting = await store.outbox.list({ status: ["pending", "running"], limit: 10 });
      expect(waiting.map((j) => `${j.kind} ${j.userId === ids.pendingA ? "A" : j.userId === ids.pendingB ? "B" : "?"}`).sort()).toEqual(["create A", "create B", "roles A"]);
    } finally {
      await producer.close();
    }

    // 2. The same rows in a database built by the migrations up to 0011.
    await v.copyAt0011();
    const raw = v.raw();
    try {
      rowsAt0011 = await dump(raw, dialect);
    } finally {
      await raw.destroy();
    }
    expect(rowsAt0011.scim_users).toHaveLength(6);
    expect(rowsAt0011).not.toHaveProperty("scim_user_targets");
    expect(Object.values(rowsAt0011).flat().some((r) => "tenant" in r)).toBe(false);

    // 3. openStore upgrades it.
    const store = await openStore(v.upgraded.databaseUrl, v.upgraded.pgSchema ? { pgSchema: v.upgraded.pgSchema } : {});
    await store.close();
    const after = v.raw();
    try {
      rowsAt0012 = await dump(after, dialect);
      const applied = (await after.selectFrom("kysely_migration").select("name").execute()).map((r) => r.name);
      expect(applied).toContain("0012-tenants");
    } finally {
      await after.destroy();
    }

    // 4. A bridge on it, with no credential but the store token, while DigiCert is still down.
    sim.clearFaults();
    sim.failNext({ platform: "certcentral", network: "reset", times: 1_000_000 });
    sim.clearCalls();
    h = await startHarness({
      platform: "certcentral",
      sim,
      databaseUrl: v.upgraded.databaseUrl,
      ...(v.upgraded.pgSchema ? { pgSchema: v.upgraded.pgSchema } : {}),
      env: { SCIM_BEARER_TOKENS: undefined, ROLE_MAPPING_FILE: mapping, SYNC_WAIT_MS: "400", OUTBOX_MAX_ATTEMPTS: "1000" },
    });
    client = scimClient(h.app, "/scim/v2", STORE_TOKEN);
  });

  afterAll(async () => {
    await h?.close();
    await sim?.close();
    await v.cleanup();
  });

  test("0012 keeps every row as it was: each becomes the default tenant's, on its primary target", () => {
    expect(Object.keys(rowsAt0012).sort()).toEqual([...Object.keys(rowsAt0011), "scim_user_targets"].sort());
    expect(rowsAt0012.scim_user_targets).toEqual([]);
    for (const [table, rows] of Object.entries(rowsAt0011)) {
      const upgraded = rowsAt0012[table]!;
      for (const r of upgraded) {
        expect([table, r.tenant]).toEqual([table, "default"]);
        if (TARGET_TABLES.has(table)) expect([table, r.target]).toEqual([table, ""]);
      }
      const stripped = upgraded.map(({ tenant: _t, target: _g, ...rest }) => rest);
      expect([table, stripped]).toEqual([table, rows]);
    }
  });

  test("the store token still opens /scim/v2 (and /t/default/scim/v2); the revoked one and unknown ones do not", async () => {
    expect((await client.get("/Users")).status).toBe(200);
    expect((await scimClient(h.app, "/t/default/scim/v2", STORE_TOKEN).get("/Users")).status).toBe(200);
    expect((await scimClient(h.app, "/scim/v2", REVOKED_TOKEN).get("/Users")).status).toBe(401);
    expect((await h.get("/scim/v2/Users")).status).toBe(401);
  });

  test("the role mapping resolves from the stored role list while DigiCert is down", () => {
    expect(h.bridge.access.status()).toEqual({ state: "stored", fetchedAt: producerRoleList!.fetchedAt });
  });

  test("every user and group is served as before: same ids, same JSON, one by one and in lists", async () => {
    // A pending job's last error is the latest try's own wording: it may differ from the one recorded.
    const settled = (body: any) => ({ ...body, [DC_EXT]: { ...body[DC_EXT], lastError: undefined } });
    for (const [id, before] of served.users) {
      const now = await client.get(`/Users/${id}`);
      expect(now.status).toBe(200);
      expect(settled(now.body)).toEqual(settled(before));
    }
    for (const [id, before] of served.groups) {
      const now = await client.get(`/Groups/${id}`);
      expect(now.status).toBe(200);
      expect(now.body).toEqual(before);
    }
    const users = (await client.get("/Users?count=100")).body;
    expect({ ...users, Resources: users.Resources.map(settled) }).toEqual({ ...served.userList, Resources: served.userList.Resources.map(settled) });
    expect((await client.get("/Groups?count=100")).body).toEqual(served.groupList);
    // Emails in their order, memberships both ways.
    const ada = (await client.get(`/Users/${ids.ada}`)).body;
    expect(ada.emails.map((e: any) => [e.value, e.type, e.primary])).toEqual([
      ["ada@example.com", "work", true],
      ["home.ada@example.com", "home", false],
    ]);
    expect(ada.groups.map((g: any) => g.display).sort()).toEqual(["DigiCert Admins", "Finance"]);
    const filtered = await client.get(`/Users?filter=${encodeURIComponent('emails.value eq "home.bob@example.com"')}`);
    expect(filtered.body.Resources.map((r: any) => r.id)).toEqual([ids.bob]);
  });

  test("the audit trail and the reconcile report are as they were", async () => {
    const trail = await h.bridge.store.audit.query({});
    const kept = new Set((producerAudit as { id: number }[]).map((e) => e.id));
    expect(trail.filter((e) => kept.has(e.id))).toEqual(producerAudit);
    expect(await h.bridge.store.reconcile.latest()).toEqual(producerRun);
  });

  test("an Idempotency-Key's kept answer is replayed to its credential", async () => {
    const again = await client.post("/Users", oktaUser("idem@example.com")).set("Idempotency-Key", "hr-import-42");
    expect(again.status).toBe(201);
    expect(again.headers["idempotency-replayed"]).toBe("true");
    expect(again.body.id).toBe(ids.idem);
    expect(again.body).toEqual(idemBody);
  });

  test("userNames and displayNames are still unique (in the default tenant)", async () => {
    const dup = await client.post("/Users", oktaUser("ADA@example.com"));
    expect(dup.status).toBe(409);
    const dupGroup = await client.post("/Groups", { schemas: [GROUP], displayName: "finance", members: [] });
    expect(dupGroup.status).toBe(409);
  });

  test("pending outbox jobs run once DigiCert is back; jobs done before are not run again", async () => {
    sim.clearFaults();
    sim.clearCalls();
    await h.drain(30_000);
    const created = sim.callsTo("certcentral", "POST", /^\/user$/).map((c) => c.body.username).sort();
    expect(created).toEqual(["pending.a@example.com", "pending.b@example.com"]);
    for (const id of [ids.pendingA, ids.pendingB]) {
      const u = (await client.get(`/Users/${id}`)).body;
      expect(u[DC_EXT].syncState).toBe("synced");
      expect(u[DC_EXT].digicertUserId).toBeTruthy();
    }
    // The Finance member queued while down got the group's role.
    const a = await h.bridge.store.users.getById(ids.pendingA);
    expect(sim.ccTruth(a!.digicertId!)?.role_ids).toEqual([3]);
    expect((await h.bridge.store.outbox.stats()).failed).toBe(0);
  });

  test("foreign keys still cascade: a deleted user takes its emails and memberships, a deleted group its memberships", async () => {
    expect((await client.del(`/Users/${ids.ada}`)).status).toBe(204);
    expect((await client.del(`/Groups/${ids.admins}`)).status).toBe(204);
    const raw = v.raw();
    try {
      expect(await raw.selectFrom("scim_user_emails").selectAll().where("user_id", "=", ids.ada).execute()).toEqual([]);
      expect(await raw.selectFrom("scim_group_members").selectAll().where("user_id", "=", ids.ada).execute()).toEqual([]);
      expect(await raw.selectFrom("scim_group_members").selectAll().where("group_id", "=", ids.admins).execute()).toEqual([]);
      // Others' rows are untouched.
      expect(await raw.selectFrom("scim_user_emails").select("value").where("user_id", "=", ids.bob).orderBy("position").execute()).toEqual([
        { value: "bob@example.com" },
        { value: "home.bob@example.com" },
      ]);
      if (dialect === "sqlite") {
        const fks = (await sql<{ table: string; on_delete: string }>`select "table", on_delete from pragma_foreign_key_list('scim_group_members')`.execute(raw)).rows;
        expect(fks.map((f) => [f.table, f.on_delete]).sort()).toEqual([
          ["scim_groups", "CASCADE"],
          ["scim_users", "CASCADE"],
        ]);
      }
    } finally {
      await raw.destroy();
    }
    expect((await client.get(`/Groups/${ids.finance}`)).body.members.map((m: any) => m.value).sort()).toEqual([ids.bob, ids.pendingA].sort());
  });
});
