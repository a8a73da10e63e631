// Filters whose string values carry escaped quotes and backslashes (RFC 7644 compValue is a JSON string): `a"b`
// and `a\b` are legal DigiCert ONE userNames, and a filter naming one must return exactly that user, on GET and on
// POST /.search, on both stores. SCIMMY's own filter parser cannot read such a string; the bridge's decides.
import { dropSchema, PG_URL, storeVariants, uniqueSchema } from "../../support/databases";
import { oktaUser, startHarness, type Harness } from "../../support/harness";

const variants = storeVariants("escaped filters").filter(([, platform]) => platform === "one");

describe.each(variants)("filters with escaped quotes: %s", (_label, platform, db) => {
  let h: Harness;
  const pgSchema = uniqueSchema("scim_escaped");
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    h = await startHarness(db === "postgres" ? { platform, databaseUrl: PG_URL, pgSchema } : { platform });
    for (const [n, userName] of [["quote", 'a"b'], ["backslash", "a\\b"], ["plain", "ab"], ["lone", "\\"]] as const) {
      const res = await h.post("/scim/v2/Users", oktaUser(userName, { emails: [{ value: `${n}@example.com`, type: "work", primary: true }] }));
      expect(res.status).toBe(201);
      expect(res.body.userName).toBe(userName);
      ids[userName] = res.body.id;
    }
    await h.drain();
  });
  afterAll(async () => {
    await h.close();
    if (db === "postgres") await dropSchema(pgSchema);
  });

  const viaGet = async (filter: string): Promise<string[]> => {
    const res = await h.get(`/scim/v2/Users?filter=${encodeURIComponent(filter)}`);
    expect({ status: res.status, body: res.status === 200 ? undefined : res.body }).toEqual({ status: 200, body: undefined });
    return res.body.Resources.map((r: { userName: string }) => r.userName).sort();
  };
  const viaSearch = async (filter: string): Promise<string[]> => {
    const res = await h.post("/scim/v2/Users/.search", { schemas: ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], filter });
    expect({ status: res.status, body: res.status === 200 ? undefined : res.body }).toEqual({ status: 200, body: undefined });
    return res.body.Resources.map((r: { userName: string }) => r.userName).sort();
  };

  const cases: [string, string[]][] = [
    ['userName eq "a\\"b"', ['a"b']],
    ['userName eq "a\\\\b"', ["a\\b"]],
    ['userName eq "\\\\"', ["\\"]],
    ['userName eq "ab"', ["ab"]],
    ['userName co "\\""', ['a"b']],
    ['userName sw "a\\""', ['a"b']],
    ['userName co "\\\\"', ["\\", "a\\b"]],
    ['userName ew "\\"b"', ['a"b']],
    ['userName eq "a\\"b" or userName eq "ab"', ['a"b', "ab"]],
  ];

  it.each(cases)("GET filter=%s returns exactly the right users", async (filter, expected) => {
    expect(await viaGet(filter)).toEqual([...expected].sort());
  });

  it.each(cases)("POST /.search filter=%s returns exactly the right users", async (filter, expected) => {
    expect(await viaSearch(filter)).toEqual([...expected].sort());
  });

  it("still refuses a malformed filter with invalidFilter", async () => {
    const res = await h.get(`/scim/v2/Users?filter=${encodeURIComponent('userName eq "a\\"')}`);
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe("invalidFilter");
  });

  it("an escaped quote in a Group filter is read the same way", async () => {
    const made = await h.post("/scim/v2/Groups", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: 'Team "Q"' });
    expect(made.status).toBe(201);
    const res = await h.get(`/scim/v2/Groups?filter=${encodeURIComponent('displayName eq "Team \\"Q\\""')}`);
    expect(res.status).toBe(200);
    expect(res.body.Resources.map((g: { id: string }) => g.id)).toEqual([made.body.id]);
  });
});
