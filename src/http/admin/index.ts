// The read-only status page at /admin: GET /admin (HTML) and GET /admin/api/status (the same data as JSON),
// behind credentials of its own (ADMIN_TOKENS, ADMIN_BASIC_USERS, store tokens of scope admin). Without an ADMIN_*
// variable it is hidden: only a store token of scope admin opens it, anything else gets the app's 404.
import express, { type NextFunction, type Request, type Response } from "express";
import helmet from "helmet";
import type { AdminConfig } from "../../config";
import type { Logger } from "../../log/logger";
import type { ReadinessReport } from "../health";
import { adminAuth, type AdminAuthOptions } from "./auth";
import { renderStatusPage, STYLE_HASH, type LookupView } from "./page";
import { collectStatus, type StatusSource } from "./status";
import { MAX_QUERY_CHARS, searchUsers, userDetail } from "./users";
import { componentTenant } from "../readiness-checks";
import type { StoreTokens } from "../store-tokens";

export { ADMIN_REALM, authenticateAdmin, authenticateAdminRequest, type AdminAuthOptions } from "./auth";
export { collectStatus, type AdminStatus, type AuditSource, type ReconcileSource, type StatusSource } from "./status";
export { DigiCertActivity, type ActivitySource } from "./activity";
export type { UserLookupSource } from "./users";

/** One tenant's page: what it shows (its own store's users, outbox, audit, reconcile runs) and who opens it. */
export interface AdminTenant {
  id: string;
  source: StatusSource;
  /**
   * The tenant's store tokens (`digicert-scim tokens create --tenant ID --scope admin`): each opens this tenant's
   * page only. ADMIN_TOKENS and ADMIN_BASIC_USERS open every tenant's.
   */
  tokens?: StoreTokens;
}

export interface AdminDeps {
  credentials: AdminConfig;
  /** Every tenant, the default one (or the first) shown when the request names none (`?tenant=`). */
  tenants: AdminTenant[];
  /** The readiness probe /readyz uses (one cache: the page never costs an extra DigiCert call). */
  health: () => Promise<ReadinessReport>;
  logger: Logger;
  /** The failure limiter (src/http/auth.ts); `hidden` when no ADMIN_* variable is set. Stores are the tenants'. */
  auth?: AdminAuthOptions;
}

export const TENANT_PARAM = "tenant";

/**
 * The readiness report as one tenant's page shows it: the bridge-wide components (the store) and the tenant's own;
 * another tenant's only when it failed, since a failure takes the whole bridge (every tenant) out of the load
 * balancer. The status stays the bridge's.
 */
export function healthOfTenant(report: ReadinessReport, tenant: string): ReadinessReport {
  const components = Object.fromEntries(
    Object.entries(report.components).filter(([name, c]) => {
      const owner = componentTenant(name);
      return owner === null || owner === tenant || c.status === "failed";
    }),
  );
  return { status: report.status, components };
}

/**
 * Security headers of every /admin answer, 401s included: a CSP allowing nothing but the page's own inline style
 * sheet (by hash; no script at all; charts are inline SVG) and its own search form, no framing, no referrer, never
 * cached.
 */
export function adminHeaders() {
  const headers = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'none'"],
        styleSrc: [STYLE_HASH],
        imgSrc: ["'none'"],
        connectSrc: ["'none'"],
        baseUri: ["'none'"],
        // The user search is a plain GET form to /admin.
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    frameguard: { action: "deny" },
    referrerPolicy: { policy: "no-referrer" },
    crossOriginResourcePolicy: { policy: "same-origin" },
  });
  return (req: Request, res: Response, next: NextFunction): void => {
    res.set("Cache-Control", "no-store");
    headers(req, res, next);
  };
}

/** One string parameter of the query (the first when repeated), cut to MAX_QUERY_CHARS. */
function queryText(v: unknown): string {
  const first = Array.isArray(v) ? v[0] : v;
  return typeof first === "string" ? first.trim().slice(0, MAX_QUERY_CHARS) : "";
}

export function adminRouter(deps: AdminDeps): express.Router {
  const router = express.Router();
  if (!deps.tenants.length) throw new Error("the status page needs at least one tenant");
  const byId = new Map(deps.tenants.map((t) => [t.id, t]));
  const fallback = byId.get(DEFAULT_TENANT) ?? deps.tenants[0];
  const ids = deps.tenants.map((t) => t.id);
  /** The tenant the request names (?tenant=), or the default one; undefined when it names none the bridge serves. */
  const tenantOf = (req: Request): AdminTenant | undefined => {
    const asked = queryText(req.query[TENANT_PARAM]);
    return asked ? byId.get(asked) : fallback;
  };
  // The environment's credentials open every tenant; a tenant's store tokens its own page only. A tenant the bridge
  // does not serve is checked against the environment's alone (its answer, 404, is for an admin).
  const authOf = new Map(deps.tenants.map((t) => [t.id, adminAuth(deps.credentials, { ...deps.auth, store: t.tokens })]));
  const environmentOnly = adminAuth(deps.credentials, { ...deps.auth, store: undefined });
  const auth: express.RequestHandler = (req, res, next) => (authOf.get(tenantOf(req)?.id ?? "") ?? environmentOnly)(req, res, next);
  if (deps.auth?.hidden) {
    // Only store tokens of scope admin open it: anything else must meet the app's 404, without the page's headers.
    router.use(auth, adminHeaders());
  } else {
    router.use(adminHeaders(), auth);
  }
  router.use((req, res, next) => {
    if (tenantOf(req)) return next();
    const known = `This bridge serves the tenants ${ids.join(", ")}.`;
    if (req.path.startsWith("/api/")) return void res.status(404).json({ error: "no such tenant", tenants: ids });
    res.status(404).type("text/plain").send(`No such tenant. ${known}\n`);
  });
  const status = (t: AdminTenant) =>
    collectStatus(t.source, async () => healthOfTenant(await deps.health(), t.id), deps.logger, Date.now, { tenant: t.id, tenants: ids });
  /** What the page's search asked (?q= or ?user=), read like a status section: an error shows, the page stays. */
  const lookupView = async (t: AdminTenant, req: Request): Promise<LookupView | null> => {
    const lookup = t.source.lookup;
    if (!lookup) return null;
    const q = queryText(req.query.q);
    const user = queryText(req.query.user);
    const failed = (err: unknown) => {
      deps.logger.warn("status page: the user look-up failed", { tenant: t.id, error: (err as Error)?.message });
      return { error: String((err as Error)?.message ?? err).slice(0, 300) };
    };
    if (user) return { userId: user, user: await userDetail(lookup, user).catch(failed) };
    if (q) return { query: q, search: await searchUsers(lookup, q).catch(failed) };
    return {};
  };
  router.get("/", async (req, res, next) => {
    try {
      const t = tenantOf(req)!;
      const [s, l] = await Promise.all([status(t), lookupView(t, req)]);
      res.type("html").send(renderStatusPage(s, l, { tenant: t.id, tenants: ids, defaultTenant: fallback.id }));
    } catch (err) {
      next(err);
    }
  });
  router.get("/api/users", async (req, res, next) => {
    const lookup = tenantOf(req)!.source.lookup;
    if (!lookup) return next();
    try {
      res.json(await searchUsers(lookup, queryText(req.query.q)));
    } catch (err) {
      next(err);
    }
  });
  router.get("/api/users/:id", async (req, res, next) => {
    const lookup = tenantOf(req)!.source.lookup;
    if (!lookup) return next();
    try {
      const user = await userDetail(lookup, req.params.id.slice(0, MAX_QUERY_CHARS));
      if (!user) return void res.status(404).json({ error: "no such user" });
      res.json(user);
    } catch (err) {
      next(err);
    }
  });
  router.get("/api/status", async (req, res, next) => {
    try {
      res.json(await status(tenantOf(req)!));
    } catch (err) {
      next(err);
    }
  });
  return router;
}

const DEFAULT_TENANT = "default";
