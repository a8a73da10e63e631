// The request line: one per request, at info for SCIM and at debug for probes and scrapes, written as the logger's
// own format writes a line (redacted, timestamped, keys sorted).
import { PassThrough } from "node:stream";
import express from "express";
import request from "supertest";
import { createLogger, logLine, registerSecret, silentLogger } from "../../../src/log/logger";
import { requestLog } from "../../../src/http/request-log";
import { createMetrics } from "../../../src/http/metrics";

function capture(level: string) {
  const stream = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  stream.on("data", (d: Buffer) => {
    for (const l of d.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(l));
  });
  return { logger: createLogger(level, stream), lines };
}

const settle = () => new Promise((r) => setImmediate(r));

describe("logLine", () => {
  test("writes what logger.log writes, timestamp aside", async () => {
    registerSecret("s3cret-value-for-logline");
    const { logger, lines } = capture("info");
    const fields = { requestId: "r1", path: "/x/s3cret-value-for-logline", token: "abc", status: 200, nested: { password: "p", ok: 1 }, gone: undefined };
    logger.info("request", fields);
    logLine(logger, "info", "request", fields);
    await settle();
    expect(lines).toHaveLength(2);
    const [viaWinston, direct] = lines.map(({ timestamp, ...rest }) => {
      expect(typeof timestamp).toBe("string");
      return rest;
    });
    expect(direct).toEqual(viaWinston);
    expect(direct).toMatchObject({ path: "/x/[REDACTED]", token: "[REDACTED]", nested: { password: "[REDACTED]", ok: 1 } });
    expect(Object.keys(lines[1])).toEqual(Object.keys(lines[1]).sort());
  });

  test("honours the level, and falls back to the logger for loggers it did not make", async () => {
    const { logger, lines } = capture("info");
    logLine(logger, "debug", "quiet", {});
    await settle();
    expect(lines).toEqual([]);
    expect(() => logLine(silentLogger(), "info", "x", { a: 1 })).not.toThrow();
    expect(() => logLine(logger.child({ requestId: "c" }), "info", "child", { a: 1 })).not.toThrow();
    await settle();
    expect(lines).toEqual([expect.objectContaining({ message: "child", requestId: "c", a: 1 })]);
  });
});

describe("request log", () => {
  async function served(level: string) {
    const { logger, lines } = capture(level);
    const app = express();
    app.use(requestLog(logger, createMetrics()));
    for (const p of ["/healthz", "/readyz", "/metrics", "/scim/v2/Users"]) app.get(p, (_req, res) => res.json({}));
    for (const p of ["/healthz", "/readyz", "/metrics", "/scim/v2/Users?filter=x"]) await request(app).get(p).set("User-Agent", "probe");
    await settle();
    return lines.filter((l) => l.message === "request").map((l) => `${l.level} ${l.path}`);
  }

  test("SCIM requests at info; probes and scrapes at debug", async () => {
    expect(await served("info")).toEqual(["info /scim/v2/Users"]);
    expect(await served("debug")).toEqual(["debug /healthz", "debug /readyz", "debug /metrics", "info /scim/v2/Users"]);
  });
});
