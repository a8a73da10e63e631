import { startHarness, oktaUser, type Harness } from "../../support/harness";

const DC_EXT = "urn:ietf:params:scim:schemas:extension:digicert:2.0:User";
const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

describe("discovery and service limits", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ platform: "certcentral", env: { SCIM_MAX_RESULTS: "3" } });
  });
  afterAll(async () => h.close());

  test("ServiceProviderConfig advertises what the bridge really does", async () => {
    const res = await h.get("/scim/v2/ServiceProviderConfig");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/application\/scim\+json/);
    expect(res.body).toMatchObject({
      patch: { supported: true },
      bulk: { supported: true, maxOperations: 1000, maxPayloadSize: 1048576 },
      filter: { supported: true, maxResults: 3 },
      sort: { supported: true },
      etag: { supported: true },
      changePassword: { supported: false },
    });
    expect(res.body.authenticationSchemes).toHaveLength(1);
    expect(res.body.authenticationSchemes[0].type).toBe("oauthbearertoken");
  });

  test("Schemas list the core User, enterprise and DigiCert extension schemas", async () => {
    const res = await h.get("/scim/v2/Schemas");
    expect(res.status).toBe(200);
    const ids = res.body.Resources.map((s: any) => s.id);
    expect(ids).toEqual(
      expect.arrayContaining(["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:core:2.0:Group", ENTERPRISE, DC_EXT]),
    );
    const ext = (await h.get(`/scim/v2/Schemas/${DC_EXT}`)).body;
    const attrs = Object.fromEntries(ext.attributes.map((a: any) => [a.name, a]));
    expect(attrs.digicertUserId.mutability).toBe("readOnly");
    expect(attrs.jobTitle.mutability).toBe("readWrite");
  });

  test("ResourceTypes/User names both extensions", async () => {
    const res = await h.get("/scim/v2/ResourceTypes/User");
    expect(res.status).toBe(200);
    expect(res.body.endpoint).toBe("/Users");
    expect(res.body.schemaExtensions.map((e: any) => e.schema)).toEqual(expect.arrayContaining([ENTERPRISE, DC_EXT]));
  });

  test("ResourceTypes lists User, Group and the Role catalogue", async () => {
    const res = await h.get("/scim/v2/ResourceTypes");
    expect(res.body.Resources.map((r: any) => r.name).sort()).toEqual(["Group", "Role", "User"]);
    expect((await h.get("/scim/v2/ResourceTypes/Group")).body.endpoint).toBe("/Groups");
  });

  test("count is capped at SCIM_MAX_RESULTS while totalResults stays true", async () => {
    for (let i = 0; i < 5; i++) expect((await h.post("/scim/v2/Users", oktaUser())).status).toBe(201);
    const res = await h.get("/scim/v2/Users?count=1000");
    expect(res.body.totalResults).toBe(5);
    expect(res.body.itemsPerPage).toBe(3);
    expect(res.body.Resources).toHaveLength(3);
    const dflt = await h.get("/scim/v2/Users");
    expect(dflt.body.Resources).toHaveLength(3);
  });

  test("attributes and excludedAttributes project reads", async () => {
    const only = await h.get("/scim/v2/Users?attributes=userName&count=1");
    expect(Object.keys(only.body.Resources[0]).sort()).toEqual(expect.arrayContaining(["id", "userName"]));
    expect(only.body.Resources[0].name).toBeUndefined();
    const without = await h.get("/scim/v2/Users?excludedAttributes=emails&count=1");
    expect(without.body.Resources[0].emails).toBeUndefined();
    expect(without.body.Resources[0].userName).toBeDefined();
  });

  test("healthz is open; readyz checks store, DigiCert and the outbox", async () => {
    const request = (await import("supertest")).default;
    const live = await request(h.app).get("/healthz");
    expect(live.status).toBe(200);
    const ready = await request(h.app).get("/readyz");
    expect(ready.status).toBe(200);
    expect(ready.body.components).toEqual({ store: { status: "ok" }, digicert: { status: "ok" }, outbox: { status: "ok" } });
    const metrics = await request(h.app).get("/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain("scim_requests_total");
  });
});

describe("readiness when DigiCert refuses the key", () => {
  test("readyz is 503 with a safe reason and no configuration", async () => {
    const request = (await import("supertest")).default;
    const h = await startHarness({ platform: "one" });
    try {
      h.sim.failNext({ platform: "one", method: "GET", path: /^\/user\/me$/, status: 401, body: { errors: [{ code: "invalid_api_key", message: "key sim-key at one.internal.example refused" }] } });
      const res = await request(h.app).get("/readyz");
      expect(res.status).toBe(503);
      expect(res.body.components.digicert).toEqual({ status: "failed", error: "DigiCert refused the API key or its permissions" });
      expect(JSON.stringify(res.body)).not.toContain("internal.example");
      expect(h.logs()).toContain("readiness check failed");
    } finally {
      await h.close();
    }
  });
});

describe("readiness while the DigiCert circuit is open", () => {
  test("readyz stays 200 (writes are queued) but says the circuit is open, without calling DigiCert", async () => {
    const request = (await import("supertest")).default;
    const h = await startHarness({ platform: "certcentral", env: { DIGICERT_CIRCUIT_THRESHOLD: "2", DIGICERT_MAX_RETRIES: "0" } });
    try {
      h.sim.failNext({ platform: "certcentral", method: "PUT", status: 503, body: {}, times: 2 });
      const u = (await h.post("/scim/v2/Users", oktaUser())).body;
      for (let i = 0; i < 2; i++) {
        await h.patch(`/scim/v2/Users/${u.id}`, { Operations: [{ op: "replace", path: "name.givenName", value: `X${i}` }] });
      }
      h.sim.clearCalls();
      const res = await request(h.app).get("/readyz");
      expect(res.status).toBe(200);
      expect(res.body.components.digicert.status).toBe("degraded");
      expect(res.body.components.digicert.detail).toMatch(/circuit open.*changes are queued/);
      expect(h.sim.calls).toHaveLength(0);
    } finally {
      await h.close();
    }
  });
});
