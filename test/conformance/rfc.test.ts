import request from "supertest";
import { startHarness, oktaUser, TOKEN, type Harness } from "../support/harness";

// RFC 7643/7644 points IdPs rely on (notes/idp.md), checked on the real app.

const ERROR = "urn:ietf:params:scim:api:messages:2.0:Error";

describe.each(["certcentral", "one"] as const)("RFC 7644 points on %s", (platform) => {
  let h: Harness;
  let u: any;
  beforeAll(async () => {
    h = await startHarness({ platform });
    u = (await h.post("/scim/v2/Users", oktaUser())).body;
    await h.post("/scim/v2/Users", oktaUser());
    await h.post("/scim/v2/Users", oktaUser());
  });
  afterAll(async () => h.close());

  test("filter attribute names and operators are case-insensitive", async () => {
    for (const f of [`USERNAME eq "${u.userName}"`, `userName EQ "${u.userName}"`, `UserName Eq "${u.userName.toUpperCase()}"`, `EMAILS.VALUE eq "${u.userName}"`]) {
      const res = await h.get(`/scim/v2/Users?filter=${encodeURIComponent(f)}`);
      expect([f, res.status, res.body.totalResults]).toEqual([f, 200, 1]);
    }
  });

  test("count=0 gives only totalResults; startIndex < 1 counts as 1; itemsPerPage equals the resources returned", async () => {
    const zero = await h.get("/scim/v2/Users?count=0");
    expect(zero.body.totalResults).toBe(3);
    expect(zero.body.itemsPerPage).toBe(0);
    expect(zero.body.Resources ?? []).toEqual([]);
    const neg = await h.get("/scim/v2/Users?startIndex=-4&count=2");
    expect(neg.body.startIndex).toBe(1);
    expect(neg.body.itemsPerPage).toBe(2);
    expect(neg.body.Resources).toHaveLength(2);
    const tail = await h.get("/scim/v2/Users?startIndex=3&count=10");
    expect(tail.body.itemsPerPage).toBe(1);
    expect(tail.body.Resources).toHaveLength(1);
    const beyond = await h.get("/scim/v2/Users?startIndex=50");
    expect(beyond.body).toMatchObject({ totalResults: 3, itemsPerPage: 0 });
  });

  test("attributes and excludedAttributes apply to every read", async () => {
    const one = await h.get(`/scim/v2/Users/${u.id}?attributes=userName,emails.value`);
    expect(one.body.userName).toBe(u.userName);
    expect(one.body.name).toBeUndefined();
    expect(one.body.emails[0]).toEqual({ value: u.userName });
    const ex = await h.get(`/scim/v2/Users/${u.id}?excludedAttributes=name,emails`);
    expect(ex.body.name).toBeUndefined();
    expect(ex.body.userName).toBe(u.userName);
    const list = await h.get(`/scim/v2/Users?attributes=displayName&count=1`);
    expect(Object.keys(list.body.Resources[0]).sort()).toEqual(expect.arrayContaining(["displayName", "id"]));
    expect(list.body.Resources[0].emails).toBeUndefined();
    const search = await h.post("/scim/v2/Users/.search", { schemas: ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], filter: `userName eq "${u.userName}"`, attributes: ["userName"] });
    expect(search.status).toBe(200);
    expect(search.body.Resources).toEqual([expect.objectContaining({ id: u.id, userName: u.userName })]);
    expect(search.body.Resources[0].name).toBeUndefined();
  });

  test("password is accepted, never returned, never stored, never sent to DigiCert", async () => {
    const body = oktaUser(undefined, { password: "Sup3r-Secret-Pw" });
    const res = await h.post("/scim/v2/Users", body);
    expect(res.status).toBe(201);
    expect(JSON.stringify(res.body)).not.toContain("Sup3r-Secret-Pw");
    const patch = await h.patch(`/scim/v2/Users/${res.body.id}`, { Operations: [{ op: "replace", path: "password", value: "An0ther-Secret-Pw" }] });
    expect([200, 204]).toContain(patch.status);
    const row = await h.bridge.store.users.getById(res.body.id);
    expect(JSON.stringify(row)).not.toMatch(/Secret-Pw/);
    expect(JSON.stringify(h.sim.calls)).not.toMatch(/Secret-Pw/);
    expect(h.logs()).not.toMatch(/Secret-Pw/);
    expect(JSON.stringify((await h.get(`/scim/v2/Users/${res.body.id}?attributes=password`)).body)).not.toMatch(/Secret-Pw/);
  });

  test("every answer is application/scim+json, errors carry the Error schema and status as a string", async () => {
    const cases: [string, request.Test][] = [
      ["malformed JSON", request(h.app).post("/scim/v2/Users").set("Authorization", `Bearer ${TOKEN}`).set("Content-Type", "application/scim+json").send("{")],
      ["oversize body", h.post("/scim/v2/Users", oktaUser(undefined, { nickName: "n".repeat(1_100_000) }))],
      ["unknown SCIM path", h.get("/scim/v2/Widgets")],
      ["unknown path", request(h.app).get("/nowhere")],
      ["unknown id", h.get("/scim/v2/Users/nope")],
      ["bad filter", h.get(`/scim/v2/Users?filter=${encodeURIComponent("title zz \"x\"")}`)],
      ["no auth", request(h.app).get("/scim/v2/Users")],
    ];
    for (const [name, t] of cases) {
      const res = await t;
      expect([name, res.headers["content-type"]]).toEqual([name, expect.stringMatching(/^application\/scim\+json/)]);
      expect([name, res.body.schemas]).toEqual([name, [ERROR]]);
      expect([name, typeof res.body.status]).toEqual([name, "string"]);
      expect(res.status).toBe(Number(res.body.status));
    }
    const ok = await h.get("/scim/v2/ServiceProviderConfig");
    expect(ok.headers["content-type"]).toMatch(/^application\/scim\+json/);
  });

  test("attribute names are case-insensitive in bodies", async () => {
    const res = await h.post("/scim/v2/Users", { ...oktaUser(), UserName: undefined, USERNAME: `caps.${platform}.${Date.now()}@example.com`, userName: undefined });
    expect(res.status).toBe(201);
    expect(res.body.userName).toMatch(/^caps\./);
  });

  test("§3.7.2: the RFC's Bulk example, a User and a Group naming it by bulkId, each 201 with its location", async () => {
    const userName = `bulk.rfc.${platform}.${Date.now()}@example.com`;
    const res = await h.post("/scim/v2/Bulk", {
      schemas: ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
      Operations: [
        { method: "POST", path: "/Users", bulkId: "qwerty", data: oktaUser(userName) },
        {
          method: "POST",
          path: "/Groups",
          bulkId: "ytrewq",
          data: { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: `Tour Guides ${platform} ${Date.now()}`, members: [{ type: "User", value: "bulkId:qwerty" }] },
        },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/application\/scim\+json/);
    expect(res.body.Operations.map((o: any) => [o.bulkId, o.status])).toEqual([["qwerty", "201"], ["ytrewq", "201"]]);
    const userId = res.body.Operations[0].location.split("/").pop();
    const group = await h.get(new URL(res.body.Operations[1].location).pathname);
    expect(group.body.members.map((m: any) => m.value)).toEqual([userId]);
    await h.drain();
    expect(h.sim.listUsers(platform).filter((x: any) => String(x.username ?? x.user_name).toLowerCase() === userName)).toHaveLength(1);
  });

  test("§3.4.2.2: an HR delta sync by meta.lastModified and active finds exactly the users changed since, paged", async () => {
    const made = [];
    for (let i = 0; i < 4; i++) made.push((await h.post("/scim/v2/Users", oktaUser(`delta.${platform}.${i}.${Date.now()}@example.com`))).body);
    await new Promise((r) => setTimeout(r, 5));
    const since = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    const patch = (id: string, op: unknown) => h.patch(`/scim/v2/Users/${id}`, { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [op] });
    expect((await patch(made[0].id, { op: "replace", path: "title", value: "Changed" })).status).toBe(200);
    expect((await patch(made[1].id, { op: "replace", path: "title", value: "Changed too" })).status).toBe(200);
    expect((await patch(made[2].id, { op: "replace", path: "active", value: false })).status).toBe(200);
    const until = new Date(Date.now() + 60_000).toISOString();
    const filter = `active eq true and (meta.lastModified ge "${since}" and meta.lastModified le "${until}")`;
    const page1 = await h.get(`/scim/v2/Users?filter=${encodeURIComponent(filter)}&startIndex=1&count=1`);
    const page2 = await h.get(`/scim/v2/Users?filter=${encodeURIComponent(filter)}&startIndex=2&count=1`);
    expect(page1.body.totalResults).toBe(2);
    expect([...page1.body.Resources, ...page2.body.Resources].map((r: any) => r.id).sort()).toEqual([made[0].id, made[1].id].sort());
  });
});
