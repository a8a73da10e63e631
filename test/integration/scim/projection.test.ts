// attributes / excludedAttributes (RFC 7644 §3.4.2.5, §3.9) with sub-attributes, value paths, extension URNs and
// names without case, on reads, lists, .search and write answers; a malformed list is a SCIM 400 naming it.
import { oktaUser, PATCH_OP, startHarness, type Harness } from "../../support/harness";

const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const CORE = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const q = (s: string) => encodeURIComponent(s);

describe("attributes and excludedAttributes", () => {
  let h: Harness;
  let id: string;
  beforeAll(async () => {
    h = await startHarness({ platform: "certcentral" });
    const u = await h.post("/scim/v2/Users", {
      ...oktaUser("proj@example.com"),
      schemas: [CORE, ENTERPRISE],
      name: { givenName: "Pro", familyName: "Jection", middleName: "M" },
      emails: [
        { value: "proj@example.com", type: "work", primary: true },
        { value: "proj.home@example.com", type: "home" },
      ],
      [ENTERPRISE]: { employeeNumber: "E-1", department: "PKI" },
    });
    expect(u.status).toBe(201);
    id = u.body.id;
  });
  afterAll(() => h.close());

  const read = (query: string) => h.get(`/scim/v2/Users/${id}?${query}`);

  test("sub-attributes and value paths", async () => {
    expect((await read(`attributes=name.familyName`)).body).toEqual({ schemas: expect.any(Array), id, name: { familyName: "Jection" } });
    expect((await read(`attributes=${q('emails[type eq "work"]')}`)).body.emails).toEqual([{ value: "proj@example.com", type: "work", primary: true }]);
    expect((await read(`attributes=${q('emails[type eq "work"].value')}`)).body.emails).toEqual([{ value: "proj@example.com" }]);
    expect((await read(`attributes=emails.value`)).body.emails).toEqual([{ value: "proj@example.com" }, { value: "proj.home@example.com" }]);
    // Two paths on one attribute merge; names without case; a filter value with a comma stays one path.
    const both = (await read(`attributes=${q('NAME.givenName,name.familyName,emails[value co "home" or value eq "a,b"]')}`)).body;
    expect(both.name).toEqual({ givenName: "Pro", familyName: "Jection" });
    expect(both.emails).toEqual([{ value: "proj.home@example.com", type: "home" }]);
    expect(both.userName).toBeUndefined();
    expect(both.meta).toBeUndefined();
  });

  test("fully qualified names: core attributes, an extension's attribute, a whole extension", async () => {
    expect((await read(`attributes=${q(`${CORE}:userName`)}`)).body).toEqual({ schemas: expect.any(Array), id, userName: "proj@example.com" });
    expect((await read(`attributes=${q(`${CORE}:name.givenName`)}`)).body.name).toEqual({ givenName: "Pro" });
    const ext = (await read(`attributes=${q(`${ENTERPRISE}:employeeNumber`)}`)).body;
    expect(ext[ENTERPRISE]).toEqual({ employeeNumber: "E-1" });
    expect(ext.userName).toBeUndefined();
    expect((await read(`attributes=${q(ENTERPRISE)}`)).body[ENTERPRISE]).toEqual({ employeeNumber: "E-1", department: "PKI" });
  });

  test("excludedAttributes: sub-attributes, value paths, an extension's attribute; id and schemas stay", async () => {
    const full = (await read("")).body;
    const cut = (await read(`excludedAttributes=${q(`name.middleName,emails[type eq "home"],${ENTERPRISE}:department,id,schemas`)}`)).body;
    expect(cut.name).toEqual({ givenName: "Pro", familyName: "Jection" });
    expect(cut.emails).toEqual([{ value: "proj@example.com", type: "work", primary: true }]);
    expect(cut[ENTERPRISE]).toEqual({ employeeNumber: "E-1" });
    expect(cut.id).toBe(id);
    expect(cut.schemas).toEqual(full.schemas);
    expect(cut.userName).toBe(full.userName);
    expect(cut.meta).toEqual(full.meta);
    // The ETag still names the version even when meta is left out of the body.
    const noMeta = await read("excludedAttributes=meta");
    expect(noMeta.body.meta).toBeUndefined();
    expect(noMeta.headers.etag).toBe(full.meta.version);
  });

  test("lists, .search and write answers are cut the same way", async () => {
    const list = (await h.get(`/scim/v2/Users?filter=${q('userName eq "proj@example.com"')}&attributes=${q('emails[primary eq true].value')}`)).body;
    expect(list.totalResults).toBe(1);
    expect(list.Resources[0]).toEqual({ schemas: expect.any(Array), id, emails: [{ value: "proj@example.com" }] });
    const search = await h.post("/scim/v2/Users/.search", {
      schemas: ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
      filter: 'userName eq "proj@example.com"',
      attributes: ["name.familyName"],
    });
    expect(search.status).toBe(200);
    expect(search.body.Resources[0]).toEqual({ schemas: expect.any(Array), id, name: { familyName: "Jection" } });
    const patched = await h.patch(`/scim/v2/Users/${id}?attributes=title`, { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "title", value: "PKI lead" }] });
    expect(patched.status).toBe(200);
    expect(patched.body).toEqual({ schemas: expect.any(Array), id, title: "PKI lead" });
    // The write itself was whole: nothing else of the user was lost.
    const after = (await read("")).body;
    expect(after.name.middleName).toBe("M");
    expect(after.emails).toHaveLength(2);
  });

  test("groups: excludedAttributes=members answers without members; attributes=displayName too", async () => {
    const g = (await h.post("/scim/v2/Groups", { schemas: [GROUP], displayName: "proj-group", members: [{ value: id }] })).body;
    const noMembers = (await h.get(`/scim/v2/Groups?filter=${q('displayName eq "proj-group"')}&excludedAttributes=members`)).body;
    expect(noMembers.Resources[0].members).toBeUndefined();
    expect(noMembers.Resources[0].displayName).toBe("proj-group");
    expect((await h.get(`/scim/v2/Groups/${g.id}?attributes=displayName`)).body).toEqual({ schemas: [GROUP], id: g.id, displayName: "proj-group" });
    expect((await h.get(`/scim/v2/Groups/${g.id}?attributes=members.value`)).body.members).toEqual([{ value: id }]);
  });

  test("a malformed list is a SCIM 400 naming it; an unknown attribute is simply absent", async () => {
    for (const bad of ['emails[type eq "work"', 'emails[type eq]', 'name.givenName[type eq "x"]', "a.b.c"]) {
      const res = await read(`attributes=${q(bad)}`);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"], scimType: "invalidValue" });
      expect(res.body.detail).toMatch(/^attributes: /);
      expect(res.body.detail).not.toMatch(/Cannot read|undefined/);
    }
    expect((await read("attributes=nosuchattribute")).body).toEqual({ schemas: expect.any(Array), id });
  });
});
