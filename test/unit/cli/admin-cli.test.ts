import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../../src/cli";
import { ONE_DEFAULT_ACCOUNT, startSimulator, type Simulator } from "../../../src/simulator";

// serve/migrate/check and the commander surface: every command has --help, exit codes are the documented ones,
// nothing secret reaches the terminal.

const API_KEY = "admin-cli-api-key-0123456789";
const dir = mkdtempSync(join(tmpdir(), "cli-admin-"));
let sim: Simulator;
let n = 0;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, apiKey: API_KEY, certcentral: { containerId: 1 } });
});
afterAll(() => sim.close());

function envFor(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    SCIM_BEARER_TOKENS: "cli-token",
    DIGICERT_API_KEY: API_KEY,
    DIGICERT_PLATFORM: "certcentral",
    DIGICERT_BASE_URL: sim.certcentralBaseUrl,
    DATABASE_URL: `sqlite:${join(dir, `db-${++n}.sqlite`)}`,
    ...extra,
  };
}

async function run(argv: string[], env: NodeJS.ProcessEnv) {
  let out = "";
  let err = "";
  const code = await runCli(argv, { env, stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  expect(out + err).not.toContain(API_KEY);
  expect(out + err).not.toContain("pg-s3cret");
  return { code, out, err };
}

describe("every command has --help", () => {
  test.each([["serve"], ["migrate"], ["check"], ["roles"], ["outbox"], ["audit"], ["plan"], ["reconcile"]])("%s --help exits 0 with its usage", async (cmd) => {
    const r = await run([cmd, "--help"], envFor());
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`Usage: digicert-scim ${cmd}`));
    expect(r.err).toBe("");
  });

  test("audit without --user, or with a bad --limit, is a usage error", async () => {
    const none = await run(["audit"], envFor());
    expect(none.code).toBe(2);
    expect(none.err).toContain("required option '--user <userName|id>' not specified");
    const bad = await run(["audit", "--user", "ada", "--limit", "zero"], envFor());
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--limit must be a whole number of at least 1; got zero");
  });

  test("an unknown option of a command is a usage error", async () => {
    const r = await run(["check", "--frobnicate"], envFor());
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown option '--frobnicate'");
    expect(r.err).toContain("Usage: digicert-scim");
  });
});

describe("digicert-scim roles --json", () => {
  test("DigiCert's roles and the mapping in force as JSON", async () => {
    const r = await run(["roles", "--json"], envFor());
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out);
    expect(out.platform).toBe("certcentral");
    expect(out.roles).toEqual(expect.arrayContaining([{ id: "1", name: "Administrator" }]));
    expect(out.mapping.default).toEqual([{ id: "5", name: "Standard User" }]);
  });
});

describe("digicert-scim reconcile under DRY_RUN", () => {
  test("refuses to run: the dry-run links are pretend", async () => {
    const r = await run(["reconcile"], envFor({ DRY_RUN: "true" }));
    expect(r.code).toBe(1);
    expect(r.err).toContain("reconcile does not run with DRY_RUN=true");
  });
});

describe("digicert-scim migrate", () => {
  test("applies every migration to a new database, then has nothing left to do", async () => {
    const env = envFor();
    const first = await run(["migrate", "--json"], env);
    expect(first.code).toBe(0);
    const report = JSON.parse(first.out);
    expect(report.applied[0]).toBe("0001-initial");
    expect(report.applied).toContain("0004-outbox");
    const again = await run(["migrate"], env);
    expect(again.code).toBe(0);
    expect(again.out).toContain("already up to date");
  });

  test("an unreachable database exits 1 without its password", async () => {
    const r = await run(["migrate"], envFor({ DATABASE_URL: "postgres://scim:pg-s3cret@127.0.0.1:1/scim" }));
    expect(r.code).toBe(1);
    expect(r.err).toContain("Cannot migrate the database at postgres://127.0.0.1:1/scim");
  });
});

describe("digicert-scim check", () => {
  test("a working deployment: every check ok, exit 0, and nothing created", async () => {
    const env = envFor();
    const r = await run(["check", "--json"], env);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.ok).toBe(true);
    expect(report.checks.map((c: any) => c.name)).toEqual(["configuration", "database", "digicert", "api key", "role mapping", "divisions", "deactivation", "user management"]);
    expect(report.checks.find((c: any) => c.name === "role mapping").detail).toContain("Standard User");
    expect(report.checks.find((c: any) => c.name === "api key").detail).toMatch(/^list roles: yes; list users: yes; create users: not tried/);
    expect(report.checks.find((c: any) => c.name === "deactivation").detail).toMatch(/CERTCENTRAL_DEACTIVATE=delete/);
    expect(report.checks.find((c: any) => c.name === "user management")).toMatchObject({ ok: true, warning: true, detail: expect.stringMatching(/managed in the DigiCert account/) });
    expect(existsSync(String(env.DATABASE_URL).slice("sqlite:".length))).toBe(false);
  });

  test("DigiCert ONE: which name of the basic role was found, the deactivation mode, a key that may not list users", async () => {
    const env = envFor({ DIGICERT_PLATFORM: "one", DIGICERT_BASE_URL: sim.oneBaseUrl, DIGICERT_ONE_ACCOUNT_ID: ONE_DEFAULT_ACCOUNT, ONE_DEACTIVATE: "disable" });
    const r = await run(["check"], env);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/role mapping\s+ok\s+no mapping file; new users get Default User \(DIGICERT_DEFAULT_ROLE unset: found "Default User" \(AM_DEFAULT_USER\), looked for "Account user" or "Default User"\)/);
    expect(r.out).toMatch(/deactivation\s+ok\s+ONE_DEACTIVATE=disable: the undocumented disable route is tried at the first deactivation/);
    expect(r.out).toMatch(/api key\s+ok\s+list roles: yes; list users: yes; create users: not tried \(check changes nothing\); the key's user holds Account Admin/);
    sim.failNext({ platform: "one", method: "GET", path: /^\/user$/, status: 403, body: { error: { code: "access_denied", message: "no" } } });
    const denied = await run(["check"], env);
    expect(denied.code).toBe(1);
    expect(denied.out).toMatch(/api key\s+FAILED\s+list roles: yes; list users: no;.*the bridge needs both/);
  });

  test("a refused API key and a bad mapping are named, exit 1", async () => {
    const r = await run(["check"], envFor({ DIGICERT_API_KEY: "wrong-key-0123456789" }));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/digicert\s+FAILED\s+.*refuses the API key \(DIGICERT_API_KEY\)/);
    const mapping = join(dir, "bad-mapping.yaml");
    writeFileSync(mapping, 'rules:\n  - group: "Admins"\n    roles: ["No Such Role"]\n');
    const bad = await run(["check"], envFor({ ROLE_MAPPING_FILE: mapping }));
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/role mapping\s+FAILED\s+.*No Such Role/);
  });

  test("unreachable database and Redis are reported without secrets", async () => {
    const r = await run(
      ["check", "--json"],
      envFor({ DATABASE_URL: "postgres://scim:pg-s3cret@127.0.0.1:1/scim", REDIS_URL: "redis://:pg-s3cret@127.0.0.1:1" }),
    );
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out);
    expect(report.checks.find((c: any) => c.name === "database")).toMatchObject({ ok: false });
    expect(report.checks.find((c: any) => c.name === "redis")).toMatchObject({ ok: false });
    expect(report.checks.find((c: any) => c.name === "digicert")).toMatchObject({ ok: true });
  });

  test("an invalid configuration exits 1 naming the variable", async () => {
    const r = await run(["check"], { DIGICERT_API_KEY: API_KEY, SCIM_BEARER_TOKENS: "sha256:not-hex" });
    expect(r.code).toBe(1);
    expect(r.err).toContain("SCIM_BEARER_TOKENS");
  });
});
