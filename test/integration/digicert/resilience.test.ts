// Retry policy and circuit breaker of the shared DigiCert caller, over real HTTP against the simulator.
import { startSimulator, Simulator, ONE_DEFAULT_ACCOUNT } from "../../../src/simulator";
import type { DigiCertClientConfig, DigiCertUserInput, Platform } from "../../../src/digicert";
import { clientFor, expectDigiCertError, flush } from "./support";

const input: DigiCertUserInput = { username: "r.user", firstName: "R", lastName: "User", email: "r@example.com" };

// Fast backoff so the suite stays quick; the 5 s floor after a 429 is checked separately with its default.
const FAST: Partial<DigiCertClientConfig> = { retryBaseDelayMs: 20, rateLimitBackoffMs: 150 };

describe.each(["certcentral", "one"] as const)("retries and circuit breaker (%s)", (platform: Platform) => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.reset());

  const roles = platform === "certcentral" ? ["5"] : ["AM_DEFAULT_USER"];
  const make = (extra: Partial<DigiCertClientConfig> = {}) =>
    clientFor(sim, platform, { ...(platform === "one" ? { oneAccountId: ONE_DEFAULT_ACCOUNT } : {}), ...FAST, ...extra });
  const seed = (): string =>
    String(
      platform === "certcentral"
        ? sim.seedUser("certcentral", { username: "seeded.user" }).id
        : sim.seedUser("one", { user_name: "seeded.user" }).id,
    );
  const retryLines = (lines: any[]) => lines.filter((l) => l.message === "digicert retry");

  describe("retry policy", () => {
    test("PUT answered 503 with Retry-After: 1 twice → succeeds on the 3rd call, ≈1 s after each", async () => {
      const { client, lines } = make();
      const id = seed();
      sim.failNext({ platform, method: "PUT", status: 503, headers: { "Retry-After": "1" }, times: 2 });
      await client.updateUser(id, { ...input, firstName: "Changed" });
      const puts = sim.callsTo(platform, "PUT");
      expect(puts).toHaveLength(3);
      for (const [a, b] of [
        [0, 1],
        [1, 2],
      ]) {
        const gap = puts[b].at - puts[a].at;
        expect(gap).toBeGreaterThanOrEqual(950);
        expect(gap).toBeLessThan(1600);
      }
      await flush();
      const retries = retryLines(lines);
      expect(retries).toEqual([
        expect.objectContaining({ platform, method: "PUT", path: `/user/${id}`, attempt: 1, reason: "503", waitMs: 1000 }),
        expect.objectContaining({ platform, method: "PUT", path: `/user/${id}`, attempt: 2, reason: "503", waitMs: 1000 }),
      ]);
      expect(JSON.stringify(lines)).not.toContain(sim.apiKey);
      await client.close();
    });

    test("other 5xx and 408 on GET are retried with backoff until success", async () => {
      const { client, lines } = make();
      sim.failNext({ platform, method: "GET", status: 502 });
      sim.failNext({ platform, method: "GET", status: 408 });
      sim.failNext({ platform, method: "GET", status: 503 }); // no Retry-After: exponential like any 5xx
      await client.ping();
      expect(sim.callsTo(platform, "GET", "/user/me")).toHaveLength(4);
      await flush();
      expect(retryLines(lines).map((l) => l.reason)).toEqual(["502", "408", "503"]);
      await client.close();
    });

    test("retries stop after DIGICERT_MAX_RETRIES: the last error surfaces", async () => {
      const { client } = make({ maxRetries: 2 });
      sim.failNext({ platform, method: "GET", status: 500, times: 5 });
      const e = await expectDigiCertError(client.ping(), "unavailable");
      expect(e.status).toBe(500);
      expect(sim.callsTo(platform, "GET", "/user/me")).toHaveLength(3);
      await client.close();
    });

    test("maxRetries 0 → no retry at all", async () => {
      const { client } = make({ maxRetries: 0 });
      sim.failNext({ platform, method: "GET", status: 502 });
      await expectDigiCertError(client.ping(), "unavailable");
      expect(sim.callsTo(platform, "GET")).toHaveLength(1);
      await client.close();
    });

    test.each(["GET", "PUT", "DELETE"] as const)("connection reset on %s → retried", async (method) => {
      const { client, lines } = make();
      const id = seed();
      sim.failNext({ platform, method, network: "reset" });
      await run(client, method, id);
      expect(sim.callsTo(platform, method, `/user/${id}`)).toHaveLength(2);
      await flush();
      expect(retryLines(lines)).toEqual([expect.objectContaining({ method, reason: "connection reset", attempt: 1 })]);
      await client.close();
    });

    test.each(["GET", "PUT", "DELETE"] as const)("timeout on %s → retried", async (method) => {
      const { client, lines } = make({ timeoutMs: 100 });
      const id = seed();
      // Without a status the simulator handles the request normally, but only after the client gave up.
      sim.failNext({ platform, method, delayMs: 300 });
      await run(client, method, id);
      expect(sim.callsTo(platform, method, `/user/${id}`)).toHaveLength(2);
      await flush();
      expect(retryLines(lines)).toEqual([expect.objectContaining({ method, reason: "timeout", attempt: 1 })]);
      await new Promise((r) => setTimeout(r, 250)); // let the late original finish before the simulator resets
      await client.close();
    });

    test.each([
      ["503", { status: 503, headers: { "Retry-After": "1" } }],
      ["502", { status: 502 }],
      ["connection reset", { network: "reset" as const }],
    ])("a POST create that gets %s is NOT retried and surfaces unavailable", async (_name, fault) => {
      const { client, lines } = make();
      sim.failNext({ platform, method: "POST", ...fault });
      await expectDigiCertError(client.createUser(input, roles), "unavailable");
      expect(sim.callsTo(platform, "POST")).toHaveLength(1);
      await flush();
      expect(retryLines(lines)).toHaveLength(0);
      await client.close();
    });

    test("a POST create answered 429 is not retried either", async () => {
      const { client } = make();
      sim.failNext({ platform, method: "POST", status: 429, headers: platform === "one" ? { "Retry-After": "1" } : undefined });
      await expectDigiCertError(client.createUser(input, roles), "rate_limited");
      expect(sim.callsTo(platform, "POST")).toHaveLength(1);
      await client.close();
    });

    test.each([
      [400, "validation"],
      [404, "not_found"],
      [409, "duplicate"],
      [403, "forbidden"],
    ])("%i on a PUT is never retried (%s)", async (status, kind) => {
      const { client } = make();
      const id = seed();
      sim.failNext({ platform, method: "PUT", status, body: { errors: [{ code: "injected", message: "no" }] } });
      await expectDigiCertError(client.updateUser(id, input), kind);
      expect(sim.callsTo(platform, "PUT")).toHaveLength(1);
      await client.close();
    });

    test("auth errors on a GET are never retried", async () => {
      const { client } = make({ apiKey: "wrong-key-123" });
      await expectDigiCertError(client.ping(), "auth");
      expect(sim.callsTo(platform, "GET")).toHaveLength(1);
      await client.close();
    });

    test("a Retry-After beyond the budget fails at once, carrying retryAfterSeconds", async () => {
      const { client, lines } = make({ retryBudgetMs: 2000 });
      sim.failNext({ platform, method: "GET", status: 503, headers: { "Retry-After": "5" } });
      const started = Date.now();
      const e = await expectDigiCertError(client.ping(), "unavailable");
      expect(Date.now() - started).toBeLessThan(800);
      expect(e.retryAfterSeconds).toBe(5);
      expect(sim.callsTo(platform, "GET")).toHaveLength(1);
      sim.failNext({ platform, method: "GET", status: 429, headers: { "Retry-After": new Date(Date.now() + 30_000).toUTCString() } });
      const r = await expectDigiCertError(client.ping(), "rate_limited");
      expect(r.retryAfterSeconds).toBeGreaterThanOrEqual(28);
      expect(r.retryAfterSeconds).toBeLessThanOrEqual(31);
      expect(sim.callsTo(platform, "GET")).toHaveLength(2);
      await flush();
      expect(lines.filter((l) => l.message === "digicert retry skipped")).toHaveLength(2);
      await client.close();
    });

    // Platform-neutral timing checks: run once, on ONE (the platform that sends Retry-After).
    const oneOnly = (name: string, fn: () => Promise<void>) => {
      if (platform === "one") test(name, fn);
    };

    oneOnly("the budget is shared by all retries of one call", async () => {
      const { client } = make({ retryBudgetMs: 1500 });
      sim.failNext({ platform, method: "GET", status: 503, headers: { "Retry-After": "1" }, times: 3 });
      const started = Date.now();
      const e = await expectDigiCertError(client.ping(), "unavailable");
      // Waited 1 s once; the second 1 s no longer fits in the 0.5 s left.
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
      expect(Date.now() - started).toBeLessThan(1800);
      expect(e.retryAfterSeconds).toBe(1);
      expect(sim.callsTo(platform, "GET")).toHaveLength(2);
      await client.close();
    });

    oneOnly("429 with Retry-After on a GET is waited for, then succeeds", async () => {
      const { client } = make();
      sim.failNext({ platform, method: "GET", status: 429, headers: { "Retry-After": "1" } });
      await client.ping();
      const calls = sim.callsTo(platform, "GET");
      expect(calls).toHaveLength(2);
      expect(calls[1].at - calls[0].at).toBeGreaterThanOrEqual(950);
      await client.close();
    });

    test("429 without Retry-After → backs off on its own, then succeeds", async () => {
      const { client, lines } = make(); // rateLimitBackoffMs 150 here
      sim.failNext({ platform, method: "GET", status: 429 });
      await client.ping();
      const calls = sim.callsTo(platform, "GET");
      expect(calls).toHaveLength(2);
      expect(calls[1].at - calls[0].at).toBeGreaterThanOrEqual(140);
      await flush();
      expect(retryLines(lines)[0]).toMatchObject({ reason: "429", attempt: 1 });
      expect(retryLines(lines)[0].waitMs).toBeGreaterThanOrEqual(150);
      await client.close();
    });

    test("429 without Retry-After waits at least 5 s by default; a smaller budget fails at once saying so", async () => {
      const { client } = clientFor(sim, platform, { retryBudgetMs: 3000 }); // default 5 s floor
      sim.failNext({ platform, method: "GET", status: 429 });
      const started = Date.now();
      const e = await expectDigiCertError(client.ping(), "rate_limited");
      expect(Date.now() - started).toBeLessThan(800);
      expect(e.retryAfterSeconds).toBeGreaterThanOrEqual(5);
      expect(e.retryAfterSeconds).toBeLessThanOrEqual(6);
      expect(sim.callsTo(platform, "GET")).toHaveLength(1);
      await client.close();
    });
  });

  describe("circuit breaker", () => {
    const breaker = { circuitThreshold: 2, circuitCooldownMs: 250, maxRetries: 0 };

    async function tripIt(client: { ping(): Promise<void> }) {
      sim.failNext({ platform, method: "GET", status: 500, times: 2 });
      await expectDigiCertError(client.ping(), "unavailable");
      await expectDigiCertError(client.ping(), "unavailable");
    }

    test("opens after the threshold and fails fast without touching the network", async () => {
      const { client, lines } = make(breaker);
      expect(client.circuit()).toEqual({ state: "closed", consecutiveFailures: 0 });
      sim.failNext({ platform, method: "GET", status: 500 });
      await expectDigiCertError(client.ping(), "unavailable");
      expect(client.circuit()).toEqual({ state: "closed", consecutiveFailures: 1 });
      sim.failNext({ platform, method: "GET", status: 500 });
      await expectDigiCertError(client.ping(), "unavailable");
      const open = client.circuit();
      expect(open).toMatchObject({ state: "open", consecutiveFailures: 2 });
      expect(Date.parse(open.openUntil!)).toBeGreaterThan(Date.now());
      sim.clearCalls();
      const e = await expectDigiCertError(client.ping(), "unavailable");
      expect(e.message).toMatch(/^DigiCert circuit open after repeated failures; retrying at \d{4}-\d\d-\d\dT/);
      expect(e.message).toContain(open.openUntil);
      expect(e.retryAfterSeconds).toBe(1);
      await expectDigiCertError(client.createUser(input, roles), "unavailable");
      await expectDigiCertError(client.updateUser("12", input), "unavailable");
      expect(sim.calls).toHaveLength(0);
      await flush();
      expect(lines.find((l) => l.message === "digicert circuit open")).toMatchObject({ platform, level: "warn", consecutiveFailures: 2 });
      await client.close();
    });

    test("counts calls after their retries, not attempts", async () => {
      const { client } = make({ circuitThreshold: 2, circuitCooldownMs: 400 }); // default 3 retries
      sim.failNext({ platform, method: "GET", status: 502, times: 4 });
      await expectDigiCertError(client.ping(), "unavailable");
      expect(sim.callsTo(platform, "GET")).toHaveLength(4);
      expect(client.circuit()).toEqual({ state: "closed", consecutiveFailures: 1 });
      await client.close();
    });

    test("half-open trial: success closes it", async () => {
      const { client } = make(breaker);
      await tripIt(client);
      await new Promise((r) => setTimeout(r, 300));
      expect(client.circuit().state).toBe("half-open");
      sim.clearCalls();
      await client.ping();
      expect(sim.calls).toHaveLength(1);
      expect(client.circuit()).toEqual({ state: "closed", consecutiveFailures: 0 });
      await client.ping();
      await client.close();
    });

    test("half-open trial: failure re-opens it for another cool-down", async () => {
      const { client } = make(breaker);
      await tripIt(client);
      await new Promise((r) => setTimeout(r, 300));
      sim.clearCalls();
      sim.failNext({ platform, method: "GET", network: "reset" });
      await expectDigiCertError(client.ping(), "unavailable");
      expect(sim.calls).toHaveLength(1);
      const again = client.circuit();
      expect(again.state).toBe("open");
      expect(Date.parse(again.openUntil!) - Date.now()).toBeGreaterThan(150);
      await expectDigiCertError(client.ping(), "unavailable");
      expect(sim.calls).toHaveLength(1);
      await client.close();
    });

    test("half-open lets exactly one trial through; concurrent calls fail fast", async () => {
      const { client } = make(breaker);
      await tripIt(client);
      await new Promise((r) => setTimeout(r, 300));
      sim.clearCalls();
      sim.failNext({ platform, method: "GET", delayMs: 200 });
      const [trial, other] = await Promise.allSettled([client.ping(), client.ping()]);
      expect(trial.status).toBe("fulfilled");
      expect(other.status).toBe("rejected");
      expect((other as PromiseRejectedResult).reason.message).toMatch(/circuit open/);
      expect(sim.calls).toHaveLength(1);
      expect(client.circuit().state).toBe("closed");
      await client.close();
    });

    test("a 429 streak does not open it, nor do auth errors", async () => {
      const { client } = make({ ...breaker, rateLimitBackoffMs: 10 });
      sim.failNext({ platform, method: "GET", status: 429, times: 5 });
      for (let i = 0; i < 5; i++) await expectDigiCertError(client.ping(), "rate_limited");
      expect(client.circuit()).toEqual({ state: "closed", consecutiveFailures: 0 });
      const badKey = make({ ...breaker, apiKey: "wrong-key-123" });
      for (let i = 0; i < 4; i++) await expectDigiCertError(badKey.client.ping(), "auth");
      expect(badKey.client.circuit()).toEqual({ state: "closed", consecutiveFailures: 0 });
      expect(sim.callsTo(platform, "GET")).toHaveLength(9);
      await badKey.client.close();
      await client.close();
    });

    test("an answer between failures resets the count", async () => {
      const { client } = make(breaker);
      sim.failNext({ platform, method: "GET", status: 500 });
      await expectDigiCertError(client.ping(), "unavailable");
      await client.ping();
      sim.failNext({ platform, method: "GET", status: 500 });
      await expectDigiCertError(client.ping(), "unavailable");
      expect(client.circuit()).toEqual({ state: "closed", consecutiveFailures: 1 });
      await client.close();
    });

    test("POST failures count too (the call ended unavailable)", async () => {
      // Threshold 1: CertCentral's create asks GET /user/availability first, and that answer resets the count.
      const { client } = make({ ...breaker, circuitThreshold: 1 });
      sim.failNext({ platform, method: "POST", status: 503 });
      await expectDigiCertError(client.createUser(input, roles), "unavailable");
      expect(sim.callsTo(platform, "POST")).toHaveLength(1);
      expect(client.circuit().state).toBe("open");
      await client.close();
    });
  });
});

async function run(client: any, method: "GET" | "PUT" | "DELETE", id: string): Promise<void> {
  if (method === "GET") expect(await client.getUser(id)).not.toBeNull();
  else if (method === "PUT") await client.updateUser(id, { ...input, firstName: "Changed" });
  else await client.deleteUser(id);
}
