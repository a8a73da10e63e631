import { randomUUID } from "node:crypto";
import type { Request, Response } from "express";
import { newTrace, type TraceContext } from "../log/trace-context";
import type { Projection } from "../scim/projection";
import type { ResponseStep } from "../scim/response-steps";

/**
 * What the bridge knows about one HTTP request, filled in as it passes the middleware: the one typed slot of
 * per-request state (res.locals.ctx), instead of loose res.locals fields. Services never travel here: they are
 * the app's (see scim/context.ts).
 */
export interface RequestContext {
  /** The caller's X-Request-Id when sane, else a fresh id (request-log.ts). */
  requestId: string;
  /** W3C Trace Context: the caller's `traceparent` when valid, else a trace begun here (request-log.ts). */
  trace: TraceContext;
  method: string;
  /** The tenant whose SCIM surface answers (its mount in app.ts); absent for the other endpoints. */
  tenant?: string;
  /** The IdP detected for the request (scim/idp.ts), for the log and the audit trail. */
  idp?: string;
  /** Name of the credential that authenticated the request ("none" when it did not); never the secret. */
  credential?: string;
  /** attributes/excludedAttributes of a SCIM request (projection.ts), so reads can skip what the answer leaves out. */
  projection?: Projection;
  /** A SCIM Bulk operation carried out as a request of its own (bulk-dispatch.ts). */
  bulkOperation?: boolean;
  /** This 429 is back-pressure (the outbox is full), counted by its own metric. */
  backPressured?: boolean;
  /**
   * The `filter` of a list or POST /.search, taken off before SCIMMY could parse it (scim/filter-handoff.ts): the
   * resource's read parses this text with the bridge's own parser.
   */
  filter?: string;
  /** A write with If-Match: the version it names, which the write must still find (etags.ts). */
  ifMatchVersion?: number;
  /** PATCH: the stored version egress handed SCIMMY, so ingress can tell whether another change came in between. */
  patchBaseVersion?: number;
  /** What runs on the answer before it is written (scim/response-steps.ts). */
  responseSteps?: ResponseStep[];
}

interface Locals {
  ctx?: RequestContext;
}

/** The request's context; begun by request-log.ts, or here for a handler mounted without it. */
export function requestContext(res: Response): RequestContext {
  const locals = res.locals as Locals;
  return (locals.ctx ??= { requestId: randomUUID(), trace: newTrace(), method: res.req?.method ?? "" });
}

/** Starts the context of a request that just arrived. */
export function beginRequest(req: Request, res: Response, requestId: string, trace: TraceContext, idp: string | undefined): RequestContext {
  const ctx: RequestContext = { requestId, trace, method: req.method, idp };
  (res.locals as Locals).ctx = ctx;
  return ctx;
}
