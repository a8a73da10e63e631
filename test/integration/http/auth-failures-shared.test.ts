// AUTH_FAILURE_LIMIT shared across replicas through Redis (REDIS_URL): two app instances on one Redis hold the
// limit together (not 2×); with Redis unreachable each replica falls back to its own count, logging it once, and
// neither locks everyone out nor lets everyone in.
import { randomInt } from "node:crypto";
import { PassThrough } from "node:stream";
import request from "supertest";
import { SharedAuthFailureLimiter, type FailureStore } from "../../../src/http/auth-failures";
import { createLogger } from "../../../src/log/logger";
import { startHarness, TOKEN, type Harness } from "../../support/harness";

const ADMIN_TOKEN = "shared-limit-admin-token-0123456789";

function capturingLogger() {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (d) => (text += d.toString()));
  return { logger: createLogger("debug", stream), text: async () => (await new Promise((r) => setImmediate(r)), text) };
}

const REDIS = process.env.TEST_REDIS_URL;
if (!REDIS) {
  console.warn(
    "SKIPPED the shared AUTH_FAILURE_LIMIT tests against a real Redis (test/integration/http/auth-failures-shared.test.ts): " +
      "set TEST_REDIS_URL (e.g. redis://127.0.0.1:6379) to run them",
  );
}

/** An address of its own per run (TEST-NET-2), so runs sharing one Redis never see each other's counts. */
const freshAddress = () => `198.51.100.${randomInt(1, 254)}`;
const freshV6 = () => `2001:db8:${randomInt(1, 0xffff).toString(16)}:${randomInt(1, 0xffff).toString(16)}::7`;

(REDIS ? describe : describe.skip)("two replicas sharing one Redis (TEST_REDIS_URL)", () => {
  let a: Harness;
  let b: Harness;

  beforeAll(async () => {
    const env = { REDIS_URL: REDIS, AUTH_FAILURE_LIMIT: "4/60s", TRUST_PROXY: "loopback", ADMIN_TOKENS: ADMIN_TOKEN };
    a = await startHarness({ platform: "certcentral", env });
    b = await startHarness({ platform: "certcentral", env, sim: a.sim });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const users = (h: Harness, address: string, token: string) =>
    request(h.app).get("/scim/v2/Users").set("Authorization", `Bearer ${token}`).set("X-Forwarded-For", address);

  test("failures on either replica count toward one limit; the block holds on both, even with a right token", async () => {
    const address = freshAddress();
    // Two wrong tokens on each replica: 4 in all, the limit. Alone, each replica would have seen only 2.
    for (const h of [a, b, a, b]) expect((await users(h, address, "wrong-token")).status).toBe(401);
    for (const h of [a, b]) {
      const refused = await users(h, address, TOKEN);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers["retry-after"])).toBeGreaterThan(50);
      expect(Number(refused.headers["retry-after"])).toBeLessThanOrEqual(60);
    }
    // Other addresses are not affected.
    expect((await users(b, freshAddress(), TOKEN)).status).toBe(200);
    // One warning for the block, by the replica whose failure reached the limit.
    const warnings = [a, b].flatMap((h) =>
      h
        .logs()
        .split("\n")
        .filter((l) => l.includes("client address blocked") && l.includes(address)),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("all replicas (Redis)");
  });

  test("below the limit nothing is blocked; /admin counts in the same budget; IPv6 per /64", async () => {
    const address = freshV6();
    for (const h of [a, b, a]) expect((await users(h, address, "wrong-token")).status).toBe(401);
    expect((await users(b, address, TOKEN)).status).toBe(200);
    // The fourth failure, on another surface of the other replica, blocks the whole /64 on both.
    expect((await request(b.app).get("/admin/api/status").set("Authorization", "Bearer wrong").set("X-Forwarded-For", address)).status).toBe(401);
    const sibling = address.replace(/::7$/, "::8");
    expect((await users(a, sibling, TOKEN)).status).toBe(429);
    expect((await request(a.app).get("/admin/api/status").set("Authorization", `Bearer ${ADMIN_TOKEN}`).set("X-Forwarded-For", sibling)).status).toBe(429);
  });
});

describe("Redis unreachable: each replica counts alone (fail safe)", () => {
  test("the local count still blocks at the limit, others still get in, and the outage is logged once", async () => {
    const log = capturingLogger();
    // Nothing listens on port 1: every command fails at once (no offline queue).
    const limiter = new SharedAuthFailureLimiter({ limit: { count: 3, windowMs: 60_000 }, logger: log.logger, redisUrl: "redis://127.0.0.1:1" });
    try {
      const attacker = { ip: "203.0.113.9" };
      for (let i = 0; i < 2; i++) await limiter.fail(attacker, "scim");
      expect(await limiter.blockedFor(attacker)).toBe(0);
      await limiter.fail(attacker, "scim");
      expect(await limiter.blockedFor(attacker)).toBeGreaterThan(55);
      expect(await limiter.blockedFor({ ip: "203.0.113.10" })).toBe(0);
      expect(limiter.fallback).toBe(true);
      const text = await log.text();
      expect(text.match(/Redis does not answer/g)).toHaveLength(1);
      expect(text).toContain("this replica (Redis unreachable)");
    } finally {
      await limiter.close();
    }
  });

  test("a Redis that stops answering mid-way: the replica goes on with the failures it saw itself, and back again", async () => {
    const log = capturingLogger();
    let up = true;
    const blocks = new Map<string, number>();
    const store: FailureStore = {
      pttl: async (key) => {
        if (!up) throw new Error("Connection is closed.");
        return blocks.get(key) ?? -2;
      },
      eval: async () => {
        if (!up) throw new Error("Connection is closed.");
        return 1;
      },
      quit: async () => "OK",
    };
    const limiter = new SharedAuthFailureLimiter({ limit: { count: 3, windowMs: 60_000 }, logger: log.logger, store });
    const client = { ip: "192.0.2.1" };
    await limiter.fail(client, "scim");
    await limiter.fail(client, "scim");
    up = false;
    // Not blocked while Redis is down: the local count is 2 of 3 (neither everyone in nor everyone out).
    expect(await limiter.blockedFor(client)).toBe(0);
    await limiter.fail(client, "scim");
    expect(await limiter.blockedFor(client)).toBeGreaterThan(0);
    expect(await limiter.blockedFor({ ip: "192.0.2.2" })).toBe(0);
    up = true;
    // Back: Redis's answer rules again (its count, not this replica's).
    expect(await limiter.blockedFor(client)).toBe(0);
    blocks.set("digicert-scim:auth-failures:b:192.0.2.2", 30_000);
    expect(await limiter.blockedFor({ ip: "192.0.2.2" })).toBe(30);
    expect(await log.text()).toContain("Redis answers again");
  });
});
