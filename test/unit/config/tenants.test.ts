import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig, tenantApiKeys, type AppConfig, type LoadOptions } from "../../../src/config";
import { envSchema } from "../../../src/config/env";
import { configOrReport } from "../../../src/cli/common";
import { redact } from "../../../src/log/logger";

// TENANTS_FILE (src/config/tenants.ts, docs/tenants.md): several tenants and DigiCert targets from one bridge.

const ROOT = join(__dirname, "..", "..", "..");
const dir = mkdtempSync(join(tmpdir(), "tenants-"));
let files = 0;
/** Writes `lines` (joined with newlines) to a new file in the temp directory; returns its path. */
function tenantsFile(...lines: string[]): string {
  const p = join(dir, `tenants-${++files}.yaml`);
  writeFileSync(p, `${lines.join("\n")}\n`);
  return p;
}
function writeFile(name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}
const hex = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");

// Secret values: no problem message may contain any of them.
const SECRETS = {
  envKey: "env-api-key-SECRET-0001",
  envToken: "env-scim-token-SECRET-0001",
  acmeKey: "acme-api-key-SECRET-0002",
  acmeToken: "acme-scim-token-SECRET-0002",
  globexKey: "globex-api-key-SECRET-0003",
  globexOneKey: "globex-one-key-SECRET-0004",
  globexPassword: "globex-password-SECRET-0005",
  adminToken: "admin-token-SECRET-0006",
};
const ALL_SECRETS = [...Object.values(SECRETS), ...Object.values(SECRETS).map(hex)];

const base = { DIGICERT_API_KEY: SECRETS.envKey, SCIM_BEARER_TOKENS: `idp=${SECRETS.envToken}` };

function problems(env: NodeJS.ProcessEnv, opts: LoadOptions = {}): string[] {
  try {
    loadConfig(env, opts);
  } catch (err) {
    if (err instanceof ConfigError) {
      const text = err.problems.join("\n");
      for (const s of ALL_SECRETS) expect(text).not.toContain(s);
      return err.problems;
    }
    throw err;
  }
  throw new Error("expected a ConfigError");
}

/** A minimal valid file tenant block (at 2 spaces of indent under tenants:), 4 lines. */
const tenant = (id: string, token: string, key: string, extra: string[] = []) => [
  `  ${id}:`,
  `    bearerTokens: "${id}=sha256:${hex(token)}"`,
  "    targets:",
  "      cc:",
  "        platform: certcentral",
  `        apiKey: "${key}"`,
  ...extra,
];

describe("without TENANTS_FILE", () => {
  test("the environment is one tenant, default, made of today's settings", () => {
    const c = loadConfig({ ...base, SCIM_BASIC_USERS: `u:sha256:${hex("pw")}`, DRY_RUN: "true", ROLE_MAPPING_FILE: "roles.yaml" });
    expect(c.tenants).toEqual([
      {
        id: "default",
        credentials: { bearerTokens: c.scim.bearerTokens, basicUsers: c.scim.basicUsers },
        dryRun: true,
        targets: [{ name: "certcentral", digicert: c.digicert, roleMappingFile: "roles.yaml" }],
      },
    ]);
    expect(c.tenants[0].targets[0].digicert).toBe(c.digicert);
    expect(c.tenants[0].idp).toBeUndefined();
  });

  test("on DigiCert ONE the target is named one; storeOnly without a key still has the tenant", () => {
    const one = loadConfig({ ...base, DIGICERT_PLATFORM: "one", DIGICERT_ONE_ACCOUNT_ID: "acc-1" });
    expect(one.tenants.map((t) => t.targets.map((x) => x.name))).toEqual([["one"]]);
    const storeOnly = loadConfig({ SCIM_BEARER_TOKENS: "t-0123456789" }, { storeOnly: true });
    expect(storeOnly.tenants).toHaveLength(1);
    expect(storeOnly.tenants[0].targets[0].digicert.apiKey).toBe("");
  });

  test("DIGICERT_API_KEY is still required", () => {
    expect(problems({ SCIM_BEARER_TOKENS: "t-0123456789" })).toEqual([expect.stringMatching(/^DIGICERT_API_KEY: required/)]);
  });

  test("TENANTS_FILE is a variable of the schema", () => {
    expect(Object.keys(envSchema.shape)).toContain("TENANTS_FILE");
  });
});

describe("with TENANTS_FILE", () => {
  test("two tenants and a fan-out tenant: defaults inherited, paths resolved, the environment's tenant first", () => {
    writeFile("globex-cc.key", `  ${SECRETS.globexKey}\n`);
    const file = tenantsFile(
      "tenants:",
      "  acme:",
      `    bearerTokens: "okta=${SECRETS.acmeToken},old=sha256:${hex("acme-old")}"`,
      "    idp: okta",
      "    targets:",
      "      cc:",
      "        platform: certcentral",
      `        apiKey: "${SECRETS.acmeKey}"`,
      "        containerId: 00123",
      "        roleMappingFile: ./acme-roles.yaml",
      "  globex:",
      "    bearerTokens:",
      `      - "entra=sha256:${hex("globex-token")};expires=2030-01-01"`,
      `      - "${hex("x").slice(0, 10)}-plain-token"`,
      `    basicUsers: ["globex:sha256:${hex(SECRETS.globexPassword)}"]`,
      "    dryRun: false",
      "    targets:",
      "      cc:",
      "        platform: certcentral",
      "        apiKeyFile: globex-cc.key",
      "        samlSsoOnly: true",
      "        certcentralDeactivate: demote:Limited User",
      "      one:",
      "        platform: one",
      "        apiKeyEnv: GLOBEX_ONE_KEY",
      "        accountId: acc-globex",
      "        baseUrl: https://one.example.test/api/v1/",
      "        defaultRole: Read Only",
      "        rateLimit: 500/180s",
      "        oneDeactivate: disable",
      "        oneApplications: [account_manager, trust_lifecycle]",
    );
    const c = loadConfig({
      ...base,
      TENANTS_FILE: file,
      GLOBEX_ONE_KEY: SECRETS.globexOneKey,
      DRY_RUN: "true",
      DIGICERT_BASE_URL: "https://env.example.test/services/v2",
      DIGICERT_DEFAULT_ROLE: "Env Role",
      DIGICERT_CERTCENTRAL_CONTAINER_ID: "999",
      DIGICERT_RATE_LIMIT: "900/180s,90/5s",
      DIGICERT_TIMEOUT_MS: "2500",
      DIGICERT_MAX_RETRIES: "1",
      REDIS_URL: "redis://redis:6379",
      BRIDGE_REPLICAS: "3",
      CERTCENTRAL_DEACTIVATE: "demote:Env Role",
    });
    expect(c.tenants.map((t) => t.id)).toEqual(["default", "acme", "globex"]);
    const [def, acme, globex] = c.tenants;
    expect(def.targets[0].digicert).toBe(c.digicert);

    // acme: one CertCentral target.
    expect(acme.idp).toBe("okta");
    expect(acme.dryRun).toBe(true); // DRY_RUN inherited
    expect(acme.credentials.bearerTokens.map((t) => t.name)).toEqual(["okta", "old"]);
    expect(acme.credentials.bearerTokens.map((t) => t.sha256.toString("hex"))).toEqual([hex(SECRETS.acmeToken), hex("acme-old")]);
    expect(acme.credentials.basicUsers).toEqual([]);
    expect(acme.targets).toHaveLength(1);
    const cc = acme.targets[0];
    expect(cc.name).toBe("cc");
    expect(cc.roleMappingFile).toBe(join(dir, "acme-roles.yaml"));
    expect(cc.digicert).toEqual({
      ...c.digicert,
      platform: "certcentral",
      apiKey: SECRETS.acmeKey,
      // The target's own account: the platform's default URL and role, not DIGICERT_BASE_URL / DIGICERT_DEFAULT_ROLE.
      baseUrl: "https://www.digicert.com/services/v2",
      certcentralContainerId: "00123",
      oneAccountId: undefined,
      defaultRole: "Standard User",
    });
    // Inherited from the environment.
    expect(cc.digicert).toMatchObject({
      rateLimit: [
        { count: 900, windowMs: 180_000 },
        { count: 90, windowMs: 5_000 },
      ],
      timeoutMs: 2500,
      maxRetries: 1,
      redisUrl: "redis://redis:6379",
      replicas: 3,
      certcentralDeactivation: { mode: "demote", role: "Env Role" },
    });

    // globex: fan-out, CertCentral first (primary), then ONE.
    expect(globex.idp).toBeUndefined();
    expect(globex.dryRun).toBe(false);
    expect(globex.credentials.bearerTokens.map((t) => t.name)).toEqual(["entra", "token-2"]);
    expect(globex.credentials.bearerTokens[0].expires).toBe(Date.UTC(2030, 0, 1));
    expect(globex.credentials.basicUsers.map((u) => u.name)).toEqual(["basic:globex"]);
    expect(globex.credentials.basicUsers[0].passwordSha256.toString("hex")).toBe(hex(SECRETS.globexPassword));
    expect(globex.targets.map((t) => [t.name, t.digicert.platform])).toEqual([
      ["cc", "certcentral"],
      ["one", "one"],
    ]);
    const [gcc, gone] = globex.targets;
    expect(gcc.digicert).toMatchObject({
      apiKey: SECRETS.globexKey, // trimmed
      certcentralSamlSsoOnly: true,
      certcentralDeactivation: { mode: "demote", role: "Limited User" },
    });
    expect(gcc.digicert.certcentralContainerId).toBeUndefined(); // not DIGICERT_CERTCENTRAL_CONTAINER_ID
    expect(gcc.roleMappingFile).toBeUndefined();
    expect(gone.digicert).toMatchObject({
      platform: "one",
      apiKey: SECRETS.globexOneKey,
      oneAccountId: "acc-globex",
      baseUrl: "https://one.example.test/api/v1",
      defaultRole: "Read Only",
      rateLimit: [{ count: 500, windowMs: 180_000 }],
      oneDeactivation: "disable",
      oneApplications: ["account_manager", "trust_lifecycle"],
      timeoutMs: 2500,
    });
    expect(tenantApiKeys(c.tenants).sort()).toEqual([SECRETS.envKey, SECRETS.acmeKey, SECRETS.globexKey, SECRETS.globexOneKey].sort());
  });

  test("without DIGICERT_API_KEY the file alone defines the tenants; the platform's env settings are not required", () => {
    const file = tenantsFile("tenants:", ...tenant("acme", SECRETS.acmeToken, SECRETS.acmeKey));
    const c = loadConfig({ TENANTS_FILE: file, DIGICERT_PLATFORM: "one" });
    expect(c.tenants.map((t) => t.id)).toEqual(["acme"]);
    expect(c.digicert.apiKey).toBe("");
    expect(c.scim.bearerTokens).toEqual([]);
    // The file may then declare the tenant default.
    const own = loadConfig({ TENANTS_FILE: tenantsFile("tenants:", ...tenant("default", SECRETS.acmeToken, SECRETS.acmeKey)) });
    expect(own.tenants.map((t) => t.id)).toEqual(["default"]);
  });

  test("without DIGICERT_API_KEY, env SCIM credentials have no tenant to open", () => {
    const file = tenantsFile("tenants:", ...tenant("acme", SECRETS.acmeToken, SECRETS.acmeKey));
    const found = problems({ TENANTS_FILE: file, SCIM_BEARER_TOKENS: SECRETS.envToken, SCIM_BASIC_USERS: `u:sha256:${hex("pw")}` });
    expect(found).toEqual([
      expect.stringMatching(/^SCIM_BEARER_TOKENS: .*belong to the default tenant, which needs DIGICERT_API_KEY.*declare the tenant in TENANTS_FILE/),
      expect.stringMatching(/^SCIM_BASIC_USERS: .*belong to the default tenant, which needs DIGICERT_API_KEY/),
    ]);
  });

  test("a file declaring no tenant while the environment defines none is refused (allowed for storeOnly)", () => {
    const file = tenantsFile("tenants: {}");
    expect(problems({ TENANTS_FILE: file })).toEqual([expect.stringMatching(/^TENANTS_FILE: .*declares no tenant/)]);
    expect(loadConfig({ TENANTS_FILE: file }, { storeOnly: true }).tenants).toEqual([]);
    expect(loadConfig({ ...base, TENANTS_FILE: file }).tenants.map((t) => t.id)).toEqual(["default"]);
  });

  test("storeOnly: a target's missing API key and platform settings are not required", () => {
    const file = tenantsFile("tenants:", "  acme:", `    bearerTokens: "${SECRETS.acmeToken}"`, "    targets:", "      one:", "        platform: one", "        apiKeyEnv: UNSET_KEY");
    const c = loadConfig({ TENANTS_FILE: file }, { storeOnly: true });
    expect(c.tenants[0].targets[0].digicert.apiKey).toBe("");
    expect(problems({ TENANTS_FILE: file })).toEqual([
      expect.stringContaining(`${file} line 5: tenants.acme.targets.one.accountId: required for platform one`),
      expect.stringContaining(`${file} line 7: tenants.acme.targets.one.apiKeyEnv: names UNSET_KEY, which is not set`),
    ]);
  });
});

describe("problems in the file name TENANTS_FILE, the file, the line and the key path, never a secret", () => {
  const env = (file: string, extra: NodeJS.ProcessEnv = {}) => ({ ...base, TENANTS_FILE: file, ...extra });

  test("an unknown key, with its line and a hint", () => {
    const file = tenantsFile("tenants:", ...tenant("acme", SECRETS.acmeToken, SECRETS.acmeKey, ["        plaform: one"]));
    expect(problems(env(file))).toEqual([
      `TENANTS_FILE: ${file} line 8: tenants.acme.targets.cc.plaform: unknown key (did you mean platform?); expected platform, apiKey, apiKeyFile, apiKeyEnv, baseUrl, containerId, accountId, defaultRole, rateLimit, roleMappingFile, certcentralDeactivate, oneDeactivate, oneApplications, samlSsoOnly`,
    ]);
    const top = tenantsFile("tenant:", "  acme: {}");
    expect(problems(env(top))).toEqual([
      expect.stringMatching(new RegExp(`^TENANTS_FILE: ${top} line 1: tenant: unknown key \\(did you mean tenants\\?\\)`)),
      `TENANTS_FILE: ${top} line 1: tenants: required: an object of tenants by id`,
    ]);
    const inTenant = tenantsFile("tenants:", ...tenant("acme", SECRETS.acmeToken, SECRETS.acmeKey), "    dryrun: true");
    expect(problems(env(inTenant))).toEqual([expect.stringContaining(`${inTenant} line 8: tenants.acme.dryrun: unknown key (did you mean dryRun?)`)]);
  });

  test("a missing or unknown platform", () => {
    const missing = tenantsFile("tenants:", "  acme:", `    bearerTokens: "${SECRETS.acmeToken}"`, "    targets:", "      cc:", `        apiKey: "${SECRETS.acmeKey}"`);
    expect(problems(env(missing))).toEqual([`TENANTS_FILE: ${missing} line 5: tenants.acme.targets.cc.platform: required: one of certcentral, one`]);
    const bad = tenantsFile("tenants:", ...tenant("acme", SECRETS.acmeToken, SECRETS.acmeKey).map((l) => l.replace("certcentral", "azure")));
    expect(problems(env(bad))).toEqual([`TENANTS_FILE: ${bad} line 6: tenants.acme.targets.cc.platform: must be one of certcentral, one`]);
  });

  test("the API key: exactly one source, and it must give a key", () => {
    const two = tenantsFile("tenants:", ...tenant("acme", SECRETS.acmeToken, SECRETS.acmeKey, ["        apiKeyEnv: ACME_KEY"]));
    expect(problems(env(two, { ACME_KEY: "x-0123456789" }))).toEqual([
      `TENANTS_FILE: ${two} line 8: tenants.acme.targets.cc: give exactly one of apiKey, apiKeyFile or apiKeyEnv (apiKey and apiKeyEnv are set)`,
    ]);
    const none = tenantsFile("tenants:", "  acme:", `    bearerTokens: "${SECRETS.acmeToken}"`, "    targets:", "      cc:", "        platform: certcentral");
    expect(problems(env(none))).toEqual([expect.stringMatching(new RegExp(`^TENANTS_FILE: ${none} line 5: tenants.acme.targets.cc.apiKey: required: the DigiCert API key`))]);
    const noFile = tenantsFile("tenants:", ...tenant("acme", SECRETS.acmeToken, SECRETS.acmeKey).map((l) => l.replace(/apiKey: .*/, "apiKeyFile: missing.key")));
    expect(problems(env(noFile))).toEqual([`TENANTS_FILE: ${noFile} line 7: tenants.acme.targets.cc.apiKeyFile: cannot read ${join(dir, "missing.key")} (no such file)`]);
    const empty = tenantsFile("tenants:", ...tenant("acme", SECRETS.acmeToken, SECRETS.acmeKey).map((l) => l.replace(/apiKey: .*/, 'apiKey: ""')));
    expect(problems(env(empty))).toEqual([expect.stringContaining(`line 7: tenants.acme.targets.cc.apiKey: must be the DigiCert API key, a non-empty string (got an empty string)`)]);
  });

  test("the platform's required settings (the registry's): DigiCert ONE needs accountId; CertCentral needs no containerId", () => {
    const one = tenantsFile("tenants:", ...tenant("acme", SECRETS.acmeToken, SECRETS.acmeKey).map((l) => l.replace("certcentral", "one")));
    expect(problems(env(one))).toEqual([`TENANTS_FILE: ${one} line 5: tenants.acme.targets.cc.accountId: required for platform one (the account new users join)`]);
    // CertCentral's container is optional (unset: the account's top-level container), as with the environment.
    const cc = tenantsFile("tenants:", ...tenant("acme", SECRETS.acmeToken, SECRETS.acmeKey));
    expect(loadConfig(env(cc)).tenants[1].targets[0].digicert.certcentralContainerId).toBeUndefined();
    const badContainer = tenantsFile("tenants:", ...tenant("acme", SECRETS.acmeToken, SECRETS.acmeKey, ["        containerId: abc"]));
    expect(problems(env(badContainer))).toEqual([expect.stringContaining("line 8: tenants.acme.targets.cc.containerId: must be a numeric CertCentral container id")]);
  });

  test("wrong types and values", () => {
    const file = tenantsFile(
      "tenants:",
      ...tenant("acme", SECRETS.acmeToken, SECRETS.acmeKey, [
        "        baseUrl: ftp://x",
        "        rateLimit: lots",
        "        certcentralDeactivate: vanish",
        "        oneDeactivate: vanish",
        "        oneApplications: 3",
        "        samlSsoOnly: yes",
        "        roleMappingFile: [a]",
      ]),
      "    idp: google",
      "    dryRun: maybe",
    );
    expect(problems(env(file))).toEqual([
      expect.stringContaining("line 8: tenants.acme.targets.cc.baseUrl: must be an http(s) URL"),
      expect.stringContaining("line 9: tenants.acme.targets.cc.rateLimit: "),
      expect.stringContaining("line 10: tenants.acme.targets.cc.certcentralDeactivate: must be delete or demote:<role name or id>"),
      expect.stringContaining("line 11: tenants.acme.targets.cc.oneDeactivate: must be delete or disable"),
      expect.stringContaining("line 12: tenants.acme.targets.cc.oneApplications: must be a non-empty list of application codes"),
      expect.stringContaining("line 13: tenants.acme.targets.cc.samlSsoOnly: must be true or false (got a string)"),
      expect.stringContaining("line 14: tenants.acme.targets.cc.roleMappingFile: must be the path of a role mapping file (got a list)"),
      expect.stringContaining("line 15: tenants.acme.idp: must be one of okta, entra, onelogin, jumpcloud, other"),
      expect.stringContaining("line 16: tenants.acme.dryRun: must be true or false (got a string)"),
    ]);
    const shapes = tenantsFile("tenants:", "  acme:", "    bearerTokens: {a: b}", "    targets: []", "  beta: nothing");
    expect(problems(env(shapes))).toEqual([
      expect.stringContaining("line 3: tenants.acme.bearerTokens: must be a comma-separated string of tokens (as in the environment variable) or a list of them (got an object)"),
      expect.stringContaining("line 4: tenants.acme.targets: must be an object of at least one target by name (got an empty list)"),
      expect.stringContaining("line 5: tenants.beta: must be an object with targets and bearerTokens and/or basicUsers (got a string)"),
    ]);
  });

  test("credential entries are checked with the environment's grammar, naming positions, never values", () => {
    const file = tenantsFile(
      "tenants:",
      "  acme:",
      "    bearerTokens:",
      `      - "a=sha256:${SECRETS.acmeToken}"`,
      `      - "a=${SECRETS.acmeToken}"`,
      `      - "a=${SECRETS.globexKey}"`,
      `    basicUsers: "u:${SECRETS.globexPassword}"`,
      "    targets:",
      "      cc:",
      "        platform: certcentral",
      `        apiKey: "${SECRETS.acmeKey}"`,
    );
    expect(problems(env(file))).toEqual([
      expect.stringContaining(`${file} line 3: tenants.acme.bearerTokens: token name "a" is used more than once`),
      expect.stringContaining(`${file} line 4: tenants.acme.bearerTokens[0]: token "a" is sha256: but not 64 hex digits`),
      expect.stringContaining(`${file} line 7: tenants.acme.basicUsers: user "u": plain passwords are refused`),
    ]);
  });

  test("a tenant needs a credential and a target", () => {
    const file = tenantsFile("tenants:", "  acme:", "    idp: okta");
    expect(problems(env(file))).toEqual([
      expect.stringContaining(`${file} line 2: tenants.acme: needs at least one credential (bearerTokens or basicUsers)`),
      expect.stringContaining(`${file} line 2: tenants.acme.targets: required: at least one DigiCert target`),
    ]);
  });

  test("tenant ids and target names have a syntax", () => {
    const file = tenantsFile(
      "tenants:",
      ...tenant("Acme_Corp", SECRETS.acmeToken, SECRETS.acmeKey),
      ...tenant("globex", SECRETS.globexKey, SECRETS.globexKey).map((l) => l.replace("cc:", "-cc:")),
      ...tenant("x".repeat(64), "t3", SECRETS.acmeKey),
    );
    expect(problems(env(file))).toEqual([
      expect.stringContaining(`${file} line 2: tenants.Acme_Corp: a tenant id must be 1-63 characters of a-z, 0-9 and -`),
      expect.stringContaining(`${file} line 11: tenants.globex.targets.-cc: a target name must be 1-32 characters of a-z, 0-9 and -`),
      expect.stringContaining(`${file} line 14: tenants.${"x".repeat(64)}: a tenant id must be`),
    ]);
  });

  test("tenant ids and target names are unique (YAML keys)", () => {
    const file = tenantsFile("tenants:", ...tenant("acme", SECRETS.acmeToken, SECRETS.acmeKey), ...tenant("acme", "t2", SECRETS.acmeKey));
    expect(problems(env(file))).toEqual([`TENANTS_FILE: ${file} line 8, column 3: YAML syntax error: Map keys must be unique`]);
    const targets = tenantsFile("tenants:", ...tenant("acme", SECRETS.acmeToken, SECRETS.acmeKey), "      cc:", "        platform: one");
    expect(problems(env(targets))).toEqual([expect.stringContaining(`${targets} line 8, column 7: YAML syntax error: Map keys must be unique`)]);
  });

  test("the tenant default is declared once: in the environment or in the file", () => {
    const file = tenantsFile("tenants:", ...tenant("default", SECRETS.acmeToken, SECRETS.acmeKey));
    expect(problems(env(file))).toEqual([
      expect.stringMatching(new RegExp(`^TENANTS_FILE: ${file} line 2: tenants.default: the environment defines tenant "default" already \\(DIGICERT_API_KEY is set`)),
    ]);
  });

  test("a bearer token or a Basic username opens one tenant only (the environment's included)", () => {
    const file = tenantsFile(
      "tenants:",
      ...tenant("acme", SECRETS.acmeToken, SECRETS.acmeKey),
      `    basicUsers: "shared:sha256:${hex("pw-1")}"`,
      "  globex:",
      `    bearerTokens: "mine=${SECRETS.acmeToken},also-env=sha256:${hex(SECRETS.envToken)}"`,
      `    basicUsers: "shared:sha256:${hex("pw-2")}"`,
      "    targets:",
      "      cc:",
      "        platform: certcentral",
      `        apiKey: "${SECRETS.globexKey}"`,
    );
    expect(problems(env(file))).toEqual([
      `TENANTS_FILE: ${file} line 10: tenants.globex.bearerTokens: token "mine" is also token "acme" of tenant "acme" (line 3); a credential must open one tenant only`,
      `TENANTS_FILE: ${file} line 10: tenants.globex.bearerTokens: token "also-env" is also token "idp" of tenant "default" (SCIM_BEARER_TOKENS); a credential must open one tenant only`,
      `TENANTS_FILE: ${file} line 11: tenants.globex.basicUsers: user "shared" is also a Basic user of tenant "acme" (line 8); a username must open one tenant only`,
    ]);
  });

  test("ADMIN_TOKENS, ADMIN_BASIC_USERS and METRICS_TOKEN never equal a tenant's credential", () => {
    const file = tenantsFile("tenants:", ...tenant("acme", SECRETS.acmeToken, SECRETS.acmeKey), `    basicUsers: "ops:sha256:${hex("pw")}"`);
    const found = problems(
      env(file, {
        ADMIN_TOKENS: `adm=${SECRETS.acmeToken},ok=${SECRETS.adminToken}`,
        ADMIN_BASIC_USERS: `ops:sha256:${hex("pw")}`,
        METRICS_TOKEN: `prom=sha256:${hex(SECRETS.acmeToken)}`,
      }),
    );
    expect(found).toEqual([
      `ADMIN_TOKENS: token "adm" is also token "acme" of tenant "acme" (TENANTS_FILE: ${file} line 3); give the status page a token of its own`,
      `ADMIN_BASIC_USERS: user "ops" has the same password as a Basic user of tenant "acme" (TENANTS_FILE: ${file} line 8); give the status page credentials of its own`,
      `METRICS_TOKEN: token "prom" is also token "acme" of tenant "acme" (TENANTS_FILE: ${file} line 3); give /metrics a token of its own`,
    ]);
  });

  test("targets reaching one DigiCert account (platform, key, base URL) must share its rate limit", () => {
    const file = tenantsFile(
      "tenants:",
      ...tenant("acme", SECRETS.acmeToken, SECRETS.acmeKey, ["        rateLimit: 500/180s"]),
      ...tenant("globex", "globex-token", SECRETS.acmeKey, ["        rateLimit: 600/180s"]),
      // Same key, another base URL: another account as far as pacing goes.
      ...tenant("initech", "initech-token", SECRETS.acmeKey, ["        rateLimit: 700/180s", "        baseUrl: https://other.example.test/v2"]),
      // The environment's key with DIGICERT_RATE_LIMIT's default pacing (inherited): agrees.
      ...tenant("hooli", "hooli-token", SECRETS.envKey),
      // The environment's key with another pacing: refused.
      ...tenant("umbrella", "umbrella-token", SECRETS.envKey, ["        rateLimit: 10/1s"]),
    );
    expect(problems(env(file))).toEqual([
      `TENANTS_FILE: ${file} line 15: tenants.globex.targets.cc.rateLimit: differs from the rate limit of tenants.acme.targets.cc (line 5), which reaches the same DigiCert account (platform certcentral, same API key and base URL); they share one rate budget, so give them the same rateLimit`,
      `TENANTS_FILE: ${file} line 36: tenants.umbrella.targets.cc.rateLimit: differs from the rate limit of the environment's tenant "default" (DIGICERT_RATE_LIMIT), which reaches the same DigiCert account (platform certcentral, same API key and base URL); they share one rate budget, so give them the same rateLimit`,
    ]);
  });

  test("the same windows in another order are the same rate limit", () => {
    const file = tenantsFile(
      "tenants:",
      ...tenant("acme", SECRETS.acmeToken, SECRETS.acmeKey, ['        rateLimit: "100/5s,1000/180s"']),
      ...tenant("globex", "globex-token", SECRETS.acmeKey, ['        rateLimit: "1000/180s,100/5s"']),
      ...tenant("hooli", "hooli-token", SECRETS.envKey, ['        rateLimit: "100/5s, 1000/3m"']),
    );
    expect(loadConfig(env(file)).tenants.map((t) => t.id)).toEqual(["default", "acme", "globex", "hooli"]);
  });

  test("a missing file, a directory, a syntax error", () => {
    const missing = join(dir, "nope.yaml");
    expect(problems(env(missing))).toEqual([`TENANTS_FILE: cannot read ${missing} (no such file)`]);
    expect(problems(env(dir))).toEqual([`TENANTS_FILE: cannot read ${dir} (not a regular file)`]);
    const broken = tenantsFile("tenants:", "  acme:", `    bearerTokens: "${SECRETS.acmeToken}`, "    targets: {}");
    const found = problems(env(broken));
    expect(found).toEqual([expect.stringMatching(new RegExp(`^TENANTS_FILE: ${broken} line \\d+, column \\d+: YAML syntax error: `))]);
    expect(problems(env(tenantsFile("")))).toEqual([expect.stringContaining("(top level): must be an object with tenants (got an empty file)")]);
  });

  test("problems of the file come with the environment's, all at once", () => {
    const file = tenantsFile("tenants:", ...tenant("acme", SECRETS.acmeToken, SECRETS.acmeKey, ["        platfrm: x"]));
    const found = problems(env(file, { PORT: "99999" }));
    expect(found.map((p) => p.split(":")[0])).toEqual(["PORT"]);
    const second = problems(env(file, { DIGICERT_RATE_LIMIT: "lots" }));
    expect(second.map((p) => p.split(":")[0]).sort()).toEqual(["DIGICERT_RATE_LIMIT", "TENANTS_FILE"]);
  });
});

describe("the tenants' API keys", () => {
  test("are masked in logs once the configuration is loaded (as DIGICERT_API_KEY is)", () => {
    const fileKey = "tenant-file-key-SECRET-0042";
    const envKey = "tenant-env-key-SECRET-0043";
    writeFile("masked.key", fileKey);
    const file = tenantsFile(
      "tenants:",
      ...tenant("acme", "acme-token-x", SECRETS.acmeKey).map((l) => l.replace(/apiKey: .*/, "apiKeyFile: masked.key")),
      ...tenant("globex", "globex-token-x", SECRETS.acmeKey).map((l) => l.replace(/apiKey: .*/, "apiKeyEnv: MASKED_KEY")),
    );
    const config = configOrReport({ TENANTS_FILE: file, MASKED_KEY: envKey }, { write: () => true });
    expect(config?.tenants.map((t) => t.targets[0].digicert.apiKey)).toEqual([fileKey, envKey]);
    const out = JSON.stringify(redact({ message: `calling with ${fileKey} and ${envKey}` }));
    expect(out).not.toContain(fileKey);
    expect(out).not.toContain(envKey);
  });
});

describe("tenants.example.yaml", () => {
  test("parses, with its apiKeyEnv variables set", () => {
    const c: AppConfig = loadConfig({
      TENANTS_FILE: join(ROOT, "tenants.example.yaml"),
      ACME_DIGICERT_API_KEY: "acme-key-0123456789",
      GLOBEX_CERTCENTRAL_API_KEY: "globex-cc-key-0123456789",
      GLOBEX_ONE_API_KEY: "globex-one-key-0123456789",
    });
    expect(c.tenants.map((t) => [t.id, t.targets.map((x) => x.digicert.platform)])).toEqual([
      ["acme", ["certcentral"]],
      ["globex", ["certcentral", "one"]],
    ]);
    expect(c.tenants[0].targets[0].roleMappingFile).toBe(join(ROOT, "examples", "role-mapping.yaml"));
    expect(c.tenants[1].dryRun).toBe(true);
  });

  test("with the environment's tenant too", () => {
    const c = loadConfig({
      ...base,
      TENANTS_FILE: join(ROOT, "tenants.example.yaml"),
      ACME_DIGICERT_API_KEY: "acme-key-0123456789",
      GLOBEX_CERTCENTRAL_API_KEY: "globex-cc-key-0123456789",
      GLOBEX_ONE_API_KEY: "globex-one-key-0123456789",
    });
    expect(c.tenants.map((t) => t.id)).toEqual(["default", "acme", "globex"]);
  });
});
