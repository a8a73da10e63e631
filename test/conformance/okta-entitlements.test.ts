import request from "supertest";
import { startHarness, oktaUser, type Harness } from "../support/harness";
import { writeMapping } from "../support/mapping";

// Okta Identity Governance entitlements: DigiCert roles as a Role resource type, assigned to users through their
// `roles` attribute and combined with the group mapping.

const PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const R = {
  certcentral: { dflt: "5", manager: "4", managerName: "Manager", defaultName: "Standard User", count: 5 },
  one: { dflt: "AM_DEFAULT_USER", manager: "AM_USER_MANAGER", managerName: "User Manager", defaultName: "Default User", count: 5 },
} as const;

describe.each(["certcentral", "one"] as const)("Okta entitlements on %s", (platform) => {
  const r = R[platform];
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ platform, env: { ROLE_MAPPING_FILE: writeMapping(`default: ["${r.defaultName}"]\nrules: []\n`) } });
  });
  afterAll(async () => h.close());
  const dcRoles = async (id: string) => {
    const row = await h.bridge.store.users.getById(id);
    const u = h.sim.getUser(platform, row!.digicertId!);
    return (platform === "certcentral" ? u.access_roles : u.roles).map((x: any) => String(x.id ?? x)).sort();
  };

  test("ResourceTypes advertise a Role type served at /Roles", async () => {
    const types = await h.get("/scim/v2/ResourceTypes");
    const role = types.body.Resources.find((t: any) => t.name === "Role");
    expect(role).toMatchObject({ id: "Role", endpoint: "/Roles", schema: "urn:okta:scim:schemas:core:1.0:Role" });
    expect(types.body.totalResults).toBe(types.body.Resources.length);
    expect((await h.get("/scim/v2/ResourceTypes/Role")).body.endpoint).toBe("/Roles");
  });

  test("GET /Roles lists DigiCert's roles, pages and filters; GET /Roles/{id} reads one", async () => {
    const all = await h.get("/scim/v2/Roles");
    expect(all.status).toBe(200);
    expect(all.headers["content-type"]).toMatch(/application\/scim\+json/);
    expect(all.body.totalResults).toBe(r.count);
    expect(all.body.Resources).toContainEqual(expect.objectContaining({ id: r.manager, displayName: r.managerName, schemas: ["urn:okta:scim:schemas:core:1.0:Role"] }));
    const page = await h.get("/scim/v2/Roles?startIndex=2&count=2");
    expect(page.body).toMatchObject({ totalResults: r.count, startIndex: 2, itemsPerPage: 2 });
    const byName = await h.get(`/scim/v2/Roles?filter=${encodeURIComponent(`displayName eq "${r.managerName.toLowerCase()}"`)}`);
    expect(byName.body.Resources.map((x: any) => x.id)).toEqual([r.manager]);
    expect((await h.get(`/scim/v2/Roles/${r.manager}`)).body.displayName).toBe(r.managerName);
    expect((await h.get("/scim/v2/Roles/nope")).status).toBe(404);
    expect((await h.get(`/scim/v2/Roles?filter=${encodeURIComponent('displayName co "x"')}`)).status).toBe(400);
    expect((await request(h.app).get("/scim/v2/Roles")).status).toBe(401);
  });

  test("assigning a role to a user (PATCH add roles) gives it in DigiCert; removing it takes it back", async () => {
    const u = (await h.post("/scim/v2/Users", oktaUser())).body;
    expect(await dcRoles(u.id)).toEqual([r.dflt]);
    const add = await h.patch(`/scim/v2/Users/${u.id}`, { schemas: [PATCH], Operations: [{ op: "add", path: "roles", value: [{ value: r.manager }] }] });
    expect(add.status).toBe(200);
    const expected = platform === "certcentral" ? [r.manager] : [r.dflt, r.manager].sort();
    expect(await dcRoles(u.id)).toEqual(expected);
    expect(add.body.roles.map((x: any) => x.value).sort()).toEqual(expected);
    const rm = await h.patch(`/scim/v2/Users/${u.id}`, { schemas: [PATCH], Operations: [{ op: "remove", path: `roles[value eq "${r.manager}"]` }] });
    expect(rm.status).toBe(200);
    expect(await dcRoles(u.id)).toEqual([r.dflt]);
  });

  test("a user created with roles gets them; an unknown role id is a 400 naming it and nothing is created", async () => {
    const u = await h.post("/scim/v2/Users", oktaUser(undefined, { roles: [{ value: r.manager, display: r.managerName }] }));
    expect(u.status).toBe(201);
    expect(await dcRoles(u.body.id)).toEqual(platform === "certcentral" ? [r.manager] : [r.dflt, r.manager].sort());
    const body = oktaUser(undefined, { roles: [{ value: "NOT_A_ROLE" }] });
    const bad = await h.post("/scim/v2/Users", body);
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toContain("NOT_A_ROLE");
    expect(await h.bridge.store.users.getByUserName(body.userName as string)).toBeNull();
  });
});
