import { dropSchema, PG_URL, storeVariants, uniqueSchema } from "../../support/databases";
import { startHarness, oktaUser, DC_EXT, PATCH_OP, PUBLIC_BASE_URL, ONE_ACCOUNT_ID, CC_CONTAINER_ID, type Harness } from "../../support/harness";

// The User lifecycle over real HTTP against the simulator, on both platforms. Each test checks the SCIM answer,
// the stored row and the exact DigiCert calls.

describe.each(storeVariants("User lifecycle"))("Users: %s", (_label, platform, db) => {
  let h: Harness;
  const pgSchema = uniqueSchema(`scim_http_${platform}`);
  beforeAll(async () => {
    h = await startHarness(db === "postgres" ? { platform, databaseUrl: PG_URL, pgSchema } : { platform });
  });
  afterAll(async () => {
    await h.close();
    if (db === "postgres") await dropSchema(pgSchema);
  });
  afterAll(async () => h.close());
  beforeEach(() => h.sim.clearCalls());

  const creates = () => h.sim.callsTo(platform, "POST", /^\/user$/);
  const dcUser = (id: string) => h.sim.getUser(platform, id);

  async function create(extra: Record<string, unknown> = {}, userName?: string) {
    const res = await h.post("/scim/v2/Users", oktaUser(userName, extra));
    expect(res.status).toBe(201);
    return res.body;
  }

  test("POST creates the DigiCert user with the documented fields and answers 201 with Location", async () => {
    const body = oktaUser(undefined, { title: "PKI engineer", phoneNumbers: [{ value: "+1 555 0100", type: "work" }] });
    const res = await h.post("/scim/v2/Users", body);
    expect(res.status).toBe(201);
    expect(res.headers["content-type"]).toMatch(/application\/scim\+json/);
    expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.meta.location).toBe(`${PUBLIC_BASE_URL}/scim/v2/Users/${res.body.id}`);
    expect(res.headers.location).toBe(res.body.meta.location);
    expect(res.body.userName).toBe(body.userName);
    expect(res.body.active).toBe(true);
    expect(res.body.password).toBeUndefined();
    const ext = res.body[DC_EXT];
    expect(ext.platform).toBe(platform);
    expect(ext.adopted).toBe(false);

    const calls = creates();
    expect(calls).toHaveLength(1);
    const sent = calls[0].body;
    expect(JSON.stringify(sent)).not.toContain("S3cret");
    if (platform === "certcentral") {
      expect(sent).toMatchObject({
        username: body.userName,
        first_name: "Ada",
        last_name: "Lovelace",
        email: body.userName,
        job_title: "PKI engineer",
        telephone: "+1 555 0100",
        container: { id: CC_CONTAINER_ID },
        access_roles: [{ id: 5 }],
      });
    } else {
      expect(sent).toMatchObject({
        user_name: body.userName,
        first_name: "Ada",
        last_name: "Lovelace",
        email: body.userName,
        phone_number: "+1 555 0100",
        user_type: "standard",
        accounts: [ONE_ACCOUNT_ID],
        roles: ["AM_DEFAULT_USER"],
      });
    }
    expect(String(ext.digicertUserId)).toBe(String(dcUser(ext.digicertUserId).id));

    const row = await h.bridge.store.users.getById(res.body.id);
    expect(row).toMatchObject({ userName: body.userName, active: true, digicertId: String(ext.digicertUserId), adopted: false });
    expect(JSON.stringify(row!.resource)).not.toContain("S3cret");
  });

  test("GET by id, list and filters are served from the store with zero DigiCert calls", async () => {
    const u = await create({ externalId: `ext-${platform}-get` });
    h.sim.clearCalls();
    const one = await h.get(`/scim/v2/Users/${u.id}`);
    expect(one.status).toBe(200);
    expect(one.body.userName).toBe(u.userName);
    expect(one.body.meta).toMatchObject({ resourceType: "User", location: u.meta.location });
    expect(one.body.meta.version).toMatch(/^W\/"\d+"$/);

    const q = (f: string) => h.get(`/scim/v2/Users?filter=${encodeURIComponent(f)}`);
    const upper = await q(`userName eq "${u.userName.toUpperCase()}"`);
    expect(upper.status).toBe(200);
    expect(upper.body.totalResults).toBe(1);
    expect(upper.body.Resources[0].id).toBe(u.id);
    expect((await q(`externalId eq "ext-${platform}-get"`)).body.Resources.map((r: any) => r.id)).toEqual([u.id]);
    expect((await q(`id eq "${u.id}"`)).body.totalResults).toBe(1);
    expect((await q(`emails eq "${u.userName}"`)).body.totalResults).toBe(1);
    expect((await q(`emails.value eq "${u.userName.toUpperCase()}"`)).body.totalResults).toBe(1);
    expect((await q(`emails[type eq "work"].value eq "${u.userName}"`)).body.totalResults).toBe(1);
    expect((await q(`emails[type eq "home"].value eq "${u.userName}"`)).body.totalResults).toBe(0);
    expect((await q(`userName eq "${u.userName}" and active eq true`)).body.totalResults).toBe(1);
    expect((await q(`userName eq "${u.userName}" and active eq false`)).body.totalResults).toBe(0);
    expect((await q(`userName eq "nobody@example.com" or externalId eq "ext-${platform}-get"`)).body.totalResults).toBe(1);
    const none = await q(`userName eq "no-such-user@example.com"`);
    expect(none.body).toMatchObject({ totalResults: 0, startIndex: 1, itemsPerPage: 0 });
    expect(h.sim.calls).toHaveLength(0);
  });

  test.each([
    // Syntax too is checked by the bridge's own parser (SCIMMY never sees a list's filter).
    ['nickname zz "a"', "'zz' is not a filter operator"],
    ['noSuchThing eq "Ada"', "'noSuchThing' is not a User attribute"],
    ["active gt true", "'active' is a boolean: only eq, ne and pr apply"],
    ['meta.lastModified ge "yesterday"', "'yesterday' is not an ISO 8601 date-time"],
    ['groups[value eq "g"]', "filter memberships on Groups instead"],
    ['(userName eq "a"', "expected ')' before the end"],
    ["userName eq", "'userName eq' needs a value"],
  ])("invalid filter %s is 400 invalidFilter naming the problem", async (filter, detail) => {
    const res = await h.get(`/scim/v2/Users?filter=${encodeURIComponent(filter)}`);
    expect(res.status).toBe(400);
    expect(res.body.schemas).toEqual(["urn:ietf:params:scim:api:messages:2.0:Error"]);
    expect(res.body.status).toBe("400");
    expect(res.body.scimType).toBe("invalidFilter");
    expect(res.body.detail).toContain(detail);
  });

  test("paging returns the true total and the requested window", async () => {
    const tag = `page-${platform}-${Date.now()}`;
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await create({ externalId: `${tag}` })).id);
    const f = encodeURIComponent(`externalId eq "${tag}"`);
    const page = await h.get(`/scim/v2/Users?filter=${f}&startIndex=2&count=2`);
    expect(page.body).toMatchObject({ totalResults: 5, startIndex: 2, itemsPerPage: 2 });
    expect(page.body.Resources.map((r: any) => r.id)).toEqual(made.slice(1, 3));
    const last = await h.get(`/scim/v2/Users?filter=${f}&startIndex=5&count=2`);
    expect(last.body.Resources.map((r: any) => r.id)).toEqual(made.slice(4));
    const zero = await h.get(`/scim/v2/Users?filter=${f}&count=0`);
    expect(zero.body.totalResults).toBe(5);
    expect(zero.body.itemsPerPage).toBe(0);
    expect(zero.body.Resources ?? []).toHaveLength(0);
    const below = await h.get(`/scim/v2/Users?filter=${f}&startIndex=0&count=1`);
    expect(below.body.startIndex).toBe(1);
    expect(below.body.Resources[0].id).toBe(made[0]);
  });

  test("a duplicate userName in any case is 409 uniqueness and makes no DigiCert call", async () => {
    const u = await create();
    h.sim.clearCalls();
    const res = await h.post("/scim/v2/Users", oktaUser(u.userName.toUpperCase()));
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ status: "409", scimType: "uniqueness" });
    expect(res.body.detail).toContain(u.id);
    expect(h.sim.calls).toHaveLength(0);
  });

  test("PUT replaces the profile and updates DigiCert", async () => {
    const u = await create({ title: "Engineer", phoneNumbers: [{ value: "+1 555 0101", type: "work" }] });
    h.sim.clearCalls();
    const { id: _id, meta: _meta, ...rest } = u;
    const res = await h.put(`/scim/v2/Users/${u.id}`, { ...rest, name: { givenName: "Augusta", familyName: "King" }, title: "Lead" });
    expect(res.status).toBe(200);
    expect(res.body.name.givenName).toBe("Augusta");
    const updates = h.sim.callsTo(platform, "PUT", new RegExp(`^/user/${u[DC_EXT].digicertUserId}$`));
    expect(updates).toHaveLength(1);
    const dc = dcUser(u[DC_EXT].digicertUserId);
    expect(dc.first_name).toBe("Augusta");
    expect(dc.last_name).toBe("King");
    if (platform === "certcentral") {
      expect(updates[0].body).toMatchObject({ first_name: "Augusta", job_title: "Lead", telephone: "+1 555 0101" });
      // CertCentral erases what is not re-sent: the bridge must have re-sent the phone.
      expect(dc.job_title).toBe("Lead");
      expect(dc.telephone).toBe("+1 555 0101");
    }
    const row = await h.bridge.store.users.getById(u.id);
    expect(row!.version).toBe(2);
    expect((row!.resource as any).name.givenName).toBe("Augusta");
  });

  test("PATCH with a path changes one attribute; a PATCH that changes no DigiCert field makes no DigiCert call", async () => {
    const u = await create();
    h.sim.clearCalls();
    const res = await h.patch(`/scim/v2/Users/${u.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: "replace", path: "name.familyName", value: "Byron" }],
    });
    expect(res.status).toBe(200);
    expect(res.body.name.familyName).toBe("Byron");
    expect(dcUser(u[DC_EXT].digicertUserId).last_name).toBe("Byron");
    h.sim.clearCalls();
    const nick = await h.patch(`/scim/v2/Users/${u.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: "add", path: "nickName", value: "Ada" }],
    });
    expect(nick.status).toBe(200);
    expect(nick.body.nickName).toBe("Ada");
    expect(h.sim.calls).toHaveLength(0);
  });

  test("Okta deactivate (no-path replace) keeps the user readable; reactivate restores DigiCert access", async () => {
    const u = await create();
    const dcId = String(u[DC_EXT].digicertUserId);
    h.sim.clearCalls();
    const off = await h.patch(`/scim/v2/Users/${u.id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", value: { active: false } }] });
    expect(off.status).toBe(200);
    expect(off.body.active).toBe(false);
    // Both platforms delete by default (CERTCENTRAL_DEACTIVATE, ONE_DEACTIVATE): one write, no access left.
    expect(h.sim.callsTo(platform, "DELETE", new RegExp(`^/user/${dcId}$`))).toHaveLength(1);
    expect(h.sim.calls.filter((c) => c.method !== "GET")).toHaveLength(1);
    if (platform === "certcentral") expect(dcUser(dcId)).toBeUndefined();
    else expect(dcUser(dcId).status).toBe("DELETED");
    expect(off.body[DC_EXT].digicertUserId).toBeUndefined();
    const read = await h.get(`/scim/v2/Users/${u.id}`);
    expect(read.status).toBe(200);
    expect(read.body.active).toBe(false);
    expect((await h.get(`/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${u.userName}" and active eq false`)}`)).body.totalResults).toBe(1);

    h.sim.clearCalls();
    const on = await h.patch(`/scim/v2/Users/${u.id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", value: { active: true } }] });
    expect(on.status).toBe(200);
    expect(on.body.active).toBe(true);
    expect(on.body.id).toBe(u.id);
    expect(creates()).toHaveLength(1);
    const newId = String(on.body[DC_EXT].digicertUserId);
    expect(newId).not.toBe(dcId);
    expect(dcUser(newId)[platform === "certcentral" ? "username" : "user_name"]).toBe(u.userName);
    const row = await h.bridge.store.users.getById(u.id);
    expect(row!.active).toBe(true);
  });

  test("Entra's PATCH dialect (no schemas, capitalised op, string boolean) deactivates", async () => {
    const u = await create();
    const res = await h.patch(`/scim/v2/Users/${u.id}`, { Operations: [{ op: "Replace", path: "active", value: "False" }] });
    expect(res.status).toBe(200);
    expect(res.body.active).toBe(false);
    expect((await h.bridge.store.users.getById(u.id))!.active).toBe(false);
  });

  test("PUT with active false deactivates too", async () => {
    const u = await create();
    const { id: _id, meta: _meta, ...rest } = u;
    const res = await h.put(`/scim/v2/Users/${u.id}`, { ...rest, active: false });
    expect(res.status).toBe(200);
    expect(res.body.active).toBe(false);
  });

  test("DELETE removes the DigiCert user, then the SCIM user is 404", async () => {
    const u = await create();
    const dcId = String(u[DC_EXT].digicertUserId);
    h.sim.clearCalls();
    const res = await h.del(`/scim/v2/Users/${u.id}`);
    expect(res.status).toBe(204);
    expect(h.sim.callsTo(platform, "DELETE", new RegExp(`^/user/${dcId}$`))).toHaveLength(1);
    // ONE keeps deleted users listable with status DELETED (doc §B.7).
    if (platform === "certcentral") expect(dcUser(dcId)).toBeUndefined();
    else expect(dcUser(dcId).status).toBe("DELETED");
    const gone = await h.get(`/scim/v2/Users/${u.id}`);
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({ status: "404", schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"] });
    expect(await h.bridge.store.users.getById(u.id)).toBeNull();
    expect((await h.del(`/scim/v2/Users/${u.id}`)).status).toBe(404);
  });

  test("unknown id is 404 for GET, PUT, PATCH and DELETE", async () => {
    const id = "00000000-0000-4000-8000-000000000000";
    expect((await h.get(`/scim/v2/Users/${id}`)).status).toBe(404);
    expect((await h.put(`/scim/v2/Users/${id}`, oktaUser())).status).toBe(404);
    expect((await h.patch(`/scim/v2/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", value: { active: false } }] })).status).toBe(404);
    expect((await h.del(`/scim/v2/Users/${id}`)).status).toBe(404);
  });

  test("NUL characters are refused the same way on every store: 404 in ids, 400 in filters and bodies", async () => {
    h.sim.clearCalls();
    const get = await h.get("/scim/v2/Users/abc%00def");
    expect(get.status).toBe(404);
    expect(get.body.schemas).toEqual(["urn:ietf:params:scim:api:messages:2.0:Error"]);
    const filter = await h.get(`/scim/v2/Users?filter=${encodeURIComponent('userName eq "a\u0000b"')}`);
    expect(filter.status).toBe(400);
    const body = oktaUser(undefined, { name: { givenName: "Nul\u0000Byte", familyName: "X" } });
    const post = await h.post("/scim/v2/Users", body);
    expect(post.status).toBe(400);
    expect(post.body.scimType).toBe("invalidValue");
    expect(await h.bridge.store.users.getByUserName(body.userName as string)).toBeNull();
    expect(h.sim.calls).toHaveLength(0);
  });

  test("a user made by hand in DigiCert is adopted: linked, updated, roles kept", async () => {
    const userName = `handmade.${platform}.${Date.now()}@example.com`;
    const seeded =
      platform === "certcentral"
        ? h.sim.seedUser(platform, { username: userName, first_name: "Old", last_name: "Name", email: userName, access_roles: [{ id: 1 }] })
        : h.sim.seedUser(platform, { user_name: userName, first_name: "Old", last_name: "Name", email: userName, roles: ["AM_ACCOUNT_ADMIN"] });
    h.sim.clearCalls();
    const res = await h.post("/scim/v2/Users", oktaUser(userName));
    expect(res.status).toBe(201);
    expect(String(res.body[DC_EXT].digicertUserId)).toBe(String(seeded.id));
    expect(res.body[DC_EXT].adopted).toBe(true);
    const dc = dcUser(String(seeded.id));
    expect(dc.first_name).toBe("Ada");
    if (platform === "certcentral") expect(dc.access_roles.map((r: any) => r.id)).toEqual([1]);
    else expect(dc.roles.map((r: any) => r.id ?? r)).toEqual(["AM_ACCOUNT_ADMIN"]);
    expect(h.sim.listUsers(platform).filter((x: any) => (x.username ?? x.user_name).toLowerCase() === userName)).toHaveLength(1);
    const row = await h.bridge.store.users.getById(res.body.id);
    expect(row).toMatchObject({ adopted: true, digicertId: String(seeded.id) });
    expect(h.logs()).toContain("adopted existing DigiCert user");
  });

  test("a DigiCert user in another container/account is refused with 409 and nothing is stored", async () => {
    const userName = `elsewhere.${platform}.${Date.now()}@example.com`;
    if (platform === "certcentral") h.sim.seedUser(platform, { username: userName, containerId: 99 });
    else h.sim.seedUser(platform, { user_name: userName, accounts: ["11111111-2222-4333-8444-555555555555"] });
    const res = await h.post("/scim/v2/Users", oktaUser(userName));
    expect(res.status).toBe(409);
    expect(res.body.scimType).toBe("uniqueness");
    expect(res.body.detail).toMatch(platform === "certcentral" ? /another container/ : /another account/);
    expect(await h.bridge.store.users.getByUserName(userName)).toBeNull();
  });
});
