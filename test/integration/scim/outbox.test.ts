import { mkdtempSync, rmSync } from "node:fs";
import request from "supertest";
import { tmpdir } from "node:os";
import path from "node:path";
import { DC_EXT, oktaUser, startHarness, type Harness } from "../../support/harness";
import type { FailSpec } from "../../../src/simulator/types";

// Never lose a change: every DigiCert write goes through the outbox, survives DigiCert failing in every way and
// the bridge dying mid-job, and reaches DigiCert exactly once.

const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
type Platform = "certcentral" | "one";

function live(h: Harness, platform: Platform, userName: string): any[] {
  return h.sim
    .listUsers(platform)
    .filter((u: any) => String(u.username ?? u.user_name).toLowerCase() === userName.toLowerCase() && (u.status ?? "") !== "DELETED");
}

function createsOf(h: Harness, platform: Platform, userName: string) {
  return h.sim.callsTo(platform, "POST", /^\/user$/).filter((c) => JSON.stringify(c.body ?? {}).includes(userName));
}

describe.each(["certcentral", "one"] as const)("outbox on %s", (platform) => {
  describe("faults on the first calls", () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness({ platform });
    });
    afterAll(async () => h.close());
    beforeEach(() => {
      h.sim.clearFaults();
      h.sim.clearCalls();
    });

    const faults: [string, Omit<FailSpec, "platform" | "method" | "path">][] = [
      ["503 with Retry-After", { status: 503, times: 2, headers: { "Retry-After": "1" }, body: {} }],
      ["429 with Retry-After", { status: 429, times: 2, headers: { "Retry-After": "1" }, body: { errors: [{ code: "request_limit_exceeded", message: "limit" }] } }],
      ["connection reset", { network: "reset", times: 2 }],
      // The simulator creates the user but answers after the bridge's 1.5 s timeout.
      ["timeout", { delayMs: 2500, times: 1 }],
    ];

    test.each(faults)("%s on create: the user is created exactly once and synced", async (_name, fault) => {
      const body = oktaUser();
      const userName = body.userName as string;
      h.sim.failNext({ platform, method: "POST", path: /^\/user$/, ...fault });
      const res = await h.post("/scim/v2/Users", body);
      expect(res.status).toBe(201);
      await h.drain();
      // A late answer (the timeout case) must still meet the duplicate check, not make a second user.
      await new Promise((r) => setTimeout(r, fault.delayMs ? 1500 : 0));
      const found = live(h, platform, userName);
      expect(found).toHaveLength(1);
      const row = await h.bridge.store.users.getById(res.body.id);
      expect(row).toMatchObject({ syncState: "synced", syncError: null, digicertId: String(found[0].id) });
      const read = await h.get(`/scim/v2/Users/${res.body.id}`);
      expect(read.body[DC_EXT]).toMatchObject({ syncState: "synced", digicertUserId: String(found[0].id) });
      expect(read.body[DC_EXT].lastSyncedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(read.body[DC_EXT].lastError).toBeUndefined();
    });

    test("503 on an update: 200 at once or after the retry, and the change reaches DigiCert", async () => {
      const created = await h.post("/scim/v2/Users", oktaUser());
      // More than the client retries of one PUT (3): the job is retried as a whole.
      h.sim.failNext({ platform, method: "PUT", path: /^\/user\/[^/]+$/, status: 503, body: {}, times: 5 });
      const res = await h.patch(`/scim/v2/Users/${created.body.id}`, {
        schemas: [PATCH_OP],
        Operations: [{ op: "replace", path: "name.givenName", value: "Augusta" }],
      });
      expect(res.status).toBe(200);
      expect(res.body.name.givenName).toBe("Augusta");
      await h.drain();
      const row = await h.bridge.store.users.getById(created.body.id);
      expect(row!.syncState).toBe("synced");
      const dc = h.sim.getUser(platform, row!.digicertId!);
      expect(dc.first_name).toBe("Augusta");
    });

    test("DigiCert refusing an update is 400 with its message, and the stored user is put back", async () => {
      const created = await h.post("/scim/v2/Users", oktaUser());
      const before = await h.bridge.store.users.getById(created.body.id);
      h.sim.failNext({
        platform,
        method: "PUT",
        path: /^\/user\/[^/]+$/,
        status: 400,
        body: { errors: [{ code: platform === "certcentral" ? "invalid_param|first_name" : "invalid_request", message: "First name is not allowed." }] },
      });
      const res = await h.patch(`/scim/v2/Users/${created.body.id}`, {
        schemas: [PATCH_OP],
        Operations: [{ op: "replace", path: "name.givenName", value: "Forbidden" }],
      });
      expect(res.status).toBe(400);
      expect(res.body.detail).toContain("First name is not allowed.");
      const after = await h.bridge.store.users.getById(created.body.id);
      expect(after!.resource).toEqual(before!.resource);
      expect((await h.get(`/scim/v2/Users/${created.body.id}`)).body.name.givenName).toBe("Ada");
      await h.drain();
      expect((await h.bridge.store.users.getById(created.body.id))!.syncState).toBe("synced");
      expect(h.sim.getUser(platform, before!.digicertId!).first_name).toBe("Ada");
    });

    test("DigiCert refusing a create is 400 and nothing is stored; the corrected retry is not a 409", async () => {
      const body = oktaUser();
      h.sim.failNext({
        platform,
        method: "POST",
        path: /^\/user$/,
        status: 400,
        body: { errors: [{ code: platform === "certcentral" ? "invalid_param|email" : "invalid_request", message: "Email domain is not allowed." }] },
      });
      const res = await h.post("/scim/v2/Users", body);
      expect(res.status).toBe(400);
      expect(await h.bridge.store.users.getByUserName(body.userName as string)).toBeNull();
      expect((await h.post("/scim/v2/Users", body)).status).toBe(201);
      expect(live(h, platform, body.userName as string)).toHaveLength(1);
    });
  });

  test("a job that runs out of attempts is failed and visible; retrying it syncs the user", async () => {
    const h = await startHarness({
      platform,
      env: { SYNC_WAIT_MS: "0", OUTBOX_MAX_ATTEMPTS: "2", DIGICERT_CIRCUIT_THRESHOLD: "0" },
    });
    try {
      h.sim.failNext({ platform, method: "POST", path: /^\/user$/, status: 502, body: {}, times: 2 });
      const res = await h.post("/scim/v2/Users", oktaUser());
      expect(res.status).toBe(201);
      expect(res.body[DC_EXT].syncState).toBe("pending");
      await h.drain();
      const failed = await h.get(`/scim/v2/Users/${res.body.id}`);
      expect(failed.body[DC_EXT].syncState).toBe("failed");
      expect(failed.body[DC_EXT].lastError).toMatch(/502/);
      const jobs = await h.bridge.store.outbox.list({ status: ["failed"], limit: 10 });
      expect(jobs).toHaveLength(1);
      expect(jobs[0]).toMatchObject({ userId: res.body.id, kind: "create", attempts: 2 });
      const metrics = (await request(h.app).get("/metrics")).text;
      const dt = `tenant="default",target="${platform}"`;
      expect(metrics).toContain(`\noutbox_jobs_total{${dt},kind="create",outcome="retry"} 1\n`);
      expect(metrics).toContain(`\noutbox_jobs_total{${dt},kind="create",outcome="failed"} 1\n`);
      expect(metrics).toContain(`\noutbox_jobs{${dt},state="failed"} 1\n`);
      expect(metrics).toContain(`\noutbox_jobs{${dt},state="pending"} 0\n`);
      const ready = await request(h.app).get("/readyz");
      expect(ready.status).toBe(200);
      expect(ready.body.components.outbox.status).toBe("degraded");
      expect(ready.body.components.outbox.detail).toMatch(/^1 failed job \(digicert-scim outbox list --status failed\)/);
      expect(await h.bridge.store.outbox.retryFailed()).toBe(1);
      await h.drain();
      const synced = await h.get(`/scim/v2/Users/${res.body.id}`);
      expect(synced.body[DC_EXT].syncState).toBe("synced");
      expect(live(h, platform, res.body.userName)).toHaveLength(1);
    } finally {
      await h.close();
    }
  });

  test("back-pressure: a deep outbox answers writes 429 with Retry-After while reads keep working", async () => {
    const h = await startHarness({ platform, env: { SYNC_WAIT_MS: "0", OUTBOX_MAX_PENDING: "3", DIGICERT_CIRCUIT_COOLDOWN_MS: "1000" } });
    try {
      h.sim.failNext({ platform, method: "POST", path: /^\/user$/, status: 503, body: {}, times: 1_000_000 });
      for (let i = 0; i < 3; i++) expect((await h.post("/scim/v2/Users", oktaUser())).status).toBe(201);
      await new Promise((r) => setTimeout(r, 1100)); // the depth is measured at most once a second
      const refused = await h.post("/scim/v2/Users", oktaUser());
      expect(refused.status).toBe(429);
      expect(refused.body).toMatchObject({ status: "429" });
      expect(Number(refused.headers["retry-after"])).toBeGreaterThanOrEqual(1);
      expect((await h.get("/scim/v2/Users")).status).toBe(200);
      h.sim.clearFaults();
      await h.drain();
      await new Promise((r) => setTimeout(r, 1100));
      expect((await h.post("/scim/v2/Users", oktaUser())).status).toBe(201);
      expect(h.sim.listUsers(platform).filter((u: any) => (u.status ?? "") !== "DELETED")).toHaveLength(4);
    } finally {
      await h.close();
    }
  });

  test("a worker killed mid-job: another bridge resumes it after the lease, with no duplicate and nothing lost", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "outbox-crash-"));
    const databaseUrl = `sqlite:${path.join(dir, "scim.db")}`;
    const env = { SYNC_WAIT_MS: "200", OUTBOX_LEASE_MS: "2000", OUTBOX_CONCURRENCY: "1" };
    const first = await startHarness({ platform, databaseUrl, env });
    let second: Harness | null = null;
    try {
      // DigiCert takes a second to answer the first create; the bridge dies before the answer arrives.
      first.sim.failNext({ platform, method: "POST", path: /^\/user$/, delayMs: 1000 });
      const a = await first.post("/scim/v2/Users", oktaUser());
      const b = await first.post("/scim/v2/Users", oktaUser());
      expect([a.status, b.status]).toEqual([201, 201]);
      expect(a.body[DC_EXT].syncState).toBe("pending");
      first.bridge.outbox.crash();
      await new Promise((r) => setTimeout(r, 1200));
      // The create reached DigiCert; the bridge never recorded it.
      expect(live(first, platform, a.body.userName)).toHaveLength(1);
      expect((await first.bridge.store.users.getById(a.body.id))!.digicertId).toBeNull();

      second = await startHarness({ platform, databaseUrl, env, sim: first.sim });
      await second.drain(20_000);
      for (const u of [a.body, b.body]) {
        expect(live(second, platform, u.userName)).toHaveLength(1);
        expect(createsOf(second, platform, u.userName)).toHaveLength(1);
        const row = await second.bridge.store.users.getById(u.id);
        expect(row).toMatchObject({ syncState: "synced", digicertId: String(live(second, platform, u.userName)[0].id) });
      }
    } finally {
      await second?.close();
      await first.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a graceful stop hands running jobs back: the next start resumes them at once", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "outbox-stop-"));
    const databaseUrl = `sqlite:${path.join(dir, "scim.db")}`;
    // A long lease: only the hand-back (not its expiry) lets the second bridge take the job within the test.
    const env = { SYNC_WAIT_MS: "100", OUTBOX_LEASE_MS: "600000" };
    const first = await startHarness({ platform, databaseUrl, env });
    let second: Harness | null = null;
    try {
      first.sim.failNext({ platform, method: "POST", path: /^\/user$/, delayMs: 1400 });
      const a = await first.post("/scim/v2/Users", oktaUser());
      expect(a.status).toBe(201);
      const stopping = first.bridge.outbox.stop(200);
      await stopping;
      expect((await first.bridge.store.outbox.stats()).running).toBe(0);
      second = await startHarness({ platform, databaseUrl, env, sim: first.sim });
      await second.drain(10_000);
      await new Promise((r) => setTimeout(r, 1500));
      expect(live(second, platform, a.body.userName)).toHaveLength(1);
      expect((await second.bridge.store.users.getById(a.body.id))!.syncState).toBe("synced");
    } finally {
      await second?.close();
      await first.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
