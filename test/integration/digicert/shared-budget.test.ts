// One DigiCert API key, one rate budget in the process: two clients of the same key (two targets, of one tenant or
// of several) draw on one pacer, so together they stay within the key's limit; clients of different keys do not
// share. Counts at the simulator, in rolling windows; no assertion on how long anything took.
import { createDigiCertClient, type DigiCertClientConfig } from "../../../src/digicert";
import { activeBudgets } from "../../../src/digicert/pacing";
import { silentLogger } from "../../../src/log/logger";
import { startSimulator, type Simulator } from "../../../src/simulator";

jest.setTimeout(30_000);

/** 3 calls per second: the pacer spaces call starts (1000 + 250 ms) / 3 = 417 ms apart. */
const LIMIT = { count: 3, windowMs: 1000 };

describe("the rate budget of one API key is shared by every client of it in the process", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.reset());

  const client = (apiKey: string, waits?: number[]) =>
    createDigiCertClient(
      { platform: "certcentral", apiKey, baseUrl: sim.certcentralBaseUrl, timeoutMs: 5000, rateLimit: [LIMIT], maxConcurrent: 4 } as DigiCertClientConfig,
      silentLogger(),
      waits ? { pacing: { waited: (s) => void waits.push(s) } } : {},
    );

  test("two clients of one key: 8 calls together keep to 3 per second at DigiCert", async () => {
    const waitsA: number[] = [];
    const waitsB: number[] = [];
    const a = client(sim.apiKey, waitsA);
    const b = client(sim.apiKey, waitsB);
    try {
      expect(activeBudgets()).toBe(1);
      await Promise.all([...Array.from({ length: 4 }, () => a.ping()), ...Array.from({ length: 4 }, () => b.ping())]);
      expect(sim.callsTo("certcentral")).toHaveLength(8);
      // Each of them alone would start 3 calls in the first second, 6 together. One call of slack, as in
      // pacing.test.ts: arrivals are stamped in this process, whose loaded event loop can bunch two of them.
      expect(sim.observedRate("certcentral", LIMIT.windowMs)).toBeLessThanOrEqual(LIMIT.count + 1);
      // Over the whole run too: 8 calls spaced by one budget span at least 7 intervals (~2.9 s), so no 2 s holds more
      // than 5 (+1); two budgets would have put all 8 within 1.3 s.
      expect(sim.observedRate("certcentral", 2 * LIMIT.windowMs)).toBeLessThanOrEqual(2 * LIMIT.count);
      // Each client is told of its own calls' waits only (its metrics' labels).
      expect(waitsA).toHaveLength(4);
      expect(waitsB).toHaveLength(4);
    } finally {
      await a.close();
      await b.close();
    }
    expect(activeBudgets()).toBe(0);
  });

  test("closing one client leaves the other's budget working", async () => {
    const a = client(sim.apiKey);
    const b = client(sim.apiKey);
    await a.close();
    expect(activeBudgets()).toBe(1);
    await expect(b.ping()).resolves.toBeUndefined();
    await expect(a.ping()).rejects.toMatchObject({ kind: "unavailable" });
    await b.close();
    expect(activeBudgets()).toBe(0);
    expect(sim.callsTo("certcentral")).toHaveLength(1);
  });

  test("two clients of different keys do not share: together they go past one key's limit", async () => {
    const a = client(sim.apiKey);
    // The simulator refuses this key (401), but each call still reaches it and is counted.
    const b = client("another-key-0123456789");
    try {
      expect(activeBudgets()).toBe(2);
      await Promise.allSettled([...Array.from({ length: 3 }, () => a.ping()), ...Array.from({ length: 3 }, () => b.ping())]);
      expect(sim.callsTo("certcentral")).toHaveLength(6);
      // Each key's 3 calls fit its own second; the two budgets side by side put more than 3 into one.
      expect(sim.observedRate("certcentral", LIMIT.windowMs)).toBeGreaterThan(LIMIT.count);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
