import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../../src/cli";
import { startSimulator, type Simulator } from "../../../src/simulator";

const API_KEY = "cli-test-api-key-0123456789";
const ACCOUNT = "0d3e5c1a-5b8e-4f65-9c43-6f1f1d0c0a01";
const dir = mkdtempSync(join(tmpdir(), "cli-roles-"));
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, apiKey: API_KEY, one: { accountId: ACCOUNT } });
});
afterAll(() => sim.close());

function envFor(platform: "certcentral" | "one", extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    SCIM_BEARER_TOKENS: "cli-token",
    DIGICERT_API_KEY: API_KEY,
    DIGICERT_PLATFORM: platform,
    DIGICERT_BASE_URL: platform === "one" ? sim.oneBaseUrl : sim.certcentralBaseUrl,
    ...(platform === "one" ? { DIGICERT_ONE_ACCOUNT_ID: ACCOUNT } : {}),
    ...extra,
  };
}

async function run(argv: string[], env: NodeJS.ProcessEnv) {
  let out = "";
  let err = "";
  const code = await runCli(argv, {
    env,
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
  });
  // The key must never reach the terminal, whatever happened.
  expect(out + err).not.toContain(API_KEY);
  return { code, out, err };
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const CC_FILE = [
  'default: ["Standard User"]',
  "unmapped: deactivate",
  "rules:",
  '  - group: "DigiCert Admins"',
  '    roles: ["administrator"]',
  '  - externalId: "00g1abcd"',
  "    roles: [4]",
  '  - pattern: "^PKI-"',
  "    roles:",
  '      one: ["Read Only"]',
  "",
].join("\n");

describe("digicert-scim help and usage", () => {
  test("help prints usage", async () => {
    const r = await run(["help"], {});
    expect(r.code).toBe(0);
    expect(r.out).toContain("roles check FILE");
    expect(r.err).toBe("");
  });

  test.each([[["frobnicate"]], [[]], [["roles", "check"]], [["roles", "list"]], [["roles", "check", "a", "b"]]])(
    "%j is a usage error (exit 2, usage on stderr)",
    async (argv) => {
      const r = await run(argv, envFor("certcentral"));
      expect(r.code).toBe(2);
      expect(r.out).toBe("");
      expect(r.err).toContain("Usage: digicert-scim");
    },
  );
});

describe("digicert-scim roles", () => {
  test("CertCentral: prints DigiCert's roles as a table, and the default role when no mapping file is set", async () => {
    const r = await run(["roles"], envFor("certcentral"));
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ID\s+NAME$/m);
    for (const [id, name] of [["1", "Administrator"], ["2", "Limited User"], ["3", "Finance Manager"], ["4", "Manager"], ["5", "Standard User"]]) {
      expect(r.out).toMatch(new RegExp(`^${id}\\s+${name}$`, "m"));
    }
    expect(r.out).toContain("ROLE_MAPPING_FILE is not set");
    expect(r.out).toContain("Standard User (5)");
  });

  test("ONE: lists the Account Manager roles", async () => {
    const r = await run(["roles"], envFor("one"));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^AM_USER_MANAGER\s+User Manager$/m);
    expect(r.out).toContain("Default User (AM_DEFAULT_USER)");
  });

  test("shows the mapping from ROLE_MAPPING_FILE with resolved roles", async () => {
    const path = file("cc.yaml", CC_FILE);
    const r = await run(["roles"], envFor("certcentral", { ROLE_MAPPING_FILE: path }));
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain(`Role mapping: ${path}`);
    expect(r.out).toMatch(/rule 1 \(line 4\)\s+group "DigiCert Admins"\s+-> Administrator \(1\)/);
    expect(r.out).toMatch(/rule 2 \(line 6\)\s+externalId "00g1abcd"\s+-> Manager \(4\)/);
    expect(r.out).toMatch(/rule 3 \(line 8\)\s+pattern \/\^PKI-\/i\s+-> skipped: lists no certcentral roles/);
    expect(r.out).toMatch(/default\s+-> Standard User \(5\)/);
    expect(r.out).toMatch(/users in no mapped group\s+-> no DigiCert access/);
    expect(r.out).toContain("first rule");
  });

  test("an invalid mapping exits 1 with the problems", async () => {
    const path = file("bad.yaml", CC_FILE.replace('["administrator"]', '["Superuser"]'));
    const r = await run(["roles"], envFor("certcentral", { ROLE_MAPPING_FILE: path }));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^1\s+Administrator$/m); // DigiCert's roles still help fix the file
    expect(r.err).toContain(`${path}: rule 1 (group "DigiCert Admins", line 4): "Superuser" is not a DigiCert role`);
    expect(r.err).toContain("Administrator (1), Limited User (2)");
  });

  test("a wrong DIGICERT_DEFAULT_ROLE without a mapping file exits 1", async () => {
    const r = await run(["roles"], envFor("one", { DIGICERT_DEFAULT_ROLE: "Nobody" }));
    expect(r.code).toBe(1);
    expect(r.err).toContain('DIGICERT_DEFAULT_ROLE: "Nobody" is not a DigiCert role');
  });

  test("config errors print the ConfigError and exit 1", async () => {
    const r = await run(["roles"], { DIGICERT_PLATFORM: "one", DIGICERT_API_KEY: API_KEY, SCIM_BEARER_TOKENS: "sha256:not-hex" });
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toContain("Invalid configuration");
    expect(r.err).toContain("SCIM_BEARER_TOKENS");
    const { DIGICERT_ONE_ACCOUNT_ID: _, ...noAccount } = envFor("one");
    const r2 = await run(["roles", "check", join(dir, "x.yaml")], noAccount);
    expect(r2.code).toBe(1);
    expect(r2.err).toContain("DIGICERT_ONE_ACCOUNT_ID");
  });

  test("DigiCert refusing the key exits 1 without echoing it", async () => {
    const r = await run(["roles"], envFor("certcentral", { DIGICERT_API_KEY: "wrong-key-for-sure" }));
    expect(r.code).toBe(1);
    expect(r.err).toContain("Cannot list DigiCert roles");
    expect(r.err).not.toContain("wrong-key-for-sure");
  });
});

describe("digicert-scim roles check FILE", () => {
  test("a valid file: OK with the rule count, exit 0, nothing changed in DigiCert", async () => {
    sim.clearCalls();
    const path = file("ok.yaml", CC_FILE);
    const r = await run(["roles", "check", path], envFor("certcentral"));
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toBe("OK: 3 rules (1 lists no certcentral roles and is skipped)\n");
    expect(sim.calls.filter((c) => c.method !== "GET")).toEqual([]);
  });

  test("--json prints the verdict as JSON, valid or not", async () => {
    const path = file("ok-json.yaml", CC_FILE);
    const ok = await run(["roles", "check", path, "--json"], envFor("certcentral"));
    expect({ code: ok.code, err: ok.err }).toEqual({ code: 0, err: "" });
    const parsed = JSON.parse(ok.out);
    expect(parsed).toMatchObject({ ok: true, file: path, platform: "certcentral", rules: 3, skipped: 1 });
    expect(parsed.mapping.rules.map((r: { roles: { name: string }[] }) => r.roles.map((x) => x.name))).toEqual([["Administrator"], ["Manager"]]);

    const bad = file("typo-json.yaml", "rules:\n  - grup: Admins\n    roles: [Administrator]\n");
    const ko = await run(["roles", "check", bad, "--json"], envFor("certcentral"));
    expect(ko.code).toBe(1);
    expect(JSON.parse(ko.out)).toEqual({ ok: false, file: bad, platform: "certcentral", problems: [expect.stringContaining("rules[0].grup: unknown key")] });
  });

  const examples = join(__dirname, "../../../examples");

  test.each(["certcentral", "one"] as const)("the commented example checks on %s", async (platform) => {
    const r = await run(["roles", "check", join(examples, "role-mapping.yaml")], envFor(platform));
    expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: "" });
    expect(r.out).toMatch(/^OK: 6 rules/);
  });

  test("the minimal form checks on CertCentral; on ONE its plain lists name CertCentral roles", async () => {
    const minimal = join(examples, "role-mapping.minimal.yaml");
    const cc = await run(["roles", "check", minimal], envFor("certcentral"));
    expect(cc).toMatchObject({ code: 0, out: "OK: 3 rules\n", err: "" });
    const one = await run(["roles", "check", minimal], envFor("one"));
    expect(one.code).toBe(1);
    expect(one.err).toContain(`${minimal}: default: "Standard User" is not a DigiCert role; DigiCert offers: Account Manager (AM_ACCOUNT_MANAGER)`);
    expect(one.err).toContain(`rule 2 (externalId "00g1abcd", line 6): "Manager" is not a DigiCert role`);
    expect(one.err).not.toContain("rule 3"); // its per-platform ONE roles exist
  });

  test("a file with parse problems exits 1 without calling DigiCert", async () => {
    sim.clearCalls();
    const path = file("typo.yaml", "rules:\n  - grup: Admins\n    roles: [Administrator]\n");
    const r = await run(["roles", "check", path], envFor("certcentral"));
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toContain(`${path} line 2: rules[0].grup: unknown key (did you mean group?)`);
    expect(sim.calls).toEqual([]);
  });

  test("unknown roles and CertCentral multi-role rules exit 1", async () => {
    const path = file("multi.yaml", "rules:\n  - group: a\n    roles: [Manager, Administrator]\n  - group: b\n    roles: [Viewer]\n");
    const r = await run(["roles", "check", path], envFor("certcentral"));
    expect(r.code).toBe(1);
    expect(r.err).toContain("CertCentral users hold one role");
    expect(r.err).toContain('"Viewer" is not a DigiCert role');
  });

  test("a missing file exits 1 naming it", async () => {
    const path = join(dir, "missing.yaml");
    const r = await run(["roles", "check", path], envFor("one"));
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${path}: cannot read the role mapping file: file not found`);
  });

  test("checks FILE even when the configured ROLE_MAPPING_FILE is broken", async () => {
    const broken = join(dir, "does-not-exist.yaml");
    const r = await run(["roles", "check", file("fine.yaml", "rules: []\n")], envFor("one", { ROLE_MAPPING_FILE: broken }));
    expect(r.code).toBe(0);
    expect(r.out).toBe("OK: 0 rules\n");
  });
});
