// userNames compare by their key (src/user-name.ts: NFKC, lower-case, NFC): a Kelvin sign, a fullwidth letter or
// an NFD é can neither make a look-alike second user nor hide the real one, on create, rename, lookups and
// `userName` filters, on both stores. DigiCert ONE takes such userNames (CertCentral's charset is ASCII).
import { dropSchema, PG_URL, storeVariants, uniqueSchema } from "../../support/databases";
import { oktaUser, PATCH_OP, startHarness, type Harness } from "../../support/harness";

const variants = storeVariants("unicode userNames").filter(([, platform]) => platform === "one");
const KELVIN = "\u212A";

describe.each(variants)("Unicode userNames: %s", (_label, platform, db) => {
  let h: Harness;
  const pgSchema = uniqueSchema("scim_unicode");
  const ids: Record<string, string> = {};

  const create = (userName: string) => h.post("/scim/v2/Users", oktaUser(userName, { emails: [{ value: `u${Date.now()}${Math.random()}@example.com`, type: "work", primary: true }] }));

  beforeAll(async () => {
    h = await startHarness(db === "postgres" ? { platform, databaseUrl: PG_URL, pgSchema } : { platform });
    for (const name of ["Kate", "José", "Ｗide"]) {
      const res = await create(name);
      expect(res.status).toBe(201);
      ids[name] = res.body.id;
    }
    await h.drain();
  });
  afterAll(async () => {
    await h.close();
    if (db === "postgres") await dropSchema(pgSchema);
  });

  test.each([
    [`${KELVIN}ate (Kelvin sign)`, `${KELVIN}ate`, "Kate"],
    ["kATE (case)", "kATE", "Kate"],
    ["Jose + U+0301 (NFD)", "Jose\u0301", "José"],
    ["JOSE + U+0301 (NFD, upper)", "JOSE\u0301", "José"],
    ["wide (fullwidth W stored)", "wide", "Ｗide"],
  ])("creating %s is 409 uniqueness naming the existing user", async (_n, userName, holder) => {
    const res = await create(userName);
    expect(res.status).toBe(409);
    expect(res.body.scimType).toBe("uniqueness");
    expect(res.body.detail).toContain(ids[holder]);
  });

  test.each([
    [`${KELVIN}ate`, "Kate"],
    ["jose\u0301", "José"],
    ["JOSÉ", "José"],
    ["ｗｉｄｅ", "Ｗide"],
  ])("filter userName eq %j finds the real user", async (value, holder) => {
    const res = await h.get(`/scim/v2/Users?filter=${encodeURIComponent(`userName eq ${JSON.stringify(value)}`)}`);
    expect(res.status).toBe(200);
    expect(res.body.Resources.map((r: { id: string }) => r.id)).toEqual([ids[holder]]);
    expect(res.body.Resources[0].userName).toBe(holder);
  });

  test("POST /.search and the simple eq form use the same key", async () => {
    const res = await h.post("/scim/v2/Users/.search", { schemas: ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], filter: `userName eq "jose\u0301"` });
    expect(res.status).toBe(200);
    expect(res.body.Resources.map((r: { id: string }) => r.id)).toEqual([ids["José"]]);
    expect((await h.bridge.store.users.getByUserName(`${KELVIN}ATE`))?.id).toBe(ids.Kate);
  });

  test("renaming a user to a look-alike of another is 409; to its own name in another form is fine", async () => {
    const other = await create(`other-${db}`);
    expect(other.status).toBe(201);
    const clash = await h.patch(`/scim/v2/Users/${other.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "userName", value: `${KELVIN}ATE` }] });
    expect(clash.status).toBe(409);
    expect(clash.body.scimType).toBe("uniqueness");
    const own = await h.patch(`/scim/v2/Users/${ids["José"]}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "userName", value: "Jose\u0301" }] });
    expect(own.status).toBe(200);
    expect(own.body.userName).toBe("Jose\u0301");
    const found = await h.get(`/scim/v2/Users?filter=${encodeURIComponent('userName eq "josé"')}`);
    expect(found.body.Resources.map((r: { id: string }) => r.id)).toEqual([ids["José"]]);
  });
});
