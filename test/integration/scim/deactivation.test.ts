import { startHarness, oktaUser, DC_EXT, PATCH_OP, type Harness } from "../../support/harness";

// Platform-specific deactivation policies beyond the defaults covered in users-crud.

const deactivate = { schemas: [PATCH_OP], Operations: [{ op: "replace", value: { active: false } }] };
const reactivate = { schemas: [PATCH_OP], Operations: [{ op: "replace", value: { active: true } }] };

describe("CertCentral with CERTCENTRAL_DEACTIVATE=demote:Limited User", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ platform: "certcentral", env: { CERTCENTRAL_DEACTIVATE: "demote:Limited User" } });
  });
  afterAll(async () => h.close());

  test("active:false demotes the DigiCert user to the role instead of deleting it; active:true gives the default role back", async () => {
    const u = (await h.post("/scim/v2/Users", oktaUser())).body;
    const dcId = String(u[DC_EXT].digicertUserId);
    h.sim.clearCalls();
    const off = await h.patch(`/scim/v2/Users/${u.id}`, deactivate);
    expect(off.status).toBe(200);
    expect(off.body.active).toBe(false);
    expect(String(off.body[DC_EXT].digicertUserId)).toBe(dcId);
    expect(h.sim.callsTo("certcentral", "DELETE")).toHaveLength(0);
    const roleCalls = h.sim.callsTo("certcentral", "PUT", new RegExp(`^/user/${dcId}/role$`));
    expect(roleCalls.map((c) => c.body)).toEqual([{ access_roles: [{ id: 2 }] }]);
    expect(h.sim.getUser("certcentral", dcId).access_roles.map((r: any) => r.id)).toEqual([2]);

    h.sim.clearCalls();
    const on = await h.patch(`/scim/v2/Users/${u.id}`, reactivate);
    expect(on.status).toBe(200);
    expect(h.sim.callsTo("certcentral", "POST", /^\/user$/)).toHaveLength(0);
    expect(h.sim.getUser("certcentral", dcId).access_roles.map((r: any) => r.id)).toEqual([5]);
  });
});

describe("DigiCert ONE refusing disable/enable", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ platform: "one", simulator: { one: { disableSupported: false } } });
  });
  afterAll(async () => h.close());

  test("active:false falls back to delete and active:true re-creates the user under the same SCIM id", async () => {
    const u = (await h.post("/scim/v2/Users", oktaUser())).body;
    const dcId = String(u[DC_EXT].digicertUserId);
    h.sim.clearCalls();
    const off = await h.patch(`/scim/v2/Users/${u.id}`, deactivate);
    expect(off.status).toBe(200);
    expect(off.body.active).toBe(false);
    expect(h.sim.callsTo("one", "DELETE", new RegExp(`^/user/${dcId}$`))).toHaveLength(1);
    expect(off.body[DC_EXT].digicertUserId).toBeUndefined();

    h.sim.clearCalls();
    const on = await h.patch(`/scim/v2/Users/${u.id}`, reactivate);
    expect(on.status).toBe(200);
    expect(on.body.id).toBe(u.id);
    const creates = h.sim.callsTo("one", "POST", /^\/user$/);
    expect(creates).toHaveLength(1);
    expect(creates[0].body).toMatchObject({ user_name: u.userName, user_type: "standard" });
    expect(String(on.body[DC_EXT].digicertUserId)).not.toBe(dcId);
  });
});

describe.each(["certcentral", "one"] as const)("role and race handling on %s", (platform) => {
  test("an unknown DIGICERT_DEFAULT_ROLE is a 502 naming the setting, and nothing is created", async () => {
    const h = await startHarness({ platform, env: { DIGICERT_DEFAULT_ROLE: "Galactic Emperor" } });
    try {
      const body = oktaUser();
      const res = await h.post("/scim/v2/Users", body);
      expect(res.status).toBe(502);
      expect(res.body.detail).toContain("DIGICERT_DEFAULT_ROLE");
      expect(res.body.detail).toContain("Galactic Emperor");
      expect(h.sim.callsTo(platform, "POST", /^\/user$/)).toHaveLength(0);
      expect(await h.bridge.store.users.getByUserName(body.userName as string)).toBeNull();
    } finally {
      await h.close();
    }
  });

  test("a default role given by id works without a name lookup mismatch", async () => {
    const roleId = platform === "certcentral" ? "4" : "AM_USER_MANAGER";
    const h = await startHarness({ platform, env: { DIGICERT_DEFAULT_ROLE: roleId } });
    try {
      const res = await h.post("/scim/v2/Users", oktaUser());
      expect(res.status).toBe(201);
      const sent = h.sim.callsTo(platform, "POST", /^\/user$/)[0].body;
      if (platform === "certcentral") expect(sent.access_roles).toEqual([{ id: 4 }]);
      else expect(sent.roles).toEqual(["AM_USER_MANAGER"]);
    } finally {
      await h.close();
    }
  });

  test("two simultaneous creates of one userName give one 201, one 409 and one DigiCert user", async () => {
    const h = await startHarness({ platform });
    try {
      const userName = `race.${platform}.${Date.now()}@example.com`;
      const [a, b] = await Promise.all([h.post("/scim/v2/Users", oktaUser(userName)), h.post("/scim/v2/Users", oktaUser(userName.toUpperCase()))]);
      expect([a.status, b.status].sort()).toEqual([201, 409]);
      const live = h.sim
        .listUsers(platform)
        .filter((u: any) => (u.username ?? u.user_name).toLowerCase() === userName && (u.status ?? "").toUpperCase() !== "DELETED");
      expect(live).toHaveLength(1);
      const { total } = await h.bridge.store.users.list({ anyOf: [[{ attr: "userName", value: userName }]] }, { offset: 0, limit: 10 });
      expect(total).toBe(1);
    } finally {
      await h.close();
    }
  });
});
