// SCIM Bulk (RFC 7644 §3.7): every operation goes through the same handlers, services, outbox and audit as a
// single request; bulkId references resolve (a group created with members made in the same request, a cycle),
// failOnErrors stops, maxOperations/maxPayloadSize are advertised and enforced, and a large bulk is queued.
import { oktaUser, PATCH_OP, startHarness, type Harness } from "../../support/harness";

const BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const BULK_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

const bulk = (Operations: unknown[], extra: Record<string, unknown> = {}) => ({ schemas: [BULK], Operations, ...extra });
let seq = 0;
const name = (p: string) => `${p}-${Date.now()}-${++seq}@example.com`;

describe.each(["certcentral", "one"] as const)("Bulk on %s", (platform) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ platform, env: { BULK_MAX_OPERATIONS: "50", BULK_MAX_PAYLOAD_BYTES: "65536" } });
  });
  afterAll(() => h.close());

  test("ServiceProviderConfig advertises Bulk with its limits", async () => {
    const spc = await h.get("/scim/v2/ServiceProviderConfig");
    expect(spc.body.bulk).toEqual({ supported: true, maxOperations: 50, maxPayloadSize: 65536 });
  });

  test("a group created with members created in the same request, referenced before they are declared", async () => {
    const [a, b] = [name("bulk-a"), name("bulk-b")];
    h.sim.clearCalls();
    const res = await h.post("/scim/v2/Bulk", bulk([
      // Named first: waits for the two users the request creates after it.
      { method: "POST", path: "/Groups", bulkId: "g", data: { schemas: [GROUP], displayName: `bulk-g-${seq}`, members: [{ value: "bulkId:a" }, { value: "bulkId:b" }] } },
      { method: "POST", path: "/Users", bulkId: "a", data: oktaUser(a) },
      { method: "POST", path: "/Users", bulkId: "b", data: oktaUser(b) },
    ]));
    expect(res.status).toBe(200);
    expect(res.body.schemas).toEqual([BULK_RESPONSE]);
    // Answered in the client's order, whatever order they ran in.
    expect(res.body.Operations.map((o: any) => [o.method, o.bulkId, o.status])).toEqual([
      ["POST", "g", "201"],
      ["POST", "a", "201"],
      ["POST", "b", "201"],
    ]);
    for (const o of res.body.Operations) {
      expect(o.location).toMatch(/^https:\/\/scim\.example\.test\/scim\/v2\/(Users|Groups)\/[^/]+$/);
      expect(o.version).toMatch(/^W\/"\d+"$/);
    }
    const ids = res.body.Operations.map((o: any) => o.location.split("/").pop());
    const group = await h.get(`/scim/v2/Groups/${ids[0]}`);
    expect(group.body.members.map((m: any) => m.value).sort()).toEqual([ids[1], ids[2]].sort());
    const user = await h.get(`/scim/v2/Users/${ids[1]}`);
    expect(user.body.userName).toBe(a);
    expect(user.body.groups.map((g: any) => g.value)).toEqual([ids[0]]);
    // Through the outbox to DigiCert like single requests, each user once.
    await h.drain();
    const dc = h.sim.listUsers(platform).map((u: any) => (u.user_name ?? u.username ?? "").toLowerCase());
    expect(dc.filter((u: string) => u === a.toLowerCase())).toHaveLength(1);
    expect(dc.filter((u: string) => u === b.toLowerCase())).toHaveLength(1);
    // And audited like single requests, under the Bulk request's id.
    const audit = await h.bridge.store.audit.query({ resourceId: ids });
    expect(audit.map((e) => e.action)).toEqual(expect.arrayContaining(["user.create", "group.create"]));
    const requestId = res.headers["x-request-id"];
    for (const e of audit.filter((x) => x.kind !== "bridge" && x.actor)) expect(e.requestId).toMatch(new RegExp(`^${requestId}\\.\\d+$`));
  });

  test("PUT, PATCH (with version) and DELETE on existing resources; a stale version is 412 in its operation only", async () => {
    const u = (await h.post("/scim/v2/Users", oktaUser(name("bulk-put")))).body;
    const v = (await h.post("/scim/v2/Users", oktaUser(name("bulk-del")))).body;
    const res = await h.post("/scim/v2/Bulk", bulk([
      { method: "PATCH", path: `/Users/${u.id}`, version: u.meta.version, data: { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "title", value: "Engineer" }] } },
      // The same stale version again: the first PATCH moved the user on.
      { method: "PATCH", path: `/Users/${u.id}`, version: u.meta.version, data: { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "title", value: "Lost" }] } },
      { method: "PUT", path: `/Users/${u.id}`, data: { ...oktaUser(u.userName), displayName: "Put Name", title: "Lead" } },
      { method: "DELETE", path: `/Users/${v.id}` },
      { method: "DELETE", path: "/Users/does-not-exist" },
    ]));
    expect(res.status).toBe(200);
    expect(res.body.Operations.map((o: any) => o.status)).toEqual(["200", "412", "200", "204", "404"]);
    expect(res.body.Operations[1].response).toMatchObject({ schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"], status: "412" });
    expect(res.body.Operations[4].response.status).toBe("404");
    expect(res.body.Operations[0].location).toBe(`https://scim.example.test/scim/v2/Users/${u.id}`);
    const now = await h.get(`/scim/v2/Users/${u.id}`);
    expect(now.body.title).toBe("Lead");
    expect(res.body.Operations[2].version).toBe(now.body.meta.version);
    expect((await h.get(`/scim/v2/Users/${v.id}`)).status).toBe(404);
  });

  test("failOnErrors stops after that many errors; what ran stays done, what did not run is not answered", async () => {
    const ok = name("bulk-ok");
    const never = name("bulk-never");
    const res = await h.post("/scim/v2/Bulk", bulk([
      { method: "POST", path: "/Users", bulkId: "ok", data: oktaUser(ok) },
      { method: "POST", path: "/Users", bulkId: "bad1", data: { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"] } },
      { method: "POST", path: "/Users", bulkId: "dup", data: oktaUser(ok) },
      { method: "POST", path: "/Users", bulkId: "never", data: oktaUser(never) },
    ], { failOnErrors: 2 }));
    expect(res.status).toBe(200);
    expect(res.body.Operations.map((o: any) => [o.bulkId, o.status])).toEqual([["ok", "201"], ["bad1", "400"], ["dup", "409"]]);
    expect(res.body.Operations[2].response.scimType).toBe("uniqueness");
    const list = await h.get(`/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${never}"`)}`);
    expect(list.body.totalResults).toBe(0);
  });

  test("an operation naming a bulkId whose POST failed fails with 409; a bulkId nobody declares is 400", async () => {
    const res = await h.post("/scim/v2/Bulk", bulk([
      { method: "POST", path: "/Users", bulkId: "broken", data: { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"] } },
      { method: "POST", path: "/Groups", bulkId: "g", data: { schemas: [GROUP], displayName: `bulk-ref-${seq++}`, members: [{ value: "bulkId:broken" }] } },
      { method: "POST", path: "/Groups", bulkId: "g2", data: { schemas: [GROUP], displayName: `bulk-ref-${seq++}`, members: [{ value: "bulkId:nobody" }] } },
    ]));
    expect(res.body.Operations.map((o: any) => o.status)).toEqual(["400", "409", "400"]);
    expect(res.body.Operations[1].response.detail).toMatch(/bulkId broken/);
    expect(res.body.Operations[2].response.detail).toMatch(/nobody/);
  });

  test("a reference cycle (two users managing each other) is resolved: both created, each names the other", async () => {
    const [a, b] = [name("cyc-a"), name("cyc-b")];
    const res = await h.post("/scim/v2/Bulk", bulk([
      { method: "POST", path: "/Users", bulkId: "a", data: { ...oktaUser(a), schemas: ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE], [ENTERPRISE]: { manager: { value: "bulkId:b" } } } },
      { method: "POST", path: "/Users", bulkId: "b", data: { ...oktaUser(b), schemas: ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE], [ENTERPRISE]: { manager: { value: "bulkId:a" } } } },
    ]));
    expect(res.body.Operations.map((o: any) => o.status)).toEqual(["201", "201"]);
    const [ida, idb] = res.body.Operations.map((o: any) => o.location.split("/").pop());
    expect((await h.get(`/scim/v2/Users/${ida}`)).body[ENTERPRISE].manager.value).toBe(idb);
    expect((await h.get(`/scim/v2/Users/${idb}`)).body[ENTERPRISE].manager.value).toBe(ida);
  });

  test("malformed messages and limits: a SCIM error for the whole request, nothing done", async () => {
    const before = (await h.get("/scim/v2/Users?count=0")).body.totalResults;
    const wrongSchema = await h.post("/scim/v2/Bulk", { schemas: ["urn:x"], Operations: [{ method: "POST", path: "/Users", bulkId: "x", data: oktaUser(name("x")) }] });
    expect(wrongSchema.status).toBe(400);
    expect(wrongSchema.body.scimType).toBe("invalidSyntax");
    expect((await h.post("/scim/v2/Bulk", bulk([]))).status).toBe(400);
    expect((await h.post("/scim/v2/Bulk", bulk([{ method: "POST", path: "/Users", bulkId: "x", data: oktaUser(name("x")) }], { failOnErrors: 0 }))).status).toBe(400);
    const tooMany = await h.post("/scim/v2/Bulk", bulk(Array.from({ length: 51 }, (_, i) => ({ method: "POST", path: "/Users", bulkId: `u${i}`, data: oktaUser(name("many")) }))));
    expect(tooMany.status).toBe(413);
    expect(tooMany.body.detail).toMatch(/at most 50/);
    const big = await h.post("/scim/v2/Bulk", bulk([{ method: "POST", path: "/Users", bulkId: "big", data: { ...oktaUser(name("big")), title: "x".repeat(70_000) } }]));
    expect(big.status).toBe(413);
    expect(big.body.schemas).toEqual(["urn:ietf:params:scim:api:messages:2.0:Error"]);
    expect((await h.get("/scim/v2/Users?count=0")).body.totalResults).toBe(before);
  });

  test("bad operations are answered each in its place", async () => {
    const res = await h.post("/scim/v2/Bulk", bulk([
      { method: "GET", path: "/Users" },
      { method: "POST", path: "/Users/abc", bulkId: "p", data: {} },
      { method: "POST", path: "/Users", data: oktaUser(name("nobulkid")) },
      { method: "PATCH", path: "/Users" , data: {} },
      { method: "PUT", path: "/Schemas/x", data: {} },
      { method: "DELETE", path: "/Users/x", data: "nope" },
      { method: "POST", path: "/Users", bulkId: "p2", data: [1] },
      "not an operation",
    ]));
    expect(res.status).toBe(200);
    expect(res.body.Operations.map((o: any) => o.status)).toEqual(["400", "400", "400", "400", "400", "404", "400", "400"]);
    for (const o of res.body.Operations) expect(o.response.schemas).toEqual(["urn:ietf:params:scim:api:messages:2.0:Error"]);
  });

  test("an unauthenticated Bulk request is 401 and runs nothing", async () => {
    const request = (await import("supertest")).default;
    const anon = name("anon");
    const res = await request(h.app).post("/scim/v2/Bulk").set("Content-Type", "application/scim+json")
      .send(JSON.stringify(bulk([{ method: "POST", path: "/Users", bulkId: "x", data: oktaUser(anon) }])));
    expect(res.status).toBe(401);
    expect(await h.bridge.store.users.getByUserName(anon)).toBeNull();
    // A client cannot pass for one of a Bulk's operations by sending the marker header with a guess.
    const forged = await h.post("/scim/v2/Users", oktaUser(name("forged"))).set("X-Bridge-Bulk-Operation", "guess");
    expect(forged.status).toBe(201);
    expect(forged.body["urn:ietf:params:scim:schemas:extension:digicert:2.0:User"].syncState).toBe("synced");
  });
});

describe("a large Bulk is queued, not held for DigiCert", () => {
  let h: Harness;
  beforeAll(async () => {
    // DigiCert paced at 20 requests per second: 100 creates take ≥ 5 s to reach it.
    h = await startHarness({ platform: "certcentral", env: { DIGICERT_RATE_LIMIT: "20/1s", SYNC_WAIT_MS: "5000" } });
  });
  afterAll(() => h.close());

  test("100 creates are answered 201 before DigiCert has them all; then each is created once", async () => {
    const names = Array.from({ length: 100 }, () => name("queued"));
    const res = await h.post("/scim/v2/Bulk", bulk(names.map((n, i) => ({ method: "POST", path: "/Users", bulkId: `u${i}`, data: oktaUser(n) }))));
    expect(res.status).toBe(200);
    expect(res.body.Operations.every((o: any) => o.status === "201")).toBe(true);
    // Queued: when the answer came, DigiCert did not have them all yet (it cannot, at 20/s), and the answers say so.
    expect(h.sim.listUsers("certcentral").length).toBeLessThan(100);
    const last = await h.get(new URL(res.body.Operations[99].location).pathname);
    expect(last.body["urn:ietf:params:scim:schemas:extension:digicert:2.0:User"].syncState).toBe("pending");
    await h.drain(60_000);
    const dc = h.sim.listUsers("certcentral").map((u: any) => String(u.username ?? u.user_name).toLowerCase());
    for (const n of names) expect(dc.filter((u: string) => u === n.toLowerCase())).toHaveLength(1);
  }, 90_000);
});

describe("Bulk turned off", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ platform: "certcentral", env: { BULK_MAX_OPERATIONS: "0" } });
  });
  afterAll(() => h.close());

  test("advertised unsupported and answered 501", async () => {
    expect((await h.get("/scim/v2/ServiceProviderConfig")).body.bulk).toMatchObject({ supported: false });
    const res = await h.post("/scim/v2/Bulk", bulk([{ method: "POST", path: "/Users", bulkId: "x", data: oktaUser(name("off")) }]));
    expect(res.status).toBe(501);
    expect(res.body.schemas).toEqual(["urn:ietf:params:scim:api:messages:2.0:Error"]);
  });
});
