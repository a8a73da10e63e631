// The user and group flows against every DigiCert ONE behaviour the docs leave open (../shared/digicert-api.md §D):
// the disable route missing or refused, user objects with roles / only applications[].permissions / neither, PUT
// as a partial change or a full replace, list pages capped with and without a total. Whatever DigiCert does, a
// deactivated user keeps no access, a reactivated one gets it back, no role is invented or lost where DigiCert lets
// the bridge see it, reconcile on an untouched tenant finds no drift, and a hand-made administrator keeps its roles.
import { hasDrift } from "../../../src/provisioning/reconcile";
import { writeMapping } from "../../support/mapping";
import { DC_EXT, oktaUser, PATCH_OP, startHarness, type Harness } from "../../support/harness";
import { ONE_DEFAULT_ROLES, ONE_MANAGER_ROLES, startSimulator, type Simulator } from "../../../src/simulator";
import type { OneVariant } from "../../../src/simulator/types";

jest.setTimeout(60_000);

const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ROLES = [...ONE_DEFAULT_ROLES, ...ONE_MANAGER_ROLES];
const MAPPING = `default: ["Default User"]
rules:
  - group: "PKI Admins"
    roles: ["Account Admin"]
`;

interface Case {
  name: string;
  variant: OneVariant & { listShape?: "array" | "envelope" };
  deactivate?: "delete" | "disable";
}

const CASES: Case[] = [
  { name: "documented shapes, ONE_DEACTIVATE=delete (default)", variant: {} },
  { name: "disable route served, ONE_DEACTIVATE=disable", variant: { disableRoute: "supported" }, deactivate: "disable" },
  ...(["missing", 400, 403, 405, 501] as const).map((r): Case => ({ name: `disable route ${r}, ONE_DEACTIVATE=disable`, variant: { disableRoute: r }, deactivate: "disable" })),
  { name: "disable route 400, ONE_DEACTIVATE=delete", variant: { disableRoute: 400 } },
  { name: "user objects with applications[].permissions only", variant: { userRoles: "applications" } },
  { name: "user objects with neither roles nor applications", variant: { userRoles: "none" }, deactivate: "disable" },
  { name: "PUT replaces the whole object", variant: { put: "replace" } },
  { name: "PUT replaces, roles hidden, disable 501", variant: { put: "replace", userRoles: "applications", disableRoute: 501 }, deactivate: "disable" },
  { name: "pages capped at 100 without a total", variant: { pageCap: 100 } },
  { name: "pages capped at 100 with a total", variant: { pageCap: 100, listShape: "envelope" } },
];

describe.each(CASES)("DigiCert ONE: $name", ({ variant, deactivate }) => {
  let sim: Simulator;
  let h: Harness;
  const rolesShown = (variant.userRoles ?? "roles") === "roles";
  const disables = deactivate === "disable" && (variant.disableRoute ?? "supported") === "supported";

  beforeAll(async () => {
    sim = await startSimulator({ port: 0, apiKey: "sim-key-9f8e7d6c5b4a", one: { accountId: "6a1f0c2e-8d3b-4c7a-9e5f-0123456789ab", roles: ROLES, ...variant } });
    h = await startHarness({ platform: "one", sim, env: { ROLE_MAPPING_FILE: writeMapping(MAPPING), ...(deactivate ? { ONE_DEACTIVATE: deactivate } : {}) } });
  });
  afterAll(async () => {
    await h.close();
    await sim.close();
  });

  const writes = () => sim.callsTo("one").filter((c) => c.method !== "GET");
  const truth = (id: string) => sim.oneTruth(id)!;
  const hasAccess = (id: string | undefined) => !!id && !!sim.oneTruth(id) && !["DELETED", "DISABLED"].includes(truth(id).status);
  const live = (userName: string) =>
    sim.listUsers("one").filter((u) => u.user_name === userName).map((u) => sim.oneTruth(u.id)!).filter((u) => u.status !== "DELETED");

  async function create(): Promise<{ id: string; userName: string; dcId: string }> {
    const res = await h.post("/scim/v2/Users", oktaUser());
    expect(res.status).toBe(201);
    await h.drain();
    const row = await h.bridge.store.users.getById(res.body.id);
    return { id: res.body.id, userName: res.body.userName, dcId: row!.digicertId! };
  }

  test("deactivate: no access within one job and never a 4xx; reactivate: access back with the mapped roles", async () => {
    const u = await create();
    const g = await h.post("/scim/v2/Groups", { schemas: [GROUP], displayName: "PKI Admins", members: [{ value: u.id }] });
    expect(g.status).toBe(201);
    await h.drain();
    expect(truth(u.dcId).roles).toEqual(["AM_ACCOUNT_ADMIN"]);

    sim.clearCalls();
    const off = await h.patch(`/scim/v2/Users/${u.id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", value: { active: false } }] });
    expect(off.status).toBe(200);
    expect(off.body.active).toBe(false);
    await h.drain();
    expect(hasAccess(u.dcId)).toBe(false);
    expect(live(u.userName).filter((x) => x.status !== "DISABLED")).toEqual([]);
    const row = await h.bridge.store.users.getById(u.id);
    expect(row!.syncState).toBe("synced");
    // One write when ONE does what is asked (delete, or disable where served); the first refused probe adds one.
    const probe = deactivate === "disable" && !disables ? 1 : 0;
    expect(writes()).toHaveLength(1 + probe);
    expect(writes()[writes().length - 1].method).toBe(disables ? "PUT" : "DELETE");

    const on = await h.patch(`/scim/v2/Users/${u.id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", value: { active: true } }] });
    expect(on.status).toBe(200);
    await h.drain();
    const back = await h.bridge.store.users.getById(u.id);
    expect(hasAccess(back!.digicertId!)).toBe(true);
    expect(truth(back!.digicertId!).roles).toEqual(["AM_ACCOUNT_ADMIN"]);
    expect(live(u.userName)).toHaveLength(1);
    if (!disables) expect(back!.digicertId).not.toBe(u.dcId);
  });

  test("a second deactivation costs no probe once the disable route was refused", async () => {
    const first = await create();
    const second = await create();
    await h.patch(`/scim/v2/Users/${first.id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "active", value: false }] });
    await h.drain();
    sim.clearCalls();
    const res = await h.patch(`/scim/v2/Users/${second.id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "active", value: false }] });
    expect(res.status).toBe(200);
    await h.drain();
    expect(writes().map((c) => c.method)).toEqual([disables ? "PUT" : "DELETE"]);
    expect(hasAccess(second.dcId)).toBe(false);
    const ready = await h.get("/readyz");
    if (deactivate === "disable" && !disables) expect(ready.body.components.deactivation).toMatchObject({ status: "degraded", detail: expect.stringMatching(/deletes the user instead/) });
    else expect(ready.body.components.deactivation?.status ?? "ok").toBe("ok");
  });

  test("group removal changes only the roles the mapping owns; another manager's role is kept where ONE shows it", async () => {
    const u = await create();
    const g = await h.post("/scim/v2/Groups", { schemas: [GROUP], displayName: `Team ${u.id.slice(0, 8)}`, members: [] });
    expect(g.status).toBe(201);
    const admins = (await h.get(`/scim/v2/Groups?filter=${encodeURIComponent('displayName eq "PKI Admins"')}`)).body.Resources[0];
    await h.patch(`/scim/v2/Groups/${admins.id}`, { schemas: [PATCH_OP], Operations: [{ op: "add", path: "members", value: [{ value: u.id }] }] });
    await h.drain();
    // Someone gives the user a Trust Lifecycle role by hand; no rule names it.
    const t = truth(u.dcId);
    sim.seedUser("one", { ...sim.getUser("one", u.dcId), id: u.dcId, roles: [...t.roles, "TLM_CERT_MANAGER"], status: t.status });
    await h.patch(`/scim/v2/Groups/${admins.id}`, { schemas: [PATCH_OP], Operations: [{ op: "remove", path: `members[value eq "${u.id}"]` }] });
    await h.drain();
    const roles = truth(u.dcId).roles;
    expect(roles).toContain("AM_DEFAULT_USER");
    expect(roles).not.toContain("AM_ACCOUNT_ADMIN");
    // Where ONE hides a user's roles, the bridge cannot keep what it cannot see (README: "What the bridge assumes").
    if (rolesShown) expect(roles.sort()).toEqual(["AM_DEFAULT_USER", "TLM_CERT_MANAGER"]);
  });

  test("reconcile on an untouched tenant reports no drift", async () => {
    await create();
    await h.drain();
    const report = await h.bridge.reconcile();
    expect(report.entries.filter((e) => e.kind !== "unmanaged")).toEqual([]);
    expect(hasDrift(report)).toBe(false);
  });

  test("adoption of a hand-made administrator leaves its roles alone", async () => {
    const name = `admin.${Date.now()}@example.com`;
    const seeded = sim.seedUser("one", { user_name: name, email: name, roles: ["AM_ACCOUNT_ADMIN", "TLM_ADMIN"], status: "ACTIVE" });
    // Without a mapping file roles a human gave are kept; with one, roles DigiCert does not show are never written.
    const plain = await startHarness({ platform: "one", sim, env: deactivate ? { ONE_DEACTIVATE: deactivate } : {} });
    try {
      const res = await plain.post("/scim/v2/Users", oktaUser(name));
      expect(res.status).toBe(201);
      await plain.drain();
      expect(res.body[DC_EXT].digicertUserId ?? (await plain.bridge.store.users.getById(res.body.id))!.digicertId).toBe(seeded.id);
      expect(truth(seeded.id).roles).toEqual(["AM_ACCOUNT_ADMIN", "TLM_ADMIN"]);
      expect(live(name)).toHaveLength(1);
      const drift = (await plain.bridge.reconcile()).entries.filter((e) => e.kind !== "unmanaged");
      // A replacing PUT without the roles ONE hides is refused: the user is linked as it is, and reconcile says so.
      if (variant.put === "replace" && !rolesShown) expect(drift.map((e) => e.kind)).toEqual(["profile_changed"]);
      else expect(drift).toEqual([]);
    } finally {
      await plain.close();
    }
    if (!rolesShown) {
      const other = `admin2.${Date.now()}@example.com`;
      const hidden = sim.seedUser("one", { user_name: other, email: other, roles: ["AM_ACCOUNT_ADMIN"], status: "ACTIVE" });
      const res = await h.post("/scim/v2/Users", oktaUser(other));
      expect(res.status).toBe(201);
      await h.drain();
      // The mapping would give this user the default role, but ONE does not show what it holds: never demoted.
      expect(truth(hidden.id).roles).toEqual(["AM_ACCOUNT_ADMIN"]);
      expect(h.sim.callsTo("one", "PUT").filter((c) => c.path === `/user/${hidden.id}`).every((c) => c.body.roles === undefined)).toBe(true);
    }
  });
});

describe("tried as a new user: DigiCert ONE whose disable route answers 400, default settings", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ platform: "one", simulator: { one: { disableRoute: 400 } } });
  });
  afterAll(() => h.close());

  test("PATCH active=false → 200, the user deleted in ONE, one DigiCert write call", async () => {
    const res = await h.post("/scim/v2/Users", oktaUser());
    await h.drain();
    const dcId = (await h.bridge.store.users.getById(res.body.id))!.digicertId!;
    h.sim.clearCalls();
    const off = await h.patch(`/scim/v2/Users/${res.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "active", value: false }] });
    expect(off.status).toBe(200);
    expect(off.body.active).toBe(false);
    expect(h.sim.oneTruth(dcId)!.status).toBe("DELETED");
    expect(h.sim.calls.filter((c) => c.method !== "GET").map((c) => `${c.method} ${c.path}`)).toEqual([`DELETE /user/${dcId}`]);
  });
});

describe("a DigiCert ONE that refuses to delete: deactivation is retried, never rolled back", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ platform: "one", env: { OUTBOX_MAX_ATTEMPTS: "2", SYNC_WAIT_MS: "3000" } });
  });
  afterAll(() => h.close());

  test("403 on DELETE: 200 to the IdP, active stays false, syncState pending with the error, then done once ONE allows it", async () => {
    const res = await h.post("/scim/v2/Users", oktaUser());
    await h.drain();
    const dcId = (await h.bridge.store.users.getById(res.body.id))!.digicertId!;
    h.sim.failNext({ platform: "one", method: "DELETE", status: 403, times: 6, body: { error: { code: "access_denied", message: "Not allowed" } } });
    const off = await h.patch(`/scim/v2/Users/${res.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "active", value: false }] });
    expect(off.status).toBe(200);
    expect(off.body.active).toBe(false);
    expect(off.body[DC_EXT].syncState).toBe("pending");
    expect(off.body[DC_EXT].lastError).toMatch(/Not allowed/);
    const read = await h.get(`/scim/v2/Users/${res.body.id}`);
    expect(read.body.active).toBe(false);
    // Past OUTBOX_MAX_ATTEMPTS the job is still retried: six refusals, then ONE lets the delete through.
    await h.drain(30_000);
    expect(h.sim.callsTo("one", "DELETE").length).toBe(7);
    expect(h.sim.oneTruth(dcId)!.status).toBe("DELETED");
    const done = await h.bridge.store.users.getById(res.body.id);
    expect(done).toMatchObject({ active: false, syncState: "synced", digicertId: null });
  });
});
