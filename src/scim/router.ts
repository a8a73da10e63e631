import express, { type NextFunction, type Request, type Response } from "express";
import SCIMMYRouters, { SCIMMY } from "scimmy-routers";
import type { ScimContext, ScimServices } from "./context";
import { requestContext } from "../http/request-context";
import { onAnswer } from "./response-steps";
import { failureOf, ScimResponseError, sendScimError } from "./errors";
import { groupResourceType } from "./group-resource";
import { planGroupPatch } from "./group-patch";
import { roleRoutes } from "./role-catalogue";
import { rejectNul } from "./nul-guard";
import { idempotentCreates } from "./idempotency";
import { filterHandoff } from "./filter-handoff";
import { backPressure, type WriteAdmission } from "./back-pressure";
import { auditRefusals, type RefusalAudit } from "./audit-refusals";
import { actorOf } from "./context";
import type { IdempotencyRepository } from "../provisioning/ports";
import type { Logger } from "../log/logger";
import { normaliseUserBody, normaliseUserPatch } from "./patch-normaliser";
import { scimFromRow } from "./user-mapping";
import { userResourceType } from "./user-resource";
import { ScimResources } from "./resource-types";
import { etagHeader, preconditions } from "./etags";
import { bulkRoute, type BulkTransport } from "./bulk";
import { projectionStep } from "./projection";
import { withSyncWait } from "../provisioning/sync-wait";
import { fastGroupRead, fastUserReads } from "./fast-reads";
import { withCommitNotice } from "../provisioning/write-turn";
import { turnsById } from "./turns";
import { ownLocations } from "./tenant-locations";

export const SCIM_CONTENT_TYPES = ["application/scim+json", "application/json"];

export interface ScimRouterOptions {
  publicBaseUrl: string;
  maxResults: number;
  maxBodyBytes: number;
  documentationUri?: string;
  idempotency: IdempotencyRepository;
  logger: Logger;
  /** Authentication methods configured, for ServiceProviderConfig.authenticationSchemes. */
  auth: { bearer: boolean; basic: boolean; oauth: boolean };
  /** Back-pressure: whether a write may enter now (see back-pressure.ts). */
  admitWrite?: WriteAdmission;
  /** The audit trail: writes answered >= 400 are recorded there (see audit-refusals.ts). */
  audit?: RefusalAudit;
  /** SCIM Bulk limits (maxOperations 0 = Bulk off) and how an operation is carried out as a single request. */
  bulk: { maxOperations: number; maxPayloadBytes: number } & BulkTransport;
  /** SYNC_WAIT_MS: bounds how long a retry with an Idempotency-Key waits for its original (idempotency.ts). */
  syncWaitMs: number;
  /** The app's services, handed to every handler with the request's context. */
  services: ScimServices;
  /** GET /Users/{id}, GET /Users and GET /Groups/{id} served by fast-reads.ts ahead of SCIMMY (default on). */
  fastReads?: boolean;
  /**
   * Rewrites every meta.location (and Location) of an answer to this request's own mount (tenant-locations.ts): a
   * router mounted at several paths cannot trust SCIMMY's base path, one global that concurrent requests overwrite.
   */
  ownLocations?: boolean;
}

/** How much longer than SYNC_WAIT_MS a create may take before its Idempotency-Key claim is presumed dead. */
const IDEMPOTENCY_MARGIN_MS = 30_000;

/** Adds the Location header RFC 7644 §3.3 requires on 201, which scimmy-routers omits. */
function locationOnCreate(req: Request, res: Response, next: NextFunction): void {
  if (req.method !== "POST") return next();
  onAnswer(res, (answer) => {
    const location = (answer.body as { meta?: { location?: unknown } } | undefined)?.meta?.location;
    if (answer.status === 201 && typeof location === "string" && !res.headersSent) res.location(location);
  });
  next();
}

function normaliseUserWrite(req: Request, _res: Response, next: NextFunction): void {
  req.body = normaliseUserBody(req.body);
  next();
}

/**
 * Rewrites a User PATCH from the IdP's dialect to what SCIMMY accepts. It reads the stored user (never DigiCert)
 * to tell whether an `emails[type eq "work"]` style target exists; a message with no operations is answered
 * "no change" (204) once the user is known to exist.
 */
function normaliseUserPatchRoute(services: ScimServices) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    try {
      const row = await services.users.get(req.params.id);
      const normalised = normaliseUserPatch(req.body, scimFromRow(row, services.platform));
      if (!normalised) {
        res.status(204).end();
        return;
      }
      req.body = normalised;
      next();
    } catch (err) {
      sendScimError(res, failureOf(err));
    }
  };
}

/** Tries of a user PATCH that keeps meeting concurrent changes of the same user before it answers 409. */
const PATCH_ATTEMPTS = 10;

/**
 * User PATCH through SCIMMY's read-apply-write. This process's PATCHes of one user take turns (turns.ts, from the
 * normaliser's read until the write is committed: `endTurn`), so they never race each other; one is re-run on a
 * fresh read when a change from another replica (or a PUT) landed between the read and the write: concurrent
 * PATCHes are all applied, in the order they commit, instead of the later write silently undoing the earlier one.
 */
function userPatchRoute(contextOf: (res: Response) => ScimContext, endTurn: (res: Response) => () => void) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const ctx = contextOf(res);
    const User = SCIMMY.Resources.declared(userResourceType.name) as typeof SCIMMY.Resources.User;
    for (let attempt = 1; ; attempt++) {
      try {
        const value = await withCommitNotice(endTurn(res), () => new User(req.params.id, req.query as never).patch(req.body, ctx as never));
        res.status(value ? 200 : 204).type("application/scim+json").send(value);
        return;
      } catch (err) {
        if (err instanceof ScimResponseError && err.failure.concurrent && attempt < PATCH_ATTEMPTS) {
          ctx.logger.debug("user changed concurrently; re-applying the PATCH", { userId: req.params.id, attempt });
          // A little jitter, so PATCHes that keep colliding spread out instead of colliding again in lockstep.
          await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
          continue;
        }
        next(err);
        return;
      }
    }
  };
}

/**
 * Group PATCH bypasses SCIMMY's read-apply-write, which walks the whole member list twice per request
 * (notes/scimmy.md §5): the operations become store deltas and the answer is 204.
 */
function groupPatchRoute(contextOf: (res: Response) => ScimContext) {
  return async (req: Request, res: Response): Promise<void> => {
    const ctx = contextOf(res);
    try {
      await ctx.services.groups.patch(req.params.id, planGroupPatch(req.body), actorOf(ctx), ctx.request.ifMatchVersion);
      res.status(204).end();
    } catch (err) {
      const failure = failureOf(err);
      if (failure.internal) ctx.logger.error("unhandled error in group PATCH", { requestId: ctx.request.requestId, error: err, stack: (err as Error)?.stack });
      sendScimError(res, failure);
    }
  };
}

/** The authentication schemes ServiceProviderConfig lists for one router's (one tenant's) credentials. */
function authenticationSchemes(auth: ScimRouterOptions["auth"]): Record<string, unknown>[] {
  const schemes: Record<string, unknown>[] = [];
  if (auth.bearer || auth.oauth) schemes.push({
    type: "oauthbearertoken",
    name: "OAuth Bearer Token",
    description: auth.oauth
      ? "A bearer token from SCIM_BEARER_TOKENS or digicert-scim tokens create, or an access token from POST /oauth/token (client credentials)"
      : "A bearer token from SCIM_BEARER_TOKENS or digicert-scim tokens create",
    specUri: "https://www.rfc-editor.org/rfc/rfc6750",
  });
  if (auth.basic) {
    schemes.push({
      type: "httpbasic",
      name: "HTTP Basic",
      description: "A user name and password from SCIM_BASIC_USERS",
      specUri: "https://www.rfc-editor.org/rfc/rfc7617",
    });
  }
  return schemes;
}

function applyServiceProviderConfig(opts: ScimRouterOptions): void {
  const { maxResults, documentationUri, bulk } = opts;
  // Must run after constructing SCIMMYRouters, which overwrites these and appends an auth scheme each time.
  SCIMMY.Config.set({
    documentationUri,
    patch: true,
    bulk: bulk.maxOperations > 0 ? { supported: true, maxOperations: bulk.maxOperations, maxPayloadSize: bulk.maxPayloadBytes } : { supported: false },
    // Users sort by any singular attribute; Groups by displayName, externalId, id and meta dates.
    sort: true,
    etag: true,
    changePassword: false,
    filter: { supported: true, maxResults },
    authenticationSchemes: [],
  } as never);
  for (const scheme of authenticationSchemes(opts.auth)) SCIMMY.Config.set("authenticationSchemes", scheme as never);
}

/**
 * SCIMMY's configuration is one per process, so with several tenants it lists the schemes of whichever router was
 * built last: each router puts its own tenant's in its answer.
 */
function ownAuthenticationSchemes(opts: ScimRouterOptions) {
  const schemes = authenticationSchemes(opts.auth);
  return (_req: Request, res: Response, next: NextFunction): void => {
    onAnswer(res, (answer) => {
      const body = answer.body as Record<string, unknown> | null;
      // A copy: SCIMMY's answer is a schema instance whose attributes refuse assignment.
      if (answer.status === 200 && body && typeof body === "object" && "authenticationSchemes" in body) {
        answer.body = { ...(JSON.parse(JSON.stringify(body)) as Record<string, unknown>), authenticationSchemes: schemes };
      }
    });
    next();
  };
}

/** The SCIM protocol surface. Mount it behind authentication at /scim/v2. */
export function createScimRouter(opts: ScimRouterOptions): express.Router {
  // The one list of resource types: preconditions, Idempotency-Key, the refusal audit, projection and Bulk follow it.
  const resources = new ScimResources([userResourceType, groupResourceType]);
  const { services } = opts;
  const contextOf = (res: Response): ScimContext => {
    const request = requestContext(res);
    let logger: Logger | undefined;
    return {
      request,
      services,
      get logger() {
        return (logger ??= opts.logger.child({ requestId: request.requestId, idp: request.idp }));
      },
    };
  };
  const router = express.Router();
  // Registered first, so it runs last: it sees the answer as every other step left it.
  if (opts.ownLocations) router.use(ownLocations(opts.publicBaseUrl));
  // First, so that any refused write (a body that does not parse included) reaches the audit trail.
  if (opts.audit) router.use(auditRefusals(opts.audit, resources));
  // Parsed here (not by scimmy-routers) so the PATCH normaliser can rewrite the body; the router then skips parsing.
  const json = express.json({ type: SCIM_CONTENT_TYPES, limit: opts.maxBodyBytes, strict: false });
  const bulkJson = express.json({ type: SCIM_CONTENT_TYPES, limit: opts.bulk.maxPayloadBytes, strict: false });
  router.use((req, res, next) => (req.path === "/Bulk" ? bulkJson : json)(req, res, next));
  // Before the query of a write is dropped: an answer to a PUT or PATCH is cut to attributes= too.
  router.use(projectionStep(resources));
  router.use((req, _res, next) => {
    if (req.method === "PATCH" || req.method === "PUT") {
      // Query parameters leak into SCIMMY's PATCH base (excludedAttributes would drop data): writes take none.
      req.query = {};
    }
    next();
  });
  router.use(rejectNul);
  // A Bulk operation: admitted with its Bulk request (no back-pressure of its own) and queued rather than waiting for
  // DigiCert, so a large Bulk is answered at the store's pace, not DigiCert's.
  router.use((req, res, next) => {
    if (!opts.bulk.isOperation(req)) return next();
    requestContext(res).bulkOperation = true;
    void withSyncWait(0, async () => next());
  });
  if (opts.admitWrite) router.use(backPressure(opts.admitWrite));
  router.post("/Users", normaliseUserWrite);
  router.put("/Users/:id", normaliseUserWrite);
  // SCIMMY reads a resource by interpolating its id into a filter (`id eq "<id>"`), so an id with a quote or a
  // backslash would surface as a filter error. No stored id has one: answer the 404 it really is.
  router.all("/:resource/:id", (req, res, next) => {
    if (!/["\\]/.test(req.params.id)) return next();
    sendScimError(res, { status: 404, detail: "Resource not found" });
  });
  // An old name some clients still call (draft SCIM 2.0): answered as /ServiceProviderConfig rather than a 404.
  router.get("/serviceConfiguration", (req, _res, next) => {
    req.url = req.url.replace(/^\/serviceConfiguration/, "/ServiceProviderConfig");
    next();
  });
  router.get("/ServiceProviderConfig", ownAuthenticationSchemes(opts));
  // Ours, not scimmy-routers' (which would run SCIMMY's own Bulk past every handler of ours); 501 when turned off.
  router.post(
    "/Bulk",
    opts.bulk.maxOperations > 0
      ? bulkRoute({ ...opts.bulk, base: `${opts.publicBaseUrl}/scim/v2`, resources })
      : (_req, res) => sendScimError(res, { status: 501, detail: "Bulk is turned off on this bridge (BULK_MAX_OPERATIONS=0)" }),
  );
  router.all(`/:resource(${resources.segments})/:id`, preconditions(services, resources));
  router.use(etagHeader);
  const roles = roleRoutes(services, () => `${opts.publicBaseUrl}/scim/v2`);
  router.get("/Roles", roles.list);
  router.get("/Roles/:id", roles.get);
  router.get("/ResourceTypes/Role", roles.resourceType);
  router.get("/ResourceTypes", roles.appendToResourceTypes);
  const userPatchTurns = turnsById();
  router.patch("/Users/:id", userPatchTurns.take, normaliseUserPatchRoute(services), userPatchRoute(contextOf, userPatchTurns.endOf));
  router.patch("/Groups/:id", groupPatchRoute(contextOf));
  router.use(idempotentCreates(opts.idempotency, opts.logger, resources, { inFlightMs: opts.syncWaitMs + IDEMPOTENCY_MARGIN_MS }));
  router.use(locationOnCreate);
  if (opts.fastReads !== false) {
    const reads = fastUserReads({ publicBaseUrl: opts.publicBaseUrl, contextOf });
    router.get("/Users", reads.list);
    router.get("/Users/:id", reads.byId);
    router.get("/Groups/:id", fastGroupRead({ publicBaseUrl: opts.publicBaseUrl, contextOf }));
  }
  // Last before SCIMMY: the filter of a list or search is ours to parse (escaped quotes), not SCIMMY's.
  router.use(filterHandoff(resources));
  router.use(
    new SCIMMYRouters({
      type: "bearer",
      docUri: opts.documentationUri,
      // Authentication already happened in front of this router (it needs WWW-Authenticate and no body parsing).
      handler: () => "",
      context: (req: Request) => contextOf(req.res!),
      baseUri: () => opts.publicBaseUrl,
    }) as unknown as express.Router,
  );
  applyServiceProviderConfig(opts);
  return router;
}
