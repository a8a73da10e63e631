// CertCentral behaviours DigiCert does not document (../shared/digicert-api.md §A.8, §D.7, §D.8, §D.11), played by
// the simulator in each plausible form: however CertCentral words "username taken", with or without the
// availability route, with errors as an array or an object, a user made by hand is adopted (never duplicated,
// its roles kept without a mapping file) and a fresh username is created with one POST. CERTCENTRAL_SAML_SSO_ONLY
// reaches the wire. Each test checks the SCIM answer, the simulator's state and the recorded calls.
import { CC_CONTAINER_ID, DC_EXT, oktaUser, PATCH_OP, startHarness, type Harness } from "../../support/harness";
import { startSimulator, type Simulator, type SimulatorOptions } from "../../../src/simulator";

jest.setTimeout(60_000);

type CcVariant = NonNullable<SimulatorOptions["certcentral"]>;
const DUPLICATES: NonNullable<CcVariant["duplicate"]>[] = ["409", "400-not-available", "400-in-use"];
const AVAILABILITY: NonNullable<CcVariant["availability"]>[] = ["supported", "missing"];

// Every wording × availability with the documented error array; the object form matters where the POST's refusal
// is what the bridge reads, i.e. without the availability route.
const VARIANTS: CcVariant[] = [
  ...DUPLICATES.flatMap((duplicate) => AVAILABILITY.map((availability) => ({ duplicate, availability, errorShape: "array" as const }))),
  ...DUPLICATES.map((duplicate) => ({ duplicate, availability: "missing" as const, errorShape: "object" as const })),
];

const label = (v: CcVariant) => `duplicate ${v.duplicate}, availability ${v.availability}, errors as ${v.errorShape}`;
const named = (h: Harness, userName: string) =>
  h.sim.listUsers("certcentral").filter((u: any) => u.username.toLowerCase() === userName.toLowerCase());
const availabilityCalls = (h: Harness, userName: string) =>
  h.sim.callsTo("certcentral", "GET", `/user/availability/${encodeURIComponent(userName)}`);
const postsFor = (h: Harness, userName: string) =>
  h.sim.callsTo("certcentral", "POST", "/user").filter((c) => String(c.body?.username).toLowerCase() === userName.toLowerCase());

describe.each(VARIANTS.map((v) => [label(v), v] as const))("CertCentral fidelity: %s", (_label, variant) => {
  let h: Harness;
  let seq = 0;
  const tag = `${variant.duplicate}.${variant.availability}.${variant.errorShape}`;
  const uniqueName = (what: string) => `${what}.${++seq}.${tag}@example.com`;
  beforeAll(async () => {
    h = await startHarness({ platform: "certcentral", simulator: { certcentral: variant } });
  });
  afterAll(async () => h?.close());
  beforeEach(() => h.sim.clearCalls());

  test("a user made by hand in CertCentral is adopted: one user, no second create, profile updated, roles kept", async () => {
    const userName = uniqueName("handmade");
    // Typed by hand with other capitals: CertCentral's usernames are unique whatever the case.
    const seeded = h.sim.seedUser("certcentral", {
      username: userName.toUpperCase(),
      first_name: "Old",
      last_name: "Name",
      email: userName,
      access_roles: [{ id: 1 }, { id: 3 }],
      containerId: CC_CONTAINER_ID,
    });
    const before = h.sim.listUsers("certcentral").length;

    const res = await h.post("/scim/v2/Users", oktaUser(userName));
    expect(res.status).toBe(201);
    expect(res.body.userName).toBe(userName);
    expect(res.body[DC_EXT]).toMatchObject({ platform: "certcentral", adopted: true, syncState: "synced" });
    expect(String(res.body[DC_EXT].digicertUserId)).toBe(String(seeded.id));

    // DigiCert: still exactly one user of that name, the seeded one, with the IdP's profile and its own roles.
    expect(h.sim.listUsers("certcentral")).toHaveLength(before);
    expect(named(h, userName).map((u: any) => u.id)).toEqual([seeded.id]);
    const dc = h.sim.getUser("certcentral", seeded.id);
    expect(dc).toMatchObject({ first_name: "Ada", last_name: "Lovelace", is_saml_sso_only: false });
    expect(dc.access_roles.map((r: any) => r.id)).toEqual([1, 3]);

    // The calls: the availability answer (when served) spares the POST; otherwise the one POST is refused.
    if (variant.availability === "supported") {
      expect(availabilityCalls(h, userName)).toHaveLength(1);
      expect(postsFor(h, userName)).toHaveLength(0);
    } else {
      expect(postsFor(h, userName)).toHaveLength(1);
    }
    expect(h.sim.callsTo("certcentral", "PUT", /\/role$/)).toEqual([]);
    const puts = h.sim.callsTo("certcentral", "PUT", `/user/${seeded.id}`);
    expect(puts).toHaveLength(1);
    expect(puts[0].body).toMatchObject({ username: userName, first_name: "Ada" });
    expect(puts[0].body).not.toHaveProperty("is_saml_sso_only");
    expect(h.sim.callsTo("certcentral", "DELETE")).toEqual([]);

    const row = await h.bridge.store.users.getById(res.body.id);
    expect(row).toMatchObject({ userName, adopted: true, digicertId: String(seeded.id) });
    expect(h.logs()).toContain("adopted existing DigiCert user");
  });

  test("a fresh username is created with exactly one POST", async () => {
    const userName = uniqueName("fresh");
    const before = h.sim.listUsers("certcentral").length;
    const res = await h.post("/scim/v2/Users", oktaUser(userName));
    expect(res.status).toBe(201);
    expect(res.body[DC_EXT]).toMatchObject({ adopted: false, syncState: "synced" });

    const posts = postsFor(h, userName);
    expect(posts).toHaveLength(1);
    expect(posts[0].body).toMatchObject({ username: userName, container: { id: CC_CONTAINER_ID }, access_roles: [{ id: 5 }] });
    expect(posts[0].body).not.toHaveProperty("is_saml_sso_only");
    // Without the route, the client stops asking once it has been told so (at most the first create of the run).
    if (variant.availability === "supported") expect(availabilityCalls(h, userName)).toHaveLength(1);
    else expect(availabilityCalls(h, userName).length).toBeLessThanOrEqual(1);
    // No look-up was needed: the POST was not refused.
    expect(h.sim.callsTo("certcentral", "GET", "/user")).toEqual([]);

    expect(h.sim.listUsers("certcentral")).toHaveLength(before + 1);
    const [dc] = named(h, userName);
    expect(String(dc.id)).toBe(String(res.body[DC_EXT].digicertUserId));
    expect(dc).toMatchObject({ username: userName, status: "pending", is_saml_sso_only: false });
    expect(dc.access_roles.map((r: any) => r.id)).toEqual([5]);
  });

  test("an invalid create is still refused as invalid: the look-up finds no such user (400 invalidValue)", async () => {
    const userName = uniqueName("refused");
    h.sim.failNext({
      platform: "certcentral",
      method: "POST",
      path: /^\/user$/,
      status: 400,
      body:
        variant.errorShape === "object"
          ? { errors: { email: "Email domain is not allowed." } }
          : { errors: [{ code: "invalid_param|email", message: "Email domain is not allowed." }] },
    });
    const res = await h.post("/scim/v2/Users", oktaUser(userName));
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe("invalidValue");
    expect(res.body.detail).toContain("Email domain is not allowed.");
    expect(named(h, userName)).toEqual([]);
    expect(await h.bridge.store.users.getByUserName(userName)).toBeNull();
  });

  test("a rename onto a username CertCentral already has is refused as not unique (409), and nothing changes", async () => {
    const created = await h.post("/scim/v2/Users", oktaUser(uniqueName("renamer")));
    expect(created.status).toBe(201);
    const dcId = String(created.body[DC_EXT].digicertUserId);
    const other = uniqueName("occupied");
    h.sim.seedUser("certcentral", { username: other, containerId: CC_CONTAINER_ID });
    const before = h.sim.getUser("certcentral", dcId);

    const res = await h.patch(`/scim/v2/Users/${created.body.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: "replace", path: "userName", value: other }],
    });
    expect(res.status).toBe(409);
    expect(res.body.scimType).toBe("uniqueness");
    expect(h.sim.getUser("certcentral", dcId).username).toBe(before.username);
    expect(named(h, other)).toHaveLength(1);
    expect((await h.bridge.store.users.getById(created.body.id))?.userName).toBe(created.body.userName);
  });
});

describe("CERTCENTRAL_SAML_SSO_ONLY", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ platform: "certcentral", env: { CERTCENTRAL_SAML_SSO_ONLY: "true" } });
  });
  afterAll(async () => h?.close());
  beforeEach(() => h.sim.clearCalls());

  test("a created user is SAML SSO only: the POST body says so, and so does CertCentral", async () => {
    const userName = `sso.fresh.${Date.now()}@example.com`;
    const res = await h.post("/scim/v2/Users", oktaUser(userName));
    expect(res.status).toBe(201);
    const [post] = postsFor(h, userName);
    expect(post.body.is_saml_sso_only).toBe(true);
    expect(h.sim.getUser("certcentral", res.body[DC_EXT].digicertUserId)).toMatchObject({ username: userName, is_saml_sso_only: true });
  });

  test("an adopted hand-made user becomes SAML SSO only through the PUT, its roles kept", async () => {
    const userName = `sso.handmade.${Date.now()}@example.com`;
    const seeded = h.sim.seedUser("certcentral", { username: userName, access_roles: [{ id: 1 }], containerId: CC_CONTAINER_ID });
    const res = await h.post("/scim/v2/Users", oktaUser(userName));
    expect(res.status).toBe(201);
    expect(res.body[DC_EXT].adopted).toBe(true);
    expect(postsFor(h, userName)).toHaveLength(0);
    const [put] = h.sim.callsTo("certcentral", "PUT", `/user/${seeded.id}`);
    expect(put.body.is_saml_sso_only).toBe(true);
    const dc = h.sim.getUser("certcentral", seeded.id);
    expect(dc.is_saml_sso_only).toBe(true);
    expect(dc.access_roles.map((r: any) => r.id)).toEqual([1]);
  });
});

describe("the simulator plays each CertCentral variant on the wire", () => {
  const sims: Simulator[] = [];
  afterAll(async () => Promise.all(sims.map((s) => s.close())));
  async function sim(variant: CcVariant): Promise<Simulator> {
    const s = await startSimulator({ certcentral: variant });
    sims.push(s);
    s.seedUser("certcentral", { username: "Taken.Name" });
    return s;
  }
  const call = async (s: Simulator, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${s.certcentralBaseUrl}${path}`, {
      method,
      headers: { "X-DC-DEVKEY": s.apiKey, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: res.status === 204 ? undefined : await res.json() };
  };
  const create = (username: string) => ({ username, first_name: "A", last_name: "B", email: "a@example.com", access_roles: [{ id: 5 }] });

  test.each([
    [{}, 409, { errors: [{ code: "duplicate_username", message: "Username taken.name already exists." }] }],
    [{ duplicate: "400-not-available" as const }, 400, { errors: [{ code: "invalid_param|username", message: "Username is not available." }] }],
    [{ duplicate: "400-in-use" as const }, 400, { errors: [{ code: "bad_request", message: "That username is already in use by another user." }] }],
    [{ duplicate: "400-not-available" as const, errorShape: "object" as const }, 400, { errors: { username: "Username is not available." } }],
    [{ duplicate: "400-in-use" as const, errorShape: "object" as const }, 400, { errors: { bad_request: "That username is already in use by another user." } }],
  ])("%j: a taken username (any case) on POST and on a rename answers %i %j", async (variant, status, body) => {
    const s = await sim(variant);
    expect(await call(s, "POST", "/user", create("taken.name"))).toEqual({ status, body });
    const mine = s.seedUser("certcentral", { username: "mine" });
    expect(await call(s, "PUT", `/user/${mine.id}`, { username: "taken.name", email: "m@example.com" })).toEqual({ status, body });
    expect(s.listUsers("certcentral").filter((u) => u.username.toLowerCase() === "taken.name")).toHaveLength(1);
  });

  test("availability: case-insensitive and account-wide when supported; 404 not_found|route when missing", async () => {
    const s = await sim({});
    s.seedUser("certcentral", { username: "elsewhere", containerId: 99 });
    expect(await call(s, "GET", "/user/availability/TAKEN.NAME")).toEqual({ status: 200, body: { available: false } });
    expect(await call(s, "GET", "/user/availability/elsewhere")).toEqual({ status: 200, body: { available: false } });
    expect(await call(s, "GET", `/user/availability/${encodeURIComponent("free+one@example.com")}`)).toEqual({ status: 200, body: { available: true } });
    const missing = await sim({ availability: "missing" });
    expect(await call(missing, "GET", "/user/availability/taken.name")).toEqual({
      status: 404,
      body: { errors: [{ code: "not_found|route", message: "Route not found." }] },
    });
    const objectShaped = await sim({ availability: "missing", errorShape: "object" });
    expect(await call(objectShaped, "GET", "/user/availability/taken.name")).toEqual({ status: 404, body: { errors: { "not_found|route": "Route not found." } } });
  });

  test("errors as an object key validation problems by field", async () => {
    const s = await sim({ errorShape: "object" });
    expect(await call(s, "POST", "/user", { username: "bad name!", last_name: "B", email: "a@example.com", access_roles: [{ id: 5 }] })).toEqual({
      status: 400,
      body: { errors: { username: "username contains invalid characters.", first_name: "first_name is required." } },
    });
  });

  test("is_saml_sso_only is stored and rendered: from POST, changed by PUT, kept when a PUT leaves it out", async () => {
    const s = await sim({});
    const made = await call(s, "POST", "/user", { ...create("sso.user"), is_saml_sso_only: true });
    expect(made.status).toBe(201);
    expect((await call(s, "GET", `/user/${made.body.id}`)).body.is_saml_sso_only).toBe(true);
    await call(s, "PUT", `/user/${made.body.id}`, { email: "a@example.com" });
    expect(s.getUser("certcentral", made.body.id).is_saml_sso_only).toBe(true);
    await call(s, "PUT", `/user/${made.body.id}`, { email: "a@example.com", is_saml_sso_only: false });
    expect(s.getUser("certcentral", made.body.id).is_saml_sso_only).toBe(false);
    const plain = await call(s, "POST", "/user", create("plain.user"));
    expect(s.getUser("certcentral", plain.body.id).is_saml_sso_only).toBe(false);
  });
});
