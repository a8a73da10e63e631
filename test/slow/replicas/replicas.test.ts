import { randomUUID } from "node:crypto";
import { openStore } from "../../../src/store";
import type { Store } from "../../../src/provisioning/ports";
import { oktaUser } from "../../support/harness";
import { freshPgSchema, REPLICA_TOKEN, scim, startReplica, type Replica } from "../../support/replicas";
import { startSimulator } from "../../../src/simulator";
import type { Simulator } from "../../../src/simulator/types";

// Several bridge processes behind one (simulated) load balancer, sharing PostgreSQL, Redis and DigiCert: what a
// large organisation runs. Each replica is a real process with its own outbox worker and pacer.

const PG = process.env.TEST_DATABASE_URL;
const REDIS = process.env.TEST_REDIS_URL;
if (!PG || !REDIS) console.warn("Multi-replica tests skipped: they need TEST_DATABASE_URL and TEST_REDIS_URL");
const describeReplicas = PG && REDIS ? describe : describe.skip;

jest.setTimeout(240_000);

const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const CONTAINER_ID = 1;

interface Cluster {
  sim: Simulator;
  store: Store;
  replicas: Replica[];
  env: Record<string, string>;
  add(name: string): Promise<Replica>;
  drain(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

async function startCluster(tag: string, count: number, opts: { rateLimit?: string; env?: Record<string, string> } = {}): Promise<Cluster> {
  // A key of its own: the Redis-shared budget is per API key, so clusters of different tests never share one.
  const apiKey = `replica-key-${randomUUID()}`;
  const windows = opts.rateLimit
    ? opts.rateLimit.split(",").map((w) => {
        const [count, span] = w.split("/");
        return { count: Number(count), windowMs: span.endsWith("ms") ? Number(span.slice(0, -2)) : Number(span.slice(0, -1)) * 1000 };
      })
    : undefined;
  const sim = await startSimulator({ port: 0, apiKey, certcentral: { containerId: CONTAINER_ID }, ...(windows ? { rateLimit: windows } : {}) });
  const schema = await freshPgSchema(PG!, tag);
  const env: Record<string, string> = {
    SCIM_BEARER_TOKENS: REPLICA_TOKEN,
    DIGICERT_PLATFORM: "certcentral",
    DIGICERT_API_KEY: apiKey,
    DIGICERT_BASE_URL: sim.certcentralBaseUrl,
    DIGICERT_CERTCENTRAL_CONTAINER_ID: String(CONTAINER_ID),
    DIGICERT_RATE_LIMIT: opts.rateLimit ?? "100000/1s",
    DIGICERT_MAX_CONCURRENT: "16",
    DATABASE_URL: schema.databaseUrl,
    REDIS_URL: REDIS!,
    BRIDGE_REPLICAS: String(count),
    OUTBOX_LEASE_MS: "3000",
    OUTBOX_RETRY_BASE_MS: "200",
    ...opts.env,
  };
  // All start at once on an empty schema, as after a deployment: the migration advisory lock lets one migrate.
  const replicas: Replica[] = await Promise.all(Array.from({ length: count }, (_, i) => startReplica(`${tag}-${i + 1}`, env)));
  const store = await openStore(schema.databaseUrl);
  return {
    sim,
    store,
    replicas,
    env,
    async add(name) {
      const r = await startReplica(name, env);
      replicas.push(r);
      return r;
    },
    async drain(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const s = await store.outbox.stats();
        if (s.pending + s.running === 0) return;
        if (Date.now() > deadline) throw new Error(`outbox not drained: ${JSON.stringify(s)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async close() {
      await Promise.all(replicas.map((r) => r.stop().catch(() => undefined)));
      await store.close();
      await sim.close();
      await schema.drop();
    },
  };
}

function liveUsers(sim: Simulator, userName: string): any[] {
  return sim.listUsers("certcentral").filter((u: any) => String(u.username).toLowerCase() === userName.toLowerCase());
}

/** Round-robin over the replicas with `concurrency` clients: what a load balancer in front of them does. */
async function flood<T>(replicas: Replica[], items: T[], concurrency: number, send: (r: Replica, item: T) => Promise<void>): Promise<number> {
  let next = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const i = next++;
        await send(replicas[i % replicas.length], items[i]);
      }
    }),
  );
  return (Date.now() - started) / 1000;
}

describeReplicas("several replicas on PostgreSQL and Redis", () => {
  let c: Cluster;
  beforeAll(async () => {
    c = await startCluster("main", 3);
  });
  afterAll(async () => c?.close());

  test("concurrent creates of one userName (any case) on two replicas: one 201, one 409 naming it, one DigiCert user", async () => {
    const [a, b] = c.replicas;
    for (let round = 0; round < 15; round++) {
      const body = oktaUser(`race${round}.${Date.now()}@example.com`);
      const upper = { ...body, userName: (body.userName as string).toUpperCase() };
      const results = await Promise.all([scim(a, "POST", "/Users", body), scim(b, "POST", "/Users", upper)]);
      const statuses = results.map((r) => r.status).sort();
      expect(statuses).toEqual([201, 409]);
      const winner = results.find((r) => r.status === 201)!;
      const loser = results.find((r) => r.status === 409)!;
      expect(loser.body).toMatchObject({ status: "409", scimType: "uniqueness" });
      expect(loser.body.detail).toContain(winner.body.id);
    }
    await c.drain();
    const names = new Map<string, number>();
    for (const u of c.sim.listUsers("certcentral")) {
      const n = String(u.username).toLowerCase();
      if (n.startsWith("race")) names.set(n, (names.get(n) ?? 0) + 1);
    }
    expect(names.size).toBe(15);
    for (const count of names.values()) expect(count).toBe(1);
  });

  test("concurrent membership PATCHes of one group from every replica lose no member change", async () => {
    const [a] = c.replicas;
    const users = await Promise.all(Array.from({ length: 45 }, () => scim(a, "POST", "/Users", oktaUser())));
    const ids = users.map((u) => u.body.id as string);
    const group = await scim(a, "POST", "/Groups", { schemas: [GROUP], displayName: `Shared ${randomUUID()}`, members: ids.slice(0, 5).map((value) => ({ value })) });
    expect(group.status).toBe(201);
    // 40 adds and 5 removes, all at once, spread over the replicas.
    const ops = [
      ...ids.slice(5).map((id) => ({ op: "add", path: "members", value: [{ value: id }] })),
      ...ids.slice(0, 5).map((id) => ({ op: "remove", path: `members[value eq "${id}"]` })),
    ];
    const statuses: number[] = [];
    await flood(c.replicas, ops, ops.length, async (r, op) => {
      statuses.push((await scim(r, "PATCH", `/Groups/${group.body.id}`, { schemas: [PATCH_OP], Operations: [op] })).status);
    });
    expect(statuses.every((s) => s === 204)).toBe(true);
    const read = await scim(c.replicas[2], "GET", `/Groups/${group.body.id}`);
    expect(new Set(read.body.members.map((m: any) => m.value))).toEqual(new Set(ids.slice(5)));
  });

  test("concurrent PATCHes of one user on different replicas are all applied, none undone", async () => {
    const created = await scim(c.replicas[0], "POST", "/Users", oktaUser());
    const changes: [string, string][] = [
      ["nickName", "Countess"],
      ["title", "Analyst"],
      ["userType", "Employee"],
      ["preferredLanguage", "en-GB"],
      ["locale", "en-GB"],
      ["timezone", "Europe/London"],
      ["profileUrl", "https://example.com/ada"],
      ["displayName", "Augusta Ada King"],
    ];
    const statuses: number[] = [];
    await flood(c.replicas, changes, changes.length, async (r, [attr, value]) => {
      const res = await scim(r, "PATCH", `/Users/${created.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", path: attr, value }] });
      statuses.push(res.status);
      if (res.status !== 200) console.log(`PATCH ${attr}: ${res.status} ${JSON.stringify(res.body)}`);
    });
    expect(statuses).toEqual(changes.map(() => 200));
    const read = await scim(c.replicas[1], "GET", `/Users/${created.body.id}`);
    for (const [attr, value] of changes) expect(read.body[attr]).toBe(value);
    await c.drain();
    const row = await c.store.users.getById(created.body.id);
    expect(row!.version).toBe(1 + changes.length);
    expect(c.sim.getUser("certcentral", row!.digicertId!).job_title).toBe("Analyst");
  });

  test("throughput: creates per second through 1, 2 and 3 replicas with DigiCert unthrottled", async () => {
    const figures: string[] = [];
    for (const n of [1, 2, 3]) {
      const bodies = Array.from({ length: 240 }, () => oktaUser());
      const statuses: number[] = [];
      const seconds = await flood(c.replicas.slice(0, n), bodies, 24, async (r, body) => {
        statuses.push((await scim(r, "POST", "/Users", body)).status);
      });
      expect(statuses.filter((s) => s !== 201)).toEqual([]);
      figures.push(`${n} replica${n > 1 ? "s" : ""}: ${(bodies.length / seconds).toFixed(0)} creates/s`);
    }
    await c.drain();
    console.log(`replica throughput (240 creates, 24 clients, each answered after DigiCert had the user): ${figures.join("; ")}`);
  });

  test("a replica killed during a burst of writes: nothing acknowledged is lost, nothing is created twice", async () => {
    const victim = await c.add("main-victim");
    const survivors = c.replicas.filter((r) => r !== victim);
    const bodies = Array.from({ length: 90 }, () => oktaUser());
    // DigiCert answers slowly, so the victim dies with jobs and requests in flight.
    c.sim.failNext({ platform: "certcentral", method: "POST", path: /^\/user$/, delayMs: 400, times: 40 });
    let sent = 0;
    const outcome = new Map<string, number>();
    const killer = (async () => {
      while (sent < 30) await new Promise((r) => setTimeout(r, 20));
      await victim.kill();
    })();
    await flood([victim, ...survivors], bodies, 12, async (first, body) => {
      sent++;
      let target = first;
      for (let attempt = 0; ; attempt++) {
        try {
          const res = await scim(target, "POST", "/Users", body);
          outcome.set(body.userName as string, res.status);
          return;
        } catch {
          // What the load balancer does when a replica is gone: the request goes to another one.
          target = survivors[attempt % survivors.length];
        }
      }
    });
    await killer;
    // A retried create whose first attempt was stored gets the 409 RFC 7644 asks for; either way it is stored.
    expect([...outcome.values()].every((s) => s === 201 || s === 409)).toBe(true);
    await c.drain(60_000);
    const resumed = (await c.store.outbox.list({ limit: 1000 })).filter((j) => j.attempts > 1).length;
    console.log(`killed replica: ${outcome.size} creates acknowledged, ${resumed} jobs taken over or retried by the survivors`);
    for (const body of bodies) {
      const name = body.userName as string;
      const row = await c.store.users.getByUserName(name);
      expect(row).not.toBeNull();
      expect(row!.syncState).toBe("synced");
      expect(liveUsers(c.sim, name)).toHaveLength(1);
      expect(String(liveUsers(c.sim, name)[0].id)).toBe(row!.digicertId);
    }
  });
});

describeReplicas("several replicas under a tight DigiCert limit", () => {
  // Spacing keeps a 3 % margin of each window for network jitter: on this busy 2-core machine (three replicas,
  // PostgreSQL, Redis and the simulator) a 2 s window leaves too little of it; CertCentral's shortest is 5 s.
  const LIMIT = { count: 60, windowMs: 4000 };
  let c: Cluster;
  beforeAll(async () => {
    c = await startCluster("paced", 3, { rateLimit: `${LIMIT.count}/${LIMIT.windowMs}ms`, env: { SYNC_WAIT_MS: "0" } });
  });
  afterAll(async () => c?.close());

  test("the combined DigiCert rate of three replicas stays under the limit through the Redis-shared budget", async () => {
    const bodies = Array.from({ length: 150 }, () => oktaUser());
    const statuses: number[] = [];
    await flood(c.replicas, bodies, 30, async (r, body) => {
      statuses.push((await scim(r, "POST", "/Users", body)).status);
    });
    expect(statuses.filter((s) => s !== 201)).toEqual([]);
    await c.drain(120_000);
    const posts = c.sim.callsTo("certcentral", "POST", /^\/user$/);
    const peak = c.sim.observedRate("certcentral", LIMIT.windowMs);
    const average = posts.length / ((posts[posts.length - 1].at - posts[0].at) / LIMIT.windowMs);
    console.log(
      `replicas under a limit of ${LIMIT.count}/${LIMIT.windowMs} ms: DigiCert 429s ${c.sim.rateLimitedCount("certcentral")}, ` +
        `peak ${peak} per window, average ${average.toFixed(1)} per window (${((100 * average) / LIMIT.count).toFixed(0)} %)`,
    );
    expect(c.sim.rateLimitedCount("certcentral")).toBe(0);
    expect(peak).toBeLessThanOrEqual(LIMIT.count);
    expect(posts).toHaveLength(bodies.length);
    for (const body of bodies) expect(liveUsers(c.sim, body.userName as string)).toHaveLength(1);
  });
});
