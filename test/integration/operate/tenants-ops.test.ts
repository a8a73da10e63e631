// Operating a bridge of three tenants: "default" (the environment's, CertCentral), "acme" (DigiCert ONE) and
// "broken" (DigiCert ONE with an API key DigiCert refuses). Metrics carry each tenant's (and target's) own figures;
// /readyz stays ready with "broken" degraded and named; the status page shows the tenant asked for, and a tenant's
// admin store token opens that tenant's page only.
import { createHash } from "node:crypto";
import request from "supertest";
import { oktaUser } from "../../support/harness";
import { parseMetrics, type Scrape } from "../../support/metrics";
import { dropSchema, PG_URL, uniqueSchema } from "../../support/databases";
import { startTenantBridge, type TenantBridge } from "../../support/tenant-bridge";

jest.setTimeout(60_000);

const ADMIN_TOKEN = "admin-token-tenants-0123456789";
const ACME_TOKEN = "acme-scim-token-0123456789abcdef";
const BROKEN_TOKEN = "broken-scim-token-0123456789abcd";
const BROKEN_KEY = "refused-api-key-0123456789";
const hex = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");

if (!PG_URL) console.warn("PostgreSQL variant of the tenants' operating tests skipped: TEST_DATABASE_URL not set");

describe.each(["sqlite", ...(PG_URL ? ["postgres"] : [])])("a bridge of three tenants on %s", (db) => {
  let t: TenantBridge;
  const pgSchema = uniqueSchema("tenants_ops");
  let m: Scrape;
  const admin = (path: string, token = ADMIN_TOKEN) => request(t.app).get(path).set("Authorization", `Bearer ${token}`);
  const ids: Record<string, string[]> = { default: [], acme: [] };

  beforeAll(async () => {
    t = await startTenantBridge({
      tenants: [
        { id: "acme", token: ACME_TOKEN },
        { id: "broken", token: BROKEN_TOKEN, apiKey: BROKEN_KEY },
      ],
      env: { ADMIN_TOKENS: `ops=${ADMIN_TOKEN}`, SYNC_WAIT_MS: "0" },
      ...(db === "postgres" ? { databaseUrl: PG_URL, pgSchema } : {}),
    });
    for (let i = 0; i < 2; i++) ids.default.push((await t.scim("default", "post", "/Users", oktaUser(`dflt${i}@example.com`)).expect(201)).body.id);
    ids.acme.push((await t.scim("acme", "post", "/Users", oktaUser("ada@acme.example")).expect(201)).body.id);
    await t.scim("acme", "post", "/Groups", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: "Acme ops" }).expect(201);
    await t.drain("default");
    await t.drain("acme");
    m = parseMetrics((await request(t.app).get("/metrics").set("Authorization", `Bearer ${ADMIN_TOKEN}`).expect(200)).text);
  });
  afterAll(async () => {
    await t?.close();
    if (db === "postgres") await dropSchema(pgSchema);
  });

  describe("metrics", () => {
    test("store gauges: each tenant's own counts, read from its own scope in one scrape", () => {
      expect(m.value("scim_users", { tenant: "default", state: "active" })).toBe(2);
      expect(m.value("scim_users", { tenant: "acme", state: "active" })).toBe(1);
      expect(m.value("scim_users", { tenant: "broken", state: "active" })).toBe(0);
      expect(m.value("scim_groups", { tenant: "default" })).toBe(0);
      expect(m.value("scim_groups", { tenant: "acme" })).toBe(1);
      expect(m.value("scim_users_sync", { tenant: "default", target: "certcentral", state: "synced" })).toBe(2);
      expect(m.value("scim_users_sync", { tenant: "acme", target: "one", state: "synced" })).toBe(1);
      for (const [tenant, target] of [["default", "certcentral"], ["acme", "one"], ["broken", "one"]]) {
        expect(m.value("outbox_jobs", { tenant, target, state: "pending" })).toBe(0);
        expect(m.value("outbox_oldest_job_age_seconds", { tenant, target })).toBe(0);
        expect(m.value("digicert_ratelimit_mode", { tenant, target, mode: "local" })).toBe(1);
      }
    });

    test("SCIM requests by the tenant whose mount answered", () => {
      expect(m.value("scim_requests_total", { tenant: "default", resource: "Users", method: "POST", status: "201" })).toBe(2);
      expect(m.value("scim_requests_total", { tenant: "acme", resource: "Users", method: "POST", status: "201" })).toBe(1);
      expect(m.value("scim_requests_total", { tenant: "acme", resource: "Groups", method: "POST", status: "201" })).toBe(1);
    });

    test("jobs and DigiCert calls by the tenant and target whose runtime made them", () => {
      expect(m.value("outbox_jobs_total", { tenant: "default", target: "certcentral", kind: "create", outcome: "done" })).toBe(2);
      expect(m.value("outbox_jobs_total", { tenant: "acme", target: "one", kind: "create", outcome: "done" })).toBe(1);
      expect(m.value("digicert_requests_total", { tenant: "acme", target: "one", platform: "one", method: "POST", endpoint: "/user", status: "201" })).toBe(1);
      expect(m.value("digicert_requests_total", { tenant: "default", target: "certcentral", platform: "certcentral", method: "POST", endpoint: "/user", status: "201" })).toBe(2);
      // Every call the simulator received is counted once, under the tenant that made it.
      const calls = m.samples.filter((s) => s.name === "digicert_requests_total");
      expect(calls.reduce((n, s) => n + s.value, 0)).toBe(t.sim.calls.length);
      const byTenant = (tenant: string) => calls.filter((s) => s.labels.tenant === tenant).reduce((n, s) => n + s.value, 0);
      expect(byTenant("acme")).toBe(t.sim.callsTo("one").filter((c) => c.apiKeyValid).length);
      expect(byTenant("default")).toBe(t.sim.callsTo("certcentral").length);
      // Each target's calls waited for their slot once each.
      expect(m.value("digicert_ratelimit_wait_seconds_count", { tenant: "acme", target: "one" })).toBe(byTenant("acme"));
    });
  });

  describe("/readyz", () => {
    test("ready; the refused key of another tenant's target is degraded, named, without host or secret", async () => {
      const res = await request(t.app).get("/readyz");
      expect(res.status).toBe(200);
      const c = res.body.components;
      expect(c.store).toEqual({ status: "ok" });
      expect(c.digicert).toEqual({ status: "ok" });
      expect(c["digicert:acme/one"]).toEqual({ status: "ok" });
      expect(c["digicert:broken/one"]).toEqual({ status: "degraded", detail: expect.stringMatching(/refused the API key.*other tenants are not affected/) });
      expect(c["outbox:acme/one"]).toEqual({ status: "ok" });
      const text = JSON.stringify(res.body);
      expect(text).not.toContain(BROKEN_KEY);
      expect(text).not.toMatch(/127\.0\.0\.1|localhost|https?:/);
    });
  });

  describe("status page", () => {
    test("the JSON of each tenant counts its own users and lists its own jobs", async () => {
      const dflt = (await admin("/admin/api/status").expect(200)).body;
      expect(dflt).toMatchObject({ tenant: "default", tenants: ["default", "acme", "broken"], users: { active: 2 } });
      const acme = (await admin("/admin/api/status?tenant=acme").expect(200)).body;
      expect(acme).toMatchObject({ tenant: "acme", users: { active: 1 }, groups: { total: 1 } });
      // Health: the bridge's store and the tenant's own components; not the other tenants' (none of them failed).
      expect(Object.keys(acme.health.components).sort()).toEqual(["digicert:acme/one", "outbox:acme/one", "store"]);
      expect(acme.overall).toEqual({ status: "ok", reasons: [] });
      const broken = (await admin("/admin/api/status?tenant=broken").expect(200)).body;
      expect(broken.overall.status).toBe("degraded");
      // Its key is refused, so its role list cannot be read either: both said, nothing about the other tenants.
      expect(broken.overall.reasons).toEqual([expect.stringMatching(/^digicert:broken\/one: DigiCert refused the API key/), "roleMapping: could not be read"]);
      // The audit trail of acme holds acme's user only.
      const names = (acme.audit.events as { userName?: string }[]).map((e) => e.userName).filter(Boolean);
      expect(names.length).toBeGreaterThan(0);
      expect(new Set(names)).toEqual(new Set(["ada@acme.example"]));
    });

    test("the user look-up searches the tenant asked for only", async () => {
      expect((await admin("/admin/api/users?q=example").expect(200)).body.users.map((u: { id: string }) => u.id).sort()).toEqual([...ids.default].sort());
      expect((await admin("/admin/api/users?q=example&tenant=acme").expect(200)).body.users.map((u: { id: string }) => u.id)).toEqual(ids.acme);
      await admin(`/admin/api/users/${ids.acme[0]}`).expect(404);
      expect((await admin(`/admin/api/users/${ids.acme[0]}?tenant=acme`).expect(200)).body.userName).toBe("ada@acme.example");
    });

    test("an unknown tenant is a 404, for the page and the JSON", async () => {
      for (const path of ["/admin?tenant=nope", "/admin/api/status?tenant=nope", "/admin/api/users?q=a&tenant=nope"]) {
        const res = await admin(path);
        expect(res.status).toBe(404);
        expect(res.text).not.toContain("users");
      }
      // Without a credential it is the 401 of any tenant: an unknown id is not told apart.
      expect((await request(t.app).get("/admin?tenant=nope")).status).toBe(401);
    });

    test("the page names its tenant, offers the others, and keeps its links on that tenant", async () => {
      const page = await admin(`/admin?tenant=acme&q=ada`).expect(200);
      expect(page.text).toContain('<option value="acme" selected>acme</option>');
      expect(page.text).toContain('<option value="default">default</option>');
      expect(page.text).toContain('<input type="hidden" name="tenant" value="acme">');
      expect(page.text).toContain(`href="/admin?user=${ids.acme[0]}&amp;tenant=acme"`);
      expect(page.text).toContain('href="/admin/api/status?tenant=acme"');
      // The default tenant's page links without a tenant, as before tenants.
      const dflt = await admin("/admin?q=dflt0").expect(200);
      expect(dflt.text).toContain(`href="/admin?user=${ids.default[0]}"`);
    });

    test("a tenant's admin store token opens that tenant's page only", async () => {
      const token = "acme-admin-store-token-0123456789";
      await t.tenant("acme").store.tokens.create({ name: "acme-ops", scope: "admin", sha256: hex(token), expires: null });
      expect((await admin("/admin/api/status?tenant=acme", token)).status).toBe(200);
      expect((await admin("/admin/api/status", token)).status).toBe(401);
      expect((await admin("/admin/api/status?tenant=broken", token)).status).toBe(401);
      // And it opens no SCIM surface.
      expect((await request(t.app).get("/t/acme/scim/v2/Users").set("Authorization", `Bearer ${token}`)).status).toBe(401);
    });
  });
});

describe("a fan-out tenant (CertCentral primary, DigiCert ONE secondary)", () => {
  test("each target's calls, jobs, sync state and readiness under its own target label", async () => {
    const t = await startTenantBridge({ tenants: [{ id: "globex", token: ACME_TOKEN, targets: ["certcentral", "one"] }], env: { SYNC_WAIT_MS: "0" } });
    try {
      await t.scim("globex", "post", "/Users", oktaUser("hank@globex.example")).expect(201);
      const globex = t.tenant("globex");
      // Both targets' workers run their own jobs.
      for (let i = 0; i < 200; i++) {
        const stats = await Promise.all(globex.targets.map((x) => x.store.outbox.stats()));
        if (stats.every((s) => s.pending + s.running === 0)) break;
        for (const x of globex.targets) x.worker.kick();
        await new Promise((r) => setTimeout(r, 50));
      }
      const m = parseMetrics((await request(t.app).get("/metrics").expect(200)).text);
      const g = (target: string) => ({ tenant: "globex", target });
      expect(m.value("outbox_jobs_total", { ...g("certcentral"), kind: "create", outcome: "done" })).toBe(1);
      expect(m.value("outbox_jobs_total", { ...g("one"), kind: "create", outcome: "done" })).toBe(1);
      expect(m.value("digicert_requests_total", { ...g("one"), platform: "one", method: "POST", endpoint: "/user", status: "201" })).toBe(1);
      expect(m.value("digicert_requests_total", { ...g("certcentral"), platform: "certcentral", method: "POST", endpoint: "/user", status: "201" })).toBe(1);
      // No call of ONE is counted under the primary target, none of CertCentral under the secondary.
      expect(m.samples.filter((s) => s.name === "digicert_requests_total" && s.labels.tenant === "globex" && s.labels.target !== s.labels.platform)).toEqual([]);
      expect(m.value("scim_users_sync", { ...g("certcentral"), state: "synced" })).toBe(1);
      expect(m.value("scim_users_sync", { ...g("one"), state: "synced" })).toBe(1);
      expect(m.value("outbox_jobs", { ...g("one"), state: "pending" })).toBe(0);
      expect(m.value("scim_users", { tenant: "globex", state: "active" })).toBe(1);
      const ready = await request(t.app).get("/readyz").expect(200);
      expect(ready.body.components["digicert:globex/certcentral"]).toEqual({ status: "ok" });
      expect(ready.body.components["digicert:globex/one"]).toEqual({ status: "ok" });
      expect(ready.body.components["outbox:globex/one"]).toEqual({ status: "ok" });
    } finally {
      await t.close();
    }
  });
});

describe("a refused API key of the default tenant", () => {
  test("still makes the bridge unready, as before tenants", async () => {
    const t = await startTenantBridge({ tenants: [{ id: "acme", token: ACME_TOKEN }], env: { DIGICERT_API_KEY: BROKEN_KEY } });
    try {
      const res = await request(t.app).get("/readyz");
      expect(res.status).toBe(503);
      expect(res.body.components.digicert).toEqual({ status: "failed", error: "DigiCert refused the API key or its permissions" });
      expect(res.body.components["digicert:acme/one"]).toEqual({ status: "ok" });
    } finally {
      await t.close();
    }
  });
});
