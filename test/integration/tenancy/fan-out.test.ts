// Fan-out: one tenant provisioning each user to CertCentral (its primary target) and DigiCert ONE at once, each
// target on a simulator of its own with its own role mapping. Checked through the SCIM answers (per-target
// `targets`, the worst `syncState`), what each simulator holds and was asked, and the targets' own outboxes: one
// target down or refusing holds up and rolls back nothing of the other's.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import request from "supertest";
import { loadConfig, type AppConfig, type TenantConfig } from "../../../src/config";
import { createLogger, registerSecret } from "../../../src/log/logger";
import { startSimulator } from "../../../src/simulator";
import type { Simulator } from "../../../src/simulator/types";
import { buildBridge, type Bridge } from "../../../src/wiring";
import { dropSchema, PG_URL, uniqueSchema } from "../../support/databases";
import { API_KEY, CC_CONTAINER_ID, DC_EXT, ONE_ACCOUNT_ID, oktaUser, PATCH_OP, PUBLIC_BASE_URL, refuseNextCreate, startHarness, TOKEN } from "../../support/harness";
import { writeMapping } from "../../support/mapping";

const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const BASE = "/t/acme/scim/v2";
const SYNC_WAIT_MS = 3000;

const variants: ["sqlite" | "postgres"][] = [["sqlite"]];
if (PG_URL) variants.push(["postgres"]);
else console.warn("PostgreSQL variant of the fan-out tests skipped: TEST_DATABASE_URL not set");

const auth = (t: request.Test) => t.set("Authorization", `Bearer ${TOKEN}`);
const send = (t: request.Test, body: unknown) => auth(t).set("Content-Type", "application/scim+json").send(JSON.stringify(body));

async function simulator(): Promise<Simulator> {
  return startSimulator({ port: 0, apiKey: API_KEY, certcentral: { containerId: CC_CONTAINER_ID }, one: { accountId: ONE_ACCOUNT_ID } });
}

function envFor(platform: "certcentral" | "one", sim: Simulator, databaseUrl: string, mapping: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PUBLIC_BASE_URL,
    SCIM_BEARER_TOKENS: TOKEN,
    DIGICERT_PLATFORM: platform,
    DIGICERT_API_KEY: API_KEY,
    DIGICERT_BASE_URL: platform === "one" ? sim.oneBaseUrl : sim.certcentralBaseUrl,
    DIGICERT_CERTCENTRAL_CONTAINER_ID: String(CC_CONTAINER_ID),
    DIGICERT_ONE_ACCOUNT_ID: ONE_ACCOUNT_ID,
    DIGICERT_TIMEOUT_MS: "1500",
    DIGICERT_RATE_LIMIT: "1000/1s",
    DIGICERT_CIRCUIT_COOLDOWN_MS: "1000",
    DATABASE_URL: databaseUrl,
    OUTBOX_RETRY_BASE_MS: "100",
    OUTBOX_RETRY_MAX_MS: "1000",
    SYNC_WAIT_MS: String(SYNC_WAIT_MS),
    ROLE_MAPPING_FILE: mapping,
    LOG_LEVEL: "warn",
    ...extra,
  };
}

/** The tenant "acme": CertCentral first (the primary), DigiCert ONE second, each with its own DigiCert and mapping. */
function fanOutConfig(cc: Simulator, one: Simulator, databaseUrl: string, withOne = true): AppConfig {
  const ccConfig = loadConfig(
    envFor("certcentral", cc, databaseUrl, writeMapping(`default: ["Standard User"]\nrules:\n  - group: "DigiCert Admins"\n    roles: ["Administrator"]\n`)),
  );
  const oneConfig = loadConfig(
    // ONE's own way to deactivate (CertCentral's is its default, delete).
    envFor("one", one, databaseUrl, writeMapping(`default: ["Default User"]\nrules:\n  - group: "DigiCert Admins"\n    roles: ["Account Admin"]\n`), { ONE_DEACTIVATE: "disable" }),
  );
  const tenants: TenantConfig[] = [
    {
      id: "acme",
      credentials: { bearerTokens: ccConfig.scim.bearerTokens, basicUsers: [] },
      dryRun: false,
      targets: [
        { name: "certcentral", digicert: ccConfig.digicert, roleMappingFile: ccConfig.roleMappingFile },
        ...(withOne ? [{ name: "one", digicert: oneConfig.digicert, roleMappingFile: oneConfig.roleMappingFile }] : []),
      ],
    },
  ];
  return Object.assign(ccConfig, { tenants });
}

describe.each(variants)("fan-out to CertCentral and DigiCert ONE (%s)", (db) => {
  let cc: Simulator;
  let one: Simulator;
  let bridge: Bridge;
  /** A second replica on the same database whose reads all go through SCIMMY (the fast path's reference). */
  let scimmy: Bridge;
  const pgSchema = uniqueSchema("fan_out");

  beforeAll(async () => {
    registerSecret(API_KEY);
    cc = await simulator();
    one = await simulator();
    const databaseUrl = db === "postgres" ? PG_URL! : `sqlite:${join(mkdtempSync(join(tmpdir(), "fan-out-")), "scim.db")}`;
    const config = fanOutConfig(cc, one, databaseUrl);
    const logger = () => createLogger("warn", new PassThrough().resume());
    const pg = db === "postgres" ? { pgSchema } : {};
    bridge = await buildBridge(config, logger(), pg);
    scimmy = await buildBridge(config, logger(), { ...pg, fastReads: false });
  });

  afterAll(async () => {
    await scimmy?.close();
    await bridge?.close();
    await cc?.close();
    await one?.close();
    if (db === "postgres") await dropSchema(pgSchema);
  });

  const get = (path: string, on = bridge) => auth(request(on.app).get(`${BASE}${path}`));
  const post = (path: string, body: unknown) => send(request(bridge.app).post(`${BASE}${path}`), body);
  const patch = (path: string, body: unknown) => send(request(bridge.app).patch(`${BASE}${path}`), body);
  const del = (path: string) => auth(request(bridge.app).delete(`${BASE}${path}`));

  const tenant = () => bridge.tenants.get("acme")!;
  const target = (name: string) => tenant().targets.find((t) => t.name === name)!;

  /** Until every target's outbox has nothing pending or running. */
  async function drain(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const stats = await Promise.all(tenant().targets.map((t) => t.store.outbox.stats()));
      if (stats.every((s) => s.pending + s.running === 0)) return;
      if (Date.now() > deadline) throw new Error(`outboxes not drained: ${JSON.stringify(stats)}`);
      for (const t of tenant().targets) t.worker.kick();
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The user's DigiCert extension, read again until `done` holds. */
  async function until(id: string, done: (ext: any) => boolean, timeoutMs = 20_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await get(`/Users/${id}`);
      expect(res.status).toBe(200);
      if (done(res.body[DC_EXT])) return res.body[DC_EXT];
      if (Date.now() > deadline) throw new Error(`user ${id} never got there: ${JSON.stringify(res.body[DC_EXT])}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const ccUser = (userName: string) => cc.listUsers("certcentral").find((u) => u.username === userName);
  const oneUser = (userName: string) => one.listUsers("one").find((u) => u.user_name === userName && u.status !== "DELETED");
  const stateOf = (ext: any, name: string) => ext.targets.find((t: any) => t.target === name)?.syncState;

  it("creates the user on both targets and shows each target's state", async () => {
    const body = oktaUser();
    const userName = body.userName as string;
    const res = await post("/Users", body);
    expect(res.status).toBe(201);
    const answered = res.body[DC_EXT];
    // The request waited for the primary only: CertCentral has answered; the ONE job may still be running.
    expect(answered.targets.map((t: any) => [t.target, t.platform])).toEqual([
      ["certcentral", "certcentral"],
      ["one", "one"],
    ]);
    expect(answered.targets[0]).toMatchObject({ syncState: "synced", digicertUserId: expect.any(String) });
    expect(answered.platform).toBe("certcentral");
    await drain();

    const ext = (await get(`/Users/${res.body.id}`)).body[DC_EXT];
    expect(ext.syncState).toBe("synced");
    expect(ext.targets).toEqual([
      { target: "certcentral", platform: "certcentral", syncState: "synced", digicertUserId: String(ccUser(userName).id), lastSyncedAt: expect.any(String) },
      { target: "one", platform: "one", syncState: "synced", digicertUserId: oneUser(userName).id, lastSyncedAt: expect.any(String) },
    ]);
    // Each simulator was asked for its own platform only, once for this user.
    expect(cc.callsTo("certcentral", "POST", /^\/user$/).filter((c) => c.body.username === userName)).toHaveLength(1);
    expect(one.callsTo("one", "POST", /^\/user$/).filter((c) => c.body.user_name === userName)).toHaveLength(1);
    expect(cc.callsTo("one")).toHaveLength(0);
    expect(one.callsTo("certcentral")).toHaveLength(0);
    // Each target gave its own mapping's default role, from its own DigiCert's roles.
    expect(cc.ccTruth(ccUser(userName).id)!.role_ids).toEqual([5]);
    expect(one.oneTruth(oneUser(userName).id)!.roles).toEqual(["AM_DEFAULT_USER"]);
    // The primary's link stays on the user; the ONE link is its own.
    const row = await bridge.store.users.getById(res.body.id);
    expect(row!.digicertId).toBe(String(ccUser(userName).id));
    expect((await target("one").store.users.getById(res.body.id))!.digicertId).toBe(oneUser(userName).id);
  });

  it("answers reads alike on the fast path and through SCIMMY", async () => {
    const res = await post("/Users", oktaUser());
    expect(res.status).toBe(201);
    await drain();
    for (const path of [`/Users/${res.body.id}`, `/Users?filter=${encodeURIComponent(`userName eq "${res.body.userName}"`)}`, "/Users?startIndex=1&count=5"]) {
      const [fast, slow] = await Promise.all([get(path), get(path, scimmy)]);
      expect(fast.status).toBe(200);
      expect(fast.body).toEqual(slow.body);
    }
    const fast = await get(`/Users/${res.body.id}`);
    expect(fast.body[DC_EXT].targets).toHaveLength(2);
  });

  it("maps groups to each target's own roles; the Role catalogue is the primary's", async () => {
    const res = await post("/Users", oktaUser());
    expect(res.status).toBe(201);
    const g = await post("/Groups", { schemas: [GROUP], displayName: "DigiCert Admins", members: [{ value: res.body.id }] });
    expect(g.status).toBe(201);
    await drain();
    expect(cc.ccTruth(ccUser(res.body.userName).id)!.role_ids).toEqual([1]);
    expect(one.oneTruth(oneUser(res.body.userName).id)!.roles).toEqual(["AM_ACCOUNT_ADMIN"]);
    const roles = await get("/Roles");
    expect(roles.status).toBe(200);
    const ids = roles.body.Resources.map((r: any) => String(r.id ?? r.value));
    expect(ids).toContain("1");
    expect(ids).not.toContain("AM_ACCOUNT_ADMIN");
  });

  it("deactivates and deletes on both targets", async () => {
    const res = await post("/Users", oktaUser());
    expect(res.status).toBe(201);
    await drain();
    const userName = res.body.userName as string;
    const oneId = oneUser(userName).id;
    expect(ccUser(userName)).toBeDefined();

    const off = await patch(`/Users/${res.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "active", value: false }] });
    expect(off.status).toBe(200);
    await drain();
    // CertCentral removes access by deleting (CERTCENTRAL_DEACTIVATE's default); ONE disables (its ONE_DEACTIVATE).
    expect(ccUser(userName)).toBeUndefined();
    expect(one.oneTruth(oneId)!.status).toBe("DISABLED");
    expect((await get(`/Users/${res.body.id}`)).body[DC_EXT]).toMatchObject({ syncState: "synced", targets: [{ syncState: "synced" }, { syncState: "synced" }] });

    expect((await del(`/Users/${res.body.id}`)).status).toBe(204);
    await drain();
    expect(oneUser(userName)).toBeUndefined();
    expect(one.oneTruth(oneId)?.status ?? "DELETED").toBe("DELETED");
    expect(one.callsTo("one", "DELETE", `/user/${oneId}`)).toHaveLength(1);
    expect((await get(`/Users/${res.body.id}`)).status).toBe(404);
  });

  it("deletes from both targets a user both hold", async () => {
    const res = await post("/Users", oktaUser());
    expect(res.status).toBe(201);
    await drain();
    const userName = res.body.userName as string;
    const ccId = ccUser(userName).id;
    const oneId = oneUser(userName).id;
    expect((await del(`/Users/${res.body.id}`)).status).toBe(204);
    await drain();
    expect(ccUser(userName)).toBeUndefined();
    expect(oneUser(userName)).toBeUndefined();
    expect(cc.callsTo("certcentral", "DELETE", new RegExp(`^/user/${ccId}$`))).toHaveLength(1);
    expect(one.callsTo("one", "DELETE", `/user/${oneId}`)).toHaveLength(1);
  });

  it("keeps provisioning CertCentral while ONE is down, and catches ONE up once it is back", async () => {
    one.failNext({ platform: "one", status: 503, times: 1_000_000 });
    try {
      const started = Date.now();
      const res = await post("/Users", oktaUser());
      const took = Date.now() - started;
      expect(res.status).toBe(201);
      expect(took).toBeLessThan(SYNC_WAIT_MS);
      const ext = res.body[DC_EXT];
      expect(stateOf(ext, "certcentral")).toBe("synced");
      expect(stateOf(ext, "one")).toBe("pending");
      expect(ext.syncState).toBe("pending");
      expect(ccUser(res.body.userName)).toBeDefined();

      // Further users reach CertCentral as quickly, ONE's backlog notwithstanding.
      const more = [];
      for (let i = 0; i < 3; i++) {
        const t0 = Date.now();
        const r = await post("/Users", oktaUser());
        expect(r.status).toBe(201);
        expect(Date.now() - t0).toBeLessThan(SYNC_WAIT_MS);
        expect(stateOf(r.body[DC_EXT], "certcentral")).toBe("synced");
        expect(ccUser(r.body.userName)).toBeDefined();
        more.push(r.body);
      }
      // ONE is tried meanwhile (and refuses every call); its jobs wait, CertCentral's are all done.
      const callsBefore = one.callsTo("one").length;
      await new Promise((r) => setTimeout(r, 1500));
      expect(one.callsTo("one").length).toBeGreaterThan(callsBefore);
      const oneStats = await target("one").store.outbox.stats();
      expect(oneStats.pending + oneStats.running).toBeGreaterThanOrEqual(4);
      expect((await target("certcentral").store.outbox.stats()).pending).toBe(0);
      // Nothing reached ONE meanwhile.
      for (const u of [res.body, ...more]) expect(oneUser(u.userName)).toBeUndefined();

      one.clearFaults();
      await drain(30_000);
      for (const u of [res.body, ...more]) {
        const after = await until(u.id, (e) => e.syncState === "synced");
        expect(after.targets.map((t: any) => t.syncState)).toEqual(["synced", "synced"]);
        expect(after.targets[1].digicertUserId).toBe(oneUser(u.userName).id);
      }
    } finally {
      one.clearFaults();
    }
  });

  it("keeps the user when the secondary target refuses it, and shows that target failed", async () => {
    refuseNextCreate(one, "one");
    const res = await post("/Users", oktaUser());
    expect(res.status).toBe(201);
    const ext = await until(res.body.id, (e) => stateOf(e, "one") === "failed");
    expect(ext.syncState).toBe("failed");
    expect(ext.lastError).toMatch(/^one: /);
    expect(ext.targets[0]).toMatchObject({ target: "certcentral", syncState: "synced" });
    expect(ext.targets[1]).toMatchObject({ target: "one", syncState: "failed", lastError: expect.stringContaining("Email domain is not allowed") });
    expect(ext.targets[1].digicertUserId).toBeUndefined();
    // Nothing was rolled back: the SCIM user and its CertCentral user stay.
    expect(await bridge.store.users.getById(res.body.id)).not.toBeNull();
    expect(ccUser(res.body.userName)).toBeDefined();
    expect(oneUser(res.body.userName)).toBeUndefined();
    const audit = await bridge.store.audit.query({ resourceId: res.body.id });
    expect(audit.map((e) => e.action)).not.toContain("user.rollback");
  });

  it("rolls a create back on every target when the primary refuses it", async () => {
    // CertCentral takes its time to refuse, so ONE has made the user by then.
    cc.failNext({
      platform: "certcentral",
      method: "POST",
      path: /^\/user$/,
      status: 400,
      body: { errors: [{ code: "invalid_param|email", message: "Email domain is not allowed." }] },
      delayMs: 1000,
    });
    const body = oktaUser();
    const userName = body.userName as string;
    const res = await post("/Users", body);
    expect(res.status).toBe(400);
    expect(one.callsTo("one", "POST", /^\/user$/).filter((c) => c.body.user_name === userName)).toHaveLength(1);
    await drain();
    expect(await bridge.store.users.getByUserName(userName)).toBeNull();
    expect(ccUser(userName)).toBeUndefined();
    // The user ONE made goes too: the rollback queued its delete with ONE's own id.
    expect(oneUser(userName)).toBeUndefined();
    expect(one.callsTo("one", "DELETE", /^\/user\//)).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: `/user/${one.listUsers("one").find((u) => u.user_name === userName)!.id}` })]),
    );
  });

  it("reconciles each target with its own DigiCert", async () => {
    const res = await post("/Users", oktaUser());
    expect(res.status).toBe(201);
    await drain();
    const userName = res.body.userName as string;
    const oneId = oneUser(userName).id;
    // Someone deletes the ONE user by hand; CertCentral keeps its own.
    await target("one").core.digicert.deleteUser(oneId);
    expect(oneUser(userName)).toBeUndefined();

    const report = await tenant().reconcile({ fix: true });
    // The answer is the primary's report, which finds nothing wrong with this user.
    expect(report.platform).toBe("certcentral");
    expect(report.entries.filter((e) => e.userId === res.body.id)).toEqual([]);
    // ONE's report is stored on ONE's target, and its fix is queued there.
    const oneReport = await target("one").store.reconcile.latest();
    expect(oneReport!.platform).toBe("one");
    expect(oneReport!.entries).toContainEqual(expect.objectContaining({ userId: res.body.id, kind: "missing", digicertId: oneId }));
    expect((await target("certcentral").store.reconcile.latest())!.id).toBe(report.id);

    await drain();
    const ext = await until(res.body.id, (e) => stateOf(e, "one") === "synced" && !!e.targets[1].digicertUserId && e.targets[1].digicertUserId !== oneId);
    expect(oneUser(userName).id).toBe(ext.targets[1].digicertUserId);
    expect(ext.targets[0].digicertUserId).toBe(String(ccUser(userName).id));
  });

  it("lets a secondary target's jobs be claimed by its worker only", async () => {
    const res = await post("/Users", oktaUser());
    expect(res.status).toBe(201);
    await drain();
    const ccJobs = await target("certcentral").store.outbox.list({ userId: res.body.id, limit: 10 });
    const oneJobs = await target("one").store.outbox.list({ userId: res.body.id, limit: 10 });
    expect(ccJobs.map((j) => j.kind)).toEqual(["create"]);
    expect(oneJobs.map((j) => j.kind)).toEqual(["create"]);
    expect(ccJobs[0]!.id).not.toBe(oneJobs[0]!.id);
    expect(ccJobs[0]!.status).toBe("done");
    expect(oneJobs[0]!.status).toBe("done");
  });
});

describe("a tenant with one target", () => {
  it("shows no targets attribute", async () => {
    const h = await startHarness({ platform: "certcentral" });
    try {
      const res = await h.post("/scim/v2/Users", oktaUser());
      expect(res.status).toBe(201);
      expect(res.body[DC_EXT]).not.toHaveProperty("targets");
      expect((await h.get(`/scim/v2/Users/${res.body.id}`)).body[DC_EXT]).not.toHaveProperty("targets");
      expect(h.bridge.tenants.get("default")!.targets).toHaveLength(1);
    } finally {
      await h.close();
    }
  });
});

describe("a target added to a tenant that already has users", () => {
  it("reaches them when the bridge starts with it", async () => {
    const cc = await simulator();
    const one = await simulator();
    const databaseUrl = `sqlite:${join(mkdtempSync(join(tmpdir(), "fan-out-added-")), "scim.db")}`;
    const logger = () => createLogger("warn", new PassThrough().resume());
    const names: string[] = [];
    const ids: string[] = [];
    try {
      const before = await buildBridge(fanOutConfig(cc, one, databaseUrl, false), logger());
      try {
        for (let i = 0; i < 3; i++) {
          const body = oktaUser();
          const res = await send(request(before.app).post(`${BASE}/Users`), body);
          expect(res.status).toBe(201);
          expect(res.body[DC_EXT]).not.toHaveProperty("targets");
          names.push(body.userName as string);
          ids.push(res.body.id);
        }
      } finally {
        await before.close();
      }
      expect(one.callsTo("one")).toHaveLength(0);

      const after = await buildBridge(fanOutConfig(cc, one, databaseUrl), logger());
      try {
        const deadline = Date.now() + 20_000;
        for (const id of ids) {
          for (;;) {
            const ext = (await auth(request(after.app).get(`${BASE}/Users/${id}`))).body[DC_EXT];
            if (ext.targets?.[1]?.syncState === "synced") break;
            if (Date.now() > deadline) throw new Error(`user ${id} never reached ONE: ${JSON.stringify(ext)}`);
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        for (const name of names) expect(one.listUsers("one").filter((u) => u.user_name === name)).toHaveLength(1);
        // CertCentral was not asked to create anyone again.
        expect(cc.callsTo("certcentral", "POST", /^\/user$/)).toHaveLength(3);
      } finally {
        await after.close();
      }
    } finally {
      await cc.close();
      await one.close();
    }
  });
});

describe("fan-out where only a secondary target maps groups", () => {
  it("a membership change reaches the secondary target's roles though the primary has no mapping", async () => {
    registerSecret(API_KEY);
    const cc = await simulator();
    const one = await simulator();
    const databaseUrl = `sqlite:${join(mkdtempSync(join(tmpdir(), "fan-out-map-")), "scim.db")}`;
    const config = fanOutConfig(cc, one, databaseUrl);
    // The primary (CertCentral) without a mapping: groups grant it nothing.
    const tenants = config.tenants.map((t) => ({ ...t, targets: t.targets.map((x, i) => (i === 0 ? { ...x, roleMappingFile: undefined } : x)) }));
    const bridge = await buildBridge({ ...config, tenants }, createLogger("warn", new PassThrough().resume()));
    const post = (path: string, body: unknown) => send(request(bridge.app).post(`${BASE}${path}`), body);
    const patch = (path: string, body: unknown) => send(request(bridge.app).patch(`${BASE}${path}`), body);
    try {
      const user = await post("/Users", oktaUser());
      expect(user.status).toBe(201);
      const group = await post("/Groups", { schemas: [GROUP], displayName: "DigiCert Admins" });
      expect(group.status).toBe(201);
      const oneId = () => one.listUsers("one").find((u) => u.user_name === user.body.userName)?.id as string | undefined;
      // ONE holds the user with its default role before the membership changes.
      for (const until = Date.now() + 20_000; !(oneId() && one.oneTruth(oneId()!)!.roles.includes("AM_DEFAULT_USER")); ) {
        if (Date.now() > until) throw new Error("ONE never got the user");
        await new Promise((r) => setTimeout(r, 100));
      }
      const added = await patch(`/Groups/${group.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: "add", path: "members", value: [{ value: user.body.id }] }] });
      expect(added.status).toBe(204);
      const deadline = Date.now() + 20_000;
      while (!(oneId() && one.oneTruth(oneId()!)!.roles.includes("AM_ACCOUNT_ADMIN"))) {
        if (Date.now() > deadline) throw new Error(`ONE never gave the group's role: ${JSON.stringify(oneId() && one.oneTruth(oneId()!))}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(one.oneTruth(oneId()!)!.roles).toEqual(["AM_ACCOUNT_ADMIN"]);
    } finally {
      await bridge.close();
      await cc.close();
      await one.close();
    }
  });
});
