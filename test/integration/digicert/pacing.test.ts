import { startSimulator, Simulator } from "../../../src/simulator";
import { createPacer } from "../../../src/digicert/pacing";
import { clientFor } from "./support";

describe("pacing against the simulator", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.reset());

  test("a burst through a 5/1s limiter never exceeds 5 in any second at DigiCert", async () => {
    const { client } = clientFor(sim, "certcentral", { rateLimit: [{ count: 5, windowMs: 1000 }], maxConcurrent: 4 });
    const started = Date.now();
    await Promise.all(Array.from({ length: 12 }, () => client.ping()));
    expect(sim.callsTo("certcentral")).toHaveLength(12);
    // Arrival times are read in this same process, so a loaded event loop can bunch two arrivals that left 250 ms
    // apart: one call over the limit is measurement noise, not pacing (the rate itself is `npm run bench`'s). A
    // limiter that did nothing would put all 12 in one second.
    expect(sim.observedRate("certcentral", 1000)).toBeLessThanOrEqual(6);
    // 12 calls at ≤5/s cannot finish in under ~1.4 s; a limiter that does nothing would take milliseconds.
    expect(Date.now() - started).toBeGreaterThan(1400);
    await client.close();
  });

  test("two windows both hold (3/300ms and 6/2s)", async () => {
    const { client } = clientFor(sim, "one", {
      rateLimit: [
        { count: 3, windowMs: 300 },
        { count: 6, windowMs: 2000 },
      ],
    });
    await Promise.all(Array.from({ length: 9 }, () => client.ping()));
    // One call of slack for arrivals bunched by a loaded event loop, as above; unpaced, all 9 land in 300 ms.
    expect(sim.observedRate("one", 300)).toBeLessThanOrEqual(3);
    expect(sim.observedRate("one", 2000)).toBeLessThanOrEqual(7);
    await client.close();
  });

  test("without pacing the same burst does exceed the window (the measurement can fail)", async () => {
    await Promise.all(
      Array.from({ length: 12 }, () => fetch(`${sim.certcentralBaseUrl}/user/me`, { headers: { "X-DC-DEVKEY": sim.apiKey } })),
    );
    expect(sim.observedRate("certcentral", 1000)).toBeGreaterThan(5);
  });

  test("maxConcurrent caps in-flight calls", async () => {
    const { client } = clientFor(sim, "certcentral", { maxConcurrent: 2, rateLimit: [{ count: 1000, windowMs: 1000 }] });
    sim.failNext({ platform: "certcentral", method: "GET", delayMs: 150, times: 6 });
    const started = Date.now();
    await Promise.all(Array.from({ length: 6 }, () => client.ping()));
    // 6 calls of 150 ms, 2 at a time → ≥ 3 rounds.
    expect(Date.now() - started).toBeGreaterThanOrEqual(440);
    await client.close();
  });
});

const redisUrl = process.env.TEST_REDIS_URL;
if (!redisUrl) {
  // eslint-disable-next-line no-console
  console.log("Skipping the Redis-shared DigiCert limiter test: set TEST_REDIS_URL (e.g. redis://127.0.0.1:6379) to run it.");
}
(redisUrl ? describe : describe.skip)("Redis-shared pacing (TEST_REDIS_URL)", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());

  test("two replicas with the same key share one 5/1s budget", async () => {
    const keyId = `test-${Date.now()}-${Math.random()}`;
    const a = createPacer({ windows: [{ count: 5, windowMs: 1000 }], redisUrl, keyId });
    const b = createPacer({ windows: [{ count: 5, windowMs: 1000 }], redisUrl, keyId });
    expect(a.clustered).toBe(true);
    const hit = () => fetch(`${sim.certcentralBaseUrl}/user/me`, { headers: { "X-DC-DEVKEY": sim.apiKey } }).then((r) => r.status);
    try {
      const statuses = await Promise.all([
        ...Array.from({ length: 6 }, () => a.schedule(hit)),
        ...Array.from({ length: 6 }, () => b.schedule(hit)),
      ]);
      expect(statuses.every((s) => s === 200)).toBe(true);
      expect(sim.observedRate("certcentral", 1000)).toBeLessThanOrEqual(5);
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
