// Hostile authentication over the real app: failed attempts limited per client address on every authenticated
// surface (AUTH_FAILURE_LIMIT, TRUST_PROXY), token expiry, and tokens kept in the store (`digicert-scim tokens`).
import { createHash } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import request from "supertest";
import { runCli } from "../../../src/cli";
import { startHarness, TOKEN, API_KEY, type Harness } from "../../support/harness";

const hex = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
const ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error";

const ADMIN_TOKEN = "hardening-admin-token-0a1b2c3d";
const METRICS_TOKEN = "hardening-metrics-token-4e5f6a7b";
const CLIENT_SECRET = "hardening-client-secret-8c9d0e1f";
const SIGNING_KEY = "hardening-signing-key-0123456789abcdefghijklmnop";
const EXPIRED_TOKEN = "hardening-expired-token-11223344";
const SOON_TOKEN = "hardening-soon-token-55667788";
const SECRETS = [TOKEN, ADMIN_TOKEN, METRICS_TOKEN, CLIENT_SECRET, SIGNING_KEY, EXPIRED_TOKEN, SOON_TOKEN, API_KEY];

function logLines(h: Harness): Record<string, unknown>[] {
  return h
    .logs()
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const blockWarnings = (h: Harness, address: string) =>
  logLines(h).filter((l) => l.message === "too many failed authentications: client address blocked" && l.address === address);

function credentialOf(h: Harness, requestId: string): unknown {
  return logLines(h).find((l) => l.message === "request" && l.requestId === requestId)?.credential;
}

describe("AUTH_FAILURE_LIMIT on every surface", () => {
  let h: Harness;
  let seq = 0;
  /** A request from `address` (X-Forwarded-For, trusted from loopback here). */
  const from = (address: string, t: request.Test, auth?: string) => {
    t.set("X-Forwarded-For", address).set("X-Request-Id", `hardening-${++seq}`);
    return auth ? t.set("Authorization", auth) : t;
  };
  const scim = (address: string, auth?: string) => from(address, request(h.app).get("/scim/v2/Users"), auth);
  const admin = (address: string, auth?: string) => from(address, request(h.app).get("/admin/api/status"), auth);
  const metrics = (address: string, auth?: string) => from(address, request(h.app).get("/metrics"), auth);
  const oauth = (address: string, secret: string) =>
    from(address, request(h.app).post("/oauth/token").type("form").send({ grant_type: "client_credentials" }), basic("entra", secret));

  beforeAll(async () => {
    const soon = new Date(Date.now() + 5 * 86_400_000).toISOString();
    h = await startHarness({
      platform: "certcentral",
      env: {
        AUTH_FAILURE_LIMIT: "3/60s",
        TRUST_PROXY: "loopback",
        SCIM_BEARER_TOKENS: `okta=${TOKEN},old=${EXPIRED_TOKEN};expires=2020-01-01,soon=${SOON_TOKEN};expires=${soon}`,
        ADMIN_TOKENS: `ops=${ADMIN_TOKEN}`,
        METRICS_TOKEN: `prom=${METRICS_TOKEN}`,
        OAUTH_CLIENTS: `entra:sha256:${hex(CLIENT_SECRET)}`,
        OAUTH_SIGNING_KEY: SIGNING_KEY,
      },
    });
  });
  afterAll(async () => h.close());

  test("after 3 failures the address gets 429 (SCIM error, Retry-After), even with the right token; others do not", async () => {
    const address = "203.0.113.1";
    for (let i = 0; i < 3; i++) expect((await scim(address, `Bearer wrong-${i}`)).status).toBe(401);
    const blocked = await scim(address, `Bearer ${TOKEN}`);
    expect(blocked.status).toBe(429);
    expect(blocked.headers["content-type"]).toMatch(/application\/scim\+json/);
    expect(blocked.body).toMatchObject({ schemas: [ERROR_URN], status: "429" });
    expect(Number(blocked.headers["retry-after"])).toBeGreaterThanOrEqual(59);
    expect(Number(blocked.headers["retry-after"])).toBeLessThanOrEqual(60);
    expect((await scim("203.0.113.2", `Bearer ${TOKEN}`)).status).toBe(200);
    // One warning for the block, naming the address and surface, never what was presented.
    expect(blockWarnings(h, address)).toEqual([expect.objectContaining({ level: "warn", surface: "scim", failures: 3, windowSeconds: 60 })]);
    expect((await scim(address, "Bearer wrong-again")).status).toBe(429);
    expect(blockWarnings(h, address)).toHaveLength(1);
  });

  test("requests without a credential are refused but not counted", async () => {
    const address = "203.0.113.3";
    for (let i = 0; i < 10; i++) expect((await scim(address)).status).toBe(401);
    expect((await scim(address, `Bearer ${TOKEN}`)).status).toBe(200);
  });

  test("a success resets nothing: failures before and after it add up", async () => {
    const address = "203.0.113.4";
    expect((await scim(address, "Bearer wrong")).status).toBe(401);
    expect((await scim(address, "Bearer wrong")).status).toBe(401);
    expect((await scim(address, `Bearer ${TOKEN}`)).status).toBe(200);
    expect((await scim(address, "Bearer wrong")).status).toBe(401);
    expect((await scim(address, `Bearer ${TOKEN}`)).status).toBe(429);
  });

  test("failures on /admin, /metrics and /oauth/token count together, and the block holds on all of them", async () => {
    const address = "203.0.113.5";
    expect((await admin(address, "Bearer wrong")).status).toBe(401);
    expect((await metrics(address, "Bearer wrong")).status).toBe(401);
    expect((await oauth(address, "wrong-secret")).status).toBe(401);
    const s = await scim(address, `Bearer ${TOKEN}`);
    expect(s.status).toBe(429);
    const a = await admin(address, `Bearer ${ADMIN_TOKEN}`);
    expect([a.status, a.headers["retry-after"], a.headers["cache-control"]]).toEqual([429, expect.stringMatching(/^\d+$/), "no-store"]);
    const m = await metrics(address, `Bearer ${METRICS_TOKEN}`);
    expect([m.status, m.headers["retry-after"]]).toEqual([429, expect.stringMatching(/^\d+$/)]);
    expect(m.text).not.toContain("scim_requests_total");
    const o = await oauth(address, CLIENT_SECRET);
    expect(o.status).toBe(429);
    expect(o.body).toMatchObject({ error: "temporarily_unavailable" });
    expect(o.body.access_token).toBeUndefined();
    expect(o.headers["retry-after"]).toMatch(/^\d+$/);
    expect(blockWarnings(h, address)).toEqual([expect.objectContaining({ surface: "oauth" })]);
  });

  test("each surface works for an address in good standing", async () => {
    const address = "203.0.113.6";
    expect((await admin(address, `Bearer ${ADMIN_TOKEN}`)).status).toBe(200);
    expect((await metrics(address, `Bearer ${METRICS_TOKEN}`)).status).toBe(200);
    expect((await oauth(address, CLIENT_SECRET)).status).toBe(200);
  });

  test("IPv6 clients are counted per /64", async () => {
    expect((await scim("2001:db8:5:6::1", "Bearer wrong")).status).toBe(401);
    expect((await scim("2001:db8:5:6::2", "Bearer wrong")).status).toBe(401);
    expect((await scim("2001:db8:5:6:ffff::3", "Bearer wrong")).status).toBe(401);
    expect((await scim("2001:db8:5:6::4", `Bearer ${TOKEN}`)).status).toBe(429);
    expect((await scim("2001:db8:5:7::1", `Bearer ${TOKEN}`)).status).toBe(200);
    expect(blockWarnings(h, "2001:db8:5:6::/64")).toHaveLength(1);
  });

  test("an expired token is refused (401, invalid_token), logged as expired with its name, and counted", async () => {
    const address = "203.0.113.7";
    const res = await scim(address, `Bearer ${EXPIRED_TOKEN}`);
    expect(res.status).toBe(401);
    expect(res.headers["www-authenticate"]).toContain('error="invalid_token", error_description="The token has expired"');
    expect(logLines(h)).toContainEqual(
      expect.objectContaining({ level: "warn", message: "credential refused: expired", credential: "old", surface: "scim" }),
    );
    expect((await scim(address, `Bearer ${EXPIRED_TOKEN}`)).status).toBe(401);
    expect((await scim(address, `Bearer ${EXPIRED_TOKEN}`)).status).toBe(401);
    expect((await scim(address, `Bearer ${TOKEN}`)).status).toBe(429);
    // A token that has not expired yet works, and the start warned that it soon will.
    expect((await scim("203.0.113.8", `Bearer ${SOON_TOKEN}`)).status).toBe(200);
    expect(logLines(h)).toContainEqual(expect.objectContaining({ message: "a configured token expires soon", credential: "soon", days: 4 }));
    expect(logLines(h)).toContainEqual(expect.objectContaining({ message: "a configured token has expired and is refused", credential: "old" }));
  });

  test("no secret reaches the logs", () => {
    const logs = h.logs();
    for (const s of SECRETS) expect(logs).not.toContain(s);
  });
});

describe("without TRUST_PROXY", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ platform: "one", env: { AUTH_FAILURE_LIMIT: "2/2s" } });
  });
  afterAll(async () => h.close());

  test("X-Forwarded-For is ignored (the peer address counts), and the block ends when the window has passed", async () => {
    const get = (xff: string, token: string) => request(h.app).get("/scim/v2/Users").set("X-Forwarded-For", xff).set("Authorization", `Bearer ${token}`);
    expect((await get("198.51.100.1", "wrong")).status).toBe(401);
    expect((await get("198.51.100.2", "wrong")).status).toBe(401);
    const blocked = await get("198.51.100.3", TOKEN);
    expect(blocked.status).toBe(429);
    expect(logLines(h).filter((l) => String(l.message).startsWith("too many failed")).map((l) => l.address)).toEqual([
      expect.stringMatching(/^(127\.0\.0\.1|0:0:0:0::\/64)$/),
    ]);
    await new Promise((r) => setTimeout(r, Number(blocked.headers["retry-after"]) * 1000 + 100));
    expect((await get("198.51.100.3", TOKEN)).status).toBe(200);
  });
});

describe("tokens in the store", () => {
  const dir = mkdtempSync(join(tmpdir(), "store-tokens-"));
  let n = 0;
  const freshDb = () => `sqlite:${join(dir, `bridge-${++n}.db`)}`;
  const cli = async (argv: string[], databaseUrl: string) => {
    let out = "";
    let err = "";
    const code = await runCli(argv, {
      env: { DIGICERT_API_KEY: API_KEY, DATABASE_URL: databaseUrl },
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s) },
    });
    return { code, out, err };
  };

  describe("besides SCIM_BEARER_TOKENS", () => {
    let h: Harness;
    let db: string;
    let seq = 0;
    const get = (path: string, auth?: string) => {
      const t = request(h.app).get(path).set("X-Request-Id", `store-token-${++seq}`);
      return auth ? t.set("Authorization", auth) : t;
    };
    beforeAll(async () => {
      db = freshDb();
      h = await startHarness({ platform: "certcentral", databaseUrl: db, env: { AUTH_FAILURE_LIMIT: "off" } });
    });
    afterAll(async () => h.close());

    test("a token made with the CLI works at once, is logged as token:<name>, and records its last use", async () => {
      const made = await cli(["tokens", "create", "--name", "okta-2026"], db);
      expect(made.code).toBe(0);
      const token = made.out.trim();
      const res = await get("/scim/v2/Users", `Bearer ${token}`);
      expect(res.status).toBe(200);
      expect(credentialOf(h, res.headers["x-request-id"])).toBe("token:okta-2026");
      // The environment's tokens still work alongside.
      expect((await get("/scim/v2/Users", `Bearer ${TOKEN}`)).status).toBe(200);
      let lastUsed: string | null = null;
      for (let i = 0; i < 50 && !lastUsed; i++) {
        lastUsed = (await h.bridge.store.tokens.getByName("okta-2026"))!.lastUsed;
        if (!lastUsed) await new Promise((r) => setTimeout(r, 20));
      }
      expect(lastUsed).not.toBeNull();
      expect(h.logs()).not.toContain(token);
    });

    test("rotation: two tokens valid at once; one revoked before it was used is refused at once", async () => {
      const first = (await cli(["tokens", "create", "--name", "rot-a"], db)).out.trim();
      const second = (await cli(["tokens", "create", "--name", "rot-b", "--expires", "30d"], db)).out.trim();
      expect((await get("/scim/v2/Users", `Bearer ${first}`)).status).toBe(200);
      expect((await get("/scim/v2/Users", `Bearer ${second}`)).status).toBe(200);
      const third = (await cli(["tokens", "create", "--name", "rot-c"], db)).out.trim();
      expect((await cli(["tokens", "revoke", "rot-c"], db)).code).toBe(0);
      const refused = await get("/scim/v2/Users", `Bearer ${third}`);
      expect(refused.status).toBe(401);
      expect(logLines(h)).toContainEqual(expect.objectContaining({ message: "credential refused: revoked", credential: "token:rot-c" }));
    });

    test("an expired store token is refused", async () => {
      await h.bridge.store.tokens.create({ name: "lapsed", scope: "scim", sha256: hex("lapsed-token-value"), expires: "2020-01-01T00:00:00.000Z" });
      expect((await get("/scim/v2/Users", "Bearer lapsed-token-value")).status).toBe(401);
      expect(logLines(h)).toContainEqual(expect.objectContaining({ message: "credential refused: expired", credential: "token:lapsed" }));
    });

    test("scopes: a scim token opens neither /admin nor /metrics' admin path; an admin token opens /admin but not SCIM", async () => {
      const scimToken = (await cli(["tokens", "create", "--name", "scim-only"], db)).out.trim();
      const adminToken = (await cli(["tokens", "create", "--name", "ops", "--scope", "admin"], db)).out.trim();
      // No ADMIN_* variable: /admin is hidden (the app's own 404) for anything but an admin store token.
      const unknown = await request(h.app).get("/no-such-path");
      for (const auth of [undefined, `Bearer ${scimToken}`, `Bearer ${TOKEN}`, "Bearer wrong"]) {
        const res = await get("/admin", auth);
        expect(res.status).toBe(404);
        expect(res.body).toEqual(unknown.body);
        expect(res.headers["content-security-policy"]).toBeUndefined();
      }
      const page = await get("/admin/api/status", `Bearer ${adminToken}`);
      expect(page.status).toBe(200);
      expect(page.headers["content-security-policy"]).toBeDefined();
      expect(credentialOf(h, page.headers["x-request-id"])).toBe("admin:token:ops");
      // A browser's login prompt: the token as the Basic password.
      expect((await get("/admin", basic("anyone", adminToken))).status).toBe(200);
      const scimRes = await get("/scim/v2/Users", `Bearer ${adminToken}`);
      expect(scimRes.status).toBe(401);
      expect(logLines(h)).toContainEqual(expect.objectContaining({ message: "credential refused: wrong scope", credential: "token:ops" }));
    });
  });

  test("/metrics with METRICS_TOKEN also takes admin credentials, store admin tokens included, never SCIM ones", async () => {
    const db = freshDb();
    const h = await startHarness({ platform: "one", databaseUrl: db, env: { METRICS_TOKEN: METRICS_TOKEN, ADMIN_TOKENS: `ops=${ADMIN_TOKEN}`, AUTH_FAILURE_LIMIT: "off" } });
    try {
      const adminStore = (await cli(["tokens", "create", "--name", "grafana", "--scope", "admin"], db)).out.trim();
      const scimStore = (await cli(["tokens", "create", "--name", "idp"], db)).out.trim();
      const scrape = (auth: string) => request(h.app).get("/metrics").set("Authorization", auth);
      for (const ok of [`Bearer ${METRICS_TOKEN}`, `Bearer ${ADMIN_TOKEN}`, `Bearer ${adminStore}`, basic("x", ADMIN_TOKEN)]) {
        expect({ ok, status: (await scrape(ok)).status }).toEqual({ ok, status: 200 });
      }
      for (const bad of [`Bearer ${TOKEN}`, `Bearer ${scimStore}`, basic("x", METRICS_TOKEN), "Bearer wrong"]) {
        const res = await scrape(bad);
        expect({ bad, status: res.status }).toEqual({ bad, status: 401 });
        expect(res.headers["www-authenticate"]).toBe('Bearer realm="DigiCert SCIM Bridge metrics", Basic realm="DigiCert SCIM Bridge metrics"');
      }
    } finally {
      await h.close();
    }
  });

  test("with no SCIM credential in the environment the start needs a store token", async () => {
    const db = freshDb();
    const none = { SCIM_BEARER_TOKENS: undefined };
    await expect(startHarness({ platform: "certcentral", databaseUrl: db, env: none })).rejects.toThrow(/SCIM_BEARER_TOKENS: required.*digicert-scim tokens create/s);
    // An admin-scope token is not enough.
    await cli(["tokens", "create", "--name", "ops", "--scope", "admin"], db);
    await expect(startHarness({ platform: "certcentral", databaseUrl: db, env: none })).rejects.toThrow(/SCIM_BEARER_TOKENS: required/);
    const token = (await cli(["tokens", "create", "--name", "okta"], db)).out.trim();
    const h = await startHarness({ platform: "certcentral", databaseUrl: db, env: none });
    try {
      expect((await request(h.app).get("/scim/v2/Users").set("Authorization", `Bearer ${token}`)).status).toBe(200);
      expect((await request(h.app).get("/scim/v2/Users").set("Authorization", `Bearer ${TOKEN}`)).status).toBe(401);
      expect(logLines(h)).toContainEqual(expect.objectContaining({ message: "SCIM credentials: tokens from the store only", tokens: 1 }));
    } finally {
      await h.close();
    }
  });
});
