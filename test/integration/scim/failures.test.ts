import request from "supertest";
import { startHarness, oktaUser, refuseNextCreate, API_KEY, TOKEN, SECOND_TOKEN, type Harness } from "../../support/harness";

// What the IdP sees when its input, its credentials or DigiCert go wrong: always a SCIM error, never a 500,
// never a secret, and the store left as it was.

const ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error";

describe.each(["certcentral", "one"] as const)("failures on %s", (platform) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ platform });
  });
  afterAll(async () => h.close());
  beforeEach(() => h.sim.clearCalls());

  async function expectNothingStored(userName: string) {
    expect(await h.bridge.store.users.getByUserName(userName)).toBeNull();
  }

  test("invalid input is refused before any DigiCert call, naming the attribute", async () => {
    const longName = "x".repeat(300);
    const cases: [Record<string, unknown>, string][] = [
      [{ name: { givenName: longName, familyName: "L" } }, "name.givenName"],
      [{ name: { givenName: "A", familyName: longName } }, "name.familyName"],
      [{ name: undefined, displayName: undefined }, "name.givenName"],
      // No valid address anywhere (an email-shaped userName would be used instead: see email-choice.test.ts).
      [{ userName: `not-email-${Date.now()}`, emails: [{ value: "not-an-email", primary: true }] }, "emails"],
    ];
    for (const [extra, attr] of cases) {
      const body = oktaUser(undefined, extra);
      const res = await h.post("/scim/v2/Users", body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ schemas: [ERROR_URN], status: "400", scimType: "invalidValue" });
      expect(res.body.detail.startsWith(`${attr}:`)).toBe(true);
      await expectNothingStored(body.userName as string);
    }
    expect(h.sim.calls).toHaveLength(0);
  });

  test("a userName DigiCert cannot hold is 400 naming userName, with no DigiCert call", async () => {
    const bad = platform === "certcentral" ? "ada lovelace!@example.com" : `${"u".repeat(300)}@example.com`;
    const res = await h.post("/scim/v2/Users", oktaUser(bad, { emails: [{ value: "ada@example.com", primary: true }] }));
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/^userName:/);
    expect(res.body.detail).not.toMatch(/^userName: userName:/);
    expect(h.sim.calls).toHaveLength(0);
    await expectNothingStored(bad);
  });

  test("a SCIM body that breaks the schema is 400 and stores nothing", async () => {
    const res = await h.post("/scim/v2/Users", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], name: { givenName: "A" } });
    expect(res.status).toBe(400);
    expect(res.body.schemas).toEqual([ERROR_URN]);
    expect(h.sim.calls).toHaveLength(0);
  });

  test("malformed JSON is a SCIM 400 with the SCIM content type", async () => {
    const res = await request(h.app)
      .post("/scim/v2/Users")
      .set("Authorization", `Bearer ${TOKEN}`)
      .set("Content-Type", "application/scim+json")
      .send('{"userName": ');
    expect(res.status).toBe(400);
    expect(res.headers["content-type"]).toMatch(/application\/scim\+json/);
    expect(res.body).toMatchObject({ schemas: [ERROR_URN], status: "400", scimType: "invalidSyntax" });
  });

  test("an oversize body is a SCIM 413", async () => {
    const body = oktaUser(undefined, { nickName: "x".repeat(1024 * 1024 + 10) });
    const res = await h.post("/scim/v2/Users", body);
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ schemas: [ERROR_URN], status: "413" });
  });

  test("DigiCert validation errors reach the IdP as 400 with DigiCert's message", async () => {
    const body = oktaUser();
    refuseNextCreate(h.sim, platform);
    const res = await h.post("/scim/v2/Users", body);
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe("invalidValue");
    expect(res.body.detail).toContain("Email domain is not allowed.");
    await expectNothingStored(body.userName as string);
  });

  test("DigiCert failing longer than the request waits: 201 with syncState pending, then synced once it recovers", async () => {
    const body = oktaUser();
    h.sim.failNext({ platform, method: "POST", path: /^\/user$/, status: 503, body: {}, times: 1_000_000 });
    const started = Date.now();
    const res = await h.post("/scim/v2/Users", body);
    expect(res.status).toBe(201);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4500); // SYNC_WAIT_MS, default 5 s
    expect(res.body["urn:ietf:params:scim:schemas:extension:digicert:2.0:User"]).toMatchObject({ syncState: "pending" });
    expect(res.body["urn:ietf:params:scim:schemas:extension:digicert:2.0:User"].lastError).toMatch(/503/);
    h.sim.clearFaults();
    await h.drain(30_000);
    const row = await h.bridge.store.users.getById(res.body.id);
    expect(row!.syncState).toBe("synced");
    expect(h.sim.listUsers(platform).filter((u: any) => (u.username ?? u.user_name) === body.userName)).toHaveLength(1);
  });

  test("a create that timed out after reaching DigiCert is linked, not sent twice", async () => {
    const body = oktaUser();
    // The simulator creates the user, but answers after the bridge's 1.5 s timeout.
    h.sim.failNext({ platform, method: "POST", path: /^\/user$/, delayMs: 2500 });
    const res = await h.post("/scim/v2/Users", body);
    expect(res.status).toBe(201);
    const same = h.sim.listUsers(platform).filter((u: any) => (u.username ?? u.user_name) === body.userName && (u.status ?? "") !== "DELETED");
    expect(same).toHaveLength(1);
    expect(String(res.body["urn:ietf:params:scim:schemas:extension:digicert:2.0:User"].digicertUserId)).toBe(String(same[0].id));
    // The late original meets the username the retry created and is refused as a duplicate: still one user.
    await new Promise((r) => setTimeout(r, 1200));
    expect(h.sim.listUsers(platform).filter((u: any) => (u.username ?? u.user_name) === body.userName && (u.status ?? "") !== "DELETED")).toHaveLength(1);
  });

  test("DigiCert refusing the API key is 502 telling the admin to check DIGICERT_API_KEY, without the key", async () => {
    h.sim.failNext({
      platform,
      method: "POST",
      path: /^\/user$/,
      ...(platform === "certcentral"
        ? { status: 403, body: { errors: [{ code: "access_denied|access_denied_invalid_key", message: "Access denied due to access_denied_invalid_key." }] } }
        : { status: 401, body: { errors: [{ code: "invalid_api_key", message: "Invalid API key" }] } }),
    });
    const res = await h.post("/scim/v2/Users", oktaUser());
    expect(res.status).toBe(502);
    expect(res.body.detail).toContain("DIGICERT_API_KEY");
    expect(JSON.stringify(res.body)).not.toContain(API_KEY);
  });

  test("401 with WWW-Authenticate for a missing or wrong token; every configured token works", async () => {
    const none = await request(h.app).get("/scim/v2/Users");
    expect(none.status).toBe(401);
    expect(none.headers["www-authenticate"]).toMatch(/^Bearer/);
    expect(none.headers["content-type"]).toMatch(/application\/scim\+json/);
    expect(none.body).toMatchObject({ schemas: [ERROR_URN], status: "401" });
    const wrong = await request(h.app).get("/scim/v2/ServiceProviderConfig").set("Authorization", "Bearer nope");
    expect(wrong.status).toBe(401);
    const second = await request(h.app).get("/scim/v2/Users").set("Authorization", `Bearer ${SECOND_TOKEN}`);
    expect(second.status).toBe(200);
    // Unauthenticated bodies are not even parsed.
    const junk = await request(h.app).post("/scim/v2/Users").set("Content-Type", "application/json").send("{bad");
    expect(junk.status).toBe(401);
  });

  test("ids with quotes, backslashes or traversal are plain 404s", async () => {
    for (const id of ['a"b', "a%5Cb", "..%2F..%2Fetc%2Fpasswd", "%00"]) {
      const res = await h.get(`/scim/v2/Users/${id}`);
      expect(res.status).toBe(404);
      expect(res.body.schemas).toEqual([ERROR_URN]);
      expect((await h.del(`/scim/v2/Users/${id}`)).status).toBe(404);
    }
  });

  test("unknown paths are SCIM 404s", async () => {
    const scim = await h.get("/scim/v2/Nope");
    expect(scim.status).toBe(404);
    expect(scim.body.schemas).toEqual([ERROR_URN]);
    const other = await request(h.app).get("/nope");
    expect(other.status).toBe(404);
    expect(other.headers["content-type"]).toMatch(/application\/scim\+json/);
  });

  test("neither the API key nor a token ever appears in the logs", async () => {
    await h.post("/scim/v2/Users", oktaUser());
    await request(h.app).get("/scim/v2/Users").set("Authorization", `Bearer ${TOKEN}`);
    expect(h.logs()).toContain('"message":"request"');
    expect(h.logs()).toContain('"message":"digicert call"');
    expect(h.logs()).not.toContain(API_KEY);
    expect(h.logs()).not.toContain(TOKEN);
    expect(h.logs()).not.toContain("S3cret-passw0rd!");
  });
});
