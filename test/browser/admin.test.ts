import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";
import { oktaUser, startHarness, type Harness } from "../support/harness";

// The status page in a real headless browser (Debian's chromium, driven by playwright-core): log in with HTTP
// Basic credentials, check that the page shows the numbers /admin/api/status reports, that the page's style sheet
// is allowed by its CSP and nothing is blocked or broken, and save a screenshot for CI (test-results/admin.png).

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const RESULTS = join(__dirname, "..", "..", "test-results");
const USER = "ops";
const PASSWORD = "browser-Passw0rd-0192837465";
const hex = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");

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
    await h.post("/scim/v2/Users", oktaUser());
    await h.patch(`/scim/v2/Users/${ids[2]}`, {
      schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      Operations: [{ op: "replace", value: { active: false } }],
    });
    await h.post("/scim/v2/Groups", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: "Operators", members: [{ value: ids[0] }] });
    await h.drain();

    server = await new Promise<Server>((resolve, reject) => {
      const s = h.app.listen(0, "127.0.0.1", () => resolve(s));
      s.once("error", reject);
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    profile = mkdtempSync(join(tmpdir(), "admin-browser-"));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
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
    const problems: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    page.on("requestfailed", (r) => problems.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`));

    const response = await page.goto(`${base}/admin`, { waitUntil: "load" });
    expect(response?.status()).toBe(200);
    expect(await page.title()).toBe("DigiCert SCIM Bridge · status");

    const api = (await (
      await fetch(`${base}/admin/api/status`, { headers: { Authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}` } })
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
    if (!api.reconcile.available) expect(await page.textContent("#reconcile")).toContain("Not available yet");
    else if (!api.reconcile.report) expect(await page.textContent("#reconcile")).toContain("No reconciliation has run yet");

    // The inline style sheet was applied (its CSP hash matched): body margin is 0, not the browser's 8px.
    expect(await page.$eval("body", (b) => getComputedStyle(b).marginTop)).toBe("0px");
    expect(await page.$$eval("section", (s) => s.length)).toBe(7);

    mkdirSync(RESULTS, { recursive: true });
    await page.screenshot({ path: join(RESULTS, "admin.png"), fullPage: true });
    expect(existsSync(join(RESULTS, "admin.png"))).toBe(true);

    // Nothing blocked by the CSP, no failed request, no script error (the favicon's 404 is not the page's).
    expect(problems.filter((p) => !/favicon/.test(p))).toEqual([]);
  });
});
