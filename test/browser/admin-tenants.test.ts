import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";
import { oktaUser } from "../support/harness";
import { startTenantBridge, type TenantBridge } from "../support/tenant-bridge";

// The status page of a bridge of two tenants in a real headless browser (no JavaScript): the tenant selector (a plain
// GET form) switches the page to the other tenant's users, the search stays on the tenant chosen, the page's style
// sheet still matches its CSP, and the header with the selector fits a 390 px wide phone. Screenshot:
// test-results/admin-tenants-390.png.

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const RESULTS = join(__dirname, "..", "..", "test-results");
const USER = "ops";
const PASSWORD = "browser-tenants-Passw0rd-5647382910";
const hex = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");
const maybe = existsSync(CHROMIUM) ? describe : describe.skip;
if (!existsSync(CHROMIUM)) console.warn(`SKIPPED test/browser/admin-tenants.test.ts: no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)`);

jest.setTimeout(90_000);

maybe("status page of a bridge of tenants in a headless browser", () => {
  let t: TenantBridge;
  let server: Server;
  let base: string;
  let context: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    t = await startTenantBridge({
      tenants: [{ id: "acme", token: "acme-browser-token-0123456789abcdef" }],
      env: { ADMIN_BASIC_USERS: `${USER}:sha256:${hex(PASSWORD)}`, SYNC_WAIT_MS: "0" },
    });
    await t.scim("default", "post", "/Users", oktaUser("dora@default.example")).expect(201);
    await t.scim("acme", "post", "/Users", oktaUser("ada@acme.example")).expect(201);
    await t.scim("acme", "post", "/Users", oktaUser("alan@acme.example")).expect(201);
    await t.drain("default");
    await t.drain("acme");
    server = await new Promise<Server>((resolve, reject) => {
      const s = t.app.listen(0, "127.0.0.1", () => resolve(s));
      s.once("error", reject);
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    profile = mkdtempSync(join(tmpdir(), "admin-browser-tenants-"));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      httpCredentials: { username: USER, password: PASSWORD },
      javaScriptEnabled: false,
      viewport: { width: 1280, height: 900 },
    });
  });

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    if (server) await new Promise<void>((r) => server.close(() => r()));
    await t?.close();
  });

  test("the selector switches tenants; numbers and search are the chosen tenant's", async () => {
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("console", (m) => void ((m.type() === "error" || m.type() === "warning") && problems.push(m.text())));
    await page.goto(`${base}/admin`, { waitUntil: "load" });
    expect(await page.$eval('select[name="tenant"]', (s) => (s as HTMLSelectElement).value)).toBe("default");
    expect(await page.textContent('[data-metric="users.total"]')).toBe("1");
    await page.selectOption('select[name="tenant"]', "acme");
    await Promise.all([page.waitForURL(/\/admin\?tenant=acme$/), page.click("form.tenant button")]);
    expect(await page.textContent('[data-metric="users.total"]')).toBe("2");
    expect(await page.textContent("h1")).toBe("DigiCert SCIM Bridge · status · acme");
    // The search form carries the tenant: acme's users are found, the default tenant's are not.
    await page.fill('input[name="q"]', "example");
    await Promise.all([page.waitForURL(/\/admin\?tenant=acme&q=example/), page.click('form[role="search"] button')]);
    const found = await page.$$eval("tr[data-search-user] a", (as) => as.map((a) => a.textContent));
    expect(found.sort()).toEqual(["ada@acme.example", "alan@acme.example"]);
    // The style sheet applied (its CSP hash matched).
    expect(await page.$eval("body", (b) => getComputedStyle(b).marginTop)).toBe("0px");
    expect(problems).toEqual([]);
  });

  test("the header with the selector fits a 390 px wide phone", async () => {
    const page = await context.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${base}/admin?tenant=acme`, { waitUntil: "load" });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    mkdirSync(RESULTS, { recursive: true });
    await page.screenshot({ path: join(RESULTS, "admin-tenants-390.png") });
  });
});
