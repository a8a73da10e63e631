// The store contract on PostgreSQL, when TEST_DATABASE_URL points at a server; each run uses its own schemas.
import { randomUUID } from "node:crypto";
import { Kysely, PostgresDialect } from "kysely";
import { Client, Pool } from "pg";
import { openStore } from "../../../src/store";
import { Store } from "../../../src/provisioning/ports";
import { describeOutboxSuite } from "./outbox-suite";
import { describeStoreSuite, expectUserNameKeysMigrated, newGroup, newUser } from "./store-suite";
import { COLLIDING_USERS, seedAtInitialMigration, seedUserNamesBeforeKeys } from "./upgrade";

const url = process.env.TEST_DATABASE_URL;
if (!url) console.warn("PostgreSQL store tests skipped: TEST_DATABASE_URL not set");
const describePg = url ? describe : describe.skip;

const runId = `${process.pid}_${randomUUID().slice(0, 8)}`;
const schemas: string[] = [];
function freshSchema(tag: string): string {
  const name = `scim_test_${tag}_${runId}`;
  schemas.push(name);
  return name;
}

afterAll(async () => {
  if (!url || schemas.length === 0) return;
  // Test teardown only: the store never drops anything.
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    for (const s of schemas) await client.query(`drop schema if exists "${s}" cascade`);
  } finally {
    await client.end();
  }
});

// Runs with or without a server (the check precedes any connection), which also keeps this file from being
// reported as wholly skipped: jest would then swallow the console.warn above.
it("rejects a pgSchema that is not a plain lower-case identifier", async () => {
  const target = url ?? "postgres://nobody@127.0.0.1:1/none";
  await expect(openStore(target, { pgSchema: 'x"; drop table y; --' })).rejects.toThrow(/pgSchema/);
  await expect(openStore(target, { pgSchema: "MixedCase" })).rejects.toThrow(/pgSchema/);
});

describePg("PostgreSQL", () => {
  describeStoreSuite("PostgreSQL", () => openStore(url!, { pgSchema: freshSchema("suite") }));
  describeOutboxSuite("PostgreSQL", () => openStore(url!, { pgSchema: freshSchema("outbox") }));

  describe("openStore on PostgreSQL", () => {
    it("applies migrations once: reopening the same schema keeps the data", async () => {
      const pgSchema = freshSchema("reopen");
      const first = await openStore(url!, { pgSchema });
      expect(first.dialect).toBe("postgres");
      const u = await first.users.insert(newUser({ resource: { nested: { ü: [true, null, 1.5] } }, adopted: true }));
      await first.close();
      const second = await openStore(url!, { pgSchema });
      expect(await second.users.getById(u.id)).toEqual(u);
      await second.close();
    });

    it("lets several replicas open a fresh schema at the same time", async () => {
      const pgSchema = freshSchema("race");
      const stores: Store[] = await Promise.all(Array.from({ length: 4 }, () => openStore(url!, { pgSchema })));
      try {
        const u = await stores[0]!.users.insert(newUser());
        for (const s of stores) expect(await s.users.getById(u.id)).toEqual(u);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });

    it("upgrades a 0001 schema: existing users become digicertEnabled with unknown roles", async () => {
      const pgSchema = freshSchema("upgrade");
      const setup = new Client({ connectionString: url! });
      await setup.connect();
      await setup.query(`create schema "${pgSchema}"`);
      await setup.end();
      const id = randomUUID();
      const old = new Kysely<any>({
        dialect: new PostgresDialect({ pool: new Pool({ connectionString: url!, options: `-c search_path=${pgSchema}` }) }),
      });
      try {
        await seedAtInitialMigration(old, "postgres", id, pgSchema);
      } finally {
        await old.destroy();
      }

      const store = await openStore(url!, { pgSchema });
      try {
        expect(await store.users.getById(id)).toMatchObject({ userName: "old-timer", digicertEnabled: true, digicertRoleIds: null });
        const g = await store.groups.insert(newGroup(), [id]);
        expect(await store.groups.delete(g.id)).toEqual([id]);
      } finally {
        await store.close();
      }
    });

    it("upgrades userName keys (0010): look-alikes that now collide are kept, logged, and the first keeps the name", async () => {
      const pgSchema = freshSchema("keys");
      const setup = new Client({ connectionString: url! });
      await setup.connect();
      await setup.query(`create schema "${pgSchema}"`);
      await setup.end();
      const old = new Kysely<any>({
        dialect: new PostgresDialect({ pool: new Pool({ connectionString: url!, options: `-c search_path=${pgSchema}` }) }),
      });
      try {
        await seedUserNamesBeforeKeys(old, "postgres", COLLIDING_USERS, pgSchema);
      } finally {
        await old.destroy();
      }
      const logger = { info: jest.fn(), warn: jest.fn(), debug: jest.fn(), error: jest.fn() };
      const store = await openStore(url!, { pgSchema, logger: logger as never });
      try {
        const warned = logger.warn.mock.calls.filter(([m]) => String(m).includes("same userName"));
        expect(warned.map(([, meta]) => meta.duplicate.id)).toEqual([COLLIDING_USERS[1]!.id, COLLIDING_USERS[2]!.id]);
        await expectUserNameKeysMigrated(store, COLLIDING_USERS);
      } finally {
        await store.close();
      }
    });

    it("keeps schemas isolated from each other", async () => {
      const a = await openStore(url!, { pgSchema: freshSchema("iso_a") });
      const b = await openStore(url!, { pgSchema: freshSchema("iso_b") });
      try {
        await a.users.insert(newUser({ userName: "same" }));
        await expect(b.users.insert(newUser({ userName: "same" }))).resolves.toBeTruthy();
        expect(await a.users.count()).toBe(1);
        expect(await b.users.count()).toBe(1);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });
  });
});
