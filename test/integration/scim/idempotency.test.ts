import request from "supertest";
import { startHarness, oktaUser, SECOND_TOKEN, type Harness } from "../../support/harness";

// An HR script retrying a create whose answer it never got: with an Idempotency-Key it gets the original 201.

describe.each(["certcentral", "one"] as const)("Idempotency-Key on %s", (platform) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ platform });
  });
  afterAll(async () => h.close());

  test("a retried create with the same key gets the original 201; DigiCert saw one create", async () => {
    const body = oktaUser();
    const first = await h.post("/scim/v2/Users", body).set("Idempotency-Key", `k-${platform}-1`);
    expect(first.status).toBe(201);
    h.sim.clearCalls();
    const again = await h.post("/scim/v2/Users", body).set("Idempotency-Key", `k-${platform}-1`);
    expect(again.status).toBe(201);
    expect(again.headers["idempotency-replayed"]).toBe("true");
    expect(again.headers.location).toBe(first.headers.location);
    expect(again.headers["content-type"]).toMatch(/application\/scim\+json/);
    expect(again.body.id).toBe(first.body.id);
    expect(h.sim.calls).toHaveLength(0);
    const { total } = await h.bridge.store.users.list({ anyOf: [[{ attr: "userName", value: body.userName as string }]] }, { offset: 0, limit: 5 });
    expect(total).toBe(1);
    // Without the key, the retry is the 409 RFC 7644 requires, naming the existing id.
    const plain = await h.post("/scim/v2/Users", body);
    expect(plain.status).toBe(409);
    expect(plain.body.detail).toContain(first.body.id);
  });

  test("the same key for a different request is refused with 422; another credential's keys are separate", async () => {
    const body = oktaUser();
    expect((await h.post("/scim/v2/Users", body).set("Idempotency-Key", `k-${platform}-2`)).status).toBe(201);
    const other = await h.post("/scim/v2/Users", oktaUser()).set("Idempotency-Key", `k-${platform}-2`);
    expect(other.status).toBe(422);
    expect(other.body).toMatchObject({ schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"], status: "422" });
    const second = await request(h.app)
      .post("/scim/v2/Users")
      .set("Authorization", `Bearer ${SECOND_TOKEN}`)
      .set("Content-Type", "application/scim+json")
      .set("Idempotency-Key", `k-${platform}-2`)
      .send(JSON.stringify(oktaUser()));
    expect(second.status).toBe(201);
  });

  test("a failed create is not remembered: the same key works once the cause is fixed", async () => {
    const body = oktaUser();
    h.sim.failNext({ platform, method: "POST", path: /^\/user$/, status: 400, body: { errors: [{ code: "invalid_request", message: "nope" }] } });
    expect((await h.post("/scim/v2/Users", body).set("Idempotency-Key", `k-${platform}-3`)).status).toBe(400);
    expect((await h.post("/scim/v2/Users", body).set("Idempotency-Key", `k-${platform}-3`)).status).toBe(201);
  });

  test("groups too; a malformed key is a 400", async () => {
    const g = { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: `Idem ${platform}`, members: [] };
    const a = await h.post("/scim/v2/Groups", g).set("Idempotency-Key", `g-${platform}`);
    const b = await h.post("/scim/v2/Groups", g).set("Idempotency-Key", `g-${platform}`);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(b.body.id).toBe(a.body.id);
    expect((await h.post("/scim/v2/Users", oktaUser()).set("Idempotency-Key", "x".repeat(300))).status).toBe(400);
  });
});
