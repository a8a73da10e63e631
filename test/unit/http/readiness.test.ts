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
});
