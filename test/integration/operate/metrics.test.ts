// GET /metrics after a known sequence of SCIM requests and DigiCert faults: the exact values of every series the
// bridge exports about SCIM requests, DigiCert calls, the rate limiter, the outbox, users and groups, adoptions
// and back-pressure; a store that stops answering does not fail a scrape; METRICS_TOKEN guards the endpoint.
import { createHash } from "node:crypto";
import request from "supertest";
import { oktaUser, PATCH_OP, startHarness, TOKEN, type Harness } from "../../support/harness";
import { parseMetrics, type Scrape } from "../../support/metrics";

jest.setTimeout(60_000);

const GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group";

async function scrape(h: Harness, token?: string): Promise<Scrape> {
  const req = request(h.app).get("/metrics");
  const res = await (token ? req.set("Authorization", `Bearer ${token}`) : req);
  expect(res.status).toBe(200);
  expect(res.headers["content-type"]).toMatch(/^text\/plain/);
  return parseMetrics(res.text);
}

/** `{label=value,…}` keys of Scrape.table, labels sorted. */
const key = (labels: Record<string, string>) =>
  `{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(",")}}`;

describe.each(["certcentral", "one"] as const)("metrics after a known sequence (%s)", (platform) => {
  let h: Harness;
  let m: Scrape;
  const rolePath = platform === "certcentral" ? "/container/{id}/role" : "/role";
  const roleCalls = () => h.sim.callsTo(platform, "GET", platform === "certcentral" ? /^\/container\/\d+\/role$/ : "/role").length;
  const updated = platform === "certcentral" ? "204" : "200";
  // The environment's tenant, and its one DigiCert target (named after the platform).
  const tenant = "default";
  const target = platform;
  const dt = { tenant, target };

  beforeAll(async () => {
    // SYNC_WAIT_MS=0: writes answer at once and the test drains the outbox itself, so the sequence is exact.
    h = await startHarness({ platform, env: { SYNC_WAIT_MS: "0", OUTBOX_MAX_PENDING: "3", DIGICERT_TIMEOUT_MS: "5000" } });
    // A group (no DigiCert call without a role mapping).
    expect((await h.post("/scim/v2/Groups", { schemas: [GROUP_SCHEMA], displayName: "Engineering" })).status).toBe(201);
    // 3 creates.
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await h.post("/scim/v2/Users", oktaUser());
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    await h.drain();
    // 1 PATCH, whose DigiCert update is answered 503 once and retried by the caller.
    h.sim.failNext({ platform, method: "PUT", path: /^\/user\/[^/]+$/, status: 503, headers: { "Retry-After": "1" }, body: {} });
    const patched = await h.patch(`/scim/v2/Users/${ids[0]}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: "replace", path: "name.givenName", value: "Augusta" }],
    });
    expect(patched.status).toBe(200);
    await h.drain();
    // 1 DELETE.
    expect((await h.del(`/scim/v2/Users/${ids[1]}`)).status).toBe(204);
    await h.drain();
    // 1 adoption of a user made by hand in DigiCert before SSO.
    const userName = `handmade.${platform}@example.com`;
    if (platform === "certcentral") {
      h.sim.seedUser(platform, { username: userName, first_name: "Old", last_name: "Name", email: userName, access_roles: [{ id: 1 }] });
    } else {
      h.sim.seedUser(platform, { user_name: userName, first_name: "Old", last_name: "Name", email: userName, roles: ["AM_ACCOUNT_ADMIN"] });
    }
    expect((await h.post("/scim/v2/Users", oktaUser(userName))).status).toBe(201);
    await h.drain();
    // Back-pressure: DigiCert takes 3 s to answer 3 creates, so 3 jobs are unfinished (OUTBOX_MAX_PENDING) when
    // the 4th write comes, after the depth (measured at most once a second) was read again.
    h.sim.failNext({ platform, method: "POST", path: /^\/user$/, delayMs: 3000, times: 3 });
    for (let i = 0; i < 3; i++) expect((await h.post("/scim/v2/Users", oktaUser())).status).toBe(201);
    await new Promise((r) => setTimeout(r, 1200));
    const refused = await h.post("/scim/v2/Users", oktaUser());
    expect(refused.status).toBe(429);
    await h.drain();
    m = await scrape(h);
  });
  afterAll(async () => h?.close());

  test("SCIM requests by resource, method and status, with latency histograms", () => {
    expect(m.table("scim_requests_total")).toEqual({
      [key({ tenant, resource: "Groups", method: "POST", status: "201" })]: 1,
      [key({ tenant, resource: "Users", method: "POST", status: "201" })]: 7,
      [key({ tenant, resource: "Users", method: "PATCH", status: "200" })]: 1,
      [key({ tenant, resource: "Users", method: "DELETE", status: "204" })]: 1,
      [key({ tenant, resource: "Users", method: "POST", status: "429" })]: 1,
    });
    expect(m.value("scim_request_duration_seconds_count", { tenant, resource: "Users", method: "POST" })).toBe(8);
    expect(m.value("scim_request_duration_seconds_bucket", { tenant, resource: "Users", method: "POST", le: "+Inf" })).toBe(8);
    expect(m.value("scim_request_duration_seconds_count", { tenant, resource: "Users", method: "PATCH" })).toBe(1);
    expect(m.value("scim_request_duration_seconds_count", { tenant, resource: "Users", method: "DELETE" })).toBe(1);
  });

  test("DigiCert calls by platform, method, endpoint template and status; each retry counts", () => {
    expect(m.table("digicert_requests_total")).toEqual({
      [key({ ...dt, platform, method: "GET", endpoint: rolePath, status: "200" })]: roleCalls(),
      // 3 creates, then 3 slow ones during back-pressure.
      [key({ ...dt, platform, method: "POST", endpoint: "/user", status: "201" })]: 6,
      // The adoption: the create finds the username taken, the user is looked up and updated. CertCentral's
      // create asks GET /user/availability first (7 creates), and the adoption's answer spares its POST.
      ...(platform === "certcentral"
        ? { [key({ ...dt, platform, method: "GET", endpoint: "/user/availability/{id}", status: "200" })]: 7 }
        : {
            [key({ ...dt, platform, method: "POST", endpoint: "/user", status: "409" })]: 1,
            // ONE reads the user before each whole-object PUT (the PATCH's update and the adoption's).
            [key({ ...dt, platform, method: "GET", endpoint: "/user/{id}", status: "200" })]: 2,
          }),
      [key({ ...dt, platform, method: "GET", endpoint: "/user", status: "200" })]: 1,
      // The PATCH's update answered 503, retried; plus the adoption's update.
      [key({ ...dt, platform, method: "PUT", endpoint: "/user/{id}", status: "503" })]: 1,
      [key({ ...dt, platform, method: "PUT", endpoint: "/user/{id}", status: updated })]: 2,
      [key({ ...dt, platform, method: "DELETE", endpoint: "/user/{id}", status: "204" })]: 1,
    });
    expect(roleCalls()).toBeGreaterThanOrEqual(1);
    // Every request the simulator received is counted, and nothing else.
    const total = m.samples.filter((s) => s.name === "digicert_requests_total").reduce((n, s) => n + s.value, 0);
    expect(total).toBe(h.sim.calls.length);
    const adoptionPosts = platform === "certcentral" ? 0 : 1;
    expect(m.value("digicert_request_duration_seconds_count", { ...dt, platform, method: "POST", endpoint: "/user" })).toBe(6 + adoptionPosts);
    expect(m.value("digicert_request_duration_seconds_count", { ...dt, platform, method: "PUT", endpoint: "/user/{id}" })).toBe(3);
    expect(m.value("digicert_request_duration_seconds_count", { ...dt, platform, method: "DELETE", endpoint: "/user/{id}" })).toBe(1);
    // The three slow creates took 3 s each on the wire.
    expect(m.value("digicert_request_duration_seconds_sum", { ...dt, platform, method: "POST", endpoint: "/user" })).toBeGreaterThanOrEqual(8.9);
    expect(m.value("digicert_request_duration_seconds_bucket", { ...dt, platform, method: "POST", endpoint: "/user", le: "2" })).toBe(3 + adoptionPosts);
  });

  test("rate limiter: one wait per DigiCert call, nothing queued now, local mode", () => {
    expect(m.value("digicert_ratelimit_wait_seconds_count", dt)).toBe(h.sim.calls.length);
    expect(m.value("digicert_ratelimit_wait_seconds_sum", dt)).toBeGreaterThanOrEqual(0);
    expect(m.value("digicert_ratelimit_queue_depth", dt)).toBe(0);
    expect(m.table("digicert_ratelimit_mode")).toEqual({
      [key({ ...dt, mode: "local" })]: 1,
      [key({ ...dt, mode: "shared" })]: 0,
      [key({ ...dt, mode: "fallback" })]: 0,
    });
  });

  test("outbox: jobs by kind and outcome, depth, oldest age", () => {
    expect(m.table("outbox_jobs_total")).toEqual({
      [key({ ...dt, kind: "create", outcome: "done" })]: 7,
      [key({ ...dt, kind: "update", outcome: "done" })]: 1,
      [key({ ...dt, kind: "delete", outcome: "done" })]: 1,
    });
    expect(m.table("outbox_jobs")).toEqual({
      [key({ ...dt, state: "pending" })]: 0,
      [key({ ...dt, state: "running" })]: 0,
      [key({ ...dt, state: "failed" })]: 0,
    });
    expect(m.value("outbox_oldest_job_age_seconds", dt)).toBe(0);
  });

  test("users by state and sync state, groups, adoptions, back-pressure 429s", () => {
    expect(m.table("scim_users")).toEqual({ [key({ tenant, state: "active" })]: 6, [key({ tenant, state: "inactive" })]: 0 });
    expect(m.table("scim_users_sync")).toEqual({
      [key({ ...dt, state: "synced" })]: 6,
      [key({ ...dt, state: "pending" })]: 0,
      [key({ ...dt, state: "failed" })]: 0,
    });
    expect(m.value("scim_groups", { tenant })).toBe(1);
    expect(m.value("digicert_adoptions_total", dt)).toBe(1);
    expect(m.value("scim_backpressure_rejections_total", { tenant })).toBe(1);
  });

  test("build_info: one series, value 1, with package.json's version, a commit and this Node.js", () => {
    const pkg = require("../../../package.json") as { version: string };
    const series = m.samples.filter((s) => s.name === "build_info");
    expect(series).toHaveLength(1);
    expect(series[0].value).toBe(1);
    expect(series[0].labels).toEqual({ version: pkg.version, commit: expect.stringMatching(/^([0-9a-f]{7,64}|unknown)$/), node: process.versions.node });
  });

  test("a store that stops answering keeps the last values and the scrape succeeds", async () => {
    const spies = [
      jest.spyOn(h.bridge.store.users, "countByState").mockRejectedValue(new Error("store down")),
      jest.spyOn(h.bridge.store.groups, "count").mockRejectedValue(new Error("store down")),
      jest.spyOn(h.bridge.store.outbox, "stats").mockRejectedValue(new Error("store down")),
    ];
    try {
      const again = await scrape(h);
      expect(spies.every((s) => s.mock.calls.length > 0)).toBe(true);
      expect(again.table("scim_users")).toEqual(m.table("scim_users"));
      expect(again.table("scim_users_sync")).toEqual(m.table("scim_users_sync"));
      expect(again.value("scim_groups", { tenant })).toBe(1);
      expect(again.table("outbox_jobs")).toEqual(m.table("outbox_jobs"));
    } finally {
      for (const s of spies) s.mockRestore();
    }
  });
});

describe("rate-limiter queue depth and waits while calls queue", () => {
  test("one call at a time, 3 slow creates: 2 wait, and their waits are measured", async () => {
    const h = await startHarness({
      platform: "certcentral",
      // Without the availability route the client stops asking after the first 404, so each create is one call.
      simulator: { certcentral: { availability: "missing" } },
      env: { SYNC_WAIT_MS: "0", DIGICERT_MAX_CONCURRENT: "1", DIGICERT_TIMEOUT_MS: "5000" },
    });
    try {
      // Warm the role cache (and learn the availability route is missing) so that only the creates go to DigiCert below.
      expect((await h.post("/scim/v2/Users", oktaUser())).status).toBe(201);
      await h.drain();
      const before = await scrape(h);
      h.sim.failNext({ platform: "certcentral", method: "POST", path: /^\/user$/, delayMs: 800, times: 3 });
      for (let i = 0; i < 3; i++) expect((await h.post("/scim/v2/Users", oktaUser())).status).toBe(201);
      await new Promise((r) => setTimeout(r, 300));
      const dt = { tenant: "default", target: "certcentral" };
      expect((await scrape(h)).value("digicert_ratelimit_queue_depth", dt)).toBe(2);
      await h.drain();
      const after = await scrape(h);
      expect(after.value("digicert_ratelimit_queue_depth", dt)).toBe(0);
      const count = (s: Scrape) => s.value("digicert_ratelimit_wait_seconds_count", dt)!;
      const sum = (s: Scrape) => s.value("digicert_ratelimit_wait_seconds_sum", dt)!;
      expect(count(after) - count(before)).toBe(3);
      // The second waited for the first (0.8 s), the third for both (1.6 s).
      expect(sum(after) - sum(before)).toBeGreaterThanOrEqual(2.2);
    } finally {
      await h.close();
    }
  });
});

describe("METRICS_TOKEN", () => {
  const METRICS_TOKEN = "metrics-token-0123456789abcdef";
  const HASHED = "rotated-metrics-token-abcdef0123";
  let h: Harness;
  beforeAll(async () => {
    const digest = createHash("sha256").update(HASHED, "utf8").digest("hex");
    h = await startHarness({ platform: "certcentral", env: { METRICS_TOKEN: `prometheus=${METRICS_TOKEN},old=sha256:${digest}` } });
  });
  afterAll(async () => h?.close());

  test("without a token, with a wrong one, or with a SCIM token: 401", async () => {
    for (const auth of [undefined, "Bearer wrong-token", `Bearer ${TOKEN}`, `Basic ${Buffer.from(`x:${METRICS_TOKEN}`).toString("base64")}`]) {
      const req = request(h.app).get("/metrics");
      const res = await (auth ? req.set("Authorization", auth) : req);
      expect(res.status).toBe(401);
      expect(res.headers["www-authenticate"]).toMatch(/^Bearer realm=/);
      expect(res.text).not.toContain("scim_requests_total");
    }
  });

  test("with either configured token (plain or sha256:): 200", async () => {
    expect((await scrape(h, METRICS_TOKEN)).names()).toContain("digicert_requests_total");
    expect((await scrape(h, HASHED)).names()).toContain("scim_users");
  });

  test("the token does not open SCIM, and health endpoints stay open", async () => {
    expect((await request(h.app).get("/scim/v2/Users").set("Authorization", `Bearer ${METRICS_TOKEN}`)).status).toBe(401);
    expect((await request(h.app).get("/healthz")).status).toBe(200);
  });
});

describe("without METRICS_TOKEN", () => {
  test("/metrics is open", async () => {
    const h = await startHarness({ platform: "one" });
    try {
      expect((await scrape(h)).names()).toEqual(expect.arrayContaining(["scim_requests_total", "digicert_ratelimit_mode"]));
    } finally {
      await h.close();
    }
  });
});
