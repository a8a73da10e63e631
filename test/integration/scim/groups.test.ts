import { writeFileSync } from "node:fs";
import { writeMapping } from "../../support/mapping";
import { dropSchema, PG_URL, storeVariants, uniqueSchema } from "../../support/databases";
import { startHarness, oktaUser, PATCH_OP, PUBLIC_BASE_URL, type Harness } from "../../support/harness";
import type { Platform } from "../../../src/digicert/types";

// Groups and the group → role mapping, on both platforms. Each test checks the SCIM answer, the roles every
// DigiCert user holds in the simulator, and how many DigiCert calls the change cost.

const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";

const ROLES = {
  certcentral: { default: 5, admin: 1, second: 3, defaultName: "Standard User", adminName: "Administrator", secondName: "Finance Manager" },
  one: { default: "AM_DEFAULT_USER", admin: "AM_ACCOUNT_ADMIN", second: "AM_USER_MANAGER", defaultName: "Default User", adminName: "Account Admin", secondName: "User Manager" },
} as const;

function mappingFor(platform: Platform, extra = ""): string {
  const r = ROLES[platform];
  return writeMapping(`default: ["${r.defaultName}"]
${extra}rules:
  - group: "DigiCert Admins"
    roles: ["${r.adminName}"]
  - group: "Second Line"
    roles: ["${r.secondName}"]
`);
}

describe.each(storeVariants("Group"))("Groups and role mapping: %s", (_label, platform, db) => {
  const r = ROLES[platform];
  let h: Harness;
  const pgSchema = uniqueSchema(`scim_groups_${platform}`);
  beforeAll(async () => {
    const env = { ROLE_MAPPING_FILE: mappingFor(platform) };
    h = await startHarness(db === "postgres" ? { platform, env, databaseUrl: PG_URL, pgSchema } : { platform, env });
  });
  afterAll(async () => {
    await h.close();
    if (db === "postgres") await dropSchema(pgSchema);
  });

  /** Role ids the simulator holds for a SCIM user, as strings. */
  async function dcRoles(scimId: string): Promise<string[]> {
    const row = await h.bridge.store.users.getById(scimId);
    const dc = h.sim.getUser(platform, row!.digicertId!);
    const list = platform === "certcentral" ? dc.access_roles : dc.roles;
    return list.map((x: any) => String(x.id ?? x)).sort();
  }
  const roleWrites = () =>
    platform === "certcentral"
      ? h.sim.callsTo(platform, "PUT", /^\/user\/[^/]+\/role$/)
      : h.sim.callsTo(platform, "PUT", /^\/user\/[^/]+$/).filter((c) => c.body && "roles" in c.body);

  async function user(): Promise<any> {
    const res = await h.post("/scim/v2/Users", oktaUser());
    expect(res.status).toBe(201);
    return res.body;
  }
  async function group(displayName: string, members: string[] = []): Promise<any> {
    const res = await h.post("/scim/v2/Groups", { schemas: [GROUP], displayName, members: members.map((value) => ({ value })) });
    expect(res.status).toBe(201);
    return res.body;
  }
  const patch = (id: string, Operations: unknown[], schemas: unknown = [PATCH_OP]) =>
    h.patch(`/scim/v2/Groups/${id}`, schemas ? { schemas, Operations } : { Operations });

  test("a new user gets the mapping's default role", async () => {
    const u = await user();
    expect(await dcRoles(u.id)).toEqual([String(r.default)]);
    const read = await h.get(`/scim/v2/Users/${u.id}`);
    expect(read.body.roles).toEqual([{ value: String(r.default), display: r.defaultName }]);
    expect(read.body.groups).toEqual([]);
  });

  test("create with members, add, re-add, remove (Okta shapes): one role write per affected user", async () => {
    const [a, b, c] = [await user(), await user(), await user()];
    h.sim.clearCalls();
    const g = await group(`DigiCert Admins`, [a.id]);
    expect(g.meta.location).toBe(`${PUBLIC_BASE_URL}/scim/v2/Groups/${g.id}`);
    expect(g.members).toEqual([{ value: a.id, display: a.userName, type: "User" }]);
    expect(await dcRoles(a.id)).toEqual([String(r.admin)]);
    expect(roleWrites()).toHaveLength(1);

    h.sim.clearCalls();
    const add = await patch(g.id, [{ op: "add", path: "members", value: [{ value: b.id, display: b.userName }, { value: c.id }] }]);
    expect(add.status).toBe(204);
    expect(await dcRoles(b.id)).toEqual([String(r.admin)]);
    expect(await dcRoles(c.id)).toEqual([String(r.admin)]);
    expect(roleWrites()).toHaveLength(2);

    h.sim.clearCalls();
    expect((await patch(g.id, [{ op: "add", path: "members", value: [{ value: b.id }] }])).status).toBe(204);
    expect(h.sim.calls).toHaveLength(0);

    h.sim.clearCalls();
    const rm = await patch(g.id, [{ op: "remove", path: `members[value eq "${c.id}"]` }]);
    expect(rm.status).toBe(204);
    expect(await dcRoles(c.id)).toEqual([String(r.default)]);
    expect(roleWrites()).toHaveLength(1);
    expect((await patch(g.id, [{ op: "remove", path: `members[value eq "${c.id}"]` }])).status).toBe(204);

    const read = await h.get(`/scim/v2/Groups/${g.id}`);
    expect(read.body.members.map((m: any) => m.value).sort()).toEqual([a.id, b.id].sort());
    const ua = await h.get(`/scim/v2/Users/${a.id}`);
    expect(ua.body.groups).toEqual([{ value: g.id, display: "DigiCert Admins", type: "direct" }]);
    expect(ua.body.roles).toEqual([{ value: String(r.admin), display: r.adminName }]);
    await h.del(`/scim/v2/Groups/${g.id}`);
  });

  test("Entra shapes: capitalised ops, no schemas, value arrays", async () => {
    const [a, b] = [await user(), await user()];
    const g = await group("Second Line");
    h.sim.clearCalls();
    const add = await patch(g.id, [{ op: "Add", path: "members", value: [{ value: a.id }, { value: b.id }] }], null);
    expect(add.status).toBe(204);
    expect(await dcRoles(a.id)).toEqual([String(r.second)]);
    expect(roleWrites()).toHaveLength(2);
    h.sim.clearCalls();
    const rm = await patch(g.id, [{ op: "Remove", path: "members", value: [{ value: a.id }] }], null);
    expect(rm.status).toBe(204);
    expect(await dcRoles(a.id)).toEqual([String(r.default)]);
    expect(await dcRoles(b.id)).toEqual([String(r.second)]);
    expect(roleWrites()).toHaveLength(1);
    await h.del(`/scim/v2/Groups/${g.id}`);
  });

  test("unknown member ids are 400 invalidValue naming them, and change nothing", async () => {
    const a = await user();
    const g = await group("DigiCert Admins", []);
    h.sim.clearCalls();
    const ghost = "00000000-0000-4000-8000-00000000dead";
    const res = await patch(g.id, [{ op: "add", path: "members", value: [{ value: a.id }, { value: ghost }] }]);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ status: "400", scimType: "invalidValue" });
    expect(res.body.detail).toContain(ghost);
    expect(res.body.detail).not.toContain(a.id);
    expect((await h.bridge.store.groups.members(g.id)).total).toBe(0);
    expect(h.sim.calls).toHaveLength(0);
    const post = await h.post("/scim/v2/Groups", { schemas: [GROUP], displayName: "Ghosts", members: [{ value: ghost }] });
    expect(post.status).toBe(400);
    expect((await h.get(`/scim/v2/Groups?filter=${encodeURIComponent('displayName eq "Ghosts"')}`)).body.totalResults).toBe(0);
    await h.del(`/scim/v2/Groups/${g.id}`);
  });

  test("full replace of members, and deduplicated members", async () => {
    const [a, b, c] = [await user(), await user(), await user()];
    const g = await group("DigiCert Admins", [a.id, b.id, a.id]);
    expect((await h.bridge.store.groups.members(g.id)).total).toBe(2);
    h.sim.clearCalls();
    const res = await patch(g.id, [{ op: "replace", path: "members", value: [{ value: b.id }, { value: c.id }, { value: c.id }] }]);
    expect(res.status).toBe(204);
    expect(await dcRoles(a.id)).toEqual([String(r.default)]);
    expect(await dcRoles(b.id)).toEqual([String(r.admin)]);
    expect(await dcRoles(c.id)).toEqual([String(r.admin)]);
    expect(roleWrites()).toHaveLength(2);
    await h.del(`/scim/v2/Groups/${g.id}`);
  });

  test(platform === "one" ? "several mapped groups give the union of roles" : "several mapped groups: the first rule wins", async () => {
    const a = await user();
    const g1 = await group("Second Line", [a.id]);
    const g2 = await group("DigiCert Admins", [a.id]);
    if (platform === "one") expect(await dcRoles(a.id)).toEqual([String(r.admin), String(r.second)].sort());
    else expect(await dcRoles(a.id)).toEqual([String(r.admin)]);
    await h.del(`/scim/v2/Groups/${g2.id}`);
    expect(await dcRoles(a.id)).toEqual([String(r.second)]);
    await h.del(`/scim/v2/Groups/${g1.id}`);
    expect(await dcRoles(a.id)).toEqual([String(r.default)]);
  });

  test("renaming a group (Okta's replace with id) moves its members' roles; deleting it takes them away", async () => {
    const a = await user();
    const g = await group("DigiCert Admins", [a.id]);
    expect(await dcRoles(a.id)).toEqual([String(r.admin)]);
    h.sim.clearCalls();
    const res = await patch(g.id, [{ op: "replace", value: { id: g.id, displayName: "Second Line" } }]);
    expect(res.status).toBe(204);
    expect(await dcRoles(a.id)).toEqual([String(r.second)]);
    expect(roleWrites()).toHaveLength(1);
    expect((await h.get(`/scim/v2/Groups/${g.id}`)).body.displayName).toBe("Second Line");
    h.sim.clearCalls();
    expect((await h.del(`/scim/v2/Groups/${g.id}`)).status).toBe(204);
    expect(await dcRoles(a.id)).toEqual([String(r.default)]);
    expect(roleWrites()).toHaveLength(1);
    expect((await h.get(`/scim/v2/Groups/${g.id}`)).status).toBe(404);
  });

  test("PUT replaces name and members", async () => {
    const [a, b] = [await user(), await user()];
    const g = await group("Plain", [a.id]);
    expect(await dcRoles(a.id)).toEqual([String(r.default)]);
    const res = await h.put(`/scim/v2/Groups/${g.id}`, { schemas: [GROUP], displayName: "DigiCert Admins", members: [{ value: b.id }] });
    expect(res.status).toBe(200);
    expect(res.body.members.map((m: any) => m.value)).toEqual([b.id]);
    expect(await dcRoles(a.id)).toEqual([String(r.default)]);
    expect(await dcRoles(b.id)).toEqual([String(r.admin)]);
    await h.del(`/scim/v2/Groups/${g.id}`);
  });

  test("filters, paging, excludedAttributes and Entra's membership probe are served from the store", async () => {
    const a = await user();
    const g = await group("Probe Group", [a.id]);
    const other = await group("Other Group");
    h.sim.clearCalls();
    const q = (f: string, extra = "") => h.get(`/scim/v2/Groups?filter=${encodeURIComponent(f)}${extra}`);
    const byName = await q('displayName eq "probe group"', "&excludedAttributes=members");
    expect(byName.body.totalResults).toBe(1);
    expect(byName.body.Resources[0].id).toBe(g.id);
    expect(byName.body.Resources[0].members).toBeUndefined();
    expect((await q(`id eq "${g.id}" and members[value eq "${a.id}"]`)).body.totalResults).toBe(1);
    expect((await q(`id eq "${other.id}" and members[value eq "${a.id}"]`)).body.totalResults).toBe(0);
    // The whole grammar: sw without case; an attribute Groups do not have is a 400.
    expect((await q('displayName sw "p" and displayName ew "group"')).body.Resources.map((x: any) => x.id)).toEqual([g.id]);
    expect((await q('title eq "P"')).status).toBe(400);
    const page = await h.get("/scim/v2/Groups?count=1&startIndex=2");
    expect(page.body.itemsPerPage).toBe(1);
    expect(page.body.totalResults).toBeGreaterThanOrEqual(2);
    const one = await h.get(`/scim/v2/Groups/${g.id}?excludedAttributes=members`);
    expect(one.body.members).toBeUndefined();
    expect(h.sim.calls).toHaveLength(0);
    const dup = await h.post("/scim/v2/Groups", { schemas: [GROUP], displayName: "PROBE GROUP" });
    expect(dup.status).toBe(409);
    await h.del(`/scim/v2/Groups/${g.id}`);
    await h.del(`/scim/v2/Groups/${other.id}`);
  });

  test("unsupported group PATCH operations are 400 naming them and change nothing", async () => {
    const g = await group("Strict");
    const res = await patch(g.id, [{ op: "replace", path: "owner", value: "x" }]);
    expect(res.status).toBe(400);
    expect(res.body.detail).toContain("owner");
    expect((await patch(g.id, [{ op: "move", path: "members" }])).status).toBe(400);
    expect((await patch("00000000-0000-4000-8000-000000000000", [{ op: "add", path: "members", value: [] }])).status).toBe(404);
    expect((await patch(g.id, [])).status).toBe(204);
    await h.del(`/scim/v2/Groups/${g.id}`);
  });

  test("a deactivated member keeps no access; reactivated it gets the group's roles", async () => {
    const a = await user();
    const g = await group("DigiCert Admins", [a.id]);
    await h.patch(`/scim/v2/Users/${a.id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", value: { active: false } }] });
    const on = await h.patch(`/scim/v2/Users/${a.id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", value: { active: true } }] });
    expect(on.status).toBe(200);
    expect(await dcRoles(a.id)).toEqual([String(r.admin)]);
    await h.del(`/scim/v2/Groups/${g.id}`);
  });
});

describe.each(["certcentral", "one"] as const)("mapping lifecycle on %s", (platform) => {
  const r = ROLES[platform];

  test("a mapping naming an unknown role stops the start, naming the rule and listing DigiCert's roles", async () => {
    const file = writeMapping(`rules:\n  - group: "Admins"\n    roles: ["Galactic Emperor"]\n`);
    const err = await startHarness({ platform, env: { ROLE_MAPPING_FILE: file } }).then(
      () => null,
      (e) => e as Error,
    );
    expect(err).not.toBeNull();
    expect(err!.message).toContain("Galactic Emperor");
    expect(err!.message).toMatch(/rule 1/);
    expect(err!.message).toContain(r.adminName);
  });

  test("a file that does not parse stops the start naming the line", async () => {
    const file = writeMapping(`rules:\n  - group: "Admins"\n    roles: "Administrator"\n`);
    const err = await startHarness({ platform, env: { ROLE_MAPPING_FILE: file } }).then(() => null, (e) => e as Error);
    expect(err!.message).toMatch(/line 3/);
    expect(err!.message).toMatch(/roles/);
  });

  test("reloading the mapping applies it to existing users and reports who gained and lost what", async () => {
    const file = mappingFor(platform);
    const h = await startHarness({ platform, env: { ROLE_MAPPING_FILE: file } });
    try {
      const a = (await h.post("/scim/v2/Users", oktaUser())).body;
      const b = (await h.post("/scim/v2/Users", oktaUser())).body;
      await h.post("/scim/v2/Groups", { schemas: [GROUP], displayName: "Second Line", members: [{ value: a.id }] });
      h.sim.clearCalls();
      // Second Line now grants the admin role instead.
      writeFileSync(file, `default: ["${r.defaultName}"]\nrules:\n  - group: "second line"\n    roles: ["${r.adminName}"]\n`);
      const report = await h.bridge.reloadRoleMapping();
      expect(report.usersChecked).toBe(2);
      expect(report.changes).toEqual([{ userId: a.id, userName: a.userName, gained: [r.adminName], lost: [r.secondName] }]);
      expect(report.failures).toEqual([]);
      // The report is the plan; the outbox carries it out.
      await h.drain();
      const row = await h.bridge.store.users.getById(a.id);
      expect(row!.digicertRoleIds).toEqual([String(r.admin)]);
      expect((await h.bridge.store.users.getById(b.id))!.digicertRoleIds).toEqual([String(r.default)]);
      expect(h.sim.calls.filter((c) => c.method !== "GET")).toHaveLength(1);
      // A broken file keeps the mapping in force.
      writeFileSync(file, "rules: [");
      await expect(h.bridge.reloadRoleMapping()).rejects.toThrow(/line/);
      expect((await h.bridge.store.users.getById(a.id))!.digicertRoleIds).toEqual([String(r.admin)]);
    } finally {
      await h.close();
    }
  });

  test("unmapped: deactivate gives DigiCert access only to members of mapped groups", async () => {
    const h = await startHarness({ platform, env: { ROLE_MAPPING_FILE: mappingFor(platform, "unmapped: deactivate\n") } });
    try {
      const a = (await h.post("/scim/v2/Users", oktaUser())).body;
      expect(h.sim.callsTo(platform, "POST", /^\/user$/)).toHaveLength(0);
      expect((await h.bridge.store.users.getById(a.id))!.digicertId).toBeNull();
      const g = (await h.post("/scim/v2/Groups", { schemas: [GROUP], displayName: "DigiCert Admins", members: [{ value: a.id }] })).body;
      const created = h.sim.callsTo(platform, "POST", /^\/user$/);
      expect(created).toHaveLength(1);
      expect(platform === "certcentral" ? created[0].body.access_roles : created[0].body.roles).toEqual(
        platform === "certcentral" ? [{ id: r.admin }] : [r.admin],
      );
      await h.del(`/scim/v2/Groups/${g.id}`);
      const row = await h.bridge.store.users.getById(a.id);
      // Deleted on both platforms by default (ONE_DEACTIVATE=delete): no DigiCert user left to hold access.
      expect(row!.digicertId).toBeNull();
      expect((await h.get(`/scim/v2/Users/${a.id}`)).body.active).toBe(true);
    } finally {
      await h.close();
    }
  });
});

describe("a group create while DigiCert fails role changes", () => {
  test("is answered 201 and the member's roles follow once DigiCert accepts them", async () => {
    const platform = "certcentral";
    const h = await startHarness({ platform, env: { ROLE_MAPPING_FILE: mappingFor(platform) } });
    try {
      const a = (await h.post("/scim/v2/Users", oktaUser())).body;
      // More than the client's own retries of one call (DIGICERT_MAX_RETRIES, default 3): the job itself is retried.
      h.sim.failNext({ platform, method: "PUT", path: /\/role$/, status: 503, body: {}, times: 4 });
      const body = { schemas: [GROUP], displayName: "DigiCert Admins", members: [{ value: a.id }] };
      const first = await h.post("/scim/v2/Groups", body);
      expect(first.status).toBe(201);
      expect(await h.bridge.store.groups.count()).toBe(1);
      await h.drain();
      const row = await h.bridge.store.users.getById(a.id);
      expect(row!.syncState).toBe("synced");
      expect(h.sim.getUser(platform, row!.digicertId!).access_roles.map((x: any) => x.id)).toEqual([1]);
      expect(h.sim.callsTo(platform, "PUT", /\/role$/)).toHaveLength(5);
      // The IdP's retry of the same create is the 409 RFC 7644 asks for: the group exists.
      expect((await h.post("/scim/v2/Groups", body)).status).toBe(409);
    } finally {
      await h.close();
    }
  });
});
