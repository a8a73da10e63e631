// `--tenant` on the commands that read or write the store: two tenants in one SQLite database, each seeing only its
// own rows (audit, plan, outbox, tokens), the default tenant without the option as before, and an unknown tenant a
// usage error naming the known ones. The tenants: the environment's "default" and acme from a TENANTS_FILE.
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../../src/cli";
import { openStore } from "../../../src/store";
import type { NewAuditEntry } from "../../../src/provisioning/records";
import type { Store } from "../../../src/provisioning/ports";

const API_KEY = "tenant-cli-test-api-key-0123456789";
const TOKEN = "tenant-cli-token-abcdef";
const dir = mkdtempSync(join(tmpdir(), "cli-tenant-"));
let counter = 0;
const freshDb = () => join(dir, `tenants-${++counter}.db`);
const hex = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");
const TENANTS_FILE = join(dir, "tenants.yaml");
writeFileSync(
  TENANTS_FILE,
  `tenants:
  acme:
    bearerTokens: "acme=sha256:${hex("acme-idp-token")}"
    targets:
      one:
        platform: one
        apiKey: acme-api-key-0123456789
        accountId: "6a1f0c2e-8d3b-4c7a-9e5f-0123456789ab"
`,
);

// The same userName in both tenants, under different ids: only the tenant tells them apart.
const USER_NAME = "alice@example.com";
const DEFAULT_ALICE = "11111111-1111-4111-8111-111111111111";
const ACME_ALICE = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";

function envFor(dbFile: string, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return {
    SCIM_BEARER_TOKENS: TOKEN,
    DIGICERT_API_KEY: API_KEY,
    DIGICERT_PLATFORM: "certcentral",
    DATABASE_URL: `sqlite:${dbFile}`,
    TENANTS_FILE,
    ...extra,
  };
}

async function run(argv: string[], env: NodeJS.ProcessEnv) {
  let out = "";
  let err = "";
  const code = await runCli(argv, { env, stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  expect(out + err).not.toContain(API_KEY);
  expect(out + err).not.toContain(TOKEN);
  return { code, out, err };
}

async function withStore<T>(dbFile: string, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(`sqlite:${dbFile}`);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Per tenant: alice, a create in the trail with a dry-run DigiCert call, and outbox jobs (the default tenant's 2, acme's 1, one failed each). */
async function seed(dbFile: string): Promise<{ failed: Record<string, number> }> {
  return withStore(dbFile, async (root) => {
    const failed: Record<string, number> = {};
    for (const [tenant, id, jobs] of [
      ["default", DEFAULT_ALICE, 2],
      ["acme", ACME_ALICE, 1],
    ] as const) {
      const store = root.scoped(tenant);
      await store.users.insert({ id, userName: USER_NAME, externalId: null, active: true, resource: { userName: USER_NAME }, emails: [], digicertId: null, adopted: false });
      const entry = (over: Partial<NewAuditEntry>): NewAuditEntry => ({
        kind: "scim",
        action: "user.create",
        outcome: "ok",
        actor: `${tenant}-idp`,
        resourceType: "User",
        resourceId: id,
        userName: USER_NAME,
        requestId: `req-${tenant}`,
        ...over,
      });
      await store.audit.appendMany([
        entry({}),
        entry({ kind: "digicert", action: "digicert.createUser", actor: null, dryRun: true, digicert: { operation: "createUser", digicertId: `dry-run-${tenant}`, errorKind: null } }),
      ]);
      const ids = await store.outbox.enqueue(
        Array.from({ length: jobs }, (_, i) => ({ userId: id, kind: i === 0 ? ("create" as const) : ("update" as const), payload: { userName: USER_NAME } })),
      );
      await store.outbox.claim("test-worker", 1, 60_000);
      await store.outbox.fail(ids[0], "test-worker", { cause: { source: "digicert", kind: "validation" }, message: `${tenant} refused` });
      failed[tenant] = ids[0];
    }
    return { failed };
  });
}

describe("digicert-scim --tenant", () => {
  let db: string;
  let seeded: { failed: Record<string, number> };
  beforeAll(async () => {
    db = freshDb();
    seeded = await seed(db);
  });

  test("audit: each tenant's history of the same userName is its own", async () => {
    const dflt = await run(["audit", "--user", USER_NAME, "--json"], envFor(db));
    expect(dflt.code).toBe(0);
    const dfltEntries = JSON.parse(dflt.out) as { requestId: string; resourceId: string }[];
    expect(dfltEntries.length).toBe(2);
    expect(new Set(dfltEntries.map((e) => e.resourceId))).toEqual(new Set([DEFAULT_ALICE]));
    // Before or after the command, as a program-wide option.
    for (const argv of [["--tenant", "acme", "audit", "--user", USER_NAME, "--json"], ["audit", "--user", USER_NAME, "--json", "--tenant", "acme"]]) {
      const acme = await run(argv, envFor(db));
      expect(acme.code).toBe(0);
      const entries = JSON.parse(acme.out) as { requestId: string; resourceId: string }[];
      expect(entries.map((e) => e.requestId)).toEqual(["req-acme", "req-acme"]);
      expect(new Set(entries.map((e) => e.resourceId))).toEqual(new Set([ACME_ALICE]));
    }
    // acme's id is unknown to the default tenant.
    expect((await run(["audit", "--user", ACME_ALICE], envFor(db))).code).toBe(1);
  });

  test("plan: each tenant's dry-run calls", async () => {
    const acme = JSON.parse((await run(["plan", "--json", "--tenant", "acme"], envFor(db))).out);
    expect(acme.users.map((u: { userId: string }) => u.userId)).toEqual([ACME_ALICE]);
    expect(acme.users[0].calls.map((c: { digicertId: string }) => c.digicertId)).toEqual(["dry-run-acme"]);
    const dflt = JSON.parse((await run(["plan", "--json"], envFor(db))).out);
    expect(dflt.users.map((u: { userId: string }) => u.userId)).toEqual([DEFAULT_ALICE]);
  });

  test("outbox: status and list count each tenant's jobs; retry touches that tenant's only", async () => {
    const status = async (tenant: string[]) => JSON.parse((await run([...tenant, "outbox", "--json"], envFor(db))).out);
    expect(await status([])).toMatchObject({ failed: 1, pending: 1 });
    expect(await status(["--tenant", "acme"])).toMatchObject({ failed: 1, pending: 0 });
    const list = async (tenant: string[]) => JSON.parse((await run(["outbox", "list", "--json", ...tenant], envFor(db))).out) as { id: number }[];
    expect((await list([])).map((j) => j.id).sort()).toEqual(expect.arrayContaining([seeded.failed.default]));
    expect(await list([])).toHaveLength(2);
    expect((await list(["--tenant", "acme"])).map((j) => j.id)).toEqual([seeded.failed.acme]);
    // A job id of the other tenant is unknown here.
    const wrong = await run(["outbox", "retry", String(seeded.failed.default), "--tenant", "acme"], envFor(db));
    expect(wrong.code).toBe(1);
    expect(wrong.err).toContain(`Job ${seeded.failed.default}: no such job`);
    const retried = await run(["--tenant", "acme", "outbox", "retry", "--all"], envFor(db));
    expect(retried.out).toContain("Reset 1 failed job to pending.");
    expect(await status(["--tenant", "acme"])).toMatchObject({ failed: 0, pending: 1 });
    expect(await status([])).toMatchObject({ failed: 1 });
  });

  test("tokens: a token made with --tenant is that tenant's (listed, revoked and found there only); names are per tenant", async () => {
    const acme = await run(["tokens", "create", "--name", "okta", "--tenant", "acme"], envFor(db));
    expect(acme.code).toBe(0);
    expect(acme.err).toContain("It opens /t/acme/scim/v2 only (tenant acme)");
    const acmeToken = acme.out.trim();
    // The same name in the default tenant is another token.
    const dflt = await run(["tokens", "create", "--name", "okta"], envFor(db));
    expect(dflt.code).toBe(0);
    expect(dflt.err).toContain("It opens /scim/v2 only (tenant default)");
    await withStore(db, async (root) => {
      expect(await root.scoped("acme").tokens.findByDigest(hex(acmeToken))).toMatchObject({ name: "okta" });
      expect(await root.scoped("default").tokens.findByDigest(hex(acmeToken))).toBeNull();
      expect(await root.scoped("default").tokens.findByDigest(hex(dflt.out.trim()))).toMatchObject({ name: "okta" });
    });
    const admin = await run(["tokens", "create", "--name", "ops", "--scope", "admin", "--tenant", "acme"], envFor(db));
    expect(admin.err).toContain("It opens tenant acme's status page only (/admin?tenant=acme)");
    const names = async (tenant: string[]) => (JSON.parse((await run(["tokens", "list", "--json", ...tenant], envFor(db))).out) as { name: string }[]).map((t) => t.name).sort();
    expect(await names(["--tenant", "acme"])).toEqual(["okta", "ops"]);
    expect(await names([])).toEqual(["okta"]);
    expect((await run(["tokens", "revoke", "ops"], envFor(db))).code).toBe(1);
    expect((await run(["tokens", "revoke", "ops", "--tenant", "acme"], envFor(db))).code).toBe(0);
  });

  test("an unknown tenant is a usage error naming the known ones; nothing is created", async () => {
    for (const argv of [
      ["audit", "--user", USER_NAME, "--tenant", "nope"],
      ["outbox", "--tenant", "nope"],
      ["tokens", "create", "--name", "x", "--tenant", "nope"],
      ["--tenant", "nope", "plan"],
    ]) {
      const r = await run(argv, envFor(db));
      expect(r.code).toBe(2);
      expect(r.err).toContain('--tenant: this configuration has no tenant "nope"; its tenants: default, acme');
      expect(r.out).toBe("");
    }
    await withStore(db, async (root) => expect(await root.scoped("nope").tokens.list()).toEqual([]));
  });
});
