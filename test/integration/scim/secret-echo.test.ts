import request from "supertest";
import { API_KEY, DC_EXT, oktaUser, startHarness, TOKEN, type Harness } from "../../support/harness";

// DigiCert (or a proxy in front of it) may echo what it was sent: a refusal quoting the API key or a bearer token
// must not carry the secret on to the IdP's answer, the audit trail, the outbox or the status page.

const ADMIN_TOKEN = "admin-token-7a6b5c4d3e2f1a0b";
const ECHO = `Invalid key ${API_KEY} for Authorization: Bearer ${TOKEN}`;

function expectClean(text: string, where: string) {
  expect({ where, hasKey: text.includes(API_KEY), hasToken: text.includes(TOKEN) }).toEqual({ where, hasKey: false, hasToken: false });
}

describe.each(["certcentral", "one"] as const)("a DigiCert answer that echoes a secret on %s", (platform) => {
  const answer = (status: number) => ({
    platform,
    method: "POST",
    path: /^\/user$/,
    status,
    body: platform === "certcentral" ? { errors: [{ code: "invalid_param|email", message: ECHO }] } : { errors: [{ code: "invalid_request", message: ECHO }] },
  });

  async function expectCleanStore(h: Harness) {
    const jobs = await h.bridge.store.outbox.list({ limit: 100 });
    expect(jobs.some((j) => j.error?.message.includes("Invalid key"))).toBe(true);
    expectClean(JSON.stringify(jobs.map((j) => j.error)), "outbox last_error");
    const audit = await h.bridge.store.audit.recent(200);
    expect(audit.some((e) => e.detail?.includes("Invalid key"))).toBe(true);
    expectClean(JSON.stringify(audit), "audit rows");
  }

  describe("a refused create", () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness({ platform });
    });
    afterAll(async () => h.close());

    test("the SCIM answer keeps DigiCert's words without the secrets; the audit rows and the job's error hold none", async () => {
      h.sim.failNext(answer(400));
      const res = await h.post("/scim/v2/Users", oktaUser());
      expect(res.status).toBe(400);
      expect(res.body.detail).toContain("Invalid key [REDACTED] for Authorization: Bearer [REDACTED]");
      expectClean(JSON.stringify(res.body), "SCIM answer");
      await expectCleanStore(h);
    });
  });

  describe("a create that keeps failing", () => {
    let h: Harness;
    beforeAll(async () => {
      // Jobs are not waited for, and a job fails after two tries: the user stays, with a failed job.
      h = await startHarness({ platform, env: { ADMIN_TOKENS: `ops=${ADMIN_TOKEN}`, SYNC_WAIT_MS: "0", OUTBOX_MAX_ATTEMPTS: "2", DIGICERT_CIRCUIT_THRESHOLD: "0" } });
    });
    afterAll(async () => h.close());

    test("SCIM lastError, /admin/api/status, /admin, the audit rows and the job's error hold no secret", async () => {
      h.sim.failNext({ ...answer(502), times: 2 });
      const res = await h.post("/scim/v2/Users", oktaUser());
      expect(res.status).toBe(201);
      await h.drain();
      const user = await h.get(`/scim/v2/Users/${res.body.id}`);
      expect(user.body[DC_EXT].lastError).toContain("Invalid key [REDACTED]");
      expectClean(JSON.stringify(user.body), "SCIM lastError");
      await expectCleanStore(h);

      const status = await request(h.app).get("/admin/api/status").set("Authorization", `Bearer ${ADMIN_TOKEN}`);
      expect(status.status).toBe(200);
      expect(JSON.stringify(status.body.outbox.failedJobs)).toContain("Invalid key");
      expectClean(JSON.stringify(status.body), "/admin/api/status");
      const page = await request(h.app).get("/admin").set("Authorization", `Bearer ${ADMIN_TOKEN}`);
      expect(page.status).toBe(200);
      expect(page.text).toContain("Invalid key");
      expectClean(page.text, "/admin");
    });
  });
});
