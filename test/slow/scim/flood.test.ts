import { startHarness, oktaUser, type Harness } from "../../support/harness";

// An IdP flooding creates at a DigiCert that enforces a tight limit (CertCentral's own 100 per 5 s window): the
// bridge accepts the writes into its outbox (answering 429 with Retry-After when the outbox is full, as Okta and
// Entra expect), paces DigiCert so it never answers 429 and creates every user once (the share of the limit used is benchmarked).

jest.setTimeout(300_000);

// 1000 creates are 2000 CertCentral calls (the availability check, then the POST): about 100 s at the limit.
const USERS = Number(process.env.FLOOD_USERS ?? 1000);
const CONCURRENCY = 25;
const LIMIT = { count: 100, windowMs: 5000 };
const MAX_PENDING = 500;

describe("a flood of creates under a tight DigiCert limit", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      platform: "certcentral",
      simulator: { rateLimit: [LIMIT] },
      env: {
        DIGICERT_RATE_LIMIT: `${LIMIT.count}/${LIMIT.windowMs}ms`,
        DIGICERT_TIMEOUT_MS: "10000",
        OUTBOX_MAX_PENDING: String(MAX_PENDING),
        // Accept at once, as a pure queue: the IdP's rate is then bounded only by the outbox bound.
        SYNC_WAIT_MS: "0",
        LOG_LEVEL: "info",
      },
    });
  });
  afterAll(async () => h.close());

  test(`${USERS} creates: no DigiCert 429, each user once, never above the limit`, async () => {
    const bodies = Array.from({ length: USERS }, () => oktaUser());
    const statuses: number[] = [];
    let backPressured = 0;
    let next = 0;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < bodies.length) {
          const body = bodies[next++];
          for (;;) {
            const res = await h.post("/scim/v2/Users", body);
            if (res.status !== 429) {
              statuses.push(res.status);
              break;
            }
            // What Okta does: wait as told, then send the same request again.
            backPressured++;
            await new Promise((r) => setTimeout(r, Number(res.headers["retry-after"]) * 1000));
          }
        }
      }),
    );
    const accepted = (Date.now() - started) / 1000;
    await h.drain(240_000);
    const seconds = (Date.now() - started) / 1000;
    const posts = h.sim.callsTo("certcentral", "POST", /^\/user$/);
    const rejected = h.sim.rateLimitedCount("certcentral");
    const peak = h.sim.observedRate("certcentral", LIMIT.windowMs);
    const spanMs = posts[posts.length - 1].at - posts[0].at;
    const average = posts.length / (spanMs / LIMIT.windowMs);
    console.log(
      `flood: ${USERS} creates accepted in ${accepted.toFixed(1)} s (${backPressured} answered 429 by the bridge), ` +
        `all in DigiCert after ${seconds.toFixed(1)} s; DigiCert limit ${LIMIT.count}/${LIMIT.windowMs} ms; ` +
        `DigiCert 429s ${rejected}; peak ${peak} per window (${((100 * peak) / LIMIT.count).toFixed(0)} %), ` +
        `average ${average.toFixed(1)} per window (${((100 * average) / LIMIT.count).toFixed(1)} %)`,
    );
    expect(statuses.filter((s) => s !== 201)).toEqual([]);
    expect(rejected).toBe(0);
    expect(posts).toHaveLength(USERS);
    const names = new Map<string, number>();
    for (const u of h.sim.listUsers("certcentral")) names.set(u.username, (names.get(u.username) ?? 0) + 1);
    for (const b of bodies) expect(names.get(b.userName as string)).toBe(1);
    const rows = await h.bridge.store.users.list({ anyOf: [[{ attr: "active", value: true }]] }, { offset: 0, limit: 0 });
    expect(rows.total).toBe(USERS);
    expect(peak).toBeLessThanOrEqual(LIMIT.count);
    // How much of the limit is used is a rate, measured by `npm run bench`, not asserted on a loaded CI machine.
    // The outbox bound held the IdP back rather than queueing without limit.
    expect(backPressured).toBeGreaterThan(0);
  });
});
