import { randomUUID } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import { logLine, type Logger } from "../log/logger";
import { newTrace, parseTraceparent } from "../log/trace-context";
import { detectIdp } from "../scim/idp";
import type { HttpMetrics } from "./metrics";
import { beginRequest } from "./request-context";

const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{1,100}$/;

/** Probes and scrapes: a platform calls them every few seconds, so their lines are debug; SCIM's stay info. */
const ROUTINE = new Set(["/healthz", "/readyz", "/metrics"]);

/** The SCIM resource of a tenant's path (/scim/v2/Users, /t/acme/scim/v2/Users), or the path itself. */
function resourceOf(path: string, tenant: string | undefined): string {
  const m = (tenant ? /^(?:\/t\/[^/]+)?\/scim\/v2\/([^/?]+)/ : /^\/scim\/v2\/([^/?]+)/).exec(path);
  return m ? m[1] : path.split("?")[0];
}

/**
 * Gives every request an id (the caller's X-Request-Id when sane) and a trace (the caller's W3C `traceparent` when
 * valid, else a new one), and logs one line when it ends, with the client address (req.ip: TRUST_PROXY decides
 * whether X-Forwarded-For counts).
 */
export function requestLog(logger: Logger, metrics: HttpMetrics) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    const incoming = req.get("x-request-id");
    const requestId = incoming && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    const trace = parseTraceparent(req.get("traceparent")) ?? newTrace();
    const ctx = beginRequest(req, res, requestId, trace, detectIdp(req));
    res.set("X-Request-Id", requestId);
    res.on("finish", () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const path = req.originalUrl.split("?")[0];
      // ctx.tenant is set by the tenant's mount only: a path naming no tenant the bridge serves is labelled with none.
      metrics.observe(resourceOf(path, ctx.tenant), req.method, res.statusCode, ms / 1000, ctx.tenant);
      // Set by back-pressure.ts: this 429 was the outbox being full, not another reason.
      if (ctx.backPressured && res.statusCode === 429) metrics.backPressureRejected(ctx.tenant);
      logLine(logger, ROUTINE.has(path) ? "debug" : "info", "request", {
        requestId,
        traceId: trace.traceId,
        method: req.method,
        path,
        status: res.statusCode,
        ms: Math.round(ms * 10) / 10,
        credential: ctx.credential,
        idp: ctx.idp,
        clientAddress: req.ip,
        userAgent: req.get("user-agent"),
      });
    });
    next();
  };
}
