import request from "supertest";
import { randomUUID } from "node:crypto";
import { startHarness, TOKEN, DC_EXT, type Harness } from "../support/harness";

// The requests Microsoft's SCIM validator and Entra's provisioning service send (notes/idp.md), in Entra's
// dialect: capitalised ops, string booleans, PATCH without schemas, typed paths to entries that do not exist
// yet, manager as a string, empty Operations. Each step checks the SCIM answer and what DigiCert now holds.

const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const ENTRA_HEADERS = { "User-Agent": "Azure Active Directory SCIM Client", Adscimversion: "1.0" };

describe.each(["certcentral", "one"] as const)("Microsoft Entra ID / SCIM validator on %s", (platform) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ platform });
  });
  afterAll(async () => h.close());

  const send = (method: "get" | "post" | "put" | "patch" | "delete", path: string, body?: unknown) => {
    let t = request(h.app)[method](path).set("Authorization", `Bearer ${TOKEN}`).set(ENTRA_HEADERS);
    if (body !== undefined) t = t.set("Content-Type", "application/scim+json").send(JSON.stringify(body));
    return t;
  };
  const dc = async (id: string) => h.sim.getUser(platform, (await h.bridge.store.users.getById(id))!.digicertId!);

  function entraUser(upn: string) {
    return {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
      externalId: randomUUID(),
      userName: upn,
      active: "True",
      displayName: "Grace Hopper",
      emails: [{ primary: "True", type: "home", value: `home.${upn}` }],
      meta: { resourceType: "User" },
      name: { formatted: "Grace Hopper", familyName: "Hopper", givenName: "Grace" },
      roles: [],
      [ENTERPRISE]: { department: "Navy", manager: "mgr-1" },
    };
  }

  test("Test Connection: filters on a random userName and externalId answer 200 with no results", async () => {
    for (const attr of ["userName", "externalId"]) {
      const res = await send("get", `/scim/v2/Users?filter=${encodeURIComponent(`${attr} eq "${randomUUID()}"`)}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ totalResults: 0, itemsPerPage: 0, startIndex: 1 });
    }
    expect(h.logs()).toContain('"idp":"entra"');
  });

  test("create with string booleans, enterprise extension and a bare manager id", async () => {
    const upn = `grace.${platform}.${Date.now()}@example.com`;
    const res = await send("post", "/scim/v2/Users", entraUser(upn));
    expect(res.status).toBe(201);
    expect(res.body.active).toBe(true);
    expect(res.body.emails[0].primary).toBe(true);
    expect(res.body[ENTERPRISE]).toMatchObject({ department: "Navy", manager: { value: "mgr-1" } });
    expect((await dc(res.body.id)).email).toBe(`home.${upn}`);
    const byExt = await send("get", `/scim/v2/Users?filter=${encodeURIComponent(`externalId eq "${res.body.externalId}"`)}`);
    expect(byExt.body.totalResults).toBe(1);
  });

  test("PATCH in Entra's dialect: several ops, typed paths to missing entries, dotted keys, manager string", async () => {
    const upn = `ada.${platform}.${Date.now()}@example.com`;
    const u = (await send("post", "/scim/v2/Users", entraUser(upn))).body;
    h.sim.clearCalls();
    const res = await send("patch", `/scim/v2/Users/${u.id}`, {
      Operations: [
        { op: "Add", path: 'emails[type eq "work"].value', value: `work.${upn}` },
        { op: "Add", path: 'phoneNumbers[type eq "mobile"].value', value: "+1 555 0199" },
        { op: "Add", path: 'addresses[type eq "work"].streetAddress', value: "1 Main St" },
        { op: "Replace", path: 'addresses[type eq "work"].locality', value: "Lehi" },
        { op: "Replace", path: `${ENTERPRISE}:manager`, value: "mgr-2" },
        { op: "Replace", path: "Name.GivenName", value: "Ada" },
        { op: "Replace", value: { "name.familyName": "Lovelace", displayName: "Ada Lovelace" } },
        { op: "Replace", path: "title", value: "Analyst" },
      ],
    });
    expect(res.status).toBe(200);
    const emails = res.body.emails.map((e: any) => [e.type, e.value, e.primary ?? false]);
    expect(emails).toEqual(expect.arrayContaining([["home", `home.${upn}`, true], ["work", `work.${upn}`, false]]));
    expect(res.body.phoneNumbers).toEqual([{ type: "mobile", value: "+1 555 0199" }]);
    expect(res.body.addresses).toEqual([{ type: "work", streetAddress: "1 Main St", locality: "Lehi" }]);
    expect(res.body[ENTERPRISE].manager).toEqual({ value: "mgr-2" });
    expect(res.body.name).toMatchObject({ givenName: "Ada", familyName: "Lovelace" });
    const user = await dc(u.id);
    expect(user.first_name).toBe("Ada");
    expect(user.last_name).toBe("Lovelace");
    // The primary (home) email stays DigiCert's email; the new work email did not take its place.
    expect(user.email).toBe(`home.${upn}`);
    if (platform === "certcentral") expect(user.job_title).toBe("Analyst");
    expect(platform === "certcentral" ? user.telephone : user.phone_number).toBe("+1 555 0199");

    // Again, now the work email exists: it is updated in place and keeps its other sub-attributes.
    const again = await send("patch", `/scim/v2/Users/${u.id}`, {
      Operations: [{ op: "Replace", path: 'emails[type eq "work"].value', value: `new.${upn}` }],
    });
    expect(again.status).toBe(200);
    expect(again.body.emails.filter((e: any) => e.type === "work")).toEqual([{ type: "work", value: `new.${upn}` }]);
    expect(again.body.emails.find((e: any) => e.type === "home").primary).toBe(true);
  });

  test("disable with Replace active \"False\", enable with \"True\"", async () => {
    const u = (await send("post", "/scim/v2/Users", entraUser(`dis.${platform}.${Date.now()}@example.com`))).body;
    const off = await send("patch", `/scim/v2/Users/${u.id}`, { Operations: [{ op: "Replace", path: "active", value: "False" }] });
    expect(off.status).toBe(200);
    expect(off.body.active).toBe(false);
    const on = await send("patch", `/scim/v2/Users/${u.id}`, { Operations: [{ op: "Replace", path: "Active", value: "True" }] });
    expect(on.body.active).toBe(true);
    expect((await dc(on.body.id)).status.toLowerCase()).not.toBe("disabled");
  });

  test("empty Operations answers without change; unknown ops and paths are 400 naming them and change nothing", async () => {
    const u = (await send("post", "/scim/v2/Users", entraUser(`noop.${platform}.${Date.now()}@example.com`))).body;
    const before = await h.bridge.store.users.getById(u.id);
    h.sim.clearCalls();
    expect((await send("patch", `/scim/v2/Users/${u.id}`, { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [] })).status).toBe(204);
    expect((await send("patch", `/scim/v2/Users/${randomUUID()}`, { Operations: [] })).status).toBe(404);
    const move = await send("patch", `/scim/v2/Users/${u.id}`, { Operations: [{ op: "Replace", path: "active", value: false }, { op: "Move", path: "title", value: "x" }] });
    expect(move.status).toBe(400);
    expect(move.body.detail).toContain("Move");
    const path = await send("patch", `/scim/v2/Users/${u.id}`, { Operations: [{ op: "Replace", path: "favouriteColour", value: "teal" }] });
    expect(path.status).toBe(400);
    expect(path.body.detail).toContain("favouriteColour");
    expect(await h.bridge.store.users.getById(u.id)).toEqual(before);
    expect(h.sim.calls).toHaveLength(0);
  });

  test("groups: excludedAttributes lookup, multi-member Add/Remove with $ref null, membership probe, rename, delete", async () => {
    const a = (await send("post", "/scim/v2/Users", entraUser(`ga.${platform}.${Date.now()}@example.com`))).body;
    const b = (await send("post", "/scim/v2/Users", entraUser(`gb.${platform}.${Date.now()}@example.com`))).body;
    const name = `Entra Group ${platform} ${Date.now()}`;
    const lookup = await send("get", `/scim/v2/Groups?excludedAttributes=members&filter=${encodeURIComponent(`displayName eq "${name}"`)}`);
    expect(lookup.body.totalResults).toBe(0);
    const g = await send("post", "/scim/v2/Groups", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], externalId: randomUUID(), displayName: name, members: [] });
    expect(g.status).toBe(201);
    const add = await send("patch", `/scim/v2/Groups/${g.body.id}`, {
      schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      Operations: [{ op: "Add", path: "members", value: [{ $ref: null, value: a.id }, { $ref: null, value: b.id }] }],
    });
    expect(add.status).toBe(204);
    const probe = (uid: string) => send("get", `/scim/v2/Groups?excludedAttributes=members&filter=${encodeURIComponent(`id eq "${g.body.id}" and members[value eq "${uid}"]`)}`);
    expect((await probe(a.id)).body.totalResults).toBe(1);
    const rm = await send("patch", `/scim/v2/Groups/${g.body.id}`, { Operations: [{ op: "Remove", path: "members", value: [{ value: a.id }] }] });
    expect(rm.status).toBe(204);
    expect((await probe(a.id)).body.totalResults).toBe(0);
    expect((await probe(b.id)).body.totalResults).toBe(1);
    const rename = await send("patch", `/scim/v2/Groups/${g.body.id}`, { Operations: [{ op: "Replace", path: "displayName", value: `${name} renamed` }] });
    expect(rename.status).toBe(204);
    expect((await send("get", `/scim/v2/Groups/${g.body.id}`)).body.displayName).toBe(`${name} renamed`);
    expect((await send("delete", `/scim/v2/Groups/${g.body.id}`)).status).toBe(204);
    expect((await send("get", `/scim/v2/Groups/${g.body.id}`)).status).toBe(404);
  });

  test("soft delete then hard delete: DELETE answers 204, then 404, and DigiCert no longer has the user", async () => {
    const u = (await send("post", "/scim/v2/Users", entraUser(`del.${platform}.${Date.now()}@example.com`))).body;
    const dcId = u[DC_EXT].digicertUserId;
    await send("patch", `/scim/v2/Users/${u.id}`, { Operations: [{ op: "Replace", path: "active", value: "False" }] });
    expect((await send("delete", `/scim/v2/Users/${u.id}`)).status).toBe(204);
    expect((await send("get", `/scim/v2/Users/${u.id}`)).status).toBe(404);
    const left = h.sim.getUser(platform, dcId);
    expect(left === undefined || left.status === "DELETED").toBe(true);
  });

  test("discovery lists the User and Group schemas", async () => {
    const ids = (await send("get", "/scim/v2/Schemas")).body.Resources.map((s: any) => s.id);
    expect(ids).toEqual(expect.arrayContaining(["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:core:2.0:Group"]));
  });
});
