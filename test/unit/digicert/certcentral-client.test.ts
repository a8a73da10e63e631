// CertCentralClient against a scripted DigiCertHttp: the availability pre-check, the look-up after a 400 whose
// wording says nothing of duplicates (§A.8, §D.7), and is_saml_sso_only (§D.11).
import { AVAILABILITY_RETRY_MS, CertCentralClient, classifyCertCentral } from "../../../src/digicert/certcentral/client";
import { DigiCertError } from "../../../src/digicert/errors";
import type { DigiCertHttp, HttpMethod, HttpResult, WireProblem } from "../../../src/digicert/http";
import type { DigiCertUserInput } from "../../../src/digicert/types";

const jill: DigiCertUserInput = { username: "jill+sso@example.com", firstName: "Jill", lastName: "Valentine", email: "jill@example.com" };

type Answer = HttpResult | DigiCertError;
type Route = (body: unknown, query: Record<string, unknown> | undefined) => Answer;

const ok = (data: unknown, status = 200): HttpResult => ({ status, data });
const refused = (status: number, problems: WireProblem[]) => classifyCertCentral(status, problems);
const wireUser = (id: number, username: string) => ({ id, username, first_name: "J", last_name: "V", email: "j@x.io", status: "active", access_roles: [{ id: 1 }] });
const NOT_AVAILABLE = refused(400, [{ code: "invalid_param|username", message: "Username is not available." }]);

/** Routes by "METHOD path"; the first route whose key matches answers. Every call is recorded. */
function scripted(routes: Record<string, Route>) {
  const calls: { method: HttpMethod; path: string; body?: unknown; query?: Record<string, unknown> }[] = [];
  const http = {
    async request(method: HttpMethod, path: string, call: { body?: unknown; query?: Record<string, unknown> } = {}) {
      calls.push({ method, path, body: call.body, query: call.query });
      const route = routes[`${method} ${path}`];
      if (!route) throw new Error(`unscripted call ${method} ${path}`);
      const answer = route(call.body, call.query);
      if (answer instanceof DigiCertError) throw answer;
      return answer;
    },
  };
  return { http: http as unknown as DigiCertHttp, calls, trail: () => calls.map((c) => `${c.method} ${c.path}`) };
}

const AVAILABILITY = `GET /user/availability/${encodeURIComponent(jill.username)}`;
const listOf = (...users: unknown[]) => () => ok({ users, page: { total: users.length, limit: 100, offset: 0 } });

describe("CertCentral createUser: the availability pre-check", () => {
  test("available → one POST; the username is URL-encoded in the path", async () => {
    const s = scripted({ [AVAILABILITY]: () => ok({ available: true }), "POST /user": () => ok({ id: 77 }, 201) });
    expect(await new CertCentralClient(s.http).createUser(jill, ["5"])).toEqual({ id: "77" });
    expect(s.trail()).toEqual(["GET /user/availability/jill%2Bsso%40example.com", "POST /user"]);
  });

  test("not available → duplicate, and nothing is POSTed", async () => {
    const s = scripted({ [AVAILABILITY]: () => ok({ available: false }) });
    const e = await new CertCentralClient(s.http).createUser(jill, ["5"]).catch((x) => x);
    expect(e).toBeInstanceOf(DigiCertError);
    expect(e.kind).toBe("duplicate");
    expect(e.message).toContain(jill.username);
    expect(s.trail()).toEqual([AVAILABILITY]);
  });

  test.each([
    ["403 (a key restricted to user management)", refused(403, [{ code: "access_denied|missing_permission", message: "Missing permission." }])],
    ["404 (no such route)", refused(404, [{ code: "not_found|route", message: "Route not found." }])],
    ["400", refused(400, [{ code: "invalid_param|username", message: "Bad username." }])],
  ])("availability refused with %s → the POST goes ahead", async (_name, answer) => {
    const s = scripted({ [AVAILABILITY]: () => answer, "POST /user": () => ok({ id: 78 }, 201) });
    expect(await new CertCentralClient(s.http).createUser(jill, ["5"])).toEqual({ id: "78" });
    expect(s.trail()).toEqual([AVAILABILITY, "POST /user"]);
  });

  test("an answer without a boolean says nothing: the POST goes ahead", async () => {
    const s = scripted({ [AVAILABILITY]: () => ok({ status: "ok" }), "POST /user": () => ok({ id: 79 }, 201) });
    expect(await new CertCentralClient(s.http).createUser(jill, ["5"])).toEqual({ id: "79" });
  });

  test.each([
    ["rate_limited", new DigiCertError("rate_limited", "CertCentral rate limit reached", { status: 429, retryAfterSeconds: 5 })],
    ["unavailable", new DigiCertError("unavailable", "CertCentral answered 503", { status: 503 })],
    ["auth", refused(403, [{ code: "access_denied|access_denied_invalid_key" }])],
  ])("availability %s propagates, and nothing is POSTed", async (kind, answer) => {
    const s = scripted({ [AVAILABILITY]: () => answer });
    await expect(new CertCentralClient(s.http).createUser(jill, ["5"])).rejects.toMatchObject({ kind });
    expect(s.trail()).toEqual([AVAILABILITY]);
  });

  test("after a 403 or 404 the route is not asked again for a while, then it is", async () => {
    let now = 1_000_000;
    const s = scripted({
      [AVAILABILITY]: () => refused(404, [{ code: "not_found|route" }]),
      "POST /user": () => ok({ id: 80 }, 201),
    });
    const client = new CertCentralClient(s.http, { now: () => now });
    await client.createUser(jill, ["5"]);
    await client.createUser(jill, ["5"]);
    now += AVAILABILITY_RETRY_MS - 1;
    await client.createUser(jill, ["5"]);
    expect(s.calls.filter((c) => c.path.startsWith("/user/availability/"))).toHaveLength(1);
    now += 1;
    await client.createUser(jill, ["5"]);
    expect(s.calls.filter((c) => c.path.startsWith("/user/availability/"))).toHaveLength(2);
  });

  test("a 400 on availability is about that username: the next create asks again", async () => {
    const s = scripted({ [AVAILABILITY]: () => refused(400, [{ code: "invalid_param|username" }]), "POST /user": () => ok({ id: 81 }, 201) });
    const client = new CertCentralClient(s.http);
    await client.createUser(jill, ["5"]);
    await client.createUser(jill, ["5"]);
    expect(s.calls.filter((c) => c.path.startsWith("/user/availability/"))).toHaveLength(2);
  });
});

describe("CertCentral createUser: a 400 the classifier did not call a duplicate", () => {
  const missing = () => refused(404, [{ code: "not_found|route" }]);

  test("DigiCert has the username → duplicate, carrying DigiCert's words", async () => {
    const s = scripted({
      [AVAILABILITY]: missing,
      "POST /user": () => NOT_AVAILABLE,
      "GET /user": listOf(wireUser(5, "someone"), wireUser(6, "JILL+SSO@example.com")),
    });
    const e = await new CertCentralClient(s.http).createUser(jill, ["5"]).catch((x) => x);
    expect(e).toMatchObject({ kind: "duplicate", status: 400, code: "invalid_param|username" });
    expect(e.message).toContain("Username is not available.");
    expect(s.trail()).toEqual([AVAILABILITY, "POST /user", "GET /user"]);
    expect(s.calls[2].query).toMatchObject({ "filters[search]": jill.username });
  });

  test("DigiCert does not have it → the original validation error", async () => {
    const s = scripted({ [AVAILABILITY]: missing, "POST /user": () => NOT_AVAILABLE, "GET /user": listOf(wireUser(5, "someone")) });
    const e = await new CertCentralClient(s.http).createUser(jill, ["5"]).catch((x) => x);
    expect(e).toBe(NOT_AVAILABLE);
    expect(e.kind).toBe("validation");
  });

  test("the look-up itself is rate limited → that error (worth a retry), not a verdict", async () => {
    const limited = new DigiCertError("rate_limited", "CertCentral rate limit reached", { status: 429, retryAfterSeconds: 5 });
    const s = scripted({ [AVAILABILITY]: missing, "POST /user": () => NOT_AVAILABLE, "GET /user": () => limited });
    await expect(new CertCentralClient(s.http).createUser(jill, ["5"])).rejects.toBe(limited);
  });

  test("the look-up refused otherwise → the original validation error", async () => {
    const s = scripted({ [AVAILABILITY]: missing, "POST /user": () => NOT_AVAILABLE, "GET /user": () => refused(403, [{ code: "access_denied|missing_permission" }]) });
    await expect(new CertCentralClient(s.http).createUser(jill, ["5"])).rejects.toBe(NOT_AVAILABLE);
  });

  test("a 409 or a worded 400 is a duplicate without a look-up; other failures pass through untouched", async () => {
    for (const answer of [
      refused(409, [{ code: "duplicate_username", message: "Username jill already exists." }]),
      refused(400, [{ code: "bad_request", message: "That username is already in use by another user." }]),
    ]) {
      const s = scripted({ [AVAILABILITY]: missing, "POST /user": () => answer });
      await expect(new CertCentralClient(s.http).createUser(jill, ["5"])).rejects.toMatchObject({ kind: "duplicate" });
      expect(s.trail()).toEqual([AVAILABILITY, "POST /user"]);
    }
    const down = new DigiCertError("unavailable", "CertCentral answered 503", { status: 503 });
    const s = scripted({ [AVAILABILITY]: () => ok({ available: true }), "POST /user": () => down });
    await expect(new CertCentralClient(s.http).createUser(jill, ["5"])).rejects.toBe(down);
    expect(s.trail()).toEqual([AVAILABILITY, "POST /user"]);
  });
});

describe("CertCentral updateUser: a rename onto a taken username", () => {
  test("the username belongs to another user → duplicate", async () => {
    const s = scripted({ "PUT /user/6": () => NOT_AVAILABLE, "GET /user": listOf(wireUser(9, jill.username)) });
    await expect(new CertCentralClient(s.http).updateUser("6", jill)).rejects.toMatchObject({ kind: "duplicate" });
  });

  test("the only holder is the user itself, or nobody → the original validation error", async () => {
    for (const list of [listOf(wireUser(6, jill.username)), listOf()]) {
      const s = scripted({ "PUT /user/6": () => NOT_AVAILABLE, "GET /user": list });
      await expect(new CertCentralClient(s.http).updateUser("6", jill)).rejects.toBe(NOT_AVAILABLE);
    }
  });
});

describe("is_saml_sso_only (CERTCENTRAL_SAML_SSO_ONLY)", () => {
  const routes = () => ({ [AVAILABILITY]: () => ok({ available: true }), "POST /user": () => ok({ id: 90 }, 201), "PUT /user/90": () => ok(undefined, 204) });

  test("on: POST and PUT send is_saml_sso_only: true", async () => {
    const s = scripted(routes());
    const client = new CertCentralClient(s.http, { samlSsoOnly: true });
    await client.createUser(jill, ["5"]);
    await client.updateUser("90", jill);
    expect(s.calls[1].body).toMatchObject({ username: jill.username, is_saml_sso_only: true });
    expect(s.calls[2].body).toMatchObject({ username: jill.username, is_saml_sso_only: true });
  });

  test("off (default): the field is absent, so a value set by hand in CertCentral stands", async () => {
    for (const opts of [{}, { samlSsoOnly: false }]) {
      const s = scripted(routes());
      const client = new CertCentralClient(s.http, opts);
      await client.createUser(jill, ["5"]);
      await client.updateUser("90", jill);
      expect(s.calls[1].body).not.toHaveProperty("is_saml_sso_only");
      expect(s.calls[2].body).not.toHaveProperty("is_saml_sso_only");
    }
  });
});
