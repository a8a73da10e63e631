import request from "supertest";
import { startHarness, TOKEN, DC_EXT, type Harness } from "../support/harness";
import { writeMapping } from "../support/mapping";

// Okta's CRUD test and Group Push flow (notes/idp.md), as Okta sends them, with a role mapping in force so the
// group pushes show up as DigiCert roles.

const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const OKTA = { "User-Agent": "Okta SCIM Client 1.0.0" };
const ADMIN = { certcentral: { name: "Administrator", id: "1", dflt: "5" }, one: { name: "Account Admin", id: "AM_ACCOUNT_ADMIN", dflt: "AM_DEFAULT_USER" } };

describe.each(["certcentral", "one"] as const)("Okta CRUD and Group Push on %s", (platform) => {
  const admin = ADMIN[platform];
  let h: Harness;
  beforeAll(async () => {
    const mapping = writeMapping(`rules:\n  - group: "DigiCert Admins"\n    roles: ["${admin.name}"]\n`);
    h = await startHarness({ platform, env: { ROLE_MAPPING_FILE: mapping } });
  });
  afterAll(async () => h.close());

  const send = (method: "get" | "post" | "put" | "patch" | "delete", path: string, body?: unknown) => {
    let t = request(h.app)[method](path).set("Authorization", `Bearer ${TOKEN}`).set(OKTA);
    if (body !== undefined) t = t.set("Content-Type", "application/scim+json").send(JSON.stringify(body));
    return t;
  };
  const roles = async (id: string) => {
    const row = await h.bridge.store.users.getById(id);
    const u = h.sim.getUser(platform, row!.digicertId!);
    return (platform === "certcentral" ? u.access_roles : u.roles).map((r: any) => String(r.id ?? r));
  };

  test("user lifecycle: import page, create, read, full PUT update, deactivate, reactivate", async () => {
    const page = await send("get", "/scim/v2/Users?startIndex=1&count=100");
    expect(page.status).toBe(200);
    const userName = `okta.crud.${platform}.${Date.now()}@example.com`;
    const created = await send("post", "/scim/v2/Users", {
      schemas: [USER], userName, name: { givenName: "Katherine", familyName: "Johnson" },
      emails: [{ primary: true, value: userName, type: "work" }], displayName: "Katherine Johnson", locale: "en-US",
      externalId: "00u1okta", groups: [], password: "tmp-P4ssword!", active: true,
    });
    expect(created.status).toBe(201);
    expect(h.logs()).toContain('"idp":"okta"');
    const id = created.body.id;
    const got = await send("get", `/scim/v2/Users/${id}`);
    expect(got.body.userName).toBe(userName);
    const { meta: _m, ...rest } = got.body;
    const put = await send("put", `/scim/v2/Users/${id}`, { ...rest, name: { givenName: "Kathy", familyName: "Johnson" }, title: "Mathematician" });
    expect(put.status).toBe(200);
    expect(put.body.name.givenName).toBe("Kathy");
    const dcId = created.body[DC_EXT].digicertUserId;
    expect(h.sim.getUser(platform, dcId).first_name).toBe("Kathy");
    const off = await send("patch", `/scim/v2/Users/${id}`, { schemas: [PATCH], Operations: [{ op: "replace", value: { active: false } }] });
    expect(off.body.active).toBe(false);
    expect((await send("get", `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`)).body.Resources[0].active).toBe(false);
    const on = await send("patch", `/scim/v2/Users/${id}`, { schemas: [PATCH], Operations: [{ op: "replace", value: { id, active: true } }] });
    expect(on.status).toBe(200);
    expect(on.body.active).toBe(true);
    expect(await roles(id)).toEqual([admin.dflt]);
  });

  test("group push: create, add members, remove one, replace all, rename, delete — roles follow", async () => {
    const mk = async (n: string) =>
      (await send("post", "/scim/v2/Users", { schemas: [USER], userName: `${n}.${platform}.${Date.now()}@example.com`, name: { givenName: n, familyName: "Push" }, emails: [{ primary: true, value: `${n}.${Date.now()}@example.com`, type: "work" }], active: true })).body;
    const [a, b, c] = [await mk("a"), await mk("b"), await mk("c")];
    const g = await send("post", "/scim/v2/Groups", { schemas: [GROUP], displayName: "DigiCert Admins", members: [] });
    expect(g.status).toBe(201);
    expect(g.headers.location).toBe(g.body.meta.location);
    const gid = g.body.id;
    const add = await send("patch", `/scim/v2/Groups/${gid}`, { schemas: [PATCH], Operations: [{ op: "add", path: "members", value: [{ value: a.id, display: a.userName }, { value: b.id, display: b.userName }] }] });
    expect(add.status).toBe(204);
    expect(await roles(a.id)).toEqual([admin.id]);
    expect(await roles(b.id)).toEqual([admin.id]);
    const rm = await send("patch", `/scim/v2/Groups/${gid}`, { schemas: [PATCH], Operations: [{ op: "remove", path: `members[value eq "${a.id}"]` }] });
    expect(rm.status).toBe(204);
    expect(await roles(a.id)).toEqual([admin.dflt]);
    const replace = await send("patch", `/scim/v2/Groups/${gid}`, { schemas: [PATCH], Operations: [{ op: "replace", path: "members", value: [{ value: c.id, display: c.userName }] }] });
    expect(replace.status).toBe(204);
    expect(await roles(b.id)).toEqual([admin.dflt]);
    expect(await roles(c.id)).toEqual([admin.id]);
    const rename = await send("patch", `/scim/v2/Groups/${gid}`, { schemas: [PATCH], Operations: [{ op: "replace", value: { id: gid, displayName: "Former Admins" } }] });
    expect(rename.status).toBe(204);
    expect(await roles(c.id)).toEqual([admin.dflt]);
    const read = await send("get", `/scim/v2/Groups/${gid}`);
    expect(read.body).toMatchObject({ displayName: "Former Admins", members: [{ value: c.id }] });
    expect((await send("delete", `/scim/v2/Groups/${gid}`)).status).toBe(204);
    expect((await send("get", `/scim/v2/Groups/${gid}`)).status).toBe(404);
  });

  test("the /Groups answers the validator times stay well under 600 ms", async () => {
    const started = Date.now();
    const res = await send("get", "/scim/v2/Groups?startIndex=1&count=100");
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(600);
  });
});
