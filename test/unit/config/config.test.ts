import { createHash } from "node:crypto";
import { loadConfig } from "../../../src/config";
import { configProblems } from "../../support/config";

const base = {
  SCIM_BEARER_TOKENS: "a-token-for-tests",
  DIGICERT_API_KEY: "super-secret-api-key",
};

const problems = configProblems;

describe("loadConfig", () => {
  test("defaults follow the documented contract", () => {
    const c = loadConfig(base);
    expect(c.port).toBe(8080);
    expect(c.host).toBe("0.0.0.0");
    expect(c.publicBaseUrl).toBe("http://localhost:8080");
    expect(c.databaseUrl).toBe("sqlite:./data/scim.db");
    expect(c.digicert).toMatchObject({
      platform: "certcentral",
      baseUrl: "https://www.digicert.com/services/v2",
      defaultRole: "Standard User",
      timeoutMs: 10000,
      rateLimit: [
        { count: 1000, windowMs: 180000 },
        { count: 100, windowMs: 5000 },
      ],
      certcentralDeactivation: { mode: "delete" },
    });
    expect(c.scim.maxResults).toBe(200);
  });

  test("DigiCert ONE defaults and its required account id", () => {
    expect(problems({ ...base, DIGICERT_PLATFORM: "one" })).toEqual([expect.stringMatching(/^DIGICERT_ONE_ACCOUNT_ID: required/)]);
    const c = loadConfig({ ...base, DIGICERT_PLATFORM: "one", DIGICERT_ONE_ACCOUNT_ID: "acc-1" });
    expect(c.digicert.baseUrl).toBe("https://one.digicert.com/account/api/v1");
    // Unset: ONE's basic role under its current name or its older one (the first DigiCert offers).
    expect(c.digicert.defaultRole).toEqual(["Account user", "Default User"]);
    expect(loadConfig({ ...base, DIGICERT_PLATFORM: "one", DIGICERT_ONE_ACCOUNT_ID: "acc-1", DIGICERT_DEFAULT_ROLE: "Read Only" }).digicert.defaultRole).toBe("Read Only");
    expect(c.digicert.oneDeactivation).toBe("delete");
    expect(problems({ ...base, DIGICERT_PLATFORM: "one", DIGICERT_ONE_ACCOUNT_ID: "acc-1", ONE_DEACTIVATE: "vanish" })).toEqual([expect.stringMatching(/^ONE_DEACTIVATE: must be delete or disable/)]);
    expect(problems({ ...base, DIGICERT_ONE_APPLICATIONS: "account_manager;x" })).toEqual([expect.stringMatching(/^DIGICERT_ONE_APPLICATIONS: must be a comma-separated list/)]);
    const apps = loadConfig({ ...base, DIGICERT_PLATFORM: "one", DIGICERT_ONE_ACCOUNT_ID: "acc-1", ONE_DEACTIVATE: "disable", DIGICERT_ONE_APPLICATIONS: "account_manager, trust_lifecycle" });
    expect(apps.digicert).toMatchObject({ oneDeactivation: "disable", oneApplications: ["account_manager", "trust_lifecycle"] });
    expect(loadConfig({ ...base, CERTCENTRAL_SAML_SSO_ONLY: "true" }).digicert.certcentralSamlSsoOnly).toBe(true);
  });

  test("plain and sha256 tokens both become digests", () => {
    const digest = createHash("sha256").update("hashed-token").digest("hex");
    const c = loadConfig({ ...base, SCIM_BEARER_TOKENS: ` plain-token , sha256:${digest}` });
    expect(c.scim.bearerTokens.map((t) => t.name)).toEqual(["token-1", "token-2"]);
    expect(c.scim.bearerTokens[0].sha256.equals(createHash("sha256").update("plain-token").digest())).toBe(true);
    expect(c.scim.bearerTokens[1].sha256.toString("hex")).toBe(digest);
  });

  test("every problem is reported at once, each naming its variable, never echoing a secret", () => {
    const found = problems({
      SCIM_BEARER_TOKENS: "sha256:nothex",
      DIGICERT_API_KEY: "super-secret-api-key",
      PORT: "99999",
      DIGICERT_RATE_LIMIT: "lots",
      DATABASE_URL: "mysql://x",
      CERTCENTRAL_DEACTIVATE: "vanish",
    });
    const text = found.join("\n");
    for (const name of ["PORT", "CERTCENTRAL_DEACTIVATE"]) expect(text).toContain(name);
    expect(text).not.toContain("super-secret-api-key");
    const second = problems({ ...base, SCIM_BEARER_TOKENS: "sha256:nothex", DIGICERT_RATE_LIMIT: "lots", DATABASE_URL: "mysql://x" });
    expect(second.map((p) => p.split(":")[0]).sort()).toEqual(["DATABASE_URL", "DIGICERT_RATE_LIMIT", "SCIM_BEARER_TOKENS"]);
  });

  test("required variables are named when missing", () => {
    const found = problems({});
    expect(found.join("\n")).toMatch(/DIGICERT_API_KEY: required/);
  });

  test.each([
    ["DIGICERT_PLATFORM", "azure"],
    ["DIGICERT_BASE_URL", "ftp://x"],
    ["DIGICERT_CERTCENTRAL_CONTAINER_ID", "abc"],
    ["DIGICERT_TIMEOUT_MS", "-5"],
    ["REDIS_URL", "http://redis"],
    ["LOG_LEVEL", "loud"],
    ["LOG_FORMAT", "xml"],
    ["DRY_RUN", "maybe"],
    ["SCIM_MAX_RESULTS", "0"],
  ])("%s=%s is refused with its name", (name, value) => {
    expect(problems({ ...base, [name]: value }).join("\n")).toContain(name);
  });

  test("LOG_FORMAT: json by default, pretty when asked, anything else refused with its name and the choices", () => {
    expect(loadConfig(base).logFormat).toBe("json");
    expect(loadConfig({ ...base, LOG_FORMAT: "" }).logFormat).toBe("json");
    expect(loadConfig({ ...base, LOG_FORMAT: "pretty" }).logFormat).toBe("pretty");
    expect(loadConfig({ ...base, LOG_FORMAT: "json" }).logFormat).toBe("json");
    expect(problems({ ...base, LOG_FORMAT: "Pretty" })).toEqual([expect.stringMatching(/^LOG_FORMAT: must be json or pretty/)]);
  });

  test("ROLE_MAPPING_FILE, DRY_RUN and AUDIT_RETENTION_DAYS", () => {
    expect(loadConfig({ ...base, ROLE_MAPPING_FILE: "roles.yaml" }).roleMappingFile).toBe("roles.yaml");
    expect(loadConfig(base).dryRun).toBe(false);
    expect(loadConfig({ ...base, DRY_RUN: "true" }).dryRun).toBe(true);
    expect(loadConfig({ ...base, DRY_RUN: "false" }).dryRun).toBe(false);
    expect(loadConfig(base).audit.retentionDays).toBe(90);
    expect(loadConfig({ ...base, AUDIT_RETENTION_DAYS: "0" }).audit.retentionDays).toBe(0);
    expect(loadConfig({ ...base, AUDIT_RETENTION_DAYS: "365" }).audit.retentionDays).toBe(365);
    expect(problems({ ...base, AUDIT_RETENTION_DAYS: "-1" }).join()).toContain("AUDIT_RETENTION_DAYS");
    expect(problems({ ...base, AUDIT_RETENTION_DAYS: "ninety" }).join()).toContain("AUDIT_RETENTION_DAYS");
  });

  test("custom values", () => {
    const c = loadConfig({
      ...base,
      PORT: "9000",
      HOST: "127.0.0.1",
      PUBLIC_BASE_URL: "https://scim.example.com/",
      DIGICERT_RATE_LIMIT: "500/3m,50/5s",
      CERTCENTRAL_DEACTIVATE: "demote:Limited User",
      DATABASE_URL: "postgres://u:p@db:5432/scim",
    });
    expect(c.publicBaseUrl).toBe("https://scim.example.com");
    expect(c.digicert.rateLimit).toEqual([
      { count: 500, windowMs: 180000 },
      { count: 50, windowMs: 5000 },
    ]);
    expect(c.digicert.certcentralDeactivation).toEqual({ mode: "demote", role: "Limited User" });
  });
});
