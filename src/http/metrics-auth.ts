import type { NextFunction, Request, Response } from "express";
import type { AdminConfig, BearerCredential } from "../config";
import { authenticateAdminRequest } from "./admin/auth";
import {
  bearerTokenOf,
  bearerVerdict,
  findBearer,
  NONE,
  storeVerdict,
  TOO_MANY_FAILURES,
  type AuthVerdict,
} from "./auth";
import { credentialPrelude, type AuthSupport } from "./credential-prelude";
import { sha256 } from "./secure-compare";
import type { StoreTokens } from "./store-tokens";

// GET /metrics: it needs a credential whenever one that could open it is configured: a METRICS_TOKEN token, or an
// admin credential (ADMIN_TOKENS, ADMIN_BASIC_USERS; store tokens of scope admin are accepted then too). With none of
// these variables set it is open, and the start logs a warning (metricsOpenWarning). SCIM credentials never open it.

export const METRICS_REALM = 'realm="DigiCert SCIM Bridge metrics"';

export interface MetricsAuthOptions extends AuthSupport {
  /** METRICS_TOKEN. */
  tokens?: BearerCredential[];
  /** ADMIN_TOKENS / ADMIN_BASIC_USERS. */
  admin?: AdminConfig;
}

/** Whether /metrics needs a credential: METRICS_TOKEN or an ADMIN_* variable is set. */
export function metricsProtected(tokens: BearerCredential[] | undefined, admin: AdminConfig | undefined): boolean {
  return (tokens?.length ?? 0) > 0 || admin !== undefined;
}

/** The warning the start logs when /metrics is open; null when it is protected. */
export function metricsOpenWarning(tokens: BearerCredential[] | undefined, admin: AdminConfig | undefined): string | null {
  return metricsProtected(tokens, admin)
    ? null
    : "GET /metrics is open to anyone who can reach the bridge: set METRICS_TOKEN (or ADMIN_TOKENS / ADMIN_BASIC_USERS) to require a credential";
}

/**
 * A bearer token is compared with METRICS_TOKEN's and ADMIN_TOKENS' digests together (one constant-time pass), then
 * with the store's admin tokens; anything else (HTTP Basic) is an admin credential or nothing.
 */
export async function authenticateMetrics(
  header: string | undefined,
  tokens: BearerCredential[],
  admin: AdminConfig | undefined,
  store?: StoreTokens,
  now = Date.now(),
): Promise<AuthVerdict> {
  if (!header?.trim()) return NONE;
  const token = bearerTokenOf(header);
  if (token !== null) {
    const digest = sha256(token);
    const adminTokens = admin?.tokens ?? [];
    const match = findBearer(digest, [...tokens, ...adminTokens]);
    if (match) return bearerVerdict(match, tokens.includes(match) ? "metrics:" : "admin:", now);
    return admin ? storeVerdict(store, digest, "admin", "admin:") : { kind: "invalid" };
  }
  if (admin) return authenticateAdminRequest(header, admin, store, now);
  return { kind: "invalid" };
}

export function metricsAuth(tokensOrOptions: BearerCredential[] | MetricsAuthOptions | undefined) {
  const options: MetricsAuthOptions = Array.isArray(tokensOrOptions) || tokensOrOptions === undefined ? { tokens: tokensOrOptions } : tokensOrOptions;
  const tokens = options.tokens ?? [];
  const admin = options.admin;
  const challenges = [`Bearer ${METRICS_REALM}`, ...(admin ? [`Basic ${METRICS_REALM}`] : [])];
  const needs = [tokens.length ? "a bearer token from METRICS_TOKEN" : "", admin ? "an admin credential (ADMIN_TOKENS, ADMIN_BASIC_USERS)" : ""]
    .filter(Boolean)
    .join(" or ");
  const prelude = credentialPrelude("metrics", (header) => authenticateMetrics(header, tokens, admin, options.store), options, {
    blocked: (res, retryAfterSeconds) => {
      res.status(429).set("Retry-After", String(retryAfterSeconds)).type("text/plain").send(`${TOO_MANY_FAILURES}.\n`);
    },
    storeUnavailable: (res) => {
      res.status(503).set("Retry-After", "5").type("text/plain").send("The credential cannot be checked now; retry later.\n");
    },
    unauthorized: (_req, res) => {
      res.status(401).set("WWW-Authenticate", challenges).type("text/plain").send(`401 Unauthorized: /metrics needs ${needs}\n`);
    },
  });
  return (req: Request, res: Response, next: NextFunction): Promise<void> | void => {
    if (!metricsProtected(tokens, admin)) return next();
    return prelude(req, res, next);
  };
}
