// The pieces of authentication hardening without HTTP: constant-time comparisons (every comparison is of two
// 32-byte digests, whatever was presented, and every configured entry is compared), the failure limiter, store
// token verification and its cache, token expiry, AUTH_FAILURE_LIMIT / TRUST_PROXY parsing, and the start check.
import * as crypto from "node:crypto";
import { PassThrough } from "node:stream";
import { ConfigError, loadConfig, NO_AUTH_PROBLEM, type BearerCredential } from "../../../src/config";
import { parseAuthFailureLimit, parseExpiresOption, parseExpiry, parseTrustProxy, splitExpiry } from "../../../src/config/auth-settings";
import { createLogger, redact } from "../../../src/log/logger";
import { registerSecretsFromEnv } from "../../../src/main";
import { matchBasic, matchBearer, matchClient, hs256, verifyAccessToken, authenticateScim } from "../../../src/http/auth";
import { AuthFailureLimiter, clientKey } from "../../../src/http/auth-failures";
import { digestEquals, indexOfDigest, sha256, textEquals } from "../../../src/http/secure-compare";
import { checkCredentialsAtStart, StoreTokens, warnExpiringEnvTokens } from "../../../src/http/store-tokens";
import type { StoredToken } from "../../../src/provisioning/records";
import { configProblems } from "../../support/config";

const hex = (s: string) => crypto.createHash("sha256").update(s, "utf8").digest("hex");
const base = { DIGICERT_API_KEY: "unit-api-key-0123456789", SCIM_BEARER_TOKENS: "okta=scim-token-abcdef0123" };

/** A logger whose lines are kept as parsed objects. */
function capturingLogger() {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (d) => (text += d.toString()));
  const logger = createLogger("debug", stream);
  const lines = () =>
    text
      .split("\n")
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const flush = () => new Promise((r) => setImmediate(r));
  return { logger, lines, text: () => text, flush };
}

/** Spies on crypto.timingSafeEqual through the module object the sources call through. */
function spyCompare() {
  const nodeCrypto = require("node:crypto") as typeof crypto;
  return jest.spyOn(nodeCrypto, "timingSafeEqual");
}

function expectAllDigestSized(spy: jest.SpyInstance) {
  expect(spy.mock.calls.length).toBeGreaterThan(0);
  for (const [a, b] of spy.mock.calls) expect([(a as Buffer).length, (b as Buffer).length]).toEqual([32, 32]);
}

describe("constant-time comparisons", () => {
  let spy: jest.SpyInstance;
  beforeEach(() => (spy = spyCompare()));
  afterEach(() => spy.mockRestore());

  const creds: BearerCredential[] = ["first-token", "second-token", "third-token"].map((t, i) => ({ name: `t${i}`, sha256: sha256(t) }));

  test("digestEquals refuses anything but two SHA-256 digests; textEquals compares any lengths through digests", () => {
    expect(() => digestEquals(Buffer.alloc(31), Buffer.alloc(32))).toThrow(/SHA-256/);
    expect(textEquals("a", "a".repeat(10_000))).toBe(false);
    expect(textEquals("", "x")).toBe(false);
    expect(textEquals("same", "same")).toBe(true);
    expectAllDigestSized(spy);
  });

  test("a bearer token is compared with every configured token, whichever matches and whatever its length", () => {
    for (const presented of ["first-token", "third-token", "x", "y".repeat(5000), ""]) {
      spy.mockClear();
      matchBearer(`Bearer ${presented || "-"}`, creds);
      expect(spy).toHaveBeenCalledTimes(creds.length);
      expectAllDigestSized(spy);
    }
    expect(matchBearer("Bearer second-token", creds)).toBe("t1");
    expect(indexOfDigest(sha256("nope"), creds.map((c) => c.sha256))).toBe(-1);
  });

  test("Basic users: username and password of every user are compared", () => {
    const users = ["alice", "bob"].map((u) => ({ username: u, name: `basic:${u}`, usernameSha256: sha256(u), passwordSha256: sha256(`${u}-pw`) }));
    const header = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}`;
    for (const [u, p] of [["alice", "alice-pw"], ["bob", "x"], ["nobody-with-a-long-name", "p".repeat(3000)]]) {
      spy.mockClear();
      matchBasic(header(u, p), users);
      expect(spy).toHaveBeenCalledTimes(4);
      expectAllDigestSized(spy);
    }
    expect(matchBasic(header("bob", "bob-pw"), users)).toBe("basic:bob");
  });

  test("OAuth client secrets: every client and every secret", () => {
    const clients = [
      { clientId: "a", idSha256: sha256("a"), secretSha256: [sha256("s1"), sha256("s2")] },
      { clientId: "b", idSha256: sha256("b"), secretSha256: [sha256("s3")] },
    ];
    spy.mockClear();
    expect(matchClient(["a"], ["s2"], clients)).toBe("a");
    // id and secrets of both clients: (1 + 2) + (1 + 1)
    expect(spy).toHaveBeenCalledTimes(5);
    spy.mockClear();
    expect(matchClient(["a"], ["a-much-longer-wrong-secret"], clients)).toBeNull();
    expect(spy).toHaveBeenCalledTimes(5);
    expectAllDigestSized(spy);
  });

  test("an access token's signature is compared as a digest, also when its length is wrong", () => {
    const oauth = { clients: [{ clientId: "c", idSha256: sha256("c"), secretSha256: [] }], signingKey: "k".repeat(40), tokenTtlSeconds: 600 };
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    const now = Math.floor(Date.now() / 1000);
    const input = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ iss: "digicert-scim-bridge", aud: "scim", sub: "c", iat: now, exp: now + 60 })}`;
    const good = `${input}.${hs256(input, oauth.signingKey)}`;
    expect(verifyAccessToken(good, oauth)).toBe("c");
    spy.mockClear();
    expect(verifyAccessToken(`${input}.AAAA`, oauth)).toBeNull();
    expect(spy).toHaveBeenCalledTimes(1);
    expectAllDigestSized(spy);
  });

  test("a store token found by its digest is compared once more in constant time", async () => {
    const token = storedToken({ name: "okta", sha256: hex("store-token") });
    const store = new StoreTokens({ repo: fakeRepo([token]), logger: capturingLogger().logger });
    spy.mockClear();
    expect(await store.verify(sha256("store-token"), "scim")).toEqual({ ok: true, name: "okta" });
    expect(spy).toHaveBeenCalledTimes(1);
    expectAllDigestSized(spy);
  });
});

function storedToken(over: Partial<StoredToken & { sha256: string }> = {}): StoredToken & { sha256: string } {
  return {
    id: `id-${over.name ?? "t"}`,
    name: "t",
    scope: "scim",
    created: "2026-01-01T00:00:00.000Z",
    expires: null,
    revoked: null,
    lastUsed: null,
    sha256: hex("t"),
    ...over,
  };
}

function fakeRepo(rows: (StoredToken & { sha256: string })[]) {
  const calls = { find: 0, touch: [] as { id: string; at: string }[] };
  return {
    calls,
    rows,
    async findByDigest(sha: string) {
      calls.find++;
      const r = rows.find((t) => t.sha256 === sha);
      return r ? { ...r } : null;
    },
    async touch(id: string, at: string) {
      calls.touch.push({ id, at });
    },
  };
}

describe("store tokens", () => {
  let now = Date.parse("2026-06-01T00:00:00Z");
  const clock = () => now;

  test("valid tokens are cached for 10 s: a revocation takes effect once the entry is older", async () => {
    const row = storedToken({ name: "okta", sha256: hex("tok") });
    const repo = fakeRepo([row]);
    const store = new StoreTokens({ repo, logger: capturingLogger().logger, now: clock });
    expect(await store.verify(sha256("tok"), "scim")).toEqual({ ok: true, name: "okta" });
    row.revoked = new Date(now).toISOString();
    now += 5_000;
    expect(await store.verify(sha256("tok"), "scim")).toEqual({ ok: true, name: "okta" });
    expect(repo.calls.find).toBe(1);
    now += 5_000;
    expect(await store.verify(sha256("tok"), "scim")).toEqual({ ok: false, reason: "revoked", name: "okta" });
    expect(repo.calls.find).toBe(2);
  });

  test("unknown tokens are never cached: a token created after a miss works at once", async () => {
    const repo = fakeRepo([]);
    const store = new StoreTokens({ repo, logger: capturingLogger().logger, now: clock });
    expect(await store.verify(sha256("new"), "scim")).toEqual({ ok: false, reason: "unknown" });
    repo.rows.push(storedToken({ name: "new", sha256: hex("new") }));
    expect(await store.verify(sha256("new"), "scim")).toEqual({ ok: true, name: "new" });
  });

  test("expiry is checked on every use, cached or not; scope must match", async () => {
    const row = storedToken({ name: "soon", sha256: hex("soon"), expires: new Date(now + 2_000).toISOString() });
    const admin = storedToken({ name: "ops", scope: "admin", sha256: hex("ops") });
    const store = new StoreTokens({ repo: fakeRepo([row, admin]), logger: capturingLogger().logger, now: clock });
    expect((await store.verify(sha256("soon"), "scim")).ok).toBe(true);
    now += 2_000;
    expect(await store.verify(sha256("soon"), "scim")).toEqual({ ok: false, reason: "expired", name: "soon" });
    expect(await store.verify(sha256("ops"), "scim")).toEqual({ ok: false, reason: "wrong_scope", name: "ops" });
    expect(await store.verify(sha256("ops"), "admin")).toEqual({ ok: true, name: "ops" });
  });

  test("last_used is written at most once a minute", async () => {
    const repo = fakeRepo([storedToken({ name: "okta", sha256: hex("tok") })]);
    const store = new StoreTokens({ repo, logger: capturingLogger().logger, now: clock });
    for (let i = 0; i < 5; i++) {
      await store.verify(sha256("tok"), "scim");
      now += 11_000;
    }
    expect(repo.calls.touch).toHaveLength(1);
    now += 60_000;
    await store.verify(sha256("tok"), "scim");
    expect(repo.calls.touch).toHaveLength(2);
  });

  test("the SCIM verdict names store tokens token:<name>, and environment tokens win without a store look-up", async () => {
    const repo = fakeRepo([storedToken({ name: "okta", sha256: hex("tok") })]);
    const store = new StoreTokens({ repo, logger: capturingLogger().logger, now: clock });
    const methods = { bearerTokens: [{ name: "env", sha256: sha256("env-token") }] };
    expect(await authenticateScim("Bearer tok", methods, store, now)).toEqual({ kind: "ok", name: "token:okta" });
    expect(await authenticateScim("Bearer env-token", methods, store, now)).toEqual({ kind: "ok", name: "env" });
    expect(repo.calls.find).toBe(1);
    expect(await authenticateScim(undefined, methods, store, now)).toEqual({ kind: "none" });
    expect(await authenticateScim("Bearer nope", methods, store, now)).toEqual({ kind: "invalid" });
  });
});

describe("failed-authentication limiter", () => {
  let now = 1_000_000;
  const clock = () => now;
  const req = (ip: string) => ({ ip });

  test("blocks an address after `count` failures within the window, for the window; one warning per block", () => {
    const log = capturingLogger();
    const limiter = new AuthFailureLimiter({ limit: { count: 3, windowMs: 60_000 }, logger: log.logger, now: clock });
    limiter.fail(req("10.0.0.1"), "scim");
    limiter.fail(req("10.0.0.1"), "admin");
    expect(limiter.blockedFor(req("10.0.0.1"))).toBe(0);
    limiter.fail(req("10.0.0.1"), "metrics");
    expect(limiter.blockedFor(req("10.0.0.1"))).toBe(60);
    expect(limiter.blockedFor(req("10.0.0.2"))).toBe(0);
    // Failures while blocked (a look-up in flight) neither extend the block nor log again.
    limiter.fail(req("10.0.0.1"), "scim");
    now += 30_000;
    expect(limiter.blockedFor(req("10.0.0.1"))).toBe(30);
    now += 30_000;
    expect(limiter.blockedFor(req("10.0.0.1"))).toBe(0);
    return log.flush().then(() => {
      const warnings = log.lines().filter((l) => l.level === "warn");
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ address: "10.0.0.1", surface: "metrics", failures: 3, windowSeconds: 60 });
    });
  });

  test("failures older than the window do not count", () => {
    const limiter = new AuthFailureLimiter({ limit: { count: 2, windowMs: 10_000 }, logger: capturingLogger().logger, now: clock });
    limiter.fail(req("10.1.1.1"), "scim");
    now += 10_001;
    limiter.fail(req("10.1.1.1"), "scim");
    expect(limiter.blockedFor(req("10.1.1.1"))).toBe(0);
    limiter.fail(req("10.1.1.1"), "scim");
    expect(limiter.blockedFor(req("10.1.1.1"))).toBe(10);
  });

  test("memory is bounded: the least recently failing addresses are forgotten first", () => {
    const limiter = new AuthFailureLimiter({ limit: { count: 5, windowMs: 60_000 }, logger: capturingLogger().logger, now: clock, maxTracked: 100 });
    for (let i = 0; i < 1000; i++) limiter.fail(req(`192.0.2.${i % 250}.${i}`.replace(/\.\d+$/, "")), "scim");
    for (let i = 0; i < 5000; i++) limiter.fail(req(`198.51.${Math.floor(i / 250)}.${i % 250}`), "scim");
    expect(limiter.tracked).toBeLessThanOrEqual(100);
  });

  test("off: nothing is counted", () => {
    const limiter = new AuthFailureLimiter({ limit: null, logger: capturingLogger().logger, now: clock });
    for (let i = 0; i < 100; i++) limiter.fail(req("10.9.9.9"), "scim");
    expect(limiter.blockedFor(req("10.9.9.9"))).toBe(0);
    expect(limiter.tracked).toBe(0);
  });

  test("client keys: IPv4 as is, IPv4-mapped IPv6 as IPv4, IPv6 per /64", () => {
    expect(clientKey("203.0.113.9")).toBe("203.0.113.9");
    expect(clientKey("::ffff:203.0.113.9")).toBe("203.0.113.9");
    expect(clientKey("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(clientKey("2001:db8:1:2:ffff:ffff:ffff:ffff")).toBe("2001:db8:1:2::/64");
    expect(clientKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(clientKey("::1")).toBe("0:0:0:0::/64");
    expect(clientKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(clientKey(undefined)).toBe("unknown");
  });
});

describe("configuration", () => {
  test("AUTH_FAILURE_LIMIT: count/window, default 20/60s, 0 or off disables", () => {
    expect(parseAuthFailureLimit(undefined)).toEqual({ count: 20, windowMs: 60_000 });
    expect(parseAuthFailureLimit("5/10m")).toEqual({ count: 5, windowMs: 600_000 });
    expect(parseAuthFailureLimit("off")).toBeNull();
    expect(parseAuthFailureLimit("0")).toBeNull();
    expect(loadConfig(base).authFailureLimit).toEqual({ count: 20, windowMs: 60_000 });
    expect(configProblems({ ...base, AUTH_FAILURE_LIMIT: "lots" })).toEqual([expect.stringMatching(/^AUTH_FAILURE_LIMIT: must be <count>\/<window>/)]);
    expect(configProblems({ ...base, AUTH_FAILURE_LIMIT: "5/0s" })[0]).toMatch(/^AUTH_FAILURE_LIMIT: /);
  });

  test("TRUST_PROXY: unset or false trusts nothing; true, a hop count, or addresses, CIDRs and names", () => {
    expect(parseTrustProxy(undefined)).toBeUndefined();
    expect(parseTrustProxy("false")).toBeUndefined();
    expect(parseTrustProxy("0")).toBeUndefined();
    expect(parseTrustProxy("true")).toBe(true);
    expect(parseTrustProxy("2")).toBe(2);
    expect(parseTrustProxy("loopback, 10.0.0.0/8, fd00::/8, 192.0.2.7")).toEqual(["loopback", "10.0.0.0/8", "fd00::/8", "192.0.2.7"]);
    expect(loadConfig(base).trustProxy).toBeUndefined();
    expect(loadConfig({ ...base, TRUST_PROXY: "uniquelocal" }).trustProxy).toEqual(["uniquelocal"]);
    const found = configProblems({ ...base, TRUST_PROXY: "10.0.0.0/33,proxy.example.com" });
    expect(found).toEqual([expect.stringMatching(/^TRUST_PROXY: .*not understood: 10\.0\.0\.0\/33, proxy\.example\.com/)]);
  });

  test("expiry: ISO dates (00:00 UTC) and date-times with a zone; impossible dates are refused", () => {
    expect(parseExpiry("2027-01-01")).toBe(Date.parse("2027-01-01T00:00:00Z"));
    expect(parseExpiry("2027-01-01T12:30:00+02:00")).toBe(Date.parse("2027-01-01T10:30:00Z"));
    expect(parseExpiry("2027-02-30")).toBeNull();
    expect(parseExpiry("2027-01-01T25:00Z")).toBeNull();
    expect(parseExpiry("2027-01-01T12:00:00")).toBeNull(); // no zone: ambiguous
    expect(parseExpiry("tomorrow")).toBeNull();
    expect(splitExpiry("okta=tok;expires=2027-01-01")).toEqual({ entry: "okta=tok", expires: "2027-01-01" });
    expect(splitExpiry("tok==")).toEqual({ entry: "tok==" });
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseExpiresOption("90d", now)).toBe(now + 90 * 86_400_000);
    expect(parseExpiresOption("2027-01-01", now)).toBe(Date.parse("2027-01-01T00:00:00Z"));
    expect(() => parseExpiresOption("2025-01-01", now)).toThrow(/past/);
    expect(() => parseExpiresOption("soon", now)).toThrow(/--expires/);
  });

  test(";expires= on SCIM_BEARER_TOKENS, ADMIN_TOKENS and METRICS_TOKEN entries, named, unnamed and hashed", () => {
    const c = loadConfig({
      ...base,
      SCIM_BEARER_TOKENS: `okta=scim-token-abcdef0123;expires=2027-01-01, plain-token-xyz;expires=2027-06-01T00:00:00Z,sha256:${hex("h")};expires=2028-01-01`,
      ADMIN_TOKENS: "ops=admin-token-0001;expires=2027-03-01",
      METRICS_TOKEN: "prom=metrics-token-0001;expires=2027-04-01",
    });
    expect(c.scim.bearerTokens.map((t) => [t.name, t.expires])).toEqual([
      ["okta", Date.parse("2027-01-01T00:00:00Z")],
      ["token-2", Date.parse("2027-06-01T00:00:00Z")],
      ["token-3", Date.parse("2028-01-01T00:00:00Z")],
    ]);
    expect(c.scim.bearerTokens[0].sha256.toString("hex")).toBe(hex("scim-token-abcdef0123"));
    expect(c.admin!.tokens[0].expires).toBe(Date.parse("2027-03-01T00:00:00Z"));
    expect(c.metricsTokens![0].expires).toBe(Date.parse("2027-04-01T00:00:00Z"));
  });

  test("a bad expiry names the variable and the entry's name, never the secret", () => {
    const found = configProblems({
      ...base,
      SCIM_BEARER_TOKENS: "okta=scim-secret-one;expires=2027-13-01,scim-secret-two;expires=soon",
      ADMIN_TOKENS: "ops=admin-secret-three;expires=",
    });
    expect(found).toEqual([
      expect.stringMatching(/^SCIM_BEARER_TOKENS: token "okta": expires= must be an ISO date/),
      expect.stringMatching(/^SCIM_BEARER_TOKENS: token 2: expires= must be/),
      expect.stringMatching(/^ADMIN_TOKENS: token "ops": expires= must be/),
    ]);
    expect(found.join("\n")).not.toMatch(/secret/);
  });

  test("the token of an entry with ;expires= is masked in logs", () => {
    registerSecretsFromEnv({ ...base, SCIM_BEARER_TOKENS: "okta=expiring-token-secret-77;expires=2027-01-01" });
    expect(JSON.stringify(redact({ a: "expiring-token-secret-77" }))).not.toContain("expiring-token-secret-77");
  });

  test("no SCIM credential in the environment is allowed by loadConfig", () => {
    expect(loadConfig({ DIGICERT_API_KEY: "k" }).scim.bearerTokens).toEqual([]);
  });
});

describe("start-time checks", () => {
  const NOW = Date.parse("2026-06-01T00:00:00Z");
  const list = (tokens: StoredToken[]) => ({ list: async () => tokens });
  const noEnv = { scim: { bearerTokens: [], basicUsers: [], maxResults: 200 } } as never;

  test("no credential in the environment and no usable scim token in the store: the start fails", async () => {
    const log = capturingLogger();
    const expired = storedToken({ name: "old", expires: "2026-05-01T00:00:00Z" });
    const revoked = storedToken({ name: "gone", revoked: "2026-05-01T00:00:00Z" });
    const admin = storedToken({ name: "ops", scope: "admin" });
    for (const tokens of [[], [expired, revoked, admin]]) {
      const err = await checkCredentialsAtStart(noEnv, list(tokens), log.logger, NOW).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems).toEqual([NO_AUTH_PROBLEM]);
    }
    await expect(checkCredentialsAtStart(noEnv, list([storedToken({ name: "okta" })]), log.logger, NOW)).resolves.toBeUndefined();
    const withEnv = { scim: { bearerTokens: [{ name: "x", sha256: sha256("x") }], basicUsers: [], maxResults: 200 } } as never;
    await expect(checkCredentialsAtStart(withEnv, list([]), log.logger, NOW)).resolves.toBeUndefined();
  });

  test("tokens expiring within 14 days are warned about, by name, never the secret", async () => {
    const log = capturingLogger();
    const day = 86_400_000;
    warnExpiringEnvTokens(
      [
        {
          variable: "SCIM_BEARER_TOKENS",
          tokens: [
            { name: "soon", sha256: sha256("secret-soon"), expires: NOW + 3 * day },
            { name: "later", sha256: sha256("secret-later"), expires: NOW + 30 * day },
            { name: "past", sha256: sha256("secret-past"), expires: NOW - day },
            { name: "never", sha256: sha256("secret-never") },
          ],
        },
      ],
      log.logger,
      NOW,
    );
    await checkCredentialsAtStart(
      noEnv,
      list([storedToken({ name: "rotating", expires: new Date(NOW + 10 * day).toISOString() }), storedToken({ name: "fine" })]),
      log.logger,
      NOW,
    );
    await log.flush();
    const warnings = log.lines().filter((l) => l.level === "warn");
    expect(warnings.map((w) => [w.credential, w.message])).toEqual([
      ["soon", "a configured token expires soon"],
      ["past", "a configured token has expired and is refused"],
      ["token:rotating", "a stored token expires soon (digicert-scim tokens list)"],
    ]);
    expect(warnings[0]).toMatchObject({ variable: "SCIM_BEARER_TOKENS", days: 3 });
    expect(log.text()).not.toMatch(/secret-/);
  });
});
