import express from "express";
import request from "supertest";
import { readiness, type ReadinessCheck } from "../../../src/http/health";
import { silentLogger } from "../../../src/log/logger";

function appWith(checks: ReadinessCheck[], now?: () => number) {
  const app = express();
  app.get("/readyz", readiness(checks, silentLogger(), now));
  return app;
}

const ok = (name: string): ReadinessCheck => ({ name, check: async () => undefined, describe: () => "x" });

describe("readiness", () => {
  test("a degraded component is reported with its detail and the bridge stays ready (200)", async () => {
    const res = await request(
      appWith([ok("store"), { name: "ratelimit", check: async () => ({ degraded: "pacing alone" }), describe: () => "unknown" }]),
    ).get("/readyz");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: "ready",
      components: { store: { status: "ok" }, ratelimit: { status: "degraded", detail: "pacing alone" } },
    });
  });

  test("a failed component still makes the answer 503, degraded or not", async () => {
    const res = await request(
      appWith([
        { name: "ratelimit", check: async () => ({ degraded: "pacing alone" }), describe: () => "unknown" },
        { name: "digicert", check: async () => Promise.reject(new Error("connect ECONNREFUSED 10.0.0.1")), describe: () => "DigiCert is unreachable" },
      ]),
    ).get("/readyz");
    expect(res.status).toBe(503);
    expect(res.body.status).toBe("not ready");
    expect(res.body.components.digicert).toEqual({ status: "failed", error: "DigiCert is unreachable" });
    expect(res.body.components.ratelimit.status).toBe("degraded");
    expect(JSON.stringify(res.body)).not.toContain("10.0.0.1");
  });

  test("checks are cached 30 s unless they ask for cacheMs 0 (read on every request)", async () => {
    let clock = 1_000_000;
    let degraded = true;
    let remoteCalls = 0;
    const app = appWith(
      [
        { name: "digicert", check: async () => void remoteCalls++, describe: () => "x" },
        { name: "ratelimit", cacheMs: 0, check: async () => (degraded ? { degraded: "pacing alone" } : undefined), describe: () => "x" },
      ],
      () => clock,
    );
    expect((await request(app).get("/readyz")).body.components.ratelimit.status).toBe("degraded");
    degraded = false;
    clock += 1000;
    const second = await request(app).get("/readyz");
    expect(second.body.components.ratelimit).toEqual({ status: "ok" });
    expect(remoteCalls).toBe(1);
    clock += 30_000;
    await request(app).get("/readyz");
    expect(remoteCalls).toBe(2);
  });

  describe("a check with a budget (DigiCert answering slowly)", () => {
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

    test("is answered from its last known state, degraded and stale, within the budget; its result serves the next probe", async () => {
      let clock = 1_000_000;
      let delayMs = 0;
      let calls = 0;
      const app = appWith(
        [ok("store"), { name: "digicert", budgetMs: 50, check: async () => void (calls++, await sleep(delayMs)), describe: () => "x" }],
        () => clock,
      );
      expect((await request(app).get("/readyz")).body.components.digicert).toEqual({ status: "ok" });

      delayMs = 400; // DigiCert turns slow; the cached answer runs out
      clock += 30_000;
      for (let probe = 0; probe < 3; probe++) {
        const started = Date.now();
        const res = await request(app).get("/readyz");
        expect(Date.now() - started).toBeLessThan(300);
        expect(res.status).toBe(200);
        expect(res.body.components.digicert).toEqual({
          status: "degraded",
          detail: "no answer within 50 ms; last known (30 s ago): ok",
          stale: true,
        });
      }
      expect(calls).toBe(2); // one check in flight, however many probes wait on it

      await sleep(450); // it ends in the background
      const after = await request(app).get("/readyz");
      expect(after.body.components.digicert).toEqual({ status: "ok" });
      expect(calls).toBe(2);
    });

    test("says so when it has never answered, and keeps a known failure failed", async () => {
      let fail = false;
      let delayMs = 300;
      let clock = 1_000_000;
      const app = appWith(
        [
          {
            name: "digicert",
            budgetMs: 30,
            check: async () => {
              await sleep(delayMs);
              if (fail) throw new Error("401");
            },
            describe: () => "DigiCert refused the API key or its permissions",
          },
        ],
        () => clock,
      );
      const first = await request(app).get("/readyz");
      expect(first.status).toBe(200);
      expect(first.body.components.digicert).toEqual({ status: "degraded", detail: "no answer within 30 ms; not checked yet", stale: true });
      await sleep(350);

      fail = true;
      delayMs = 0;
      clock += 30_000;
      expect((await request(app).get("/readyz")).status).toBe(503);
      delayMs = 300;
      clock += 30_000;
      const slow = await request(app).get("/readyz");
      expect(slow.status).toBe(503);
      expect(slow.body.components.digicert).toEqual({ status: "failed", error: "DigiCert refused the API key or its permissions", stale: true });
      await sleep(350);
    });
  });
});
