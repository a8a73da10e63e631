// `outbox --target`: a fan-out tenant's other targets keep outboxes of their own; an operator sees and retries a
// failed job of one (DigiCert ONE refused a user CertCentral took) without touching the primary's.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../../src/cli";
import { openStore } from "../../../src/store";

const dir = mkdtempSync(join(tmpdir(), "cli-target-"));
const TENANTS_FILE = join(dir, "tenants.yaml");
writeFileSync(
  TENANTS_FILE,
  `tenants:
  multi:
    bearerTokens: "multi=sha256:${"a".repeat(64)}"
    targets:
      cc:
        platform: certcentral
        apiKey: multi-cc-api-key-0123456789
      one:
        platform: one
        apiKey: multi-one-api-key-0123456789
        accountId: "6a1f0c2e-8d3b-4c7a-9e5f-0123456789ab"
`,
);
const DB = join(dir, "scim.db");
const env = { TENANTS_FILE, DATABASE_URL: `sqlite:${DB}` };
const USER = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";

async function run(argv: string[]) {
  let out = "";
  let err = "";
  const code = await runCli(argv, { env, stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

describe("digicert-scim outbox --target", () => {
  let failedOnOne: number;
  let pendingOnPrimary: number;
  beforeAll(async () => {
    const root = await openStore(`sqlite:${DB}`);
    try {
      const primary = root.scoped("multi");
      const one = root.scoped("multi", "one");
      await primary.users.insert({ id: USER, userName: "bob@example.com", externalId: null, active: true, resource: { userName: "bob@example.com" }, emails: [], digicertId: null, adopted: false });
      [pendingOnPrimary] = await primary.outbox.enqueue([{ userId: USER, kind: "create", payload: { userName: "bob@example.com" } }]);
      [failedOnOne] = await one.outbox.enqueue([{ userId: USER, kind: "create", payload: { userName: "bob@example.com" } }]);
      await one.outbox.claim("test-worker", 1, 60_000);
      await one.outbox.fail(failedOnOne, "test-worker", { cause: { source: "digicert", kind: "validation" }, message: "ONE refused" });
    } finally {
      await root.close();
    }
  });

  test("lists and retries the named target's jobs only", async () => {
    const list = async (argv: string[]) => JSON.parse((await run(["--tenant", "multi", "outbox", "list", "--json", ...argv])).out) as { id: number; status: string }[];
    expect((await list(["--status", "failed"])).map((j) => j.id)).toEqual([]);
    expect((await list(["--target", "cc"])).map((j) => j.id)).toEqual([pendingOnPrimary]);
    expect((await list(["--target", "one", "--status", "failed"])).map((j) => j.id)).toEqual([failedOnOne]);

    const status = JSON.parse((await run(["--tenant", "multi", "--target", "one", "outbox", "--json"])).out);
    expect(status).toMatchObject({ failed: 1, pending: 0 });

    const retried = await run(["--tenant", "multi", "--target", "one", "outbox", "retry", "--all"]);
    expect(retried.code).toBe(0);
    expect((await list(["--target", "one", "--status", "pending"])).map((j) => j.id)).toEqual([failedOnOne]);
    // The primary's job is as it was.
    expect((await list([])).map((j) => [j.id, j.status])).toEqual([[pendingOnPrimary, "pending"]]);
  });

  test("an unknown target is a usage error naming the tenant's targets", async () => {
    const res = await run(["--tenant", "multi", "--target", "nope", "outbox"]);
    expect(res.code).toBe(2);
    expect(res.err).toContain("cc, one");
  });
});
