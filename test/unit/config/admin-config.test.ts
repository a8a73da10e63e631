import { createHash } from "node:crypto";
import { loadConfig } from "../../../src/config";
import { envSchema } from "../../../src/config/env";
import { redact } from "../../../src/log/logger";
import { registerSecretsFromEnv } from "../../../src/main";
import { configProblems } from "../../support/config";

// ADMIN_TOKENS and ADMIN_BASIC_USERS: the status page's own credentials.

const hex = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");
const base = { DIGICERT_API_KEY: "super-secret-api-key", SCIM_BEARER_TOKENS: "scim-token-0123456789" };

describe("admin credentials configuration", () => {
  test("both variables are in envSchema (so README and .env.example must document them)", () => {
    expect(Object.keys(envSchema.shape)).toEqual(expect.arrayContaining(["ADMIN_TOKENS", "ADMIN_BASIC_USERS"]));
  });

  test("neither set: no admin config (the page answers 404)", () => {
    expect(loadConfig(base).admin).toBeUndefined();
    expect(loadConfig({ ...base, ADMIN_TOKENS: " ", ADMIN_BASIC_USERS: "" }).admin).toBeUndefined();
  });

  test("tokens take the forms of SCIM_BEARER_TOKENS; Basic users are digests", () => {
    const c = loadConfig({
      ...base,
      ADMIN_TOKENS: `ops=admin-token-secret, sha256:${hex("hashed-admin-token")}`,
      ADMIN_BASIC_USERS: `alice:sha256:${hex("pw")}`,
    });
    expect(c.admin!.tokens.map((t) => t.name)).toEqual(["ops", "token-2"]);
    expect(c.admin!.tokens[0].sha256.toString("hex")).toBe(hex("admin-token-secret"));
    expect(c.admin!.tokens[1].sha256.toString("hex")).toBe(hex("hashed-admin-token"));
    expect(c.admin!.basicUsers.map((u) => u.name)).toEqual(["basic:alice"]);
    // The SCIM credentials are untouched.
    expect(c.scim.bearerTokens.map((t) => t.name)).toEqual(["token-1"]);
    expect(loadConfig({ ...base, ADMIN_BASIC_USERS: `bob:sha256:${hex("x")}` }).admin!.tokens).toEqual([]);
  });

  test("admin credentials alone give the IdP no SCIM credential", () => {
    // The requirement is checked at start, where store tokens count too (test/unit/http/auth-hardening.test.ts).
    const c = loadConfig({ DIGICERT_API_KEY: "k", ADMIN_TOKENS: "admin-token-secret" });
    expect(c.scim.bearerTokens).toEqual([]);
    expect(c.scim.basicUsers).toEqual([]);
    expect(c.scim.oauth).toBeUndefined();
  });

  test("bad entries are refused naming the variable and never the secret", () => {
    const found = configProblems({
      ...base,
      ADMIN_TOKENS: "bad name=adm-secret-1,x=sha256:zz-secret,a=adm-secret-2,a=adm-secret-3",
      ADMIN_BASIC_USERS: `carol:plain-secret-pw,dave:sha256:short,nocolon`,
    });
    const text = found.join("\n");
    expect(found.filter((p) => p.startsWith("ADMIN_TOKENS: "))).toHaveLength(3);
    expect(found.filter((p) => p.startsWith("ADMIN_BASIC_USERS: "))).toHaveLength(3);
    expect(text).toContain('ADMIN_TOKENS: token name "a" is used more than once');
    expect(text).toContain('ADMIN_BASIC_USERS: user "carol": plain passwords are refused');
    expect(text).not.toMatch(/adm-secret|zz-secret|plain-secret-pw/);
  });

  test("a credential shared with SCIM is refused: the status page has credentials of its own", () => {
    const found = configProblems({
      ...base,
      SCIM_BASIC_USERS: `okta:sha256:${hex("same-pw")}`,
      ADMIN_TOKENS: `ops=sha256:${hex("scim-token-0123456789")}`,
      ADMIN_BASIC_USERS: `okta:sha256:${hex("same-pw")},okta2:sha256:${hex("same-pw")}`,
    });
    expect(found).toEqual([
      'ADMIN_TOKENS: token "ops" is also in SCIM_BEARER_TOKENS; give the status page a token of its own',
      'ADMIN_BASIC_USERS: user "okta" has the same password in SCIM_BASIC_USERS; give the status page credentials of its own',
    ]);
  });

  test("admin tokens and digests are registered for log redaction, names are not", () => {
    registerSecretsFromEnv({
      ADMIN_TOKENS: `ops=admin-named-secret-1, admin-plain-secret-2, hashed=sha256:${hex("adm")}`,
      ADMIN_BASIC_USERS: `alice:sha256:${hex("alice-pw")}`,
    });
    const line = redact(`ops admin-named-secret-1 admin-plain-secret-2 ${hex("adm")} alice ${hex("alice-pw")}`) as string;
    expect(line.split(" ")).toEqual(["ops", "[REDACTED]", "[REDACTED]", "[REDACTED]", "alice", "[REDACTED]"]);
  });
});
