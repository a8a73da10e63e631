// The AuditRepository on SQLite and (with TEST_DATABASE_URL) PostgreSQL: append, the queries the CLI and the
// status page use, and the retention purge (AUDIT_RETENTION_DAYS) the hourly timer runs.
import { randomUUID } from "node:crypto";
import { dropSchema, PG_URL, uniqueSchema } from "../../support/databases";
import { openStore } from "../../../src/store";
import type { NewAuditEntry } from "../../../src/provisioning/records";
import type { Store } from "../../../src/provisioning/ports";
import { purgeAudit } from "../../../src/provisioning/audit";
import { silentLogger } from "../../../src/log/logger";

const DAY = 24 * 60 * 60 * 1000;
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

const variants: [string, () => Promise<{ store: Store; cleanup: () => Promise<void> }>][] = [
  ["SQLite", async () => ({ store: await openStore("sqlite::memory:"), cleanup: async () => undefined })],
];
if (PG_URL) {
  variants.push([
    "PostgreSQL",
    async () => {
      const schema = uniqueSchema("scim_audit_store");
      return { store: await openStore(PG_URL!, { pgSchema: schema }), cleanup: () => dropSchema(schema) };
    },
  ]);
}

describe.each(variants)("AuditRepository on %s", (_label, open) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ store, cleanup } = await open());
  });
  afterAll(async () => {
    await store.close();
    await cleanup();
  });

  const entry = (over: Partial<NewAuditEntry> = {}): NewAuditEntry => ({ kind: "scim", action: "user.create", outcome: "ok", ...over });

  test("append keeps every field and reads it back the same on both databases", async () => {
    const id = randomUUID();
    const saved = await store.audit.append(
      entry({
        actor: "okta-prod",
        idp: "okta",
        requestId: "req-1",
        resourceType: "User",
        resourceId: id,
        userName: "Ada@Example.com",
        changes: [{ path: "name.givenName", before: "Ada", after: "Augusta" }, { path: "members", op: "add", after: [{ value: "u1" }] }],
        jobId: 42,
      }),
    );
    expect(saved).toMatchObject({ id: expect.any(Number), at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), dryRun: false, status: null, detail: null, digicert: null });
    const dc = await store.audit.append(
      entry({
        kind: "digicert",
        action: "digicert.setRoles",
        outcome: "error",
        resourceType: "User",
        resourceId: id,
        detail: "Role not allowed",
        jobId: 42,
        dryRun: true,
        digicert: { operation: "setRoles", digicertId: "1001", errorKind: "validation" },
      }),
    );
    const back = await store.audit.query({ resourceId: id });
    expect(back).toEqual([saved, dc]);
    expect(back[0]).toMatchObject({ actor: "okta-prod", idp: "okta", requestId: "req-1", userName: "Ada@Example.com", jobId: 42, changes: saved.changes });
    expect(back[1]).toMatchObject({ dryRun: true, outcome: "error", digicert: { operation: "setRoles", digicertId: "1001", errorKind: "validation" } });
  });

  test("query: by resource id or userName (any case), since, kind, dryRun; the newest `limit`, oldest first; recent() newest first", async () => {
    const a = randomUUID();
    const b = randomUUID();
    const name = `grace-${randomUUID()}@example.com`;
    await store.audit.appendMany([
      entry({ resourceId: a, userName: name, at: ago(10 * DAY) }),
      entry({ resourceId: a, userName: name, action: "user.patch", at: ago(2 * DAY) }),
      // Deleted and re-created under the same userName: another id.
      entry({ resourceId: b, userName: name.toUpperCase(), action: "user.create", at: ago(DAY) }),
      entry({ kind: "digicert", action: "digicert.createUser", resourceId: b, dryRun: true, at: ago(DAY - 1000) }),
      entry({ resourceId: randomUUID(), userName: "someone-else@example.com", at: ago(1000) }),
    ]);
    expect((await store.audit.query({ userName: name })).map((e) => e.resourceId)).toEqual([a, a, b]);
    expect((await store.audit.query({ resourceId: [a, b] })).map((e) => e.action)).toEqual(["user.create", "user.patch", "user.create", "digicert.createUser"]);
    expect((await store.audit.query({ resourceId: b, userName: name })).length).toBe(4);
    expect((await store.audit.query({ userName: name, since: ago(3 * DAY) })).map((e) => e.action)).toEqual(["user.patch", "user.create"]);
    expect((await store.audit.query({ resourceId: [a, b], limit: 2 })).map((e) => e.action)).toEqual(["user.create", "digicert.createUser"]);
    expect(await store.audit.query({ resourceId: [a, b], kind: ["digicert"], dryRun: true })).toHaveLength(1);
    expect(await store.audit.query({ resourceId: [a, b], dryRun: false })).toHaveLength(3);
    expect(await store.audit.query({ resourceId: [] })).toEqual([]);
    const newest = await store.audit.append(entry({ userName: "newest@example.com" }));
    const recent = await store.audit.recent(3);
    expect(recent).toHaveLength(3);
    expect(recent[0]).toEqual(newest);
    expect(recent[0]!.at >= recent[1]!.at && recent[1]!.at >= recent[2]!.at).toBe(true);
  });

  test("appendMany writes large batches (chunked under the parameter limits)", async () => {
    const id = randomUUID();
    await store.audit.appendMany(Array.from({ length: 1234 }, (_, i) => entry({ resourceId: id, action: "group.member.add", jobId: i })));
    const back = await store.audit.query({ resourceId: id, limit: 5000 });
    expect(back).toHaveLength(1234);
    expect(back.map((e) => e.jobId)).toEqual(Array.from({ length: 1234 }, (_, i) => i));
  });

  test("retention: entries older than AUDIT_RETENTION_DAYS are purged; 0 keeps everything", async () => {
    const id = randomUUID();
    await store.audit.appendMany([
      entry({ resourceId: id, action: "old", at: ago(100 * DAY) }),
      entry({ resourceId: id, action: "edge", at: ago(89 * DAY) }),
      entry({ resourceId: id, action: "new" }),
    ]);
    expect(await purgeAudit(store.audit, 0, silentLogger())).toBe(0);
    expect(await store.audit.query({ resourceId: id })).toHaveLength(3);
    expect(await purgeAudit(store.audit, 90, silentLogger())).toBeGreaterThanOrEqual(1);
    expect((await store.audit.query({ resourceId: id })).map((e) => e.action)).toEqual(["edge", "new"]);
    expect(await purgeAudit(store.audit, 30, silentLogger(), Date.now())).toBeGreaterThanOrEqual(1);
    expect((await store.audit.query({ resourceId: id })).map((e) => e.action)).toEqual(["new"]);
  });

  test("an entry written in a transaction that rolls back is gone with it", async () => {
    const id = randomUUID();
    await expect(
      store.transaction(async (tx) => {
        await tx.audit.append(entry({ resourceId: id }));
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    expect(await store.audit.query({ resourceId: id })).toEqual([]);
    await store.transaction((tx) => tx.audit.append(entry({ resourceId: id })));
    expect(await store.audit.query({ resourceId: id })).toHaveLength(1);
  });
});
