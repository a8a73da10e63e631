// The request sequence of Okta's "SCIM 2.0 spec test" (Runscope/BlazeMeter suite Okta publishes), run against a
// live bridge over HTTP. Used by the jest conformance test and runnable by hand against `npm run demo`:
//   npx ts-node --transpile-only test/conformance/okta-sequence.ts <scim base url> <token>

export interface StepResult {
  name: string;
  ok: boolean;
  detail?: string;
}

const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

export async function runOktaSequence(base: string, token: string): Promise<StepResult[]> {
  const results: StepResult[] = [];
  const call = async (method: string, path: string, body?: unknown, auth = token) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${auth}`, accept: "application/scim+json", ...(body ? { "content-type": "application/scim+json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, json, type: res.headers.get("content-type") ?? "", location: res.headers.get("location") };
  };
  const step = (name: string, ok: boolean, detail?: string) => results.push({ name, ok, detail: ok ? undefined : detail });
  const userName = `okta.spec.${Date.now()}@example.com`;

  const list = await call("GET", "/Users?count=1&startIndex=1");
  step("GET /Users?count=1&startIndex=1 answers a ListResponse", list.status === 200 && Array.isArray(list.json?.schemas) && list.json.schemas.includes("urn:ietf:params:scim:api:messages:2.0:ListResponse") && typeof list.json.totalResults === "number", JSON.stringify(list.json));
  step("responses are application/scim+json", /application\/scim\+json/.test(list.type), list.type);
  if (list.json?.Resources?.[0]?.id) {
    const first = await call("GET", `/Users/${list.json.Resources[0].id}`);
    step("GET /Users/{id} of a listed user answers 200", first.status === 200 && first.json?.id === list.json.Resources[0].id, String(first.status));
  }
  const miss = await call("GET", `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}&startIndex=1&count=100`);
  step("filter userName eq for an absent user answers totalResults 0", miss.status === 200 && miss.json?.totalResults === 0 && (miss.json?.Resources ?? []).length === 0, JSON.stringify(miss.json));
  const unknown = await call("GET", "/Users/010101010101010101");
  step("GET an unknown id answers 404 with a SCIM Error", unknown.status === 404 && unknown.json?.status === "404" && unknown.json?.schemas?.[0] === "urn:ietf:params:scim:api:messages:2.0:Error", JSON.stringify(unknown.json));

  const body = {
    schemas: [USER],
    userName,
    name: { givenName: "Okta", familyName: "Spec" },
    emails: [{ primary: true, value: userName, type: "work" }],
    displayName: "Okta Spec",
    externalId: "00u-okta-spec",
    groups: [],
    password: "1mP@ssw0rd!",
    active: true,
  };
  const created = await call("POST", "/Users", body);
  step("POST /Users answers 201 with the user and an id", created.status === 201 && typeof created.json?.id === "string" && created.json?.userName === userName, `${created.status} ${JSON.stringify(created.json)}`);
  step("201 carries Location equal to meta.location", !!created.location && created.location === created.json?.meta?.location, `${created.location} vs ${created.json?.meta?.location}`);
  step("password is not returned", created.json && created.json.password === undefined);
  const id = created.json?.id;

  const again = await call("POST", "/Users", body);
  step("POST of the same userName again answers 409", again.status === 409 && again.json?.status === "409", `${again.status} ${JSON.stringify(again.json)}`);

  const byId = await call("GET", `/Users/${id}`);
  step("GET /Users/{new id} answers the new user", byId.status === 200 && byId.json?.userName === userName, String(byId.status));
  const upper = await call("GET", `/Users?filter=${encodeURIComponent(`userName eq "${userName.toUpperCase()}"`)}&startIndex=1&count=100`);
  step("filter userName eq is case-insensitive", upper.status === 200 && upper.json?.totalResults === 1 && upper.json?.Resources?.[0]?.id === id, JSON.stringify(upper.json));

  const badToken = await call("GET", "/Users", undefined, "not-a-valid-token");
  step("a bad token answers 401", badToken.status === 401, String(badToken.status));

  const off = await call("PATCH", `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: "replace", value: { active: false } }] });
  step("PATCH replace active:false deactivates", (off.status === 200 && off.json?.active === false) || off.status === 204, `${off.status} ${JSON.stringify(off.json)}`);
  const after = await call("GET", `/Users/${id}`);
  step("the deactivated user is still readable with active false", after.status === 200 && after.json?.active === false, JSON.stringify(after.json));
  return results;
}

if (require.main === module) {
  const [base, token] = process.argv.slice(2);
  if (!base || !token) {
    process.stderr.write("usage: okta-sequence.ts <scim base url> <token>\n");
    process.exit(2);
  }
  runOktaSequence(base.replace(/\/+$/, ""), token).then((results) => {
    for (const r of results) process.stdout.write(`${r.ok ? "PASS" : "FAIL"} ${r.name}${r.detail ? ` — ${r.detail.slice(0, 200)}` : ""}\n`);
    const failed = results.filter((r) => !r.ok).length;
    process.stdout.write(`${results.length - failed} passed, ${failed} failed\n`);
    process.exit(failed ? 1 : 0);
  });
}
