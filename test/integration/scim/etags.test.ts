// ETags: meta.version as the ETag header, If-None-Match → 304, If-Match → 412 on another version, on Users and
// Groups; a precondition never costs a DigiCert call.
import { oktaUser, PATCH_OP, startHarness, type Harness } from "../../support/harness";

const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";

describe("ETags and preconditions", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ platform: "certcentral" });
  });
  afterAll(() => h.close());

  test("a user's ETag is its meta.version; If-None-Match with it is 304, with another 200", async () => {
    const created = await h.post("/scim/v2/Users", oktaUser());
    expect(created.status).toBe(201);
    expect(created.headers.etag).toBe(created.body.meta.version);
    const read = await h.get(`/scim/v2/Users/${created.body.id}`);
    expect(read.headers.etag).toBe(read.body.meta.version);
    h.sim.clearCalls();
    const same = await h.get(`/scim/v2/Users/${created.body.id}`).set("If-None-Match", read.body.meta.version);
    expect(same.status).toBe(304);
    expect(same.headers.etag).toBe(read.body.meta.version);
    expect((await h.get(`/scim/v2/Users/${created.body.id}`).set("If-None-Match", 'W/"999"')).status).toBe(200);
    expect(h.sim.calls).toHaveLength(0);
    // Lists carry no ETag of their own.
    expect((await h.get("/scim/v2/Users")).headers.etag).toBeUndefined();
  });

  test("If-Match: the current version (weak or strong, or *) lets PUT, PATCH and DELETE through; another is 412 and changes nothing", async () => {
    const u = (await h.post("/scim/v2/Users", oktaUser())).body;
    const v = u.meta.version as string;
    const stale = await h.patch(`/scim/v2/Users/${u.id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "title", value: "X" }] }).set("If-Match", 'W/"999"');
    expect(stale.status).toBe(412);
    expect(stale.body).toMatchObject({ schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"], status: "412" });
    expect(stale.headers.etag).toBe(v);
    expect((await h.get(`/scim/v2/Users/${u.id}`)).body.title).toBeUndefined();

    const patched = await h.patch(`/scim/v2/Users/${u.id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "title", value: "Y" }] }).set("If-Match", v.replace(/^W\//, ""));
    expect(patched.status).toBe(200);
    expect(patched.headers.etag).toBe(patched.body.meta.version);
    expect(patched.body.meta.version).not.toBe(v);

    // The version read before the PATCH is stale now: a PUT based on it is refused.
    const put = await h.put(`/scim/v2/Users/${u.id}`, { ...oktaUser(u.userName), title: "Z" }).set("If-Match", v);
    expect(put.status).toBe(412);
    const putOk = await h.put(`/scim/v2/Users/${u.id}`, { ...oktaUser(u.userName), title: "Z" }).set("If-Match", patched.body.meta.version);
    expect(putOk.status).toBe(200);
    expect(putOk.body.title).toBe("Z");

    expect((await h.del(`/scim/v2/Users/${u.id}`).set("If-Match", v)).status).toBe(412);
    expect((await h.get(`/scim/v2/Users/${u.id}`)).status).toBe(200);
    expect((await h.del(`/scim/v2/Users/${u.id}`).set("If-Match", "*")).status).toBe(204);
    // A missing resource is a 404 whatever the precondition.
    expect((await h.del(`/scim/v2/Users/${u.id}`).set("If-Match", v)).status).toBe(404);
  });

  test("groups: ETag, If-None-Match and If-Match on PATCH", async () => {
    const g = (await h.post("/scim/v2/Groups", { schemas: [GROUP], displayName: `etag-${Date.now()}` })).body;
    const read = await h.get(`/scim/v2/Groups/${g.id}`);
    expect(read.headers.etag).toBe(read.body.meta.version);
    expect((await h.get(`/scim/v2/Groups/${g.id}`).set("If-None-Match", read.body.meta.version)).status).toBe(304);
    const renameStale = await h.patch(`/scim/v2/Groups/${g.id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "displayName", value: "x" }] }).set("If-Match", 'W/"999"');
    expect(renameStale.status).toBe(412);
    const rename = await h.patch(`/scim/v2/Groups/${g.id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "displayName", value: `${g.displayName}-2` }] }).set("If-Match", read.body.meta.version);
    expect(rename.status).toBe(204);
  });

  test("ServiceProviderConfig advertises etag; the old /serviceConfiguration name answers the same", async () => {
    const spc = await h.get("/scim/v2/ServiceProviderConfig");
    expect(spc.body.etag).toEqual({ supported: true });
    const old = await h.get("/scim/v2/serviceConfiguration");
    expect(old.status).toBe(200);
    expect(old.body).toEqual(spc.body);
    expect((await h.get("/scim/v2/serviceConfiguration").set("Authorization", "Bearer wrong")).status).toBe(401);
  });

  test("a PATCH with If-Match is refused when another change lands between the precondition and the PATCH's read", async () => {
    const u = (await h.post("/scim/v2/Users", oktaUser())).body;
    await h.drain();
    const current = (await h.get(`/scim/v2/Users/${u.id}`)).body.meta.version as string;
    const users = h.bridge.users;
    const get = users.get.bind(users);
    let reads = 0;
    // The precondition reads the user first; before the next read, another client's change lands: a PUT, since
    // this process's PATCHes of one user take turns (a PATCH from another replica would land the same way).
    users.get = async (id: string) => {
      if (id === u.id && ++reads === 2) {
        const other = await h.put(`/scim/v2/Users/${u.id}`, { ...u, title: "Other" });
        expect(other.status).toBe(200);
      }
      return get(id);
    };
    try {
      const guarded = await h.patch(`/scim/v2/Users/${u.id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "title", value: "Guarded" }] }).set("If-Match", current);
      expect(guarded.status).toBe(412);
      expect(guarded.body.schemas).toEqual(["urn:ietf:params:scim:api:messages:2.0:Error"]);
    } finally {
      users.get = get;
    }
    expect((await h.get(`/scim/v2/Users/${u.id}`)).body.title).toBe("Other");
  });

  test.each(["Users", "Groups"])("DELETE /%s and a Group PATCH with If-Match are refused when another change lands after the precondition", async (kind) => {
    const make = async () =>
      kind === "Users"
        ? (await h.post("/scim/v2/Users", oktaUser())).body
        : (await h.post("/scim/v2/Groups", { schemas: [GROUP], displayName: `race-${kind}-${Date.now()}-${Math.random()}` })).body;
    const change = (id: string) =>
      h.patch(`/scim/v2/${kind}/${id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", path: kind === "Users" ? "title" : "externalId", value: "Other" }] });
    const service = (kind === "Users" ? h.bridge.users : h.bridge.groups) as unknown as { get: (id: string, ...rest: unknown[]) => Promise<{ version: number }> };
    const get = service.get.bind(service);
    // The precondition reads the version; before the write, another client's PATCH lands.
    const racing = (id: string) => {
      let first = true;
      service.get = async (x: string, ...rest: unknown[]) => {
        const row = await get(x, ...rest);
        if (x === id && first) {
          first = false;
          expect((await change(id)).status).toBeLessThan(300);
        }
        return row;
      };
    };
    try {
      const r = await make();
      racing(r.id);
      const del = await h.del(`/scim/v2/${kind}/${r.id}`).set("If-Match", r.meta.version);
      expect(del.status).toBe(412);
      service.get = get;
      expect((await h.get(`/scim/v2/${kind}/${r.id}`)).status).toBe(200);
      if (kind === "Groups") {
        const g = await make();
        racing(g.id);
        const patched = await h.patch(`/scim/v2/Groups/${g.id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "displayName", value: "Renamed" }] }).set("If-Match", g.meta.version);
        expect(patched.status).toBe(412);
        service.get = get;
        expect((await h.get(`/scim/v2/Groups/${g.id}`)).body.displayName).toBe(g.displayName);
      }
    } finally {
      service.get = get;
    }
  });
});
