// The DigiCert layer's metric hooks: every attempt reported with its route template and status (HTTP status,
// network, timeout, circuit_open), and every rate-limiter wait; a hook that throws never breaks a call.
import { startSimulator, Simulator, ONE_DEFAULT_ACCOUNT } from "../../../src/simulator";
import {
  createDigiCertClient,
  type DigiCertCallObservation,
  type DigiCertClientConfig,
  type DigiCertObservers,
  type Platform,
} from "../../../src/digicert";
import { captureLogger, expectDigiCertError } from "./support";

describe.each(["certcentral", "one"] as const)("DigiCert observers (%s)", (platform: Platform) => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.reset());

  function make(extra: Partial<DigiCertClientConfig> = {}, observers?: DigiCertObservers) {
    const calls: DigiCertCallObservation[] = [];
    const waits: number[] = [];
    const client = createDigiCertClient(
      {
        platform,
        apiKey: sim.apiKey,
        baseUrl: platform === "certcentral" ? sim.certcentralBaseUrl : sim.oneBaseUrl,
        timeoutMs: 2000,
        rateLimit: [{ count: 1000, windowMs: 1000 }],
        retryBaseDelayMs: 20,
        ...(platform === "one" ? { oneAccountId: ONE_DEFAULT_ACCOUNT } : {}),
        ...extra,
      },
      captureLogger().logger,
      observers ?? { call: (c) => calls.push(c), pacing: { waited: (s) => waits.push(s) } },
    );
    return { client, calls, waits };
  }
  const seed = (): string =>
    String(
      platform === "certcentral"
        ? sim.seedUser("certcentral", { username: "seeded.user" }).id
        : sim.seedUser("one", { user_name: "seeded.user" }).id,
    );
  const brief = (c: DigiCertCallObservation) => `${c.method} ${c.endpoint} ${c.status}`;

  test("each attempt is reported once with its route template, status and time; retries count", async () => {
    const { client, calls, waits } = make();
    const id = seed();
    sim.failNext({ platform, method: "PUT", status: 503, headers: { "Retry-After": "0" } });
    await client.updateUser(id, { username: "seeded.user", firstName: "A", lastName: "B", email: "a@example.com" });
    await client.getUser(id);
    await client.findUserByUsername("seeded.user");
    const ok = platform === "certcentral" ? 204 : 200;
    // ONE reads the user before writing it back whole (read-merge-write).
    const read = platform === "one" ? ["GET /user/{id} 200"] : [];
    expect(calls.map(brief)).toEqual([...read, `PUT /user/{id} 503`, `PUT /user/{id} ${ok}`, "GET /user/{id} 200", "GET /user 200"]);
    expect(calls.every((c) => c.platform === platform && c.seconds >= 0 && c.seconds < 2)).toBe(true);
    // Every attempt went through the rate limiter once.
    expect(waits).toHaveLength(sim.calls.length);
    expect(waits.every((s) => s >= 0 && s < 1)).toBe(true);
    await client.close();
  });

  test("a dropped connection is network, a slow answer is timeout, and the open circuit is circuit_open", async () => {
    const { client, calls } = make({ timeoutMs: 300, maxRetries: 0, circuitThreshold: 2, circuitCooldownMs: 60_000 });
    const id = seed();
    sim.failNext({ platform, method: "GET", network: "reset" });
    await expectDigiCertError(client.getUser(id), "unavailable");
    sim.failNext({ platform, method: "GET", delayMs: 800 });
    await expectDigiCertError(client.getUser(id), "unavailable");
    // Two unavailable calls opened the circuit: the next one is refused without reaching DigiCert.
    const before = sim.calls.length;
    await expectDigiCertError(client.getUser(id), "unavailable");
    expect(sim.calls.length).toBe(before);
    expect(calls.map(brief)).toEqual(["GET /user/{id} network", "GET /user/{id} timeout", "GET /user/{id} circuit_open"]);
    expect(calls[1].seconds).toBeGreaterThanOrEqual(0.25);
    expect(calls[2].seconds).toBe(0);
    await client.close();
  });

  test("rate-limiter waits are reported and queued calls show in pacing()", async () => {
    // Two calls a second: a call starts about every 515 ms.
    const { client, waits } = make({ rateLimit: [{ count: 2, windowMs: 1000 }] });
    const id = seed();
    const running = [client.getUser(id), client.getUser(id), client.getUser(id)];
    await new Promise((r) => setTimeout(r, 100));
    expect(client.pacing()).toMatchObject({ mode: "local", queued: 2 });
    await Promise.all(running);
    expect(client.pacing().queued).toBe(0);
    expect(waits).toHaveLength(3);
    const sorted = [...waits].sort((a, b) => a - b);
    expect(sorted[0]).toBeLessThan(0.1);
    expect(sorted[1]).toBeGreaterThanOrEqual(0.45);
    expect(sorted[2]).toBeGreaterThanOrEqual(0.95);
    await client.close();
  });

  test("a hook that throws does not break the call", async () => {
    const boom = () => {
      throw new Error("metrics broke");
    };
    const { client } = make({}, { call: boom, pacing: { waited: boom } });
    const id = seed();
    await expect(client.getUser(id)).resolves.toMatchObject({ id });
    await client.close();
  });
});
