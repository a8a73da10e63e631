import { startHarness, oktaUser, type Harness } from "../../support/harness";

// A burst of creates against a DigiCert that enforces a tight limit: the bridge paces itself so DigiCert never
// answers 429, every user is created once, and the limit is used almost fully.

jest.setTimeout(120_000);

const USERS = 300;
const CONCURRENCY = 25;
const LIMIT = { count: 20, windowMs: 1000 };

describe("a flood of creates under a tight DigiCert limit", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      platform: "certcentral",
      simulator: { rateLimit: [LIMIT] },
      env: { DIGICERT_RATE_LIMIT: `${LIMIT.count}/${LIMIT.windowMs}ms`, DIGICERT_TIMEOUT_MS: "10000" },
    });
  });
  afterAll(async () => h.close());

  test(`${USERS} creates: no DigiCert 429, each user once, the limit used to at least 90 %`, async () => {
    const bodies = Array.from({ length: USERS }, () => oktaUser());
    const statuses: number[] = [];
    let next = 0;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < bodies.length) {
          const body = bodies[next++];
          statuses.push((await h.post("/scim/v2/Users", body)).status);
        }
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    const posts = h.sim.callsTo("certcentral", "POST", /^\/user$/);
    const peak = h.sim.observedRate("certcentral", LIMIT.windowMs);
    const average = posts.length / ((posts[posts.length - 1].at - posts[0].at) / LIMIT.windowMs);
    console.log(
      `flood: ${USERS} creates in ${seconds.toFixed(1)} s; DigiCert limit ${LIMIT.count}/${LIMIT.windowMs} ms; ` +
        `peak ${peak} per window (${((100 * peak) / LIMIT.count).toFixed(0)} %), average ${average.toFixed(1)} per window ` +
        `(${((100 * average) / LIMIT.count).toFixed(0)} %)`,
    );
    expect(statuses.filter((s) => s !== 201)).toEqual([]);
    expect(posts).toHaveLength(USERS);
    const names = new Set(h.sim.listUsers("certcentral").map((u: any) => u.username));
    for (const b of bodies) expect(names.has(b.userName)).toBe(true);
    expect(peak).toBeLessThanOrEqual(LIMIT.count);
    expect(peak).toBeGreaterThanOrEqual(0.9 * LIMIT.count);
    expect(average).toBeGreaterThanOrEqual(0.85 * LIMIT.count);
  });
});
