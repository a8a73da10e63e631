import express from "express";
import { DEFAULT_TENANT_ID, type AppConfig, type BearerCredential } from "../config";
import type { Logger } from "../log/logger";
import { createScimRouter } from "../scim/router";
import type { WriteAdmission } from "../scim/back-pressure";
import type { RefusalAudit } from "../scim/audit-refusals";
import type { GroupService } from "../provisioning/group-service";
import type { UserService } from "../provisioning/user-service";
import type { UserReads } from "../provisioning/user-reads";
import type { PlatformName } from "../digicert/types";
import type { IdempotencyRepository } from "../provisioning/ports";
import { scimAuth } from "./auth";
import { createAuthSupport, type TokenLookup } from "./auth-setup";
import { metricsAuth } from "./metrics-auth";
import { errorHandler, notFound } from "./errors";
import { adminRouter, type StatusSource } from "./admin";
import { liveness, readinessProbe, serveReadiness, type ReadinessCheck } from "./health";
import { createMetrics, type HttpMetrics } from "./metrics";
import { oauthTokenRouter } from "./oauth";
import { requestLog } from "./request-log";
import { loopbackDispatch } from "./bulk-dispatch";
import { StoreTokens } from "./store-tokens";
import { tenantLimiter } from "./auth-failures";
import { requestContext } from "./request-context";
import type { IdentityProvider } from "../scim/idp";
import type { TargetLabel } from "../scim/user-mapping";

/** One tenant's SCIM surface: its credentials and the services behind it (src/tenant-runtime.ts). */
export interface ScimTenantMount {
  /** Served at /t/{id}/scim/v2; "default" at /scim/v2 too. */
  id: string;
  /** The tenant's credentials (and, for the default tenant, OAUTH_CLIENTS) with the process's SCIM limits. */
  scim: AppConfig["scim"];
  /** The tenant's store tokens (`digicert-scim tokens --tenant`), accepted besides its configured credentials. */
  tokens?: TokenLookup;
  platform: PlatformName;
  /** A fan-out tenant's DigiCert targets, the primary first (its users show their state on each). */
  targets?: readonly TargetLabel[];
  users: UserService;
  userReads: UserReads;
  groups: GroupService;
  roleName: (id: string) => string | undefined;
  roleCatalogue: () => Promise<{ id: string; name: string }[]>;
  idempotency: IdempotencyRepository;
  admitWrite?: WriteAdmission;
  audit?: RefusalAudit;
  /** TENANTS_FILE `idp`: every request is taken as from this IdP instead of detecting it. */
  idp?: IdentityProvider;
}

export interface AppDeps {
  config: Pick<AppConfig, "publicBaseUrl" | "scim" | "admin"> &
    Partial<Pick<AppConfig, "authFailureLimit" | "trustProxy" | "outbox">> & {
      /** REDIS_URL (digicert.redisUrl) shares AUTH_FAILURE_LIMIT's count between replicas. */
      digicert?: Pick<AppConfig["digicert"], "redisUrl">;
    };
  /** Every tenant's SCIM surface; without it, one default tenant from the fields below (config.scim's credentials). */
  tenants?: ScimTenantMount[];
  /** The store's bearer tokens (`digicert-scim tokens`), accepted besides the configured credentials. */
  tokens?: TokenLookup;
  platform?: PlatformName;
  users?: UserService;
  userReads?: UserReads;
  groups?: GroupService;
  roleName?: (id: string) => string | undefined;
  roleCatalogue?: () => Promise<{ id: string; name: string }[]>;
  idempotency?: IdempotencyRepository;
  logger: Logger;
  readinessChecks: ReadinessCheck[];
  admitWrite?: WriteAdmission;
  /** The audit trail of refused SCIM writes (accepted ones are recorded by the services). */
  audit?: RefusalAudit;
  /** The registry /metrics serves; built here when not given. */
  metrics?: HttpMetrics;
  /** METRICS_TOKEN: bearer tokens /metrics requires (401 without one); unset = open. */
  metricsTokens?: BearerCredential[];
  /**
   * What the status page shows: one source (the default tenant's), or one per tenant (`/admin?tenant=…`, the first
   * the default). /admin is served when this is given and config.admin has credentials or a tenant has store tokens
   * (else 404).
   */
  status?: StatusSource | { id: string; source: StatusSource }[];
  /** Off only in tests that hold the fast read path against SCIMMY's (scim/fast-reads.ts). */
  fastReads?: boolean;
}


/** What an app holds open besides its routes (the Bulk loopback listener, a Redis client); released by closeApp. */
const owned = new WeakMap<express.Express, { close(): Promise<void> }[]>();

export async function closeApp(app: express.Express): Promise<void> {
  await Promise.all((owned.get(app) ?? []).map((o) => o.close()));
}

export function createApp(deps: AppDeps): express.Express {
  const { config, logger } = deps;
  const app = express();
  const bulk = loopbackDispatch(app);
  const held: { close(): Promise<void> }[] = [bulk];
  owned.set(app, held);
  app.disable("x-powered-by");
  // Express's body-hash ETag would answer 304s that SCIM clients do not expect (notes/scimmy.md §2).
  app.set("etag", false);
  // TRUST_PROXY: which X-Forwarded-For hops make req.ip, the address AUTH_FAILURE_LIMIT counts failures under.
  if (config.trustProxy !== undefined) app.set("trust proxy", config.trustProxy);
  // One failure limiter for every authenticated surface; store tokens besides the configured credentials.
  const auth = createAuthSupport(config, deps.metricsTokens, deps.tokens, logger);
  const limiter = auth.limiter;
  if (limiter.close) held.push({ close: () => limiter.close!() });
  const metrics = deps.metrics ?? createMetrics();

  app.use(requestLog(logger, metrics));
  app.get("/healthz", liveness);
  // One readiness probe (one check cache) for /readyz and the status page.
  const health = readinessProbe(deps.readinessChecks, logger);
  app.get("/readyz", serveReadiness(health));
  // Needs METRICS_TOKEN or an admin credential when either is configured; open (with a warning at start) otherwise.
  app.get("/metrics", metricsAuth({ tokens: deps.metricsTokens, admin: config.admin, ...auth }), async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  // The read-only status page, with credentials of its own (ADMIN_TOKENS, ADMIN_BASIC_USERS, store tokens of scope
  // admin); without an ADMIN_* variable only a store admin token opens it and anything else is the app's 404.
  // Each tenant's page is opened by the environment's admin credentials, or that tenant's own store tokens of scope admin.
  const mounts = mountsOf(deps);
  const storeTokensOf = new Map<string, StoreTokens | undefined>(
    mounts.map((m) => [m.id, m.id === DEFAULT_TENANT_ID && auth.store ? auth.store : m.tokens ? new StoreTokens({ repo: m.tokens, logger }) : undefined]),
  );
  if (deps.status) {
    const pages = Array.isArray(deps.status) ? deps.status : [{ id: DEFAULT_TENANT_ID, source: deps.status }];
    const tenants = pages.map((p) => ({ ...p, tokens: storeTokensOf.get(p.id) }));
    if (config.admin || tenants.some((t) => t.tokens)) {
      const credentials = config.admin ?? { tokens: [], basicUsers: [] };
      app.use("/admin", adminRouter({ credentials, tenants, health, logger, auth: { ...auth, hidden: !config.admin } }));
    }
  }

  // OAuth 2.0 client credentials token endpoint: only when OAUTH_CLIENTS is set (else a 404 like any unknown path).
  if (config.scim.oauth) app.use("/oauth/token", oauthTokenRouter(config.scim.oauth, auth.limiter));
  for (const tenant of mounts) {
    // A tenant's credentials open its own paths only: another tenant's token is as unknown here as a wrong one.
    const tenantAuth = {
      ...auth,
      // Each tenant other than the default counts failed authentications apart (auth-failures.ts, LimitedRequest).
      limiter: tenant.id === DEFAULT_TENANT_ID ? auth.limiter : tenantLimiter(auth.limiter, tenant.id),
      store: storeTokensOf.get(tenant.id),
    };
    const paths = tenant.id === DEFAULT_TENANT_ID ? ["/scim/v2", `/t/${DEFAULT_TENANT_ID}/scim/v2`] : [`/t/${tenant.id}/scim/v2`];
    const handlers = [
      tenantOfRequest(tenant.id),
      scimAuth(tenant.scim, tenantAuth),
      tenantIdp(tenant.idp),
      createScimRouter({
        publicBaseUrl: config.publicBaseUrl,
        maxResults: tenant.scim.maxResults,
        maxBodyBytes: tenant.scim.maxBodyBytes,
        idempotency: tenant.idempotency,
        // SYNC_WAIT_MS (5000 when an app is built without the outbox settings).
        syncWaitMs: config.outbox?.syncWaitMs ?? 5000,
        bulk: { ...tenant.scim.bulk, dispatch: bulk.dispatch, isOperation: bulk.isOperation },
        admitWrite: tenant.admitWrite,
        audit: tenant.audit,
        logger: tenant.id === DEFAULT_TENANT_ID ? logger : logger.child({ tenant: tenant.id }),
        fastReads: deps.fastReads ?? true,
        // Mounted at more than one path, so SCIMMY's one global base path cannot be trusted for this request.
        ownLocations: true,
        auth: { bearer: tenant.scim.bearerTokens.length > 0 || tenantAuth.store !== undefined, basic: tenant.scim.basicUsers.length > 0, oauth: !!tenant.scim.oauth },
        services: {
          users: tenant.users,
          userReads: tenant.userReads,
          groups: tenant.groups,
          roleName: tenant.roleName,
          roleCatalogue: tenant.roleCatalogue,
          platform: tenant.platform,
          ...(tenant.targets ? { targets: tenant.targets } : {}),
          maxResults: tenant.scim.maxResults,
        },
      }),
    ];
    for (const path of paths) app.use(path, ...handlers);
  }
  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}


/** The tenants to mount: those given, or the one the legacy single-tenant fields describe. */
function mountsOf(deps: AppDeps): ScimTenantMount[] {
  if (deps.tenants) return deps.tenants;
  const { users, userReads, groups, roleName, roleCatalogue, idempotency, platform } = deps;
  if (!users || !userReads || !groups || !roleName || !roleCatalogue || !idempotency || !platform) {
    throw new Error("createApp needs `tenants` or the default tenant's services");
  }
  return [
    {
      id: DEFAULT_TENANT_ID,
      scim: deps.config.scim,
      ...(deps.tokens ? { tokens: deps.tokens } : {}),
      platform,
      users,
      userReads,
      groups,
      roleName,
      roleCatalogue,
      idempotency,
      admitWrite: deps.admitWrite,
      audit: deps.audit,
    },
  ];
}

/** The tenant a request on its mount is for (metrics labels), refused or not. */
function tenantOfRequest(id: string): express.RequestHandler {
  return (_req, res, next) => {
    requestContext(res).tenant = id;
    next();
  };
}

/** TENANTS_FILE `idp`: the tenant's requests are taken as from its IdP, whatever their headers suggest. */
function tenantIdp(idp: IdentityProvider | undefined): express.RequestHandler {
  return (_req, res, next) => {
    if (idp) requestContext(res).idp = idp;
    next();
  };
}
