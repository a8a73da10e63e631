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

describe("request line: trace and client address", () => {
  const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

  async function line(headers: Record<string, string>, trustProxy?: number) {
    const { logger, lines } = capture("info");
    const app = express();
    if (trustProxy !== undefined) app.set("trust proxy", trustProxy);
    app.use(requestLog(logger, createMetrics()));
    app.get("/scim/v2/Users", (_req, res) => res.json({}));
    let t = request(app).get("/scim/v2/Users");
    for (const [k, v] of Object.entries(headers)) t = t.set(k, v);
    await t;
    await settle();
    return lines.find((l) => l.message === "request")!;
  }

  test("a valid traceparent gives the traceId; an invalid or missing one a new trace", async () => {
    expect(await line({ traceparent: `00-${TRACE}-00f067aa0ba902b7-01` })).toMatchObject({ traceId: TRACE });
    const invalid = await line({ traceparent: `00-${TRACE}-0000000000000000-01` });
    expect(invalid.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(invalid.traceId).not.toBe(TRACE);
    const none = await line({});
    expect(none.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(none.traceId).not.toBe(invalid.traceId);
  });

  test("clientAddress is req.ip: X-Forwarded-For counts only through a trusted proxy (TRUST_PROXY)", async () => {
    expect((await line({ "X-Forwarded-For": "203.0.113.7" })).clientAddress).toMatch(/127\.0\.0\.1|::1/);
    expect((await line({ "X-Forwarded-For": "203.0.113.7" }, 1)).clientAddress).toBe("203.0.113.7");
  });

  test("the fast writer honours the pretty format", async () => {
    const stream = new PassThrough();
    let text = "";
    stream.on("data", (d: Buffer) => (text += d.toString()));
    const app = express();
    app.use(requestLog(createLogger("info", stream, { format: "pretty" }), createMetrics()));
    app.get("/scim/v2/Users", (_req, res) => res.json({}));
    await request(app).get("/scim/v2/Users").set("traceparent", `00-${TRACE}-00f067aa0ba902b7-01`);
    await settle();
    expect(text).toMatch(new RegExp(`^\\S+ info  request requestId=\\S+ traceId=${TRACE} method=GET path=/scim/v2/Users status=200 .*clientAddress=\\S+`));
    expect(text.split("\n").filter(Boolean)).toHaveLength(1);
  });
});
