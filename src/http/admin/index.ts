// The read-only status page at /admin: GET /admin (HTML) and GET /admin/api/status (the same data as JSON),
// behind credentials of its own (ADMIN_TOKENS, ADMIN_BASIC_USERS, store tokens of scope admin). Without an ADMIN_*
// variable it is hidden: only a store token of scope admin opens it, anything else gets the app's 404.
import express, { type NextFunction, type Request, type Response } from "express";
import helmet from "helmet";
import type { AdminConfig } from "../../config";
import type { Logger } from "../../log/logger";
import type { ReadinessReport } from "../health";
import { adminAuth, type AdminAuthOptions } from "./auth";
import { renderStatusPage, STYLE_HASH } from "./page";
import { collectStatus, type StatusSource } from "./status";

export { ADMIN_REALM, authenticateAdmin, authenticateAdminRequest, type AdminAuthOptions } from "./auth";
export { collectStatus, type AdminStatus, type AuditSource, type ReconcileSource, type StatusSource } from "./status";

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
 * sheet (by hash; no script at all), no framing, no referrer, never cached.
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
        formAction: ["'none'"],
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
  router.get("/", async (_req, res, next) => {
    try {
      res.type("html").send(renderStatusPage(await status()));
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
