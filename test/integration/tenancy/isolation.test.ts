// Cross-tenant probes (issue 22: "a credential opens exactly one tenant; ids, filters, Bulk references and group
// members never cross tenants"). One bridge serves the default tenant and two more, acme (CertCentral) and globex
// (DigiCert ONE), each with its own simulator, token and role mapping. Every probe is judged by the SCIM answer,
// by what each tenant's store holds afterwards, and by the calls each simulator received.
import request from "supertest";
import { randomUUID, createHash } from "node:crypto";
import type { Simulator } from "../../../src/simulator/types";
import type { Store } from "../../../src/provisioning/ports";
import { DC_EXT, oktaUser, PATCH_OP, PUBLIC_BASE_URL, TOKEN } from "../../support/harness";
import { writeMapping } from "../../support/mapping";
import { dropSchema, PG_URL, uniqueSchema } from "../../support/databases";
import { scimBase, scimClient, startTenantBridge, startTenantSimulator, type ScimClient, type TenantBridge, type TenantSpec } from "../../support/tenancy";

const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ERROR = "urn:ietf:params:scim:api:messages:2.0:Error";
const BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const ACME_TOKEN = "acme-token-0123456789abcdef01";
const GLOBEX_TOKEN = "globex-token-0123456789abcdef0";
const GLOBEX_PASSWORD = "globex-password-0123456789";

const SHARED_NAME = "shared.person@example.com";

/** SQLite with the fast read path and with every read through SCIMMY; PostgreSQL when TEST_DATABASE_URL is set. */
const variants: [string, { fastReads: boolean; pg: boolean }][] = [
  ["SQLite, fast reads", { fastReads: true, pg: false }],
  ["SQLite, SCIMMY reads", { fastReads: false, pg: false }],
];
if (PG_URL) variants.push(["PostgreSQL", { fastReads: true, pg: true }]);
else console.warn("PostgreSQL variant of the tenant isolation tests skipped: TEST_DATABASE_URL not set");

let simD: Simulator;
let simA: Simulator;
let simG: Simulator;
let t: TenantBridge;
let def: ScimClient;
let acme: ScimClient;
let globex: ScimClient;

/** What acme holds before the probes; each probe shows it is still so. */
const A = { user: "", onlyUser: "", group: "", onlyGroup: "" };
const G = { user: "", group: "" };

/** DigiCert writes a simulator received (role changes included): what a refused probe must not cause. */
const writes = (sim: Simulator) => sim.calls.filter((c) => c.method !== "GET");
const clearAll = () => [simD, simA, simG].forEach((s) => s.clearCalls());

async function created(res: request.Response): Promise<any> {
  expect(res.status).toBe(201);
  return res.body;
}

/** acme's resources read through acme, to show a probe left them as they were. */
async function acmeSnapshot(): Promise<unknown[]> {
  const reads = [await acme.get(`/Users/${A.user}`), await acme.get(`/Users/${A.onlyUser}`), await acme.get(`/Groups/${A.group}`), await acme.get(`/Groups/${A.onlyGroup}`)];
  for (const r of reads) expect(r.status).toBe(200);
  return reads.map((r) => r.body);
}

describe.each(variants)("tenant isolation: %s", (_label, variant) => {
  const pgSchema = uniqueSchema("tenant_isolation");
  beforeAll(async () => {
    [simD, simA, simG] = await Promise.all([startTenantSimulator(), startTenantSimulator(), startTenantSimulator()]);
    const specs: TenantSpec[] = [
      { id: "default", platform: "certcentral", token: TOKEN, sim: simD },
      {
        id: "acme",
        platform: "certcentral",
        token: ACME_TOKEN,
        sim: simA,
        mapping: writeMapping(`default: ["Standard User"]\nrules:\n  - group: "DigiCert Admins"\n    roles: ["Administrator"]\n`),
      },
      {
        id: "globex",
        platform: "one",
        token: GLOBEX_TOKEN,
        // globex's IdP may also sign in with a password; acme's and the default tenant's may not.
        basicUsers: `globex-idp:sha256:${createHash("sha256").update(GLOBEX_PASSWORD).digest("hex")}`,
        sim: simG,
        mapping: writeMapping(`default: ["Default User"]\nrules:\n  - group: "DigiCert Admins"\n    roles: ["Account Admin"]\n`),
      },
    ];
    t = await startTenantBridge(specs, {
    env: { BULK_MAX_OPERATIONS: "50", ...(variant.pg ? { DATABASE_URL: PG_URL } : {}) },
    fastReads: variant.fastReads,
    ...(variant.pg ? { pgSchema } : {}),
  });
    def = t.as("default");
    acme = t.as("acme");
    globex = t.as("globex");

    A.user = (await created(await acme.post("/Users", oktaUser(SHARED_NAME, { externalId: "ext-shared" })))).id;
    A.onlyUser = (await created(await acme.post("/Users", oktaUser("acme.only@example.com", { externalId: "acme-ext" })))).id;
    A.group = (await created(await acme.post("/Groups", { schemas: [GROUP], displayName: "DigiCert Admins", externalId: "gext-shared", members: [{ value: A.user }] }))).id;
    A.onlyGroup = (await created(await acme.post("/Groups", { schemas: [GROUP], displayName: "Acme Team", externalId: "acme-gext", members: [{ value: A.onlyUser }] }))).id;
    G.user = (await created(await globex.post("/Users", oktaUser(SHARED_NAME, { externalId: "ext-shared" })))).id;
    G.group = (await created(await globex.post("/Groups", { schemas: [GROUP], displayName: "DigiCert Admins", externalId: "gext-shared", members: [{ value: G.user }] }))).id;
    await t.drain();
  });

  afterAll(async () => {
    await t?.close();
    await Promise.all([simD, simA, simG].map((s) => s?.close()));
    if (variant.pg) await dropSchema(pgSchema);
  });

  describe("a credential opens exactly one tenant", () => {
    const tokens = { default: TOKEN, acme: ACME_TOKEN, globex: GLOBEX_TOKEN } as const;

    test("each token opens its own tenant's path, and is unknown (401) at every other", async () => {
      for (const [owner, token] of Object.entries(tokens)) {
        for (const path of ["/scim/v2", "/t/default/scim/v2", "/t/acme/scim/v2", "/t/globex/scim/v2"]) {
          const mine = path === scimBase(owner) || path === scimBase(owner, "t");
          const res = await scimClient(t.app, path, token).get("/Users");
          expect([owner, path, res.status]).toEqual([owner, path, mine ? 200 : 401]);
          if (!mine) {
            expect(res.body.schemas).toEqual([ERROR]);
            expect(JSON.stringify(res.body)).not.toContain(SHARED_NAME);
          }
        }
      }
    });

    test("a foreign token's write is refused before anything is stored or sent", async () => {
      clearAll();
      const res = await scimClient(t.app, "/t/globex/scim/v2", ACME_TOKEN).post("/Users", oktaUser("sneaky@example.com"));
      expect(res.status).toBe(401);
      expect(await t.bridge.tenants.get("globex")!.store.users.getByUserName("sneaky@example.com")).toBeNull();
      expect(await t.bridge.tenants.get("acme")!.store.users.getByUserName("sneaky@example.com")).toBeNull();
      expect([writes(simA), writes(simG)]).toEqual([[], []]);
    });

    test("a tenant's store token opens that tenant only", async () => {
      const secret = `store-token-${randomUUID()}`;
      await t.bridge.tenants.get("acme")!.store.tokens.create({ name: "okta", scope: "scim", sha256: createHash("sha256").update(secret).digest("hex"), expires: null });
      expect((await scimClient(t.app, "/t/acme/scim/v2", secret).get("/Users")).status).toBe(200);
      expect((await scimClient(t.app, "/t/globex/scim/v2", secret).get("/Users")).status).toBe(401);
      expect((await scimClient(t.app, "/scim/v2", secret).get("/Users")).status).toBe(401);
    });

    test("globex's Basic user opens globex only", async () => {
      const basic = `Basic ${Buffer.from(`globex-idp:${GLOBEX_PASSWORD}`).toString("base64")}`;
      expect((await request(t.app).get("/t/globex/scim/v2/Users").set("Authorization", basic)).status).toBe(200);
      expect((await request(t.app).get("/t/acme/scim/v2/Users").set("Authorization", basic)).status).toBe(401);
      expect((await request(t.app).get("/scim/v2/Users").set("Authorization", basic)).status).toBe(401);
    });

    test("each tenant's ServiceProviderConfig names its own authentication schemes", async () => {
      const schemes = async (c: ScimClient) => ((await c.get("/ServiceProviderConfig")).body.authenticationSchemes as { type: string }[]).map((s) => s.type).sort();
      expect(await schemes(acme)).toEqual(["oauthbearertoken"]);
      expect(await schemes(def)).toEqual(["oauthbearertoken"]);
      expect(await schemes(globex)).toEqual(["httpbasic", "oauthbearertoken"]);
      expect(await schemes(acme)).toEqual(["oauthbearertoken"]);
    });

    test("each tenant's role catalogue is its own DigiCert's", async () => {
      const roles = async (c: ScimClient) => {
        const res = await c.get("/Roles");
        expect(res.status).toBe(200);
        for (const r of res.body.Resources) if (r.meta?.location) expect(r.meta.location).toContain(`${PUBLIC_BASE_URL}${c.base}/`);
        return res.body.Resources.map((r: any) => r.displayName ?? r.name ?? r.display);
      };
      expect(await roles(acme)).toContain("Administrator");
      expect(await roles(globex)).toContain("Account Admin");
      expect(await roles(globex)).not.toContain("Administrator");
    });

    test("an unknown tenant is the app's SCIM 404, whoever asks", async () => {
      for (const token of [ACME_TOKEN, TOKEN, "nobody"]) {
        const res = await scimClient(t.app, "/t/unknown/scim/v2", token).get("/Users");
        expect(res.status).toBe(404);
        expect(res.body).toMatchObject({ schemas: [ERROR], status: "404" });
      }
      const post = await scimClient(t.app, "/t/unknown/scim/v2", ACME_TOKEN).post("/Users", oktaUser("lost@example.com"));
      expect(post.status).toBe(404);
      expect(post.body.schemas).toEqual([ERROR]);
    });
  });

  describe("another tenant's ids are not found", () => {
    test.each(["globex", "default"])("GET, PUT, PATCH and DELETE of acme's user and group under %s: 404, nothing changed anywhere", async (tenant) => {
      const other = tenant === "globex" ? globex : def;
      const before = await acmeSnapshot();
      clearAll();
      const answers = [
        await other.get(`/Users/${A.user}`),
        await other.put(`/Users/${A.user}`, oktaUser(SHARED_NAME, { active: false })),
        await other.patch(`/Users/${A.user}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "active", value: false }] }),
        await other.del(`/Users/${A.user}`),
        await other.get(`/Groups/${A.group}`),
        await other.put(`/Groups/${A.group}`, { schemas: [GROUP], displayName: "Taken over", members: [] }),
        await other.patch(`/Groups/${A.group}`, { schemas: [PATCH_OP], Operations: [{ op: "remove", path: "members" }] }),
        await other.del(`/Groups/${A.group}`),
        await other.get(`/Users/${A.user}?attributes=userName`),
        await other.get(`/Groups/${A.group}?excludedAttributes=members`),
      ];
      expect(answers.map((r) => r.status)).toEqual(answers.map(() => 404));
      for (const r of answers) {
        expect(r.body.schemas).toEqual([ERROR]);
        expect(JSON.stringify(r.body)).not.toMatch(/shared\.person|DigiCert Admins|Lovelace/);
      }
      expect(await acmeSnapshot()).toEqual(before);
      expect([writes(simD), writes(simA), writes(simG)]).toEqual([[], [], []]);
    });

    test("a refused probe is audited in the prober's trail without the other tenant's userName, and never in the owner's", async () => {
      const requestId = `probe-${randomUUID()}`;
      await globex.patch(`/Users/${A.user}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "displayName", value: "x" }] }).set("X-Request-Id", requestId).expect(404);
      await globex.del(`/Users/${A.onlyUser}`).set("X-Request-Id", requestId).expect(404);
      // Recorded once the answer is out.
      let mine: Awaited<ReturnType<Store["audit"]["query"]>> = [];
      for (let i = 0; i < 50 && mine.length < 2; i++) {
        mine = (await t.bridge.tenants.get("globex")!.store.audit.query({ resourceId: [A.user, A.onlyUser] })).filter((e) => e.requestId === requestId);
        if (mine.length < 2) await new Promise((r) => setTimeout(r, 20));
      }
      expect(mine.map((e) => [e.action, e.outcome, e.status, e.userName])).toEqual([
        ["user.patch", "refused", 404, null],
        ["user.delete", "refused", 404, null],
      ]);
      const owners = await t.bridge.tenants.get("acme")!.store.audit.query({ resourceId: A.user });
      expect(owners.filter((e) => e.outcome === "refused")).toEqual([]);
    });
  });

  describe("filters never reach another tenant", () => {
    const total = async (c: ScimClient, path: string) => {
      const res = await c.get(path);
      expect(res.status).toBe(200);
      return res.body.totalResults as number;
    };
    const f = (s: string) => encodeURIComponent(s);

    test("users: id, userName, externalId and email filters of acme's users find nothing under globex", async () => {
      expect(await total(globex, `/Users?filter=${f(`id eq "${A.user}"`)}`)).toBe(0);
      expect(await total(globex, `/Users?filter=${f(`id eq "${A.onlyUser}"`)}`)).toBe(0);
      expect(await total(globex, `/Users?filter=${f('userName eq "acme.only@example.com"')}`)).toBe(0);
      expect(await total(globex, `/Users?filter=${f('externalId eq "acme-ext"')}`)).toBe(0);
      expect(await total(globex, `/Users?filter=${f('emails.value eq "acme.only@example.com"')}`)).toBe(0);
      expect(await total(globex, `/Users?filter=${f(`id eq "${A.user}" or id eq "${A.onlyUser}"`)}`)).toBe(0);
      expect(await total(globex, `/Users?filter=${f('userName sw "acme"')}`)).toBe(0);
      // By acme's group, sorted, paged: still none of acme's.
      const byGroup = await globex.get(`/Users?filter=${f(`groups.value eq "${A.group}"`)}`);
      expect([200, 400]).toContain(byGroup.status);
      if (byGroup.status === 200) expect(byGroup.body.totalResults).toBe(0);
      const sorted = await globex.get(`/Users?sortBy=userName&sortOrder=descending&startIndex=1&count=50&filter=${f('userName pr')}`);
      expect(sorted.body.Resources.map((r: any) => r.id)).not.toEqual(expect.arrayContaining([A.user]));
      expect(sorted.body.Resources.map((r: any) => r.id)).not.toEqual(expect.arrayContaining([A.onlyUser]));
      // A name both tenants hold: globex finds its own.
      const same = await globex.get(`/Users?filter=${f(`userName eq "${SHARED_NAME}"`)}`);
      expect(same.body.Resources.map((r: any) => r.id)).toEqual([G.user]);
      const ext = await globex.get(`/Users?filter=${f('externalId eq "ext-shared"')}`);
      expect(ext.body.Resources.map((r: any) => r.id)).toEqual([G.user]);
      // The default tenant has none of them.
      expect(await total(def, `/Users?filter=${f(`userName eq "${SHARED_NAME}"`)}`)).toBe(0);
      expect(await total(def, `/Users?filter=${f(`id eq "${G.user}"`)}`)).toBe(0);
    });

    test("users through SCIMMY's own path (POST /.search) and with a count of 0", async () => {
      const search = await globex.post("/Users/.search", { schemas: ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], filter: `id eq "${A.user}"` });
      expect(search.status).toBe(200);
      expect(search.body.totalResults).toBe(0);
      const root = await globex.post("/.search", { schemas: ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], filter: 'userName eq "acme.only@example.com"' });
      expect([200, 400, 404]).toContain(root.status);
      expect(JSON.stringify(root.body)).not.toContain(A.onlyUser);
      expect(await total(globex, `/Users?count=0&filter=${f('externalId eq "acme-ext"')}`)).toBe(0);
    });

    test("an unfiltered list counts the tenant's own only", async () => {
      const acmeUsers = await acme.get("/Users?count=100");
      const globexUsers = await globex.get("/Users?count=100");
      expect(acmeUsers.body.Resources.map((r: any) => r.id)).not.toContain(G.user);
      expect(globexUsers.body.Resources.map((r: any) => r.id)).not.toEqual(expect.arrayContaining([A.user]));
      expect(acmeUsers.body.totalResults).toBe(await t.bridge.tenants.get("acme")!.store.users.count());
      expect(globexUsers.body.totalResults).toBe(await t.bridge.tenants.get("globex")!.store.users.count());
    });

    test("groups: id, displayName, externalId and member filters of acme's groups find nothing under globex", async () => {
      expect(await total(globex, `/Groups?filter=${f(`id eq "${A.group}"`)}`)).toBe(0);
      expect(await total(globex, `/Groups?filter=${f('displayName eq "Acme Team"')}`)).toBe(0);
      expect(await total(globex, `/Groups?filter=${f('externalId eq "acme-gext"')}`)).toBe(0);
      expect(await total(globex, `/Groups?filter=${f(`members.value eq "${A.user}"`)}`)).toBe(0);
      expect(await total(globex, `/Groups?filter=${f(`members[value eq "${A.onlyUser}"]`)}`)).toBe(0);
      const same = await globex.get(`/Groups?filter=${f('displayName eq "DigiCert Admins"')}`);
      expect(same.body.Resources.map((g: any) => g.id)).toEqual([G.group]);
      expect(same.body.Resources[0].members.map((m: any) => m.value)).toEqual([G.user]);
    });
  });

  describe("group members never cross tenants", () => {
    test("a globex group PATCH, PUT or POST naming an acme user is refused: no membership, no DigiCert role change", async () => {
      const before = await acmeSnapshot();
      const globexGroupBefore = (await globex.get(`/Groups/${G.group}`)).body;
      clearAll();
      const add = await globex.patch(`/Groups/${G.group}`, { schemas: [PATCH_OP], Operations: [{ op: "add", path: "members", value: [{ value: A.user }] }] });
      const replaceOp = await globex.patch(`/Groups/${G.group}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "members", value: [{ value: G.user }, { value: A.onlyUser }] }] });
      const put = await globex.put(`/Groups/${G.group}`, { schemas: [GROUP], displayName: "DigiCert Admins", members: [{ value: G.user }, { value: A.user }] });
      const post = await globex.post("/Groups", { schemas: [GROUP], displayName: "Poached", members: [{ value: A.user }] });
      for (const r of [add, replaceOp, put, post]) {
        expect(r.status).toBeGreaterThanOrEqual(400);
        expect(r.status).toBeLessThan(500);
        expect(r.body.schemas).toEqual([ERROR]);
      }
      // Removing acme's user from a globex group removes nothing anywhere.
      const remove = await globex.patch(`/Groups/${G.group}`, { schemas: [PATCH_OP], Operations: [{ op: "remove", path: `members[value eq "${A.user}"]` }] });
      expect(remove.status).toBeLessThan(300);

      expect((await globex.get(`/Groups/${G.group}`)).body).toEqual(globexGroupBefore);
      expect((await globex.get(`/Groups?filter=${encodeURIComponent('displayName eq "Poached"')}`)).body.totalResults).toBe(0);
      expect(await acmeSnapshot()).toEqual(before);
      expect((await acme.get(`/Users/${A.user}`)).body.groups.map((g: any) => g.value)).toEqual([A.group]);
      await t.drain();
      expect([writes(simA), writes(simG), writes(simD)]).toEqual([[], [], []]);
    });
  });

  describe("Bulk stays in its tenant", () => {
    test("a globex Bulk naming acme's ids fails each such operation with 404 and changes nothing of acme's", async () => {
      const before = await acmeSnapshot();
      clearAll();
      const res = await globex.post("/Bulk", {
        schemas: [BULK],
        Operations: [
          { method: "PUT", path: `/Users/${A.user}`, data: oktaUser(SHARED_NAME, { active: false }) },
          { method: "PATCH", path: `/Users/${A.user}`, data: { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "active", value: false }] } },
          { method: "DELETE", path: `/Users/${A.onlyUser}` },
          { method: "PATCH", path: `/Groups/${A.group}`, data: { schemas: [PATCH_OP], Operations: [{ op: "add", path: "members", value: [{ value: G.user }] }] } },
          { method: "DELETE", path: `/Groups/${A.onlyGroup}` },
        ],
      });
      expect(res.status).toBe(200);
      expect(res.body.Operations.map((o: any) => o.status)).toEqual(["404", "404", "404", "404", "404"]);
      expect(await acmeSnapshot()).toEqual(before);
      expect([writes(simA), writes(simG)]).toEqual([[], []]);
    });

    test("a globex Bulk's own operations are globex's: stored there, sent to globex's DigiCert, located under its path", async () => {
      clearAll();
      const name = `bulk.${Date.now()}@example.com`;
      const res = await globex.post("/Bulk", {
        schemas: [BULK],
        Operations: [
          { method: "POST", path: "/Users", bulkId: "u", data: oktaUser(name) },
          { method: "POST", path: "/Groups", bulkId: "g", data: { schemas: [GROUP], displayName: `Bulk ${name}`, members: [{ value: "bulkId:u" }] } },
          // A group naming acme's user alongside its own: refused as a plain request would be.
          { method: "POST", path: "/Groups", bulkId: "bad", data: { schemas: [GROUP], displayName: `Bad ${name}`, members: [{ value: "bulkId:u" }, { value: A.user }] } },
        ],
      });
      expect(res.status).toBe(200);
      expect(res.body.Operations.map((o: any) => o.status)).toEqual(["201", "201", "400"]);
      const [u, g] = res.body.Operations;
      expect(u.location).toMatch(new RegExp(`^${PUBLIC_BASE_URL}/t/globex/scim/v2/Users/[^/]+$`));
      expect(g.location).toMatch(new RegExp(`^${PUBLIC_BASE_URL}/t/globex/scim/v2/Groups/[^/]+$`));
      const userId = u.location.split("/").pop();
      expect((await globex.get(`/Users/${userId}`)).body.userName).toBe(name);
      expect((await def.get(`/Users/${userId}`)).status).toBe(404);
      expect((await acme.get(`/Users/${userId}`)).status).toBe(404);
      await t.drain();
      expect(simG.callsTo("one", "POST", /^\/user$/).map((c) => c.body.user_name)).toEqual([name]);
      expect(simA.calls).toEqual([]);
      expect(simD.calls).toEqual([]);
    });

    test("a bulkId defined in another request (another tenant's) resolves to nothing", async () => {
      const first = await acme.post("/Bulk", { schemas: [BULK], Operations: [{ method: "POST", path: "/Users", bulkId: "carried", data: oktaUser(`carried.${Date.now()}@example.com`) }] });
      expect(first.body.Operations[0].status).toBe("201");
      const carriedId = first.body.Operations[0].location.split("/").pop();
      const res = await globex.post("/Bulk", {
        schemas: [BULK],
        Operations: [
          { method: "PATCH", path: "/Users/bulkId:carried", data: { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "active", value: false }] } },
          { method: "POST", path: "/Groups", bulkId: "g2", data: { schemas: [GROUP], displayName: `Carried ${Date.now()}`, members: [{ value: "bulkId:carried" }] } },
        ],
      });
      expect(res.status).toBe(200);
      // An unresolvable reference is the request's own fault (RFC 7644 §3.7.2): 400 each, before anything runs.
      expect(res.body.Operations.map((o: any) => o.status)).toEqual(["400", "400"]);
      expect((await acme.get(`/Users/${carriedId}`)).body.active).toBe(true);
    });
  });

  describe("the same names in two tenants", () => {
    test("one userName in acme and globex: two users, each sent to its own DigiCert only", async () => {
      expect(G.user).not.toBe(A.user);
      const a = (await acme.get(`/Users/${A.user}`)).body;
      const g = (await globex.get(`/Users/${G.user}`)).body;
      expect([a.userName, g.userName]).toEqual([SHARED_NAME, SHARED_NAME]);
      expect([a[DC_EXT].syncState, g[DC_EXT].syncState]).toEqual(["synced", "synced"]);
      const inA = simA.listUsers("certcentral").filter((u: any) => u.username === SHARED_NAME);
      const inG = simG.listUsers("one").filter((u: any) => u.user_name === SHARED_NAME);
      expect([inA.length, inG.length]).toEqual([1, 1]);
      expect(simD.listUsers("certcentral").filter((u: any) => u.username === SHARED_NAME)).toEqual([]);
      // Each tenant's mapping gave its own DigiCert's role for the same group name.
      expect(simA.ccTruth(inA[0].id)?.role_ids).toEqual([1]);
      expect(simG.oneTruth(inG[0].id)?.roles).toEqual(["AM_ACCOUNT_ADMIN"]);
    });

    test("the same Idempotency-Key from both tenants creates one user in each, never the other's answer", async () => {
      const key = `key-${randomUUID()}`;
      const one = await acme.post("/Users", oktaUser(`idem.${key}@example.com`)).set("Idempotency-Key", key);
      const two = await globex.post("/Users", oktaUser(`idem.${key}@example.com`)).set("Idempotency-Key", key);
      expect([one.status, two.status]).toEqual([201, 201]);
      expect(two.body.id).not.toBe(one.body.id);
      expect(two.headers.location).toContain("/t/globex/scim/v2/Users/");
      // And a retry in each gets its own answer back.
      const again = await globex.post("/Users", oktaUser(`idem.${key}@example.com`)).set("Idempotency-Key", key);
      expect(again.body.id).toBe(two.body.id);
    });
  });

  describe("locations name the request's own mount", () => {
    test("under concurrent requests of every mount, each answer's meta.location and Location header are its own", async () => {
      const mounts = [
        { client: def, base: "/scim/v2" },
        { client: scimClient(t.app, "/t/default/scim/v2", TOKEN), base: "/t/default/scim/v2" },
        { client: acme, base: "/t/acme/scim/v2" },
        { client: globex, base: "/t/globex/scim/v2" },
      ];
      const checks: Promise<void>[] = [];
      for (let round = 0; round < 6; round++) {
        for (const { client, base } of mounts) {
          const own = `${PUBLIC_BASE_URL}${base}/`;
          const expectOwn = (location: unknown) => expect(String(location).startsWith(own) ? own : location).toBe(own);
          checks.push(
            (async () => {
              const res = await client.post("/Users", oktaUser(`loc.${round}.${randomUUID()}@example.com`));
              expect(res.status).toBe(201);
              expectOwn(res.headers.location);
              expectOwn(res.body.meta.location);
              const put = await client.put(`/Users/${res.body.id}`, oktaUser(res.body.userName, { displayName: "Renamed" }));
              expectOwn(put.body.meta.location);
            })(),
            (async () => {
              // Group lists go through SCIMMY (its global base path), user lists through the fast path.
              const groups = await client.get("/Groups?count=5");
              for (const g of groups.body.Resources) expectOwn(g.meta.location);
              const users = await client.get("/Users?count=5");
              for (const u of users.body.Resources) expectOwn(u.meta.location);
            })(),
          );
        }
      }
      await Promise.all(checks);
    });
  });

  describe("each tenant's audit trail", () => {
    test("holds its own entries and never the other's", async () => {
      const acmeTrail = await t.bridge.tenants.get("acme")!.store.audit.query({});
      const globexTrail = await t.bridge.tenants.get("globex")!.store.audit.query({});
      const acmeIds = new Set([A.user, A.onlyUser, A.group, A.onlyGroup]);
      const globexIds = new Set([G.user, G.group]);
      expect(acmeTrail.some((e) => e.resourceId === A.user && e.action === "user.create")).toBe(true);
      expect(globexTrail.some((e) => e.resourceId === G.user && e.action === "user.create")).toBe(true);
      expect(acmeTrail.filter((e) => e.resourceId && globexIds.has(e.resourceId))).toEqual([]);
      // globex's refused probes name acme's ids (that is what was asked), but none was accepted.
      expect(globexTrail.filter((e) => e.resourceId && acmeIds.has(e.resourceId) && e.outcome !== "refused")).toEqual([]);
      expect(globexTrail.filter((e) => e.userName === "acme.only@example.com")).toEqual([]);
      // The default tenant's trail has neither.
      const defaultTrail = await t.bridge.tenants.get("default")!.store.audit.query({});
      expect(defaultTrail.filter((e) => e.resourceId && (acmeIds.has(e.resourceId) || globexIds.has(e.resourceId)) && e.outcome !== "refused")).toEqual([]);
    });
  });

  describe("the default tenant", () => {
    test("/scim/v2 and /t/default/scim/v2 serve the same data", async () => {
      const viaT = scimClient(t.app, "/t/default/scim/v2", TOKEN);
      const made = await created(await viaT.post("/Users", oktaUser(`default.${Date.now()}@example.com`)));
      const g = await created(await def.post("/Groups", { schemas: [GROUP], displayName: `Default ${Date.now()}`, members: [{ value: made.id }] }));
      const strip = (body: any) => ({ ...body, meta: { ...body.meta, location: undefined } });
      const [u1, u2] = [await def.get(`/Users/${made.id}`), await viaT.get(`/Users/${made.id}`)];
      expect(strip(u1.body)).toEqual(strip(u2.body));
      expect(u1.body.meta.location).toBe(`${PUBLIC_BASE_URL}/scim/v2/Users/${made.id}`);
      expect(u2.body.meta.location).toBe(`${PUBLIC_BASE_URL}/t/default/scim/v2/Users/${made.id}`);
      const [g1, g2] = [await def.get(`/Groups/${g.id}`), await viaT.get(`/Groups/${g.id}`)];
      expect(strip(g1.body)).toEqual(strip(g2.body));
      const [l1, l2] = [await def.get("/Users?count=100"), await viaT.get("/Users?count=100")];
      expect(l1.body.totalResults).toBe(l2.body.totalResults);
      expect(l1.body.Resources.map((r: any) => r.id)).toEqual(l2.body.Resources.map((r: any) => r.id));
      expect(l1.body.Resources.map((r: any) => r.id)).not.toContain(A.user);
      // Its DigiCert is its own.
      await t.drain();
      expect(simD.listUsers("certcentral").map((u: any) => u.username)).toContain(made.userName);
      expect(simA.listUsers("certcentral").map((u: any) => u.username)).not.toContain(made.userName);
    });
  });
});
