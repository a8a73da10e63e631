import * as crypto from "node:crypto";
import request from "supertest";
import { oktaUser, PATCH_OP, startHarness, TOKEN, type Harness } from "../../support/harness";
import { writeMapping } from "../../support/mapping";

// The status page over the real app: its own credentials (never the SCIM ones, and the other way round), its
// security headers, and the numbers it reports after a known sequence of SCIM changes.

const hex = (s: string) => crypto.createHash("sha256").update(s, "utf8").digest("hex");
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

const ADMIN_TOKEN = "admin-token-4f3e2d1c0b9a8877";
const HASHED_ADMIN_TOKEN = "admin-token-hashed-66554433";
const ALICE_PASSWORD = "alice-Passw0rd-1029384756";
const SCIM_BASIC_PASSWORD = "scim-basic-Passw0rd-5647382910";
const SECRETS = [ADMIN_TOKEN, HASHED_ADMIN_TOKEN, ALICE_PASSWORD, SCIM_BASIC_PASSWORD, TOKEN];
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const CHALLENGE = 'Basic realm="DigiCert SCIM Bridge admin"';

const ADMIN_ENV = {
  ADMIN_TOKENS: `ops=${ADMIN_TOKEN},sha256:${hex(HASHED_ADMIN_TOKEN)}`,
  ADMIN_BASIC_USERS: `alice:sha256:${hex(ALICE_PASSWORD)}`,
  SCIM_BASIC_USERS: `okta:sha256:${hex(SCIM_BASIC_PASSWORD)}`,
};

function credentialOf(h: Harness, requestId: string): unknown {
  return h
    .logs()
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => l.message === "request" && l.requestId === requestId)?.credential;
}

describe("status page without admin credentials", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ platform: "certcentral" });
  });
  afterAll(() => h.close());

  test("/admin and /admin/api/status are 404, whatever the SCIM credentials", async () => {
    for (const path of ["/admin", "/admin/", "/admin/api/status"]) {
      expect((await request(h.app).get(path)).status).toBe(404);
      expect((await request(h.app).get(path).set("Authorization", `Bearer ${TOKEN}`)).status).toBe(404);
    }
  });
});

describe("status page", () => {
  let h: Harness;
  let seq = 0;
  const get = (path: string, auth?: string) => {
    const t = request(h.app).get(path).set("X-Request-Id", `admin-test-${++seq}`);
    return auth ? t.set("Authorization", auth) : t;
  };

  beforeAll(async () => {
    h = await startHarness({
      platform: "certcentral",
      // Jobs are not waited for, and a job fails after two tries: the sequence below leaves exactly one failed job.
      env: { ...ADMIN_ENV, SYNC_WAIT_MS: "0", OUTBOX_MAX_ATTEMPTS: "2", DIGICERT_CIRCUIT_THRESHOLD: "0" },
    });
  });
  afterAll(() => h.close());

  describe("authentication", () => {
    test("no credentials: 401 with a Basic challenge (a browser asks for a login) and a Bearer one", async () => {
      for (const path of ["/admin", "/admin/api/status"]) {
        const res = await get(path);
        expect(res.status).toBe(401);
        // Two WWW-Authenticate headers, which Node's client joins with ", ".
        expect(res.headers["www-authenticate"]).toBe(`${CHALLENGE}, Bearer realm="DigiCert SCIM Bridge admin"`);
        expect(res.headers["cache-control"]).toBe("no-store");
        expect(res.headers["content-security-policy"]).toContain("default-src 'none'");
        expect(res.text).not.toMatch(/data-metric|"users"|outbox/);
      }
    });

    test("SCIM credentials do not open /admin", async () => {
      expect((await get("/admin", `Bearer ${TOKEN}`)).status).toBe(401);
      expect((await get("/admin/api/status", `Bearer ${TOKEN}`)).status).toBe(401);
      expect((await get("/admin", basic("okta", SCIM_BASIC_PASSWORD))).status).toBe(401);
      expect((await get("/admin", basic("any", TOKEN))).status).toBe(401);
      // …while they still open /scim/v2.
      expect((await get("/scim/v2/Users", `Bearer ${TOKEN}`)).status).toBe(200);
      expect((await get("/scim/v2/Users", basic("okta", SCIM_BASIC_PASSWORD))).status).toBe(200);
    });

    test("admin credentials do not open /scim/v2", async () => {
      for (const auth of [`Bearer ${ADMIN_TOKEN}`, `Bearer ${HASHED_ADMIN_TOKEN}`, basic("alice", ALICE_PASSWORD), basic("x", ADMIN_TOKEN)]) {
        expect((await get("/scim/v2/Users", auth)).status).toBe(401);
      }
    });

    test.each([
      ["a named admin token", `Bearer ${ADMIN_TOKEN}`, "admin:ops"],
      ["an admin token configured as sha256", `Bearer ${HASHED_ADMIN_TOKEN}`, "admin:token-2"],
      ["an ADMIN_BASIC_USERS user", basic("alice", ALICE_PASSWORD), "admin:basic:alice"],
      ["an admin token as the Basic password (any username)", basic("whoever", ADMIN_TOKEN), "admin:ops"],
    ])("%s opens the page and the JSON; the log names it", async (_name, auth, credential) => {
      const page = await get("/admin", auth);
      expect(page.status).toBe(200);
      expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
      expect(credentialOf(h, page.headers["x-request-id"])).toBe(credential);
      const json = await get("/admin/api/status", auth);
      expect(json.status).toBe(200);
      expect(json.headers["content-type"]).toMatch(/^application\/json/);
      // The build answering, in the JSON and in the page's header.
      const pkg = require("../../../package.json") as { version: string };
      expect(json.body.version).toEqual({ version: pkg.version, commit: expect.stringMatching(/^([0-9a-f]{7,64}|unknown)$/), node: process.versions.node });
      expect(page.text).toMatch(new RegExp(`<header>.*Version ${pkg.version.replace(/\./g, "\\.")} · commit .*</header>`));
    });

    test.each([
      ["a wrong token", "Bearer not-the-admin-token"],
      ["a wrong password", basic("alice", "wrong-password")],
      ["a known password under another user", basic("bob", ALICE_PASSWORD)],
      ["a malformed header", "Basic !!!"],
      ["another scheme", `Digest ${ADMIN_TOKEN}`],
    ])("%s is refused", async (_name, auth) => {
      expect((await get("/admin", auth)).status).toBe(401);
    });

    test("comparisons are constant-time digests against every configured credential", async () => {
      // The module object src/http/auth.ts calls through (a namespace import would be a frozen copy).
      const nodeCrypto = require("node:crypto") as typeof crypto;
      const spy = jest.spyOn(nodeCrypto, "timingSafeEqual");
      try {
        await get("/admin", `Bearer ${ADMIN_TOKEN}`); // the first token matches; the second is still compared
        expect(spy).toHaveBeenCalledTimes(2);
        spy.mockClear();
        await get("/admin", "Bearer wrong");
        expect(spy).toHaveBeenCalledTimes(2);
        spy.mockClear();
        // Basic: username and password of each Basic user, and the password against each token.
        await get("/admin", basic("alice", "wrong"));
        expect(spy).toHaveBeenCalledTimes(4);
        for (const [a, b] of spy.mock.calls) expect([(a as Buffer).length, (b as Buffer).length]).toEqual([32, 32]);
      } finally {
        spy.mockRestore();
      }
    });

    test("the read-only page takes no other method", async () => {
      const res = await request(h.app).post("/admin/api/status").set("Authorization", `Bearer ${ADMIN_TOKEN}`).send({});
      expect(res.status).toBe(404);
    });

    test("no secret reaches the logs", () => {
      const logs = h.logs();
      for (const s of SECRETS) expect(logs).not.toContain(s);
    });
  });

  describe("headers", () => {
    test("helmet: a CSP allowing only the page's style sheet (by hash), no framing, no referrer, never cached", async () => {
      const res = await get("/admin", `Bearer ${ADMIN_TOKEN}`);
      const csp = Object.fromEntries(
        (res.headers["content-security-policy"] as string).split(";").map((d) => {
          const [name, ...values] = d.trim().split(/\s+/);
          return [name, values.join(" ")];
        }),
      );
      expect(csp).toEqual({
        "default-src": "'none'",
        "script-src": "'none'",
        "style-src": expect.stringMatching(/^'sha256-[A-Za-z0-9+/]+=*'$/),
        "img-src": "'none'",
        "connect-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
      });
      const style = /<style>([\s\S]*?)<\/style>/.exec(res.text)![1];
      expect(csp["style-src"]).toBe(`'sha256-${crypto.createHash("sha256").update(style).digest("base64")}'`);
      expect(res.headers).toMatchObject({
        "cache-control": "no-store",
        "x-frame-options": "DENY",
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "cross-origin-resource-policy": "same-origin",
        "cross-origin-opener-policy": "same-origin",
      });
      expect(res.headers["strict-transport-security"]).toMatch(/max-age=\d+/);
      expect(res.headers["x-powered-by"]).toBeUndefined();
      const json = await get("/admin/api/status", `Bearer ${ADMIN_TOKEN}`);
      expect(json.headers["cache-control"]).toBe("no-store");
      expect(json.headers["content-security-policy"]).toBe(res.headers["content-security-policy"]);
    });

    test("the SCIM endpoint's answers are left as they were", async () => {
      const res = await get("/scim/v2/Users", `Bearer ${TOKEN}`);
      expect(res.headers["content-security-policy"]).toBeUndefined();
    });
  });

  describe("numbers after a known sequence", () => {
    test("users, sync states, groups, outbox and its failed job, health, role mapping: JSON and page agree", async () => {
      const created: { id: string; userName: string }[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await h.post("/scim/v2/Users", oktaUser());
        expect(res.status).toBe(201);
        created.push({ id: res.body.id, userName: res.body.userName });
      }
      await h.drain();
      // The fourth create fails twice at DigiCert: OUTBOX_MAX_ATTEMPTS=2, so its job ends failed.
      h.sim.failNext({ platform: "certcentral", method: "POST", path: /^\/user$/, status: 502, body: {}, times: 2 });
      const doomed = await h.post("/scim/v2/Users", oktaUser());
      expect(doomed.status).toBe(201);
      await h.drain();
      // One user deactivated, one group with a member.
      const patched = await h.patch(`/scim/v2/Users/${created[1].id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", value: { active: false } }] });
      expect(patched.status).toBe(200);
      const group = await h.post("/scim/v2/Groups", { schemas: [GROUP], displayName: "Operators", members: [{ value: created[0].id }] });
      expect(group.status).toBe(201);
      await h.drain();

      const res = await get("/admin/api/status", basic("alice", ALICE_PASSWORD));
      expect(res.status).toBe(200);
      const s = res.body;
      expect(Date.now() - Date.parse(s.generatedAt)).toBeLessThan(10_000);
      expect(s.users).toEqual({ total: 4, active: 3, inactive: 1, sync: { synced: 3, pending: 0, failed: 1 } });
      expect(s.groups).toEqual({ total: 1 });
      expect(s.outbox).toMatchObject({ pending: 0, running: 0, failed: 1, oldestUnfinished: null, oldestUnfinishedAgeSeconds: null });
      // Measured (jobs finished over the last 5 minutes), not the configured budget.
      expect(s.outbox.drain).toEqual({ measuredPerSecond: expect.any(Number), jobsDone: 4, windowSeconds: 300 });
      expect(s.outbox).not.toHaveProperty("drainPerSecond");
      expect(s.outbox.pendingJobs).toEqual([]);
      // Headline: the failed job degrades it although /readyz says ready.
      expect(s.overall).toEqual({ status: "degraded", reasons: [expect.stringContaining("outbox: 1 failed job")] });
      // DigiCert calls of this replica, each naming the job, user and request that caused it.
      expect(s.digicert.available).toBe(true);
      const create = s.digicert.recentCalls.find((c: any) => c.method === "POST" && c.status === 502);
      expect(create.cause).toMatchObject({ origin: "outbox create", userId: doomed.body.id, userName: doomed.body.userName, jobId: expect.any(Number), requestId: expect.any(String) });
      expect(s.digicert.series).toHaveLength(60);
      expect(s.digicert.series.at(-1).calls).toBeGreaterThan(0);
      // The user look-up.
      const found = await get(`/admin/api/users?q=${encodeURIComponent(doomed.body.userName.slice(0, 6).toUpperCase())}`, `Bearer ${ADMIN_TOKEN}`);
      expect(found.status).toBe(200);
      expect(found.body.users.map((u: any) => u.id)).toContain(doomed.body.id);
      const one = await get(`/admin/api/users/${doomed.body.id}`, `Bearer ${ADMIN_TOKEN}`);
      expect(one.body).toMatchObject({ id: doomed.body.id, syncState: "failed", lastError: expect.stringMatching(/502/), jobs: [expect.objectContaining({ kind: "create", status: "failed" })] });
      if (s.audit.available) expect(one.body.audit.length).toBeGreaterThan(0);
      expect((await get("/admin/api/users/no-such-user", `Bearer ${ADMIN_TOKEN}`)).status).toBe(404);
      expect((await get(`/admin/api/users/${doomed.body.id}`)).status).toBe(401);
      expect(s.outbox.failedJobs).toEqual([
        expect.objectContaining({ userId: doomed.body.id, userName: doomed.body.userName, kind: "create", attempts: 2, error: expect.objectContaining({ message: expect.stringMatching(/502/) }) }),
      ]);
      expect(s.health.status).toBe("ready");
      expect(s.health.components.store).toEqual({ status: "ok" });
      expect(s.health.components.digicert).toEqual({ status: "ok" });
      expect(s.health.components.outbox).toEqual({ status: "degraded", detail: expect.stringContaining("1 failed job") });
      // The same view /readyz gives.
      expect((await request(h.app).get("/readyz")).body).toEqual(s.health);
      expect(s.roleMapping).toMatchObject({ managed: false, default: ["Standard User"], rules: [] });
      expect(s.roleMapping.summary).toBe("No mapping file: new users get Standard User; the bridge does not change roles afterwards.");
      // Optional sources: absent, or (once wired) the sequence's events newest first and no reconcile run yet.
      if (s.audit.available) expect(s.audit.events.length).toBeGreaterThan(0);
      else expect(s.audit).toEqual({ available: false });
      expect([{ available: false }, { available: true, report: null }]).toContainEqual(s.reconcile);

      const page = await get("/admin", `Bearer ${ADMIN_TOKEN}`);
      const shown = Object.fromEntries([...page.text.matchAll(/data-metric="([^"]+)"[^>]*>([^<]*)</g)].map((m) => [m[1], m[2]]));
      expect(shown).toMatchObject({
        "users.total": "4",
        "users.active": "3",
        "users.inactive": "1",
        "users.sync.synced": "3",
        "users.sync.pending": "0",
        "users.sync.failed": "1",
        "groups.total": "1",
        "outbox.pending": "0",
        "outbox.running": "0",
        "outbox.failed": "1",
        "outbox.oldestUnfinishedAgeSeconds": "none",
        "health.status": "ready",
      });
      expect(page.text).toContain(doomed.body.userName);
      expect(page.text).toMatch(/<tr data-component="outbox"><td>outbox<\/td><td><span class="badge degraded" data-state>degraded<\/span><\/td><td>1 failed job/);
      expect(page.text).toContain("No mapping file: new users get Standard User");
    });
  });
});

describe("status page with a role mapping file", () => {
  let h: Harness;
  beforeAll(async () => {
    const file = writeMapping(`default: ["Standard User"]
unmapped: deactivate
rules:
  - group: "DigiCert Admins"
    roles: ["Administrator"]
  - pattern: "^finance-"
    roles: ["Finance Manager"]
`);
    h = await startHarness({ platform: "certcentral", env: { ADMIN_TOKENS: ADMIN_TOKEN, ROLE_MAPPING_FILE: file } });
  });
  afterAll(() => h.close());

  test("rules → role names, the default and the unmapped policy", async () => {
    const res = await request(h.app).get("/admin/api/status").set("Authorization", `Bearer ${ADMIN_TOKEN}`);
    expect(res.body.roleMapping).toMatchObject({
      managed: true,
      default: ["Standard User"],
      unmapped: "deactivate",
      rules: [
        { rule: 1, match: 'group "DigiCert Admins"', roles: ["Administrator"] },
        { rule: 2, match: "group name matching /^finance-/", roles: ["Finance Manager"] },
      ],
    });
    expect(res.body.roleMapping.summary).toContain("users in no mapped group get no DigiCert access. The first matching rule decides");
    const page = await request(h.app).get("/admin").set("Authorization", `Bearer ${ADMIN_TOKEN}`);
    expect(page.text).toContain("<td>group &quot;DigiCert Admins&quot;</td><td>Administrator</td>");
    expect(page.text).toContain("unmapped users: no access");
  });
});
