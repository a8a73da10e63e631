import { readFileSync } from "node:fs";
import { join } from "node:path";
import { oktaUser, PATCH_OP, startHarness, type Harness } from "../support/harness";

// Writes as RFC 7643/7644 and Entra mean them (issue 21): null is unassigned, a replace of a complex attribute keeps
// the sub-attributes it does not name, at most one primary, adding what is there changes nothing, fully qualified
// core paths and value filters on any sub-attribute, `remove active` refused, Entra's older manager forms. Each case
// checks the SCIM answer, the stored user (GET afterwards) and what DigiCert now holds (the simulator).

const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const CORE = "urn:ietf:params:scim:schemas:core:2.0:User";

describe.each(["certcentral", "one"] as const)("RFC 7644 writes on %s", (platform) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ platform });
  });
  afterAll(async () => h.close());

  let seq = 0;
  const userName = (tag: string) => `${tag}.${platform}.${++seq}.${Date.now()}@example.com`;
  const dc = async (id: string) => h.sim.getUser(platform, (await h.bridge.store.users.getById(id))!.digicertId!);
  const phoneOf = (u: any) => (platform === "certcentral" ? u.telephone : u.phone_number) || null;
  // DigiCert ONE's PUT cannot clear a phone number (an empty one is refused; src/digicert/one/mapping.ts): it keeps
  // the old one there. CertCentral's is cleared.
  const expectPhoneCleared = (u: any, old: string) => expect(phoneOf(u)).toBe(platform === "certcentral" ? null : old);
  const patch = (id: string, ...Operations: unknown[]) => h.patch(`/scim/v2/Users/${id}`, { schemas: [PATCH_OP], Operations });
  const stored = async (id: string) => (await h.get(`/scim/v2/Users/${id}`)).body;
  const create = async (extra: Record<string, unknown> = {}, name = userName("u")) => {
    const res = await h.post("/scim/v2/Users", oktaUser(name, extra));
    expect(res.status).toBe(201);
    return res.body;
  };
  const primaries = (list: any[] | undefined) => (list ?? []).filter((e) => e.primary === true).map((e) => e.value);

  describe("null means unassigned (RFC 7643 §2.5)", () => {
    test("POST with null multi-valued, singular and sub-attributes: 201, nothing stored for them, user in DigiCert", async () => {
      const res = await h.post("/scim/v2/Users", {
        ...oktaUser(userName("nulls")),
        phoneNumbers: null,
        addresses: null,
        ims: null,
        photos: null,
        x509Certificates: null,
        entitlements: null,
        title: null,
        name: { givenName: "Ada", middleName: null, familyName: "Lovelace" },
        emails: [{ value: `n.${platform}@example.com`, type: "work", primary: true, display: null }],
        schemas: [CORE, ENTERPRISE],
        [ENTERPRISE]: { department: "R&D", manager: null, employeeNumber: null },
      });
      expect(res.status).toBe(201);
      const got = await stored(res.body.id);
      for (const attr of ["phoneNumbers", "addresses", "ims", "photos", "x509Certificates", "entitlements", "title"]) expect([attr, got[attr]]).toEqual([attr, undefined]);
      expect(got.name).toEqual({ givenName: "Ada", familyName: "Lovelace" });
      expect(got.emails).toEqual([{ value: `n.${platform}@example.com`, type: "work", primary: true }]);
      expect(got[ENTERPRISE]).toEqual({ department: "R&D" });
      const user = await dc(res.body.id);
      expect(user).toMatchObject({ first_name: "Ada", last_name: "Lovelace", email: `n.${platform}@example.com` });
    });

    test("PUT with phoneNumbers null clears the phones, here and in DigiCert", async () => {
      const name = userName("putnull");
      const u = await create({ phoneNumbers: [{ value: "+1 555 0100", type: "work" }] }, name);
      expect(phoneOf(await dc(u.id))).toBe("+1 555 0100");
      const res = await h.put(`/scim/v2/Users/${u.id}`, { ...oktaUser(name), phoneNumbers: null, addresses: null, title: null });
      expect(res.status).toBe(200);
      expect((await stored(u.id)).phoneNumbers).toBeUndefined();
      expectPhoneCleared(await dc(u.id), "+1 555 0100");
    });

    test("PATCH replace with value null removes the attribute (single-valued, multi-valued, a sub-attribute)", async () => {
      const u = await create({ title: "Analyst", nickName: "Ada", phoneNumbers: [{ value: "+1 555 0101", type: "work" }], name: { givenName: "Ada", middleName: "King", familyName: "Lovelace" } });
      const res = await patch(
        u.id,
        { op: "replace", path: "title", value: null },
        { op: "Replace", path: "phoneNumbers", value: null },
        { op: "replace", path: "name.middleName", value: null },
        { op: "replace", value: { nickName: null } },
      );
      expect(res.status).toBe(200);
      const got = await stored(u.id);
      expect([got.title, got.phoneNumbers, got.nickName]).toEqual([undefined, undefined, undefined]);
      expect(got.name).toEqual({ givenName: "Ada", familyName: "Lovelace" });
      const user = await dc(u.id);
      expectPhoneCleared(user, "+1 555 0101");
      if (platform === "certcentral") expect(user.job_title || null).toBeNull();
    });
  });

  test("replace on a complex attribute keeps the sub-attributes it does not name (RFC 7644 §3.5.2.3)", async () => {
    const u = await create({ name: { givenName: "Ada", middleName: "King", familyName: "Lovelace" }, displayName: "Countess" });
    const res = await patch(u.id, { op: "replace", path: "name", value: { familyName: "Byron" } });
    expect(res.status).toBe(200);
    expect(res.body.name).toEqual({ givenName: "Ada", middleName: "King", familyName: "Byron" });
    expect((await stored(u.id)).name).toEqual({ givenName: "Ada", middleName: "King", familyName: "Byron" });
    expect(await dc(u.id)).toMatchObject({ first_name: "Ada", last_name: "Byron" });
  });

  describe("at most one primary (RFC 7643 §2.4)", () => {
    test("PATCH add of an email with primary true clears the old primary; DigiCert gets the new address", async () => {
      const name = userName("prim");
      const u = await create({}, name);
      const next = `next.${name}`;
      const res = await patch(u.id, { op: "add", path: "emails", value: [{ value: next, type: "other", primary: true }] });
      expect(res.status).toBe(200);
      const got = await stored(u.id);
      expect(primaries(got.emails)).toEqual([next]);
      expect(got.emails.map((e: any) => e.value)).toEqual([name, next]);
      expect((await dc(u.id)).email).toBe(next);
    });

    test("PATCH emails[type eq \"home\"].primary true moves the primary to that entry", async () => {
      const name = userName("primpath");
      const u = await create({ emails: [{ value: name, type: "work", primary: true }, { value: `home.${name}`, type: "home" }] }, name);
      const res = await patch(u.id, { op: "replace", path: 'emails[type eq "home"].primary', value: "True" });
      expect(res.status).toBe(200);
      expect(primaries((await stored(u.id)).emails)).toEqual([`home.${name}`]);
      expect((await dc(u.id)).email).toBe(`home.${name}`);
    });

    test("POST with two primaries keeps the last one sent as primary", async () => {
      const name = userName("twoprim");
      const res = await h.post("/scim/v2/Users", {
        ...oktaUser(name),
        emails: [{ value: name, type: "work", primary: true }, { value: `b.${name}`, type: "home", primary: true }],
        phoneNumbers: [{ value: "+1 555 0102", type: "work", primary: true }, { value: "+1 555 0103", type: "mobile", primary: true }],
      });
      expect(res.status).toBe(201);
      const got = await stored(res.body.id);
      expect(primaries(got.emails)).toEqual([`b.${name}`]);
      expect(primaries(got.phoneNumbers)).toEqual(["+1 555 0103"]);
      const user = await dc(res.body.id);
      expect(user.email).toBe(`b.${name}`);
      expect(phoneOf(user)).toBe("+1 555 0103");
    });
  });

  test("adding an email that is already there changes nothing (RFC 7644 §3.5.2.1; value and type case-insensitive)", async () => {
    const name = userName("dup");
    const u = await create({}, name);
    const before = await h.bridge.store.users.getById(u.id);
    h.sim.clearCalls();
    const res = await patch(u.id, { op: "add", path: "emails", value: [{ value: name.toUpperCase(), type: "WORK" }] });
    expect([200, 204]).toContain(res.status);
    const got = await stored(u.id);
    expect(got.emails).toEqual([{ value: name, type: "work", primary: true }]);
    expect((await h.bridge.store.users.getById(u.id))!.resource.emails).toEqual(before!.resource.emails);
    expect(h.sim.calls.filter((c) => c.method !== "GET")).toHaveLength(0);
  });

  describe("paths", () => {
    test("a fully qualified core path (urn:…:core:2.0:User:name.familyName)", async () => {
      const u = await create();
      const res = await patch(u.id, { op: "replace", path: `${CORE}:name.familyName`, value: "Byron" }, { op: "replace", path: `${CORE}:title`, value: "Countess" });
      expect(res.status).toBe(200);
      const got = await stored(u.id);
      expect(got.name.familyName).toBe("Byron");
      expect(got.title).toBe("Countess");
      expect((await dc(u.id)).last_name).toBe("Byron");
    });

    test('a value filter on the sub-attribute it replaces: emails[value eq "x"].value; an email filter in any case', async () => {
      const name = userName("vf");
      const u = await create({}, name);
      const next = `renamed.${name}`;
      const res = await patch(u.id, { op: "replace", path: `emails[value eq "${name}"].value`, value: next });
      expect(res.status).toBe(200);
      expect((await stored(u.id)).emails).toEqual([{ value: next, type: "work", primary: true }]);
      expect((await dc(u.id)).email).toBe(next);
      // An email's value is not case-exact: the filter finds it in any case. Without emails, DigiCert falls back to
      // the email-shaped userName.
      const removed = await patch(u.id, { op: "remove", path: `emails[value eq "${next.toUpperCase()}"]` });
      expect(removed.status).toBe(200);
      expect((await stored(u.id)).emails).toBeUndefined();
      expect((await dc(u.id)).email).toBe(name);
    });

    test('emails[type eq "work"].primary false, and addresses[type eq "Work"].streetAddress (types in any case)', async () => {
      const name = userName("sub");
      const u = await create({ emails: [{ value: name, type: "Work", primary: true }], addresses: [{ type: "WORK", streetAddress: "1 Main St", locality: "Lehi" }] }, name);
      expect(u.addresses).toEqual([{ type: "work", streetAddress: "1 Main St", locality: "Lehi" }]);
      const res = await patch(
        u.id,
        { op: "replace", path: 'emails[type eq "work"].primary', value: false },
        { op: "replace", path: 'addresses[type eq "Work"].streetAddress', value: "2 Main St" },
      );
      expect(res.status).toBe(200);
      const got = await stored(u.id);
      expect(primaries(got.emails)).toEqual([]);
      expect(got.addresses).toEqual([{ type: "work", streetAddress: "2 Main St", locality: "Lehi" }]);
      expect((await dc(u.id)).email).toBe(name);
    });
  });

  test("remove active is refused with a 400 that says to use replace active false; nothing changes", async () => {
    const u = await create();
    const before = await h.bridge.store.users.getById(u.id);
    h.sim.clearCalls();
    const res = await patch(u.id, { op: "remove", path: "active" });
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe("mutability");
    expect(res.body.detail).toMatch(/replace.*active.*false/i);
    expect(await h.bridge.store.users.getById(u.id)).toEqual(before);
    expect((await stored(u.id)).active).toBe(true);
    expect(h.sim.calls).toHaveLength(0);
  });

  test("Entra's older manager forms: a bare `manager` path with an array value, and the dotted extension path", async () => {
    const u = await create({ schemas: [CORE, ENTERPRISE], [ENTERPRISE]: { department: "Ops" } });
    const bare = await patch(u.id, { op: "Add", path: "manager", value: [{ value: "mgr-1" }] });
    expect(bare.status).toBe(200);
    expect((await stored(u.id))[ENTERPRISE]).toEqual({ department: "Ops", manager: { value: "mgr-1" } });
    const dotted = await patch(u.id, { op: "Replace", path: `${ENTERPRISE}.manager`, value: "mgr-2" });
    expect(dotted.status).toBe(200);
    expect((await stored(u.id))[ENTERPRISE]).toEqual({ department: "Ops", manager: { value: "mgr-2" } });
    const removed = await patch(u.id, { op: "Remove", path: "manager" });
    expect(removed.status).toBe(200);
    expect((await stored(u.id))[ENTERPRISE]).toEqual({ department: "Ops" });
    expect(await dc(u.id)).toBeDefined();
  });

  test("a primary DigiCert would refuse: the user is provisioned with the other valid address", async () => {
    const name = userName("best");
    const res = await h.post("/scim/v2/Users", { ...oktaUser(name), emails: [{ value: "ada@localhost", type: "work", primary: true }, { value: `home.${name}`, type: "home" }] });
    expect(res.status).toBe(201);
    expect((await stored(res.body.id)).emails.map((e: any) => e.value)).toEqual(["ada@localhost", `home.${name}`]);
    expect((await dc(res.body.id)).email).toBe(`home.${name}`);
  });

  test("Entra's documented Create User request, nulls included (test/fixtures/entra-create-user.json): 201 and in DigiCert", async () => {
    const body = JSON.parse(readFileSync(join(__dirname, "../fixtures/entra-create-user.json"), "utf8"));
    body.userName = body.userName.replace("@", `.${platform}@`);
    body.externalId = `${body.externalId}-${platform}`;
    const res = await h.post("/scim/v2/Users", body);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ userName: body.userName, active: true, name: { givenName: "givenName", familyName: "familyName" } });
    expect(res.body.phoneNumbers).toBeUndefined();
    const user = await dc(res.body.id);
    expect(user).toMatchObject({ first_name: "givenName", last_name: "familyName", email: body.emails[0].value });
  });
});
