import { createHash } from "node:crypto";
import { loadConfig } from "../../../src/config";
import { envSchema } from "../../../src/config/env";
import { redact } from "../../../src/log/logger";
import { registerSecretsFromEnv } from "../../../src/main";
import { configProblems } from "../../support/config";

const hex = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");
const SIGNING_KEY = "signing-key-0123456789-abcdefghijklmnop";
const base = { DIGICERT_API_KEY: "super-secret-api-key" };

const problems = configProblems;

describe("authentication configuration", () => {
  test("the new variables are in envSchema", () => {
    expect(Object.keys(envSchema.shape)).toEqual(
      expect.arrayContaining(["SCIM_BASIC_USERS", "OAUTH_CLIENTS", "OAUTH_SIGNING_KEY", "OAUTH_TOKEN_TTL_SECONDS"]),
    );
  });

  describe("SCIM_BEARER_TOKENS", () => {
    test("named and unnamed, plain and hashed entries; names by position for unnamed ones", () => {
      const digest = hex("entra-secret");
      const c = loadConfig({
        ...base,
        SCIM_BEARER_TOKENS: ` okta=okta-secret-token , entra=sha256:${digest}, plain-token ,sha256:${hex("x")}, b64tokenpadded== `,
      });
      expect(c.scim.bearerTokens.map((t) => t.name)).toEqual(["okta", "entra", "token-3", "token-4", "token-5"]);
      expect(c.scim.bearerTokens[0].sha256.equals(createHash("sha256").update("okta-secret-token").digest())).toBe(true);
      expect(c.scim.bearerTokens[1].sha256.toString("hex")).toBe(digest);
      // Trailing base64 padding keeps a token unnamed and whole.
      expect(c.scim.bearerTokens[4].sha256.toString("hex")).toBe(hex("b64tokenpadded=="));
      expect(c.scim.basicUsers).toEqual([]);
      expect(c.scim.oauth).toBeUndefined();
    });

    test("bad names, duplicate names and bad digests are refused, naming the variable and no secret", () => {
      const found = problems({
        ...base,
        SCIM_BEARER_TOKENS: "bad name=tok-secret-1,tok-secret-2,a=tok-secret-3,a=tok-secret-4,x=sha256:zz-secret,token-2=tok-secret-6",
      });
      const text = found.join("\n");
      expect(found.every((p) => p.startsWith("SCIM_BEARER_TOKENS: "))).toBe(true);
      expect(text).toMatch(/entry 1: the name/);
      expect(text).toContain('token name "a" is used more than once');
      expect(text).toContain('token "x" is sha256: but not 64 hex digits');
      // A name may not collide with the position name of an unnamed token either.
      expect(text).toContain('token name "token-2" is used more than once');
      expect(text).not.toMatch(/tok-secret|zz-secret/);
    });

    test("SCIM_BEARER_TOKENS alone still satisfies the requirement", () => {
      expect(loadConfig({ ...base, SCIM_BEARER_TOKENS: "only-token" }).scim.bearerTokens).toHaveLength(1);
    });
  });

  describe("SCIM_BASIC_USERS", () => {
    test("username:sha256:<hex> entries become digests named basic:<username>", () => {
      const c = loadConfig({ ...base, SCIM_BASIC_USERS: `okta:sha256:${hex("pw1")}, entra : SHA256:${hex("pw2").toUpperCase()}` });
      expect(c.scim.bearerTokens).toEqual([]);
      expect(c.scim.basicUsers.map((u) => [u.username, u.name])).toEqual([
        ["okta", "basic:okta"],
        ["entra", "basic:entra"],
      ]);
      expect(c.scim.basicUsers[0].passwordSha256.toString("hex")).toBe(hex("pw1"));
      expect(c.scim.basicUsers[1].passwordSha256.toString("hex")).toBe(hex("pw2"));
      expect(c.scim.basicUsers[0].usernameSha256.toString("hex")).toBe(hex("okta"));
    });

    test("a plain password is refused with the hashing command, never echoed", () => {
      const found = problems({ ...base, SCIM_BASIC_USERS: "okta:PlainPassw0rd-secret" });
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(/^SCIM_BASIC_USERS: /);
      expect(found[0]).toContain("printf %s 'password' | sha256sum");
      expect(found[0]).not.toContain("PlainPassw0rd-secret");
    });

    test("malformed entries, bad digests and duplicate users are refused without secrets", () => {
      const found = problems({
        ...base,
        SCIM_BASIC_USERS: `nocolon-secret,:sha256:${hex("a")},u1:sha256:abc-secret,u2:sha256:${hex("b")},u2:sha256:${hex("c")}`,
      });
      const text = found.join("\n");
      expect(found.every((p) => p.startsWith("SCIM_BASIC_USERS: "))).toBe(true);
      expect(text).toContain("entry 1 must be username:sha256:");
      expect(text).toContain("entry 2: the username");
      expect(text).toContain('user "u1": sha256: must be followed by the 64 hex digits');
      expect(text).toContain('username "u2" is used more than once');
      expect(text).not.toMatch(/nocolon-secret|abc-secret/);
      for (const s of ["a", "b", "c"]) expect(text).not.toContain(hex(s));
    });
  });

  describe("OAUTH_CLIENTS", () => {
    test("clients with several secrets, the signing key and the TTL", () => {
      const c = loadConfig({
        ...base,
        OAUTH_CLIENTS: `entra:sha256:${hex("s1")}|sha256:${hex("s2")},other:sha256:${hex("s3")}`,
        OAUTH_SIGNING_KEY: SIGNING_KEY,
      });
      expect(c.scim.oauth).toBeDefined();
      expect(c.scim.oauth!.tokenTtlSeconds).toBe(3600);
      expect(c.scim.oauth!.signingKey).toBe(SIGNING_KEY);
      expect(c.scim.oauth!.clients.map((x) => [x.clientId, x.secretSha256.map((b) => b.toString("hex"))])).toEqual([
        ["entra", [hex("s1"), hex("s2")]],
        ["other", [hex("s3")]],
      ]);
      const ttl = loadConfig({ ...base, OAUTH_CLIENTS: `e:sha256:${hex("s")}`, OAUTH_SIGNING_KEY: SIGNING_KEY, OAUTH_TOKEN_TTL_SECONDS: "60" });
      expect(ttl.scim.oauth!.tokenTtlSeconds).toBe(60);
    });

    test("OAUTH_SIGNING_KEY is required with OAUTH_CLIENTS, and at least 32 characters", () => {
      const clients = `entra:sha256:${hex("s1")}`;
      expect(problems({ ...base, OAUTH_CLIENTS: clients })).toEqual([expect.stringMatching(/^OAUTH_SIGNING_KEY: required when OAUTH_CLIENTS is set/)]);
      const short = problems({ ...base, OAUTH_CLIENTS: clients, OAUTH_SIGNING_KEY: "short-key-secret" });
      expect(short).toEqual([expect.stringMatching(/^OAUTH_SIGNING_KEY: must be at least 32 characters/)]);
      expect(short.join()).not.toContain("short-key-secret");
    });

    test.each(["59", "86401", "1h", "-5"])("OAUTH_TOKEN_TTL_SECONDS=%s is refused with its name", (ttl) => {
      const found = problems({ ...base, OAUTH_CLIENTS: `e:sha256:${hex("s")}`, OAUTH_SIGNING_KEY: SIGNING_KEY, OAUTH_TOKEN_TTL_SECONDS: ttl });
      expect(found.join("\n")).toMatch(/^OAUTH_TOKEN_TTL_SECONDS: must be a whole number between 60 and 86400/m);
    });

    test("plain secrets, bad digests, bad ids and duplicate clients are refused without secrets", () => {
      const found = problems({
        ...base,
        OAUTH_CLIENTS: `entra:sha256:${hex("s1")}|plain-client-secret,x:sha256:12-secret,bad id:sha256:${hex("s2")},dup:sha256:${hex("s3")},dup:sha256:${hex("s4")},lonely-secret`,
        OAUTH_SIGNING_KEY: SIGNING_KEY,
      });
      const text = found.join("\n");
      expect(found.every((p) => p.startsWith("OAUTH_CLIENTS: "))).toBe(true);
      expect(text).toContain('client "entra", secret 2: plain secrets are refused');
      expect(text).toContain("printf %s 'secret' | sha256sum");
      expect(text).toContain('client "x", secret 1: sha256: must be followed');
      expect(text).toContain("entry 3: the client_id");
      expect(text).toContain('client_id "dup" is used more than once');
      expect(text).toContain("entry 6 must be client_id:sha256:");
      expect(text).not.toMatch(/plain-client-secret|12-secret|lonely-secret/);
      expect(text).not.toContain(SIGNING_KEY);
    });
  });

  describe("at least one method", () => {
    // Tokens may live in the store (digicert-scim tokens create), so "at least one" is checked at start
    // (checkCredentialsAtStart, test/unit/http/auth-hardening.test.ts), not by loadConfig.
    test("none configured is not a configuration problem; empty values and blank lists count as unset", () => {
      expect(loadConfig({ ...base }).scim.bearerTokens).toEqual([]);
      const c = loadConfig({ ...base, SCIM_BEARER_TOKENS: " , ", SCIM_BASIC_USERS: "", OAUTH_CLIENTS: " " });
      expect([c.scim.bearerTokens.length, c.scim.basicUsers.length, c.scim.oauth]).toEqual([0, 0, undefined]);
    });

    test("each method alone is enough", () => {
      expect(loadConfig({ ...base, SCIM_BASIC_USERS: `u:sha256:${hex("p")}` }).scim.basicUsers).toHaveLength(1);
      expect(loadConfig({ ...base, OAUTH_CLIENTS: `c:sha256:${hex("p")}`, OAUTH_SIGNING_KEY: SIGNING_KEY }).scim.oauth!.clients).toHaveLength(1);
    });
  });
});

describe("registerSecretsFromEnv", () => {
  test("masks tokens (named or not), credential digests and the signing key, but not names", () => {
    registerSecretsFromEnv({
      SCIM_BEARER_TOKENS: `okta=named-token-secret-1, plain-token-secret-2 ,entra=sha256:${hex("t")}`,
      SCIM_BASIC_USERS: `alice:sha256:${hex("pw")}`,
      OAUTH_CLIENTS: `entra-client:sha256:${hex("s1")}|sha256:${hex("s2")}`,
      OAUTH_SIGNING_KEY: SIGNING_KEY,
    });
    const line = redact(
      `okta named-token-secret-1 plain-token-secret-2 ${hex("t")} alice ${hex("pw")} entra-client ${hex("s1")} ${hex("s2")} ${SIGNING_KEY}`,
    ) as string;
    expect(line.split(" ")).toEqual(["okta", "[REDACTED]", "[REDACTED]", "[REDACTED]", "alice", "[REDACTED]", "entra-client", "[REDACTED]", "[REDACTED]", "[REDACTED]"]);
  });
});
