import express from "express";
import type { AppConfig, BearerCredential } from "../config";
import type { Logger } from "../log/logger";
import type { ScimContext } from "../scim/context";
import { createScimRouter } from "../scim/router";
import type { ScimFailure } from "../scim/errors";
import type { WriteAdmission } from "../scim/back-pressure";
import type { RefusalAudit } from "../scim/audit-refusals";
import type { GroupService } from "../provisioning/group-service";
import type { UserService } from "../provisioning/user-service";
import type { Platform } from "../digicert/types";
import type { IdempotencyRepository } from "../store/types";
import { scimAuth } from "./auth";
import { metricsAuth } from "./metrics-auth";
import { errorHandler, notFound } from "./errors";
import { adminRouter, type StatusSource } from "./admin";
import { liveness, readinessProbe, serveReadiness, type ReadinessCheck } from "./health";
import { createMetrics, type HttpMetrics } from "./metrics";
import { oauthTokenRouter } from "./oauth";
import { requestLog } from "./request-log";

export interface AppDeps {
  config: Pick<AppConfig, "publicBaseUrl" | "scim" | "admin">;
  platform: Platform;
  users: UserService;
  groups: GroupService;
  roleName: (id: string) => string | undefined;
  roleCatalogue: () => Promise<{ id: string; name: string }[]>;
  idempotency: IdempotencyRepository;
  logger: Logger;
  readinessChecks: ReadinessCheck[];
  admitWrite?: WriteAdmission;
  /** The audit trail of refused SCIM writes (accepted ones are recorded by the services). */
  audit?: RefusalAudit;
  /** The registry /metrics serves; built here when not given. */
  metrics?: HttpMetrics;
  /** METRICS_TOKEN: bearer tokens /metrics requires (401 without one); unset = open. */
  metricsTokens?: BearerCredential[];
  /** What the status page shows; /admin is served when this is given and config.admin has credentials (else 404). */
  status?: StatusSource;
}


export function createApp(deps: AppDeps): express.Express {
  const { config, logger } = deps;
  const app = express();
  app.disable("x-powered-by");
  // Express's body-hash ETag would answer 304s that SCIM clients do not expect (notes/scimmy.md §2).
  app.set("etag", false);
  const metrics = deps.metrics ?? createMetrics();

  app.use(requestLog(logger, metrics));
  app.get("/healthz", liveness);
  // One readiness probe (one check cache) for /readyz and the status page.
  const health = readinessProbe(deps.readinessChecks, logger);
  app.get("/readyz", serveReadiness(health));
  app.get("/metrics", metricsAuth(deps.metricsTokens), async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  // The read-only status page, with credentials of its own (ADMIN_TOKENS, ADMIN_BASIC_USERS); 404 without them.
  if (config.admin && deps.status) app.use("/admin", adminRouter({ credentials: config.admin, source: deps.status, health, logger }));

  // OAuth 2.0 client credentials token endpoint: only when OAUTH_CLIENTS is set (else a 404 like any unknown path).
  if (config.scim.oauth) app.use("/oauth/token", oauthTokenRouter(config.scim.oauth));
  app.use(
    "/scim/v2",
    scimAuth(config.scim),
    createScimRouter({
      publicBaseUrl: config.publicBaseUrl,
      maxResults: config.scim.maxResults,
      maxBodyBytes: config.scim.maxBodyBytes,
      idempotency: deps.idempotency,
      admitWrite: deps.admitWrite,
      audit: deps.audit,
      logger,
      auth: { bearer: config.scim.bearerTokens.length > 0, basic: config.scim.basicUsers.length > 0, oauth: !!config.scim.oauth },
      contextFor: (req, res): ScimContext => ({
        requestId: res.locals.requestId,
        method: req.method,
        credential: res.locals.credential,
        idp: res.locals.idp,
        logger: logger.child({ requestId: res.locals.requestId, idp: res.locals.idp }),
        users: deps.users,
        groups: deps.groups,
        roleName: deps.roleName,
        roleCatalogue: deps.roleCatalogue,
        platform: deps.platform,
        maxResults: config.scim.maxResults,
        park: (f: ScimFailure) => {
          res.locals.scimFailure = f;
        },
      }),
    }),
  );
  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}
