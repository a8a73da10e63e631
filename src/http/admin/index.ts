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

export { ADMIN_REALM, authenticateAdmin, authenticateAdminRequest, type AdminAuthOptions } from "./auth";
export { collectStatus, type AdminStatus, type AuditSource, type ReconcileSource, type StatusSource } from "./status";
export { DigiCertActivity, type ActivitySource } from "./activity";
export type { UserLookupSource } from "./users";

export interface AdminDeps {
  credentials: AdminConfig;
  source: StatusSource;
  /** The readiness probe /readyz uses (one cache: the page never costs an extra DigiCert call). */
  health: () => Promise<ReadinessReport>;
  logger: Logger;
  /** The failure limiter and store tokens (src/http/auth.ts); `hidden` when no ADMIN_* variable is set. */
  auth?: AdminAuthOptions;
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
  const auth = adminAuth(deps.credentials, deps.auth);
  if (deps.auth?.hidden) {
    // Only store tokens of scope admin open it: anything else must meet the app's 404, without the page's headers.
    router.use(auth, adminHeaders());
  } else {
    router.use(adminHeaders(), auth);
  }
  const status = () => collectStatus(deps.source, deps.health, deps.logger);
  const lookup = deps.source.lookup;
  /** What the page's search asked (?q= or ?user=), read like a status section: an error shows, the page stays. */
  const lookupView = async (req: Request): Promise<LookupView | null> => {
    if (!lookup) return null;
    const q = queryText(req.query.q);
    const user = queryText(req.query.user);
    const failed = (err: unknown) => {
      deps.logger.warn("status page: the user look-up failed", { error: (err as Error)?.message });
      return { error: String((err as Error)?.message ?? err).slice(0, 300) };
    };
    if (user) return { userId: user, user: await userDetail(lookup, user).catch(failed) };
    if (q) return { query: q, search: await searchUsers(lookup, q).catch(failed) };
    return {};
  };
  router.get("/", async (req, res, next) => {
    try {
      const [s, l] = await Promise.all([status(), lookupView(req)]);
      res.type("html").send(renderStatusPage(s, l));
    } catch (err) {
      next(err);
    }
  });
  router.get("/api/users", async (req, res, next) => {
    if (!lookup) return next();
    try {
      res.json(await searchUsers(lookup, queryText(req.query.q)));
    } catch (err) {
      next(err);
    }
  });
  router.get("/api/users/:id", async (req, res, next) => {
    if (!lookup) return next();
    try {
      const user = await userDetail(lookup, req.params.id.slice(0, MAX_QUERY_CHARS));
      if (!user) return void res.status(404).json({ error: "no such user" });
      res.json(user);
    } catch (err) {
      next(err);
    }
  });
  router.get("/api/status", async (_req, res, next) => {
    try {
      res.json(await status());
    } catch (err) {
      next(err);
    }
  });
  return router;
}
