// `digicert-scim audit` and `digicert-scim plan`, driven in-process against a seeded SQLite store.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { auditCommand, type AuditOptions } from "../../../src/cli/audit";
import { parseSince } from "../../../src/cli/audit-support";
import { planCommand, type PlanOptions } from "../../../src/cli/plan";
import { openStore } from "../../../src/store";
import type { NewAuditEntry } from "../../../src/provisioning/records";
import type { Store } from "../../../src/provisioning/ports";

const API_KEY = "audit-cli-test-api-key-0123456789";
const TOKEN = "audit-cli-token-abcdef";
const dir = mkdtempSync(join(tmpdir(), "cli-audit-"));
let counter = 0;
const DAY = 86_400_000;
// Every entry's time and the date-only --since value are taken from this one instant, so the test does not depend on
// the time of day, nor on a UTC midnight passing between writing the entries and reading them.
const NOW = Date.now();
const ago = (ms: number) => new Date(NOW - ms).toISOString();

function envFor(dbFile: string): NodeJS.ProcessEnv {
  return { SCIM_BEARER_TOKENS: TOKEN, DIGICERT_API_KEY: API_KEY, DIGICERT_PLATFORM: "certcentral", DATABASE_URL: `sqlite:${dbFile}` };
}

async function capture(fn: (out: { write(s: string): unknown }, err: { write(s: string): unknown }) => Promise<number>) {
  let out = "";
  let err = "";
  const code = await fn({ write: (s: string) => (out += s) }, { write: (s: string) => (err += s) });
  // Secrets never reach the terminal.
  expect(out + err).not.toContain(API_KEY);
  expect(out + err).not.toContain(TOKEN);
  return { code, out, err };
}
const audit = (opts: AuditOptions, env: NodeJS.ProcessEnv) => capture((o, e) => auditCommand(opts, env, o, e));
const plan = (opts: PlanOptions, env: NodeJS.ProcessEnv) => capture((o, e) => planCommand(opts, env, o, e));

async function withStore<T>(dbFile: string, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(`sqlite:${dbFile}`);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

const ALICE = "11111111-1111-4111-8111-111111111111";
const ALICE_OLD = "00000000-0000-4000-8000-000000000000";
const BOB = "22222222-2222-4222-8222-222222222222";

/**
 * alice exists (and an earlier alice under the same userName was deleted 20 days ago); bob was deleted. alice's
 * trail: an old create of the first alice, a create, a refused PATCH, a PATCH with a DigiCert update, and dry-run
 * calls; bob: a create and dry-run calls.
 */
async function seed(dbFile: string): Promise<void> {
  await withStore(dbFile, async (store) => {
    await store.users.insert({
      id: ALICE,
      userName: "alice@example.com",
      externalId: null,
      active: true,
      resource: { userName: "alice@example.com" },
      emails: [],
      digicertId: "1001",
      adopted: false,
    });
    const scim = (over: Partial<NewAuditEntry>): NewAuditEntry => ({ kind: "scim", action: "user.create", outcome: "ok", actor: "okta-prod", idp: "okta", resourceType: "User", ...over });
    const dc = (over: Partial<NewAuditEntry>): NewAuditEntry => ({ kind: "digicert", action: "digicert.updateUser", outcome: "ok", resourceType: "User", ...over });
    await store.audit.appendMany([
      scim({ at: ago(30 * DAY), resourceId: ALICE_OLD, userName: "alice@example.com", requestId: "r0", changes: [{ path: "userName", after: "alice@example.com" }] }),
      scim({ at: ago(20 * DAY), action: "user.delete", resourceId: ALICE_OLD, userName: "alice@example.com", requestId: "r0b" }),
      scim({ at: ago(3 * DAY), resourceId: ALICE, userName: "alice@example.com", requestId: "r1", jobId: 1, changes: [{ path: "name.givenName", after: "Alice" }] }),
      dc({
        at: ago(3 * DAY - 1000),
        action: "digicert.createUser",
        resourceId: ALICE,
        userName: "alice@example.com",
        requestId: "r1",
        jobId: 1,
        digicert: { operation: "createUser", digicertId: "1001", errorKind: null },
        changes: [{ path: "username", after: "alice@example.com" }, { path: "roles", after: [{ id: "5", name: "Standard User" }] }],
      }),
      scim({
        at: ago(2 * DAY),
        action: "user.patch",
        outcome: "refused",
        status: 400,
        detail: `name.givenName: too long (key ${API_KEY})`,
        resourceId: ALICE,
        userName: "alice@example.com",
        requestId: "r2",
        changes: [{ path: "password", op: "replace", after: "[REDACTED]" }],
      }),
      scim({ at: ago(DAY), action: "user.patch", idp: "entra", actor: "entra-prod", resourceId: ALICE, userName: "alice@example.com", requestId: "r3", jobId: 2, changes: [{ path: "name.givenName", before: "Alice", after: "Alicia" }] }),
      dc({ at: ago(DAY - 1000), resourceId: ALICE, userName: "alice@example.com", requestId: "r3", jobId: 2, digicert: { operation: "updateUser", digicertId: "1001", errorKind: null } }),
      // Dry-run calls (a dry-run bridge on the same database, say).
      dc({ at: ago(1000 * 60 * 30), action: "digicert.setRoles", dryRun: true, resourceId: ALICE, userName: "alice@example.com", jobId: 3, digicert: { operation: "setRoles", digicertId: "1001", errorKind: null }, changes: [{ path: "roles", after: [{ id: "1", name: "Administrator" }] }] }),
      scim({ at: ago(2 * DAY), resourceId: BOB, userName: "bob@example.com", requestId: "b1" }),
      dc({
        at: ago(2 * DAY - 1000),
        action: "digicert.createUser",
        dryRun: true,
        resourceId: BOB,
        userName: "bob@example.com",
        jobId: 4,
        digicert: { operation: "createUser", digicertId: "dry-run-b0b", errorKind: null },
        changes: [{ path: "username", after: "bob@example.com" }, { path: "firstName", after: "Bob" }, { path: "lastName", after: "Builder" }, { path: "roles", after: [{ id: "5", name: "Standard User" }] }],
      }),
      dc({ at: ago(DAY), action: "digicert.deleteUser", dryRun: true, resourceId: BOB, userName: "bob@example.com", jobId: 5, digicert: { operation: "deleteUser", digicertId: "dry-run-b0b", errorKind: null } }),
      dc({
        at: ago(DAY - 500),
        action: "digicert.createUser",
        outcome: "error",
        dryRun: true,
        resourceId: BOB,
        userName: "bob@example.com",
        jobId: 6,
        detail: "DigiCert already has a user named 'bob@example.com' (dry run: not sent)",
        digicert: { operation: "createUser", digicertId: null, errorKind: "duplicate" },
      }),
    ]);
  });
}

describe("digicert-scim audit", () => {
  const db = join(dir, `audit-${++counter}.db`);
  beforeAll(() => seed(db));

  test("a user's whole history by userName (any case): the earlier user of that name, SCIM changes, refusals, DigiCert calls", async () => {
    const r = await audit({ user: "ALICE@example.com" }, envFor(db));
    expect(r.code).toBe(0);
    expect(r.err).toBe("");
    const lines = r.out.trimEnd().split("\n");
    expect(lines[0]).toBe(`Audit trail of alice@example.com — SCIM id ${ALICE}, ${ALICE_OLD}:`);
    expect(lines[1]).toMatch(/^TIME\s+ACTION\s+BY\s+RESULT\s+REQUEST\s+JOB\s+DETAILS$/);
    const rows = lines.slice(2, 10);
    expect(rows.map((l) => l.split(/\s{2,}/)[1])).toEqual([
      "user.create",
      "user.delete",
      "user.create",
      "digicert.createUser",
      "user.patch",
      "user.patch",
      "digicert.updateUser",
      "digicert.setRoles [dry-run]",
    ]);
    expect(r.out).toMatch(/user\.create\s+okta-prod \(okta\)\s+ok\s+r1\s+1\s+name\.givenName: "Alice"/);
    expect(r.out).toMatch(/user\.patch\s+okta-prod \(okta\)\s+refused 400\s+r2\s+-\s+password: "\[REDACTED\]"/);
    expect(r.out).toContain("name.givenName: too long (key [REDACTED])");
    expect(r.out).toMatch(/user\.patch\s+entra-prod \(entra\)\s+ok\s+r3\s+2\s+name\.givenName: "Alice" → "Alicia"/);
    expect(r.out).toMatch(/digicert\.createUser\s+outbox\s+ok\s+r1\s+1\s+username: "alice@example\.com"; roles: \[Standard User \(5\)\]; got DigiCert id 1001/);
    expect(r.out).toMatch(/digicert\.setRoles \[dry-run\]\s+outbox\s+ok\s+-\s+3\s+DigiCert user 1001; roles: \[Administrator \(1\)\]/);
    expect(r.out).toContain("[dry-run]: DigiCert calls a DRY_RUN bridge did not send.");
    expect(r.out).not.toContain("bob@example.com");
  });

  test("by SCIM id; --since (duration or ISO date); --limit keeps the newest", async () => {
    const byId = await audit({ user: ALICE }, envFor(db));
    expect(byId.code).toBe(0);
    expect(byId.out.split("\n")[0]).toBe(`Audit trail of alice@example.com (${ALICE}) — SCIM id ${ALICE}, ${ALICE_OLD}:`);

    const recent = await audit({ user: "alice@example.com", since: "36h" }, envFor(db));
    expect(recent.code).toBe(0);
    expect(recent.out).not.toContain("user.create");
    expect(recent.out).toMatch(/user\.patch\s+entra-prod/);
    expect(recent.out).not.toMatch(/refused 400/);
    // Midnight UTC of the refused PATCH's day: after the create (a day earlier), never after the PATCH, whatever
    // the time of day the test runs at.
    const isoDate = new Date(NOW - 2 * DAY).toISOString().slice(0, 10);
    const sinceDate = await audit({ user: "alice@example.com", since: isoDate }, envFor(db));
    expect(sinceDate.out).toMatch(/refused 400/);
    expect(sinceDate.out).not.toContain("user.delete");
    expect(sinceDate.out).not.toContain("user.create");

    const limited = await audit({ user: "alice@example.com", limit: 2 }, envFor(db));
    const rows = limited.out.trimEnd().split("\n").slice(2);
    expect(rows[0]).toMatch(/digicert\.updateUser/);
    expect(rows[1]).toMatch(/digicert\.setRoles \[dry-run\]/);
    expect(rows[2]).toBe("(the newest 2 entries; --limit N shows more)");
  });

  test("--json prints the stored entries; a deleted user is found by userName or id", async () => {
    const r = await audit({ user: "bob@example.com", json: true }, envFor(db));
    expect(r.code).toBe(0);
    const entries = JSON.parse(r.out);
    expect(entries.map((e: any) => e.action)).toEqual(["user.create", "digicert.createUser", "digicert.deleteUser", "digicert.createUser"]);
    expect(entries[1]).toMatchObject({ kind: "digicert", dryRun: true, jobId: 4, resourceId: BOB, digicert: { operation: "createUser", digicertId: "dry-run-b0b" } });
    const byId = await audit({ user: BOB, json: true }, envFor(db));
    expect(JSON.parse(byId.out)).toHaveLength(4);
  });

  test("unknown user: 1; bad options: 2; no database: 1 (and none created)", async () => {
    const unknown = await audit({ user: "nobody@example.com" }, envFor(db));
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/No user nobody@example\.com and no audit entries/);
    const badSince = await audit({ user: "alice@example.com", since: "last tuesday" }, envFor(db));
    expect(badSince.code).toBe(2);
    expect(badSince.err).toMatch(/--since must be an ISO date or date-time/);
    expect((await audit({ user: "alice@example.com", limit: 0 }, envFor(db))).code).toBe(2);
    expect((await audit({ user: " " }, envFor(db))).code).toBe(2);
    const missing = join(dir, "missing.db");
    const noDb = await audit({ user: "alice@example.com" }, envFor(missing));
    expect(noDb.code).toBe(1);
    expect(noDb.err).toMatch(/No database at/);
    // A store-only command: the store's settings are enough, DIGICERT_API_KEY is not needed.
    const storeOnly = await audit({ user: "alice@example.com" }, { DATABASE_URL: `sqlite:${db}`, DIGICERT_PLATFORM: "one" });
    expect({ code: storeOnly.code, err: storeOnly.err }).toEqual({ code: 0, err: "" });
    const badConfig = await audit({ user: "alice@example.com" }, { DATABASE_URL: "mysql://nope" });
    expect(badConfig.code).toBe(1);
    expect(badConfig.err).toMatch(/DATABASE_URL/);
  });
});

describe("digicert-scim plan", () => {
  const db = join(dir, `plan-${++counter}.db`);
  beforeAll(() => seed(db));

  test("the dry-run calls grouped by user, with totals; SCIM entries and real calls are left out", async () => {
    const r = await plan({}, envFor(db));
    expect(r.code).toBe(0);
    const blocks = r.out.trimEnd().split("\n\n");
    expect(blocks[0]).toBe("Dry run: what the bridge would have asked DigiCert to do (nothing was sent):");
    const [bobHead, ...bobCalls] = blocks[1]!.split("\n");
    expect(bobHead).toBe(`bob@example.com — SCIM id ${BOB}`);
    expect(bobCalls.map((l) => l.replace(/^\s+\S+\s+/, ""))).toEqual([
      "create DigiCert user bob@example.com (Bob Builder) with roles Standard User (5)",
      "delete DigiCert user dry-run-b0b",
      "create DigiCert user bob@example.com with roles none — would be refused (DigiCert already has this username: the bridge adopts that user instead)",
    ]);
    const [aliceHead, ...aliceCalls] = blocks[2]!.split("\n");
    expect(aliceHead).toBe(`alice@example.com — SCIM id ${ALICE}`);
    expect(aliceCalls.map((l) => l.replace(/^\s+\S+\s+/, ""))).toEqual(["set the roles of DigiCert user 1001 to Administrator (1)"]);
    expect(blocks[3]).toBe("2 users, 4 DigiCert calls: createUser 2, deleteUser 1, setRoles 1");
  });

  test("--user, --since and --json", async () => {
    const bob = await plan({ user: BOB }, envFor(db));
    expect(bob.out).toContain("bob@example.com");
    expect(bob.out).not.toContain("alice@example.com");
    expect(bob.out).toMatch(/1 user, 3 DigiCert calls/);

    const since = await plan({ since: "12h" }, envFor(db));
    expect(since.out).toMatch(/^Dry run: what the bridge would have asked DigiCert to do since \S+ \(nothing was sent\):/);
    expect(since.out).toMatch(/\n1 user, 1 DigiCert call: setRoles 1\n$/);

    const json = await plan({ json: true, user: "Alice@Example.com" }, envFor(db));
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out)).toEqual({
      since: null,
      dryRunConfigured: false,
      users: [
        {
          userId: ALICE,
          userName: "alice@example.com",
          calls: [
            {
              at: expect.any(String),
              operation: "setRoles",
              digicertId: "1001",
              outcome: "ok",
              errorKind: null,
              detail: null,
              changes: [{ path: "roles", after: [{ id: "1", name: "Administrator" }] }],
              requestId: null,
              jobId: 3,
            },
          ],
        },
      ],
      totals: { setRoles: 1 },
    });
  });

  test("nothing recorded, bad --since, no database", async () => {
    const none = await plan({ user: "nobody@example.com" }, envFor(db));
    expect(none.code).toBe(0);
    expect(none.out).toMatch(/^No dry-run DigiCert calls recorded for nobody@example\.com\.\nRun the bridge with DRY_RUN=true/);
    expect((await plan({ since: "yesterday" }, envFor(db))).code).toBe(2);
    const noDb = await plan({}, envFor(join(dir, "missing-plan.db")));
    expect(noDb.code).toBe(1);
    expect(noDb.err).toMatch(/No database at/);
  });
});

describe("--since", () => {
  const now = Date.parse("2025-03-10T12:00:00.000Z");
  test.each([
    ["24h", "2025-03-09T12:00:00.000Z"],
    ["7d", "2025-03-03T12:00:00.000Z"],
    ["90m", "2025-03-10T10:30:00.000Z"],
    ["2w", "2025-02-24T12:00:00.000Z"],
    ["30s", "2025-03-10T11:59:30.000Z"],
    ["2025-03-01", "2025-03-01T00:00:00.000Z"],
    ["2025-03-01T08:30:00Z", "2025-03-01T08:30:00.000Z"],
    ["2025-03-01T08:30:00+02:00", "2025-03-01T06:30:00.000Z"],
  ])("%s", (value, expected) => {
    expect(parseSince(value, now)).toBe(expected);
  });
  test.each(["", "yesterday", "7 days", "-1d", "2025-13-45", "12"])("%j is refused", (value) => {
    expect(parseSince(value, now)).toBeNull();
  });
});
