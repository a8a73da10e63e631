// Issue 22's acceptance on PostgreSQL: two bridge replicas (two buildBridge on one schema) serving two tenants,
// acme (CertCentral) and globex (DigiCert ONE), and a fan-out tenant, each tenant with its own DigiCert simulator.
// A conformance-style sequence runs for every tenant at once, its requests alternating between the replicas; then
// globex's DigiCert goes down, and acme's provisioning must go on as if nothing happened while globex's writes
// are accepted as pending, to be delivered once its DigiCert is back. Asserts are about outcomes, never timing.
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { randomUUID } from "node:crypto";
import type { Simulator } from "../../../src/simulator/types";
import { runOktaSequence } from "../../conformance/okta-sequence";
import { DC_EXT, oktaUser, PATCH_OP, PUBLIC_BASE_URL } from "../../support/harness";
import { dropSchema, PG_URL, uniqueSchema } from "../../support/databases";
import { writeMapping } from "../../support/mapping";
import { drainTenants, startTenantBridge, startTenantSimulator, type TenantBridge, type TenantSpec } from "../../support/tenancy";

if (!PG_URL) console.warn("Tenancy replica tests skipped: they need TEST_DATABASE_URL");
const describePg = PG_URL ? describe : describe.skip;

jest.setTimeout(180_000);

const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";

interface Replica {
  t: TenantBridge;
  server: Server;
  /** http://127.0.0.1:<port> */
  url: string;
}

interface Answer {
  status: number;
  body: any;
  location: string | null;
}

async function listen(t: TenantBridge): Promise<Replica> {
  const server = t.app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  return { t, server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const basePath = (tenant: string) => `/t/${tenant}/scim/v2`;

/** One tenant's client over real HTTP, its n-th request sent to replica n mod 2 (a round-robin load balancer). */
function tenantClient(replicas: Replica[], tenant: string, token: string) {
  let n = 0;
  const call = async (method: string, path: string, body?: unknown): Promise<Answer> => {
    const r = replicas[n++ % replicas.length];
    const res = await fetch(`${r.url}${basePath(tenant)}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/scim+json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, location: res.headers.get("location") };
  };
  return { call };
}

/** The DigiCert users with access a simulator holds under this name (either platform's field; ONE keeps disabled and deleted users listed). */
const held = (sim: Simulator, platform: "certcentral" | "one", userName: string) =>
  sim
    .listUsers(platform)
    .filter((u: any) => String(u.username ?? u.user_name).toLowerCase() === userName.toLowerCase())
    .filter((u: any) => !["DISABLED", "DELETED"].includes(String(u.status ?? "").toUpperCase()));

/**
 * The lifecycle an IdP puts a tenant's users and groups through (as test/conformance/* do), each step checked by
 * its answer: create, read, filter, list, PATCH, PUT, groups with members, deactivate, delete.
 */
async function lifecycle(replicas: Replica[], tenant: string, token: string, tag: string) {
  const c = tenantClient(replicas, tenant, token);
  const own = `${PUBLIC_BASE_URL}${basePath(tenant)}/`;
  const names = [`${tag}.one@example.com`, `${tag}.two@example.com`, `${tag}.gone@example.com`];
  const ids: string[] = [];
  for (const name of names) {
    const res = await c.call("POST", "/Users", oktaUser(name));
    expect([tenant, res.status]).toEqual([tenant, 201]);
    expect(res.location).toBe(res.body.meta.location);
    expect(res.location!.startsWith(own)).toBe(true);
    // The answer waits for the tenant's primary target only: a fan-out tenant's other targets may still be pending.
    const ext = res.body[DC_EXT];
    expect([tenant, ext.targets ? ext.targets[0].syncState : ext.syncState]).toEqual([tenant, "synced"]);
    ids.push(res.body.id);
  }
  const [one, two, gone] = ids;
  expect((await c.call("GET", `/Users/${one}`)).body.userName).toBe(names[0]);
  const found = await c.call("GET", `/Users?filter=${encodeURIComponent(`userName eq "${names[1].toUpperCase()}"`)}`);
  expect(found.body.Resources.map((r: any) => r.id)).toEqual([two]);
  const list = await c.call("GET", "/Users?count=200");
  expect(list.body.Resources.map((r: any) => r.id)).toEqual(expect.arrayContaining(ids));
  for (const r of list.body.Resources) expect(r.meta.location.startsWith(own)).toBe(true);

  const patched = await c.call("PATCH", `/Users/${one}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "name.familyName", value: "Byron" }] });
  expect([tenant, patched.status, patched.body.name.familyName]).toEqual([tenant, 200, "Byron"]);
  const put = await c.call("PUT", `/Users/${two}`, oktaUser(names[1], { title: "Analyst", name: { givenName: "Mary", familyName: "Somerville" } }));
  expect([tenant, put.status, put.body.title]).toEqual([tenant, 200, "Analyst"]);

  const group = await c.call("POST", "/Groups", { schemas: [GROUP], displayName: `DigiCert Admins`, members: [{ value: one }] });
  expect([tenant, group.status]).toEqual([tenant, 201]);
  expect(group.body.meta.location.startsWith(own)).toBe(true);
  expect((await c.call("PATCH", `/Groups/${group.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: "add", path: "members", value: [{ value: two }] }] })).status).toBe(204);
  const read = await c.call("GET", `/Groups/${group.body.id}`);
  expect(read.body.members.map((m: any) => m.value).sort()).toEqual([one, two].sort());
  expect((await c.call("PATCH", `/Groups/${group.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: "remove", path: `members[value eq "${two}"]` }] })).status).toBe(204);
  const filtered = await c.call("GET", `/Groups?filter=${encodeURIComponent(`members.value eq "${one}"`)}`);
  expect(filtered.body.Resources.map((g: any) => g.id)).toEqual([group.body.id]);

  const off = await c.call("PATCH", `/Users/${two}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "active", value: false }] });
  expect([tenant, off.status, off.body.active]).toEqual([tenant, 200, false]);
  expect((await c.call("DELETE", `/Users/${gone}`)).status).toBe(204);
  expect((await c.call("GET", `/Users/${gone}`)).status).toBe(404);
  expect((await c.call("DELETE", `/Groups/${group.body.id}`)).status).toBe(204);
  expect((await c.call("GET", `/Groups/${group.body.id}`)).status).toBe(404);
  return { names, ids, groupId: group.body.id as string };
}

describePg("tenants on two replicas sharing PostgreSQL", () => {
  const tokens = { acme: `acme-${randomUUID()}`, globex: `globex-${randomUUID()}`, multi: `multi-${randomUUID()}` };
  const pgSchema = uniqueSchema("tenancy_replicas");
  let simA: Simulator;
  let simG: Simulator;
  let simM1: Simulator;
  let simM2: Simulator;
  let replicas: Replica[] = [];

  beforeAll(async () => {
    [simA, simG, simM1, simM2] = await Promise.all([startTenantSimulator(), startTenantSimulator(), startTenantSimulator(), startTenantSimulator()]);
    const ccMapping = writeMapping(`default: ["Standard User"]\nrules:\n  - group: "DigiCert Admins"\n    roles: ["Administrator"]\n`);
    const oneMapping = writeMapping(`default: ["Default User"]\nrules:\n  - group: "DigiCert Admins"\n    roles: ["Account Admin"]\n`);
    const specs: TenantSpec[] = [
      { id: "acme", platform: "certcentral", token: tokens.acme, sim: simA, mapping: ccMapping },
      { id: "globex", platform: "one", token: tokens.globex, sim: simG, mapping: oneMapping },
      // Fan-out: one IdP, two DigiCert accounts, each with its own mapping.
      { id: "multi", platform: "certcentral", token: tokens.multi, sim: simM1, mapping: ccMapping, moreTargets: [{ name: "one-eu", platform: "one", sim: simM2, mapping: oneMapping }] },
    ];
    // A short circuit cool-down: a DigiCert back up is tried again soon (the outcome, not its timing, is tested).
    const env = { DATABASE_URL: PG_URL, SYNC_WAIT_MS: "3000", OUTBOX_MAX_ATTEMPTS: "1000", DIGICERT_CIRCUIT_COOLDOWN_MS: "1000", LOG_LEVEL: "info" };
    // One after the other: the second finds the schema migrated (both at once is the store tests' business).
    for (let i = 0; i < 2; i++) replicas.push(await listen(await startTenantBridge(specs, { env, pgSchema })));
  });

  afterAll(async () => {
    for (const r of replicas) {
      await new Promise<void>((resolve) => r.server.close(() => resolve()));
      await r.t.close();
    }
    await Promise.all([simA, simG, simM1, simM2].map((s) => s?.close()));
    await dropSchema(pgSchema);
  });

  const drain = (only?: string[]) => drainTenants(replicas[0].t.bridge, 60_000, only);

  test("the conformance sequence passes for every tenant at once, alternating replicas; each tenant's DigiCert gets its own users only", async () => {
    const tag = (t: string) => `${t}-${Date.now()}`;
    const [a, g, m] = await Promise.all([
      lifecycle(replicas, "acme", tokens.acme, tag("acme")),
      lifecycle(replicas, "globex", tokens.globex, tag("globex")),
      lifecycle(replicas, "multi", tokens.multi, tag("multi")),
      // Okta's own spec sequence, each tenant against one replica.
      ...(["acme", "globex", "multi"] as const).map(async (t, i) => {
        const results = await runOktaSequence(`${replicas[i % 2].url}${basePath(t)}`, tokens[t]);
        expect([t, results.filter((r) => !r.ok)]).toEqual([t, []]);
      }),
    ]);
    await drain();
    // Users were created at their tenant's DigiCert, once, and nowhere else.
    const createdAt = (sim: Simulator, platform: "certcentral" | "one") =>
      sim.callsTo(platform, "POST", /^\/user$/).map((c) => String(c.body.username ?? c.body.user_name).toLowerCase());
    const everywhere = { acme: createdAt(simA, "certcentral"), globex: createdAt(simG, "one"), multi: createdAt(simM1, "certcentral"), multiSecond: createdAt(simM2, "one") };
    // The fan-out tenant's users at both its targets, once each.
    for (const [owners, names] of [[["acme"], a.names], [["globex"], g.names], [["multi", "multiSecond"], m.names]] as const) {
      for (const name of names) {
        const where = Object.entries(everywhere).flatMap(([sim, list]) => list.filter((n) => n === name).map(() => sim));
        expect([name, where]).toEqual([name, owners]);
      }
    }
    expect(held(simM2, "one", m.names[0])).toHaveLength(1);
    expect(held(simM2, "one", m.names[2])).toEqual([]);
    // The active user is held by its DigiCert; the deactivated one lost its access there.
    expect(held(simA, "certcentral", a.names[0])).toHaveLength(1);
    expect(held(simM1, "certcentral", m.names[0])).toHaveLength(1);
    expect(held(simG, "one", g.names[0])).toHaveLength(1);
    expect(held(simA, "certcentral", a.names[1])).toEqual([]);
    expect(held(simG, "one", g.names[1])).toEqual([]);
    // Deletes reached the right DigiCert.
    expect(held(simA, "certcentral", a.names[2])).toEqual([]);
    expect(held(simG, "one", g.names[2])).toEqual([]);
    // The deactivated user's access is gone at its own DigiCert.
    const two = await replicas[1].t.bridge.tenants.get("acme")!.store.users.getById(a.ids[1]);
    expect(two!.active).toBe(false);
    for (const [tenant, ids] of [["acme", a.ids], ["globex", g.ids], ["multi", m.ids]] as const) {
      const store = replicas[0].t.bridge.tenants.get(tenant)!.store;
      for (const id of ids.slice(0, 2)) expect([tenant, (await store.users.getById(id))!.syncState]).toEqual([tenant, "synced"]);
      expect([tenant, (await store.outbox.stats()).failed]).toEqual([tenant, 0]);
    }
  });

  test("globex's DigiCert down: acme's writes answer synced and reach acme's DigiCert, globex's answer pending; delivered once it is back", async () => {
    const acme = tenantClient(replicas, "acme", tokens.acme);
    const globex = tenantClient(replicas, "globex", tokens.globex);
    simG.failNext({ platform: "one", network: "reset", times: 1_000_000 });
    simA.clearCalls();
    simG.clearCalls();
    const stamp = Date.now();
    const acmeNames = Array.from({ length: 4 }, (_, i) => `acme.during.${i}.${stamp}@example.com`);
    const globexNames = Array.from({ length: 4 }, (_, i) => `globex.during.${i}.${stamp}@example.com`);
    const [acmeAnswers, globexAnswers] = await Promise.all([
      (async () => {
        const out: Answer[] = [];
        for (const name of acmeNames) out.push(await acme.call("POST", "/Users", oktaUser(name)));
        // An update too, while globex is still down.
        out.push(await acme.call("PATCH", `/Users/${out[0].body.id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "title", value: "Engineer" }] }));
        return out;
      })(),
      Promise.all(globexNames.map((name) => globex.call("POST", "/Users", oktaUser(name)))),
    ]);
    for (const r of acmeAnswers) {
      expect(r.status).toBeLessThan(300);
      expect(r.body[DC_EXT].syncState).toBe("synced");
    }
    for (const name of acmeNames) expect([name, held(simA, "certcentral", name).length]).toEqual([name, 1]);
    expect(simA.getUser("certcentral", acmeAnswers[4].body[DC_EXT].digicertUserId).job_title).toBe("Engineer");
    for (const r of globexAnswers) {
      expect(r.status).toBe(201);
      expect(r.body[DC_EXT].syncState).toBe("pending");
    }
    // acme's queue is empty while globex's waits.
    await drain(["acme"]);
    const globexStore = replicas[0].t.bridge.tenants.get("globex")!.store;
    expect((await globexStore.outbox.stats()).pending + (await globexStore.outbox.stats()).running).toBeGreaterThanOrEqual(globexNames.length);

    // Back up: globex's writes are delivered, each once.
    simG.clearFaults();
    await drain(["globex"]);
    for (const name of globexNames) expect([name, held(simG, "one", name).length]).toEqual([name, 1]);
    for (const r of globexAnswers) expect((await globexStore.users.getById(r.body.id))!.syncState).toBe("synced");
    expect((await globexStore.outbox.stats()).failed).toBe(0);
    // And nothing of either tenant reached the other's DigiCert.
    for (const name of acmeNames) expect(held(simG, "one", name)).toEqual([]);
    for (const name of globexNames) expect(held(simA, "certcentral", name)).toEqual([]);
  });

  test("fan-out: each of the tenant's targets gets its users; one target down does not hold the other", async () => {
    const multi = tenantClient(replicas, "multi", tokens.multi);
    const name = `fanout.${Date.now()}@example.com`;
    const made = await multi.call("POST", "/Users", oktaUser(name));
    expect(made.status).toBe(201);
    await drain(["multi"]);
    expect(held(simM1, "certcentral", name)).toHaveLength(1);
    expect(held(simM2, "one", name)).toHaveLength(1);

    simM2.failNext({ platform: "one", network: "reset", times: 1_000_000 });
    const during = `fanout.during.${Date.now()}@example.com`;
    const res = await multi.call("POST", "/Users", oktaUser(during));
    expect(res.status).toBe(201);
    // The primary target is not held up by the one that is down: its queue empties.
    const primary = replicas[0].t.bridge.tenants.get("multi")!.targets[0];
    for (let s = await primary.store.outbox.stats(); s.pending + s.running > 0; s = await primary.store.outbox.stats()) {
      primary.worker.kick();
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(held(simM1, "certcentral", during)).toHaveLength(1);
    expect(held(simM2, "one", during)).toHaveLength(0);
    simM2.clearFaults();
    await drain(["multi"]);
    const second = replicas[0].t.bridge.tenants.get("multi")!.targets[1];
    expect((await second.store.outbox.stats()).pending).toBe(0);
    expect(held(simM2, "one", during)).toHaveLength(1);
  });
});
