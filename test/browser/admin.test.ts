import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { oktaUser, startHarness, type Harness } from "../support/harness";

// The status page in a real headless browser (Debian's chromium, driven by playwright-core): log in with HTTP
// Basic credentials, check that the page shows the numbers /admin/api/status reports, that the page's style sheet
// is allowed by its CSP and nothing is blocked or broken, find a user through the search form, fit a 390 px wide
// phone without sideways scrolling, show "degraded" while DigiCert is down, and save screenshots for CI
// (test-results/admin.png, admin-390.png, admin-degraded.png).

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const RESULTS = join(__dirname, "..", "..", "test-results");
const USER = "ops";
const PASSWORD = "browser-Passw0rd-0192837465";
const hex = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}`;
const LAUNCH_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

async function listen(app: Harness["app"]): Promise<{ server: Server; base: string }> {
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
    s.once("error", reject);
  });
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** Console errors and warnings, page errors and failed requests of a page (the favicon's 404 aside). */
function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`));
  return problems;
}

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  console.warn(
    `SKIPPED test/browser/admin.test.ts: no Chromium at ${CHROMIUM} (install Debian's chromium package, or set CHROMIUM_PATH); ` +
      ".ci/run installs it when apt-get is available",
  );
}
const maybe = haveChromium ? describe : describe.skip;

jest.setTimeout(90_000);

/** The value at a dotted path of the status JSON ("users.sync.failed"). */
function at(obj: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>((o, k) => (o && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), obj);
}

maybe("status page in a headless browser", () => {
  let h: Harness;
  let server: Server;
  let base: string;
  let context: BrowserContext;
  let profile: string;
  let failedUser: { id: string; userName: string };

  beforeAll(async () => {
    h = await startHarness({
      platform: "certcentral",
      env: {
        ADMIN_BASIC_USERS: `${USER}:sha256:${hex(PASSWORD)}`,
        SYNC_WAIT_MS: "0",
        OUTBOX_MAX_ATTEMPTS: "1",
        DIGICERT_CIRCUIT_THRESHOLD: "0",
      },
    });
    // Some users, one of them deactivated and one whose DigiCert job failed, so that no number is trivially 0.
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await h.post("/scim/v2/Users", oktaUser())).body.id);
    await h.drain();
    h.sim.failNext({ platform: "certcentral", method: "POST", path: /^\/user$/, status: 502, body: {} });
    const failed = (await h.post("/scim/v2/Users", oktaUser())).body;
    failedUser = { id: failed.id, userName: failed.userName };
    await h.patch(`/scim/v2/Users/${ids[2]}`, {
      schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      Operations: [{ op: "replace", value: { active: false } }],
    });
    await h.post("/scim/v2/Groups", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: "Operators", members: [{ value: ids[0] }] });
    await h.drain();
    // A user made by hand in DigiCert: the reconcile report has a drift row to show.
    h.sim.seedUser("certcentral", { username: "hand.made", email: "hand.made@example.com", access_roles: [{ id: 1 }] });
    await h.bridge.reconcile();

    ({ server, base } = await listen(h.app));

    profile = mkdtempSync(join(tmpdir(), "admin-browser-"));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: LAUNCH_ARGS,
      httpCredentials: { username: USER, password: PASSWORD },
      // The page must work without JavaScript (it has none; its CSP forbids any).
      javaScriptEnabled: false,
      viewport: { width: 1280, height: 900 },
    });
  });

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    if (server) await new Promise<void>((r) => server.close(() => r()));
    await h?.close();
  });

  test("logs in with Basic credentials and shows the numbers the API reports", async () => {
    const unauthenticated = await fetch(`${base}/admin`);
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get("www-authenticate")).toBe('Basic realm="DigiCert SCIM Bridge admin"');

    const page = await context.newPage();
    const problems = watch(page);

    const response = await page.goto(`${base}/admin`, { waitUntil: "load" });
    expect(response?.status()).toBe(200);
    expect(await page.title()).toBe("DigiCert SCIM Bridge · status");

    const api = (await (
      await fetch(`${base}/admin/api/status`, { headers: { Authorization: BASIC } })
    ).json()) as Record<string, any>;
    expect(api.users).toEqual({ total: 4, active: 3, inactive: 1, sync: { synced: 3, pending: 0, failed: 1 } });

    // Every number on the page, by the JSON path it stands for.
    const shown = await page.$$eval("[data-metric]", (els) => els.map((e) => [e.getAttribute("data-metric")!, (e.textContent ?? "").trim()]));
    const metrics = Object.fromEntries(shown);
    const numeric = [
      "users.total",
      "users.active",
      "users.inactive",
      "users.sync.synced",
      "users.sync.pending",
      "users.sync.failed",
      "groups.total",
      "outbox.pending",
      "outbox.running",
      "outbox.failed",
    ];
    for (const path of numeric) expect([path, metrics[path]]).toEqual([path, String(at(api, path))]);
    expect(metrics["health.status"]).toBe(api.health.status);
    // /readyz says ready, but a job failed: the headline says degraded, and why.
    expect(api.health.status).toBe("ready");
    expect(api.overall.status).toBe("degraded");
    expect(await page.getAttribute('[data-metric="overall.status"]', "data-state")).toBe("degraded");
    expect(await page.textContent("header .reasons")).toContain("1 failed job");
    // The drain rate is labelled measured; the DigiCert chart is drawn inline, the calls name their job and user.
    expect(await page.textContent("#outbox")).toContain("drained (measured, last 5 min)");
    expect(await page.$$eval("svg.chart", (c) => c.length)).toBe(2);
    expect(await page.$$eval("#chart-calls rect.bar", (b) => b.length)).toBeGreaterThan(0);
    const callCauses = await page.$$eval("tr[data-call]", (rows) => rows.map((r) => (r.textContent ?? "").replace(/\s+/g, " ")));
    expect(callCauses.some((c) => c.includes("outbox create") && c.includes(failedUser.userName))).toBe(true);
    expect(metrics["roleMapping.summary"]).toBe(api.roleMapping.summary);

    // Each readiness component with its state.
    const components = await page.$$eval("[data-component]", (rows) =>
      rows.map((r) => [r.getAttribute("data-component")!, (r.querySelector("[data-state]")?.textContent ?? "").trim()]),
    );
    expect(Object.fromEntries(components)).toEqual(Object.fromEntries(Object.entries(api.health.components).map(([k, v]) => [k, (v as any).status])));

    // The failed job with its user and error.
    const jobs = await page.$$eval("tr[data-job]", (rows) => rows.map((r) => (r.textContent ?? "").replace(/\s+/g, " ")));
    expect(jobs).toHaveLength(api.outbox.failedJobs.length);
    expect(jobs[0]).toContain(api.outbox.failedJobs[0].userName);
    expect(jobs[0]).toContain(api.outbox.failedJobs[0].error.message);

    // Optional sections: their rows when the bridge has the source, else they say so.
    const auditRows = await page.$$eval("tr[data-audit]", (rows) => rows.length);
    if (api.audit.available) expect(auditRows).toBe(api.audit.events.length);
    else expect(await page.textContent("#audit")).toContain("Not available yet");
    // The reconcile report as a drift table for people, not JSON.
    expect(api.reconcile.available).toBe(true);
    const drift = await page.$$eval("#reconcile tr[data-drift]", (rows) => rows.map((r) => [r.getAttribute("data-drift"), (r.textContent ?? "").replace(/\s+/g, " ")]));
    expect(drift).toContainEqual(["unmanaged", expect.stringContaining("hand.made")]);
    expect(drift).toContainEqual(["not_provisioned", expect.stringContaining(failedUser.userName)]);
    expect(drift).toHaveLength(api.reconcile.report.entries.length);
    expect(await page.textContent("#reconcile")).not.toContain("{");

    // The inline style sheet was applied (its CSP hash matched): body margin is 0, not the browser's 8px.
    expect(await page.$eval("body", (b) => getComputedStyle(b).marginTop)).toBe("0px");
    expect(await page.$$eval("section", (s) => s.length)).toBe(9);

    mkdirSync(RESULTS, { recursive: true });
    await page.screenshot({ path: join(RESULTS, "admin.png"), fullPage: true });
    expect(existsSync(join(RESULTS, "admin.png"))).toBe(true);

    // Nothing blocked by the CSP, no failed request, no script error (the favicon's 404 is not the page's).
    expect(problems.filter((p) => !/favicon/.test(p))).toEqual([]);
  });

  test("finds a user through the search form and shows its sync state, last error, jobs and audit history", async () => {
    const page = await context.newPage();
    const problems = watch(page);
    await page.goto(`${base}/admin`, { waitUntil: "load" });
    // Part of the userName, another case: the form is a plain GET (no script), allowed by form-action 'self'.
    await page.fill('input[name="q"]', failedUser.userName.slice(0, 8).toUpperCase());
    await Promise.all([page.waitForURL(/\/admin\?q=/), page.click('form[role="search"] button')]);
    const found = await page.$$eval("tr[data-search-user]", (rows) => rows.map((r) => r.getAttribute("data-search-user")));
    expect(found).toContain(failedUser.id);
    await Promise.all([page.waitForURL(/\/admin\?user=/), page.click(`tr[data-search-user="${failedUser.id}"] a`)]);
    expect(await page.textContent(`h3[data-user="${failedUser.id}"]`)).toContain(failedUser.userName);
    expect(await page.textContent('[data-metric="user.syncState"]')).toBe("failed");
    expect(await page.textContent('[data-metric="user.lastError"]')).toMatch(/502/);
    expect(await page.$$eval("tr[data-user-job]", (r) => r.length)).toBeGreaterThan(0);
    const detail = (await (await fetch(`${base}/admin/api/users/${failedUser.id}`, { headers: { Authorization: BASIC } })).json()) as Record<string, any>;
    if (detail.audit) expect(await page.$$eval("#lookup tr[data-audit]", (r) => r.length)).toBe(detail.audit.length);
    expect(problems.filter((p) => !/favicon/.test(p))).toEqual([]);
  });

  test("fits a 390 px wide phone without sideways scrolling", async () => {
    const page = await context.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    // The user's detail: the widest content the page has (jobs, audit), besides the charts and every table.
    await page.goto(`${base}/admin?user=${encodeURIComponent(failedUser.id)}`, { waitUntil: "load" });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.goto(`${base}/admin`, { waitUntil: "load" });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    mkdirSync(RESULTS, { recursive: true });
    await page.screenshot({ path: join(RESULTS, "admin-390.png"), fullPage: true });
    // What a phone shows first, at its real size.
    await page.screenshot({ path: join(RESULTS, "admin-390-top.png") });
  });
});

maybe("status page while DigiCert is down", () => {
  let h: Harness;
  let server: Server;
  let base: string;
  let context: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    // Nothing failed in the store: the headline can only be degraded because DigiCert is.
    h = await startHarness({ platform: "certcentral", env: { ADMIN_BASIC_USERS: `${USER}:sha256:${hex(PASSWORD)}`, SYNC_WAIT_MS: "0", DIGICERT_CIRCUIT_THRESHOLD: "1" } });
    ({ server, base } = await listen(h.app));
    profile = mkdtempSync(join(tmpdir(), "admin-browser-down-"));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: LAUNCH_ARGS,
      httpCredentials: { username: USER, password: PASSWORD },
      javaScriptEnabled: false,
      viewport: { width: 1280, height: 900 },
    });
  });

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    if (server) await new Promise<void>((r) => server.close(() => r()));
    h?.sim.clearFaults();
    await h?.close();
  });

  test("the headline shows degraded (not a green ready) with the DigiCert circuit open", async () => {
    // DigiCert answers 503 to everything: the first job's call opens the circuit; the job waits, nothing fails.
    h.sim.failNext({ status: 503, body: {}, times: 10_000 });
    await h.post("/scim/v2/Users", oktaUser());
    const deadline = Date.now() + 15_000;
    while (h.bridge.digicert.circuit?.().state !== "open") {
      if (Date.now() > deadline) throw new Error("the DigiCert circuit did not open");
      h.bridge.outbox.kick();
      await new Promise((r) => setTimeout(r, 50));
    }
    const api = (await (await fetch(`${base}/admin/api/status`, { headers: { Authorization: BASIC } })).json()) as Record<string, any>;
    expect(api.health.status).toBe("ready");
    expect(api.health.components.digicert).toEqual({ status: "degraded", detail: expect.stringContaining("circuit open") });
    expect(api.outbox.failed).toBe(0);
    // (DigiCert's role list cannot be read either, so the role mapping section says so.)
    expect(api.overall.status).toBe("degraded");
    expect(api.overall.reasons[0]).toMatch(/^digicert: DigiCert circuit open/);

    const page = await context.newPage();
    await page.goto(`${base}/admin`, { waitUntil: "load" });
    const badge = page.locator('[data-metric="overall.status"]');
    expect(await badge.getAttribute("data-state")).toBe("degraded");
    expect(await badge.textContent()).toBe("degraded");
    expect(await badge.evaluate((b) => b.classList.contains("ok"))).toBe(false);
    expect(await page.textContent("header .reasons")).toContain("DigiCert circuit open");
    // The refused calls name the job and user that caused them.
    const calls = await page.$$eval("tr[data-call]", (rows) => rows.map((r) => (r.textContent ?? "").replace(/\s+/g, " ")));
    expect(calls.some((c) => /503|circuit_open/.test(c) && c.includes("outbox create"))).toBe(true);
    mkdirSync(RESULTS, { recursive: true });
    await page.screenshot({ path: join(RESULTS, "admin-degraded.png"), fullPage: true });
  });
});
