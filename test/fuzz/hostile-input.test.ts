import { createHash } from "node:crypto";
import fc from "fast-check";
import request from "supertest";
import type { Server } from "node:http";
import { createHttpServer } from "../../src/http/server";
import { oktaUser, startHarness, TOKEN, type Harness } from "../support/harness";

// Property-based hostile input against the real app (SQLite, the DigiCert simulator). Whatever arrives, the
// answer is a success or a 4xx SCIM error: never a 5xx, a crash or a hang; a refused request changes nothing in
// the store and makes no DigiCert call. `npm test` runs a bounded, seeded sample; `npm run fuzz` runs many more
// (FUZZ_RUNS, FUZZ_SEED).

const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
const SEED = Number(process.env.FUZZ_SEED ?? 20261123);
const ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error";
const USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

jest.setTimeout(Math.max(120_000, RUNS * 400));

// --- generators -----------------------------------------------------------------------------------------------

/** encodeURIComponent refuses lone surrogates; send their UTF-8-ish bytes raw instead (still invalid for the server). */
function enc(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return s.replace(/[\s\S]/g, (ch) => (/[\ud800-\udfff]/.test(ch) ? "%ED%A0%80" : enc(ch)));
  }
}

const nasty = fc.constantFrom(
  "\u0000",
  "a\u0000b",
  "\u202eevil\u202c",
  "e\u0301\u0301\u0301",
  "😀👩‍👩‍👧‍👦",
  "\ud800",
  "\udfff",
  "x\ud83dy",
  "' OR 1=1 --",
  '"; DROP TABLE scim_users; --',
  "%00",
  "../../etc/passwd",
  "..%2f..%2fetc%2fpasswd",
  "\\",
  '"',
  "a".repeat(70_000),
  "ü".repeat(3_000),
  "<script>alert(1)</script>",
  "${jndi:ldap://x}",
  "__proto__",
  "constructor",
  " ",
  "",
);
const hostileString = fc.oneof(nasty, fc.string({ unit: "binary", maxLength: 40 }), fc.string({ maxLength: 20 }));

const deepJson = fc.integer({ min: 50, max: 1500 }).map((depth) => {
  let v: unknown = "x";
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
});

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(hostileString, { maxLength: 3 }),
  fc.dictionary(hostileString, hostileString, { maxKeys: 3 }),
  deepJson,
  fc.jsonValue({ maxDepth: 4 }),
);

const userAttr = fc.constantFrom(
  "userName", "name", "name.givenName", "emails", "emails[type eq \"work\"].value", "active", "title", "roles",
  "phoneNumbers", "externalId", "displayName", "urn:ietf:params:scim:schemas:extension:digicert:2.0:User:jobTitle",
  "password", "groups", "meta", "id", "schemas", "__proto__", "members",
);

/** A user body: valid, or valid with a hostile value somewhere, or anything at all. */
const userBody = fc.oneof(
  fc.record({ attr: userAttr, value: hostileValue }).map(({ attr, value }) => {
    const body: Record<string, unknown> = oktaUser();
    body[attr.split(/[.[]/)[0]] = value;
    return body;
  }),
  fc.record({ userName: hostileString, given: hostileString, email: hostileString }).map((v) => ({
    schemas: [USER_SCHEMA],
    userName: v.userName,
    name: { givenName: v.given, familyName: "L" },
    emails: [{ value: v.email, primary: true }],
  })),
  fc.jsonValue({ maxDepth: 5 }),
  deepJson,
);

const patchBody = fc.oneof(
  fc.record({ op: fc.oneof(fc.constantFrom("add", "replace", "remove", "Replace", "ADD"), hostileString), path: fc.option(fc.oneof(userAttr, hostileString)), value: hostileValue }).map((o) => ({
    schemas: [PATCH_OP],
    Operations: [o.path === null ? { op: o.op, value: o.value } : { op: o.op, path: o.path, value: o.value }],
  })),
  fc.record({ schemas: fc.oneof(fc.constant([PATCH_OP]), hostileValue), Operations: hostileValue }),
  fc.jsonValue({ maxDepth: 5 }),
);

const groupBody = fc.oneof(
  fc.record({ displayName: hostileString, members: fc.oneof(hostileValue, fc.array(fc.record({ value: hostileString }), { maxLength: 3 })) }).map((g) => ({ schemas: [GROUP_SCHEMA], ...g })),
  fc.jsonValue({ maxDepth: 5 }),
);

const hostileFilter = fc.oneof(
  hostileString,
  hostileString.map((v) => `userName eq ${JSON.stringify(v)}`),
  hostileString.map((v) => `userName eq "${v}"`),
  fc.integer({ min: 1, max: 3000 }).map((n) => "(".repeat(n) + 'userName eq "a"' + ")".repeat(n)),
  fc.integer({ min: 1, max: 3000 }).map((n) => Array.from({ length: n }, (_, i) => `userName eq "u${i}"`).join(" or ")),
  fc.constantFrom('emails[type eq "work" and value co "@"]', "meta.lastModified gt \"2020\"", "userName pr", 'id eq "1" and members[value eq "x"]', "not(userName eq \"a\")"),
);

const idOrPath = fc.oneof(
  fc.constantFrom("KNOWN_USER", "KNOWN_GROUP"),
  hostileString.map((s) => enc(s)),
  fc.constantFrom("..%2F..%2Fetc%2Fpasswd", "%2e%2e", "%00", "a%22b", "%ZZ", "x".repeat(5000)),
);

type Req = { method: string; path: string; body?: unknown; raw?: string; contentType?: string };

const requestArb: fc.Arbitrary<Req> = fc.oneof(
  userBody.map((body) => ({ method: "POST", path: "/Users", body })),
  fc.tuple(idOrPath, userBody).map(([id, body]) => ({ method: "PUT", path: `/Users/${id}`, body })),
  fc.tuple(idOrPath, patchBody).map(([id, body]) => ({ method: "PATCH", path: `/Users/${id}`, body })),
  groupBody.map((body) => ({ method: "POST", path: "/Groups", body })),
  fc.tuple(idOrPath, patchBody).map(([id, body]) => ({ method: "PATCH", path: `/Groups/${id}`, body })),
  fc.tuple(idOrPath, groupBody).map(([id, body]) => ({ method: "PUT", path: `/Groups/${id}`, body })),
  idOrPath.map((id) => ({ method: "DELETE", path: `/Users/${id}x` })),
  idOrPath.map((id) => ({ method: "GET", path: `/Users/${id}` })),
  fc.tuple(fc.constantFrom("Users", "Groups"), hostileFilter, fc.option(hostileString), fc.option(hostileString)).map(([r, f, start, count]) => ({
    method: "GET",
    path: `/${r}?filter=${enc(f)}${start !== null ? `&startIndex=${enc(start)}` : ""}${count !== null ? `&count=${enc(count)}` : ""}`,
  })),
  fc.tuple(fc.constantFrom("Users", "Groups"), hostileString).map(([r, a]) => ({ method: "GET", path: `/${r}?attributes=${enc(a)}&excludedAttributes=${enc(a)}` })),
  fc.tuple(fc.constantFrom("POST", "PUT", "PATCH"), fc.constantFrom("/Users", "/Users/KNOWN_USER", "/Groups/KNOWN_GROUP"), fc.oneof(hostileString, fc.constantFrom("{", "[1,", '{"a":1}}', "\uFEFF{}", "null", "1e999999", "[".repeat(200_000))), fc.constantFrom("application/scim+json", "application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/scim+json; charset=utf-16")).map(([method, path, raw, contentType]) => ({ method, path, raw, contentType })),
  fc.tuple(fc.constantFrom("GET", "POST", "DELETE", "OPTIONS", "HEAD", "TRACE"), hostileString).map(([method, p]) => ({ method, path: `/${enc(p)}` })),
);

// --- the property ---------------------------------------------------------------------------------------------

async function digestOf(h: Harness): Promise<string> {
  const users = await h.bridge.store.users.list(undefined, { offset: 0, limit: 10_000 });
  const groups = await h.bridge.store.groups.list(undefined, { offset: 0, limit: 10_000 });
  const members = await Promise.all(groups.rows.map((g) => h.bridge.store.groups.members(g.id)));
  const outbox = await h.bridge.store.outbox.list({ limit: 100_000 });
  const state = JSON.stringify([
    users.rows.map((u) => [u.id, u.version, u.resource, u.active]),
    groups.rows.map((g, i) => [g.id, g.version, g.displayName, members[i].rows.map((m) => m.userId)]),
    outbox.map((j) => j.id),
  ]);
  return createHash("sha256").update(state).digest("hex");
}

function digicertWrites(h: Harness): number {
  return h.sim.calls.filter((c) => c.method !== "GET").length;
}

describe("hostile input against every SCIM endpoint", () => {
  let h: Harness;
  let knownUser: string;
  let knownGroup: string;
  let server: Server;
  beforeAll(async () => {
    h = await startHarness({ platform: "certcentral", env: { LOG_LEVEL: "warn" } });
    // The production server (its parser limits and clientError answers), not supertest's bare one.
    server = createHttpServer(h.app);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    knownUser = (await h.post("/scim/v2/Users", oktaUser())).body.id;
    knownGroup = (await h.post("/scim/v2/Groups", { schemas: [GROUP_SCHEMA], displayName: "Fuzz Group", members: [{ value: knownUser }] })).body.id;
    await h.drain();
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await h.close();
  });

  test(`${RUNS} generated requests (seed ${SEED}): never 5xx; errors are SCIM errors that change nothing`, async () => {
    const seen = new Map<number, number>();
    const outcome = await fc.check(
      fc.asyncProperty(requestArb, async (r) => {
        const path = `/scim/v2${r.path.replace("KNOWN_USER", knownUser).replace("KNOWN_GROUP", knownGroup)}`;
        await h.drain(30_000);
        const before = await digestOf(h);
        const writesBefore = digicertWrites(h);
        let req = request(server)[r.method.toLowerCase() as "get"](path).set("Authorization", `Bearer ${TOKEN}`).timeout(20_000);
        if (r.raw !== undefined) req = req.set("Content-Type", r.contentType ?? "application/scim+json").send(r.raw);
        else if (r.body !== undefined) req = req.set("Content-Type", "application/scim+json").send(JSON.stringify(r.body));
        const res = await req;
        seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400 && r.method !== "HEAD") {
          expect(res.headers["content-type"]).toMatch(/application\/scim\+json/);
          expect(res.body.schemas).toEqual([ERROR_URN]);
          expect(res.body.status).toBe(String(res.status));
          expect(JSON.stringify(res.body)).not.toMatch(/at .*\.(ts|js):\d+/); // no stack trace
          await h.drain(30_000);
          expect(await digestOf(h)).toBe(before);
          expect(digicertWrites(h)).toBe(writesBefore);
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    if (outcome.failed) {
      // Counterexamples can be megabytes of filter or thousands of levels deep: keep the report readable.
      let example: string;
      try {
        example = JSON.stringify(outcome.counterexample);
      } catch {
        example = "(too deep to print)";
      }
      const cut = (t: string) => (t.length > 3000 ? `${t.slice(0, 1500)} … ${t.slice(-1000)}` : t);
      const e = outcome.errorInstance as { message?: string; stack?: string } | undefined;
      const why = `${e?.message ?? String(e)}\n${(e?.stack ?? "").split("\n").slice(1, 6).join("\n")}`;
      throw new Error(`failed after ${outcome.numRuns} runs (seed ${SEED}, path ${outcome.counterexamplePath}):\n${cut(why)}\ncounterexample: ${cut(example)}`);
    }
    console.log(`fuzz: ${RUNS} requests, seed ${SEED}; statuses ${JSON.stringify(Object.fromEntries([...seen].sort()))}`);
  });
});
