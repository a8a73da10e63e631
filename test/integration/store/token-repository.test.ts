// The store's bearer tokens (migration 0007, TokenRepository) on SQLite, and on PostgreSQL when TEST_DATABASE_URL
// points at a server (each run in its own schema).
import { createHash, randomUUID } from "node:crypto";
import { Client } from "pg";
import { openStore } from "../../../src/store";
import { TokenNameTakenError, type Store } from "../../../src/provisioning/ports";

const hex = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");
const url = process.env.TEST_DATABASE_URL;
const schema = `scim_test_tokens_${process.pid}_${randomUUID().slice(0, 8)}`;

afterAll(async () => {
  if (!url) return;
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
});

const targets: [string, () => Promise<Store>][] = [["sqlite", () => openStore("sqlite::memory:")]];
if (url) targets.push(["postgres", () => openStore(url, { pgSchema: schema })]);

describe.each(targets)("token repository on %s", (_dialect, open) => {
  let store: Store;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => store.close());

  test("create, find by digest (revoked and expired too), get by name, list oldest first without digests", async () => {
    const a = await store.tokens.create({ name: "okta", scope: "scim", sha256: hex("token-a"), expires: null }, "2026-01-01T00:00:00.000Z");
    const b = await store.tokens.create({ name: "ops", scope: "admin", sha256: hex("token-b").toUpperCase(), expires: "2027-01-01T00:00:00.000Z" }, "2026-01-02T00:00:00.000Z");
    expect(a).toMatchObject({ name: "okta", scope: "scim", created: "2026-01-01T00:00:00.000Z", expires: null, revoked: null, lastUsed: null });
    expect(await store.tokens.findByDigest(hex("token-b"))).toMatchObject({ id: b.id, name: "ops", scope: "admin", sha256: hex("token-b") });
    expect(await store.tokens.findByDigest(hex("nothing"))).toBeNull();
    expect(await store.tokens.getByName("okta")).toEqual(a);
    const list = await store.tokens.list();
    expect(list.map((t) => t.name)).toEqual(["okta", "ops"]);
    expect(JSON.stringify(list)).not.toContain(hex("token-a"));
  });

  test("names are unique, revoked tokens included; a digest cannot be stored twice", async () => {
    await expect(store.tokens.create({ name: "okta", scope: "scim", sha256: hex("other"), expires: null })).rejects.toBeInstanceOf(TokenNameTakenError);
    await expect(store.tokens.create({ name: "dup", scope: "scim", sha256: hex("token-a"), expires: null })).rejects.not.toBeInstanceOf(TokenNameTakenError);
  });

  test("revoke sets the time once; unknown names give null", async () => {
    const r = await store.tokens.revoke("okta", "2026-02-01T00:00:00.000Z");
    expect(r?.revoked).toBe("2026-02-01T00:00:00.000Z");
    expect((await store.tokens.revoke("okta", "2026-03-01T00:00:00.000Z"))?.revoked).toBe("2026-02-01T00:00:00.000Z");
    expect(await store.tokens.revoke("nobody")).toBeNull();
    expect((await store.tokens.findByDigest(hex("token-a")))?.revoked).toBe("2026-02-01T00:00:00.000Z");
  });

  test("touch writes last_used unless it is already later than notBefore", async () => {
    const ops = (await store.tokens.getByName("ops"))!;
    await store.tokens.touch(ops.id, "2026-05-01T10:00:00.000Z", "2026-05-01T09:59:00.000Z");
    expect((await store.tokens.getByName("ops"))!.lastUsed).toBe("2026-05-01T10:00:00.000Z");
    // Another replica 30 s later: within the minute, left alone.
    await store.tokens.touch(ops.id, "2026-05-01T10:00:30.000Z", "2026-05-01T09:59:30.000Z");
    expect((await store.tokens.getByName("ops"))!.lastUsed).toBe("2026-05-01T10:00:00.000Z");
    await store.tokens.touch(ops.id, "2026-05-01T10:01:01.000Z", "2026-05-01T10:00:01.000Z");
    expect((await store.tokens.getByName("ops"))!.lastUsed).toBe("2026-05-01T10:01:01.000Z");
  });
});

if (!url) test.skip("token repository on postgres (TEST_DATABASE_URL not set)", () => undefined);
