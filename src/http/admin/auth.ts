import type { AdminConfig } from "../../config";
import {
  bearerTokenOf,
  bearerVerdict,
  findBearer,
  INVALID,
  matchBasic,
  NONE,
  parseBasicHeader,
  storeVerdict,
  TOO_MANY_FAILURES,
  type AuthVerdict,
} from "../auth";
import { credentialPrelude, type AuthSupport } from "../credential-prelude";
import { sha256 } from "../secure-compare";
import type { StoreTokens } from "../store-tokens";

// Authentication of the status page: ADMIN_TOKENS as bearer tokens, ADMIN_BASIC_USERS as HTTP Basic users, store
// tokens of scope `admin` (`digicert-scim tokens create --scope admin`), and, so that a browser's login prompt works
// with a token alone, a token as the Basic password (any username). Only digests are compared, in constant time,
// against every configured credential (src/http/secure-compare.ts). The SCIM credentials are never consulted here,
// nor these on /scim/v2.

export const ADMIN_REALM = 'realm="DigiCert SCIM Bridge admin"';

/**
 * The verdict for an Authorization header on /admin (and on /metrics, which admin credentials also open): names
 * admin:<token name>, admin:basic:<user>, admin:token:<store token name>.
 */
export async function authenticateAdminRequest(
  header: string | undefined,
  admin: AdminConfig,
  store?: StoreTokens,
  now = Date.now(),
): Promise<AuthVerdict> {
  if (!header?.trim()) return NONE;
  const token = bearerTokenOf(header);
  if (token !== null) {
    const digest = sha256(token);
    const env = findBearer(digest, admin.tokens);
    return env ? bearerVerdict(env, "admin:", now) : storeVerdict(store, digest, "admin", "admin:");
  }
  if (/^Basic\s/i.test(header)) {
    // Both lists are always checked, so the time taken does not say which kind of credential was close.
    const user = matchBasic(header, admin.basicUsers);
    const basic = parseBasicHeader(header);
    if (!basic) return INVALID;
    const digest = sha256(basic.password);
    const env = findBearer(digest, admin.tokens);
    if (user) return { kind: "ok", name: `admin:${user}` };
    if (env) return bearerVerdict(env, "admin:", now);
    return storeVerdict(store, digest, "admin", "admin:");
  }
  return INVALID;
}

/** The credential name the request log shows (admin:<token name> or admin:basic:<user>), or null. Environment only. */
export function authenticateAdmin(header: string | undefined, admin: AdminConfig): string | null {
  const token = bearerTokenOf(header);
  if (token !== null) {
    const env = findBearer(sha256(token), admin.tokens);
    const v = env ? bearerVerdict(env, "admin:") : INVALID;
    return v.kind === "ok" ? v.name : null;
  }
  if (/^Basic\s/i.test(header ?? "")) {
    const user = matchBasic(header, admin.basicUsers);
    const basic = parseBasicHeader(header);
    const env = basic ? findBearer(sha256(basic.password), admin.tokens) : null;
    if (user) return `admin:${user}`;
    const v = env ? bearerVerdict(env, "admin:") : INVALID;
    if (v.kind === "ok") return v.name;
  }
  return null;
}

export interface AdminAuthOptions extends AuthSupport {
  /**
   * Neither ADMIN_TOKENS nor ADMIN_BASIC_USERS is set: the page exists only for store tokens of scope admin. Any
   * other request is passed on (`next("router")`) to the app's 404, exactly as if there were no page.
   */
  hidden?: boolean;
}

/**
 * 401 with a Basic challenge (and a Bearer one when ADMIN_TOKENS is set) unless the request carries an admin
 * credential; 429 while the client's address is blocked (AUTH_FAILURE_LIMIT). Answers are plain text, never cached.
 */
export function adminAuth(admin: AdminConfig, options: AdminAuthOptions = {}) {
  const challenges = [`Basic ${ADMIN_REALM}`, ...(admin.tokens.length ? [`Bearer ${ADMIN_REALM}`] : [])];
  return credentialPrelude("admin", (header) => authenticateAdminRequest(header, admin, options.store), options, {
    blocked: (res, retryAfterSeconds) => {
      res.status(429).set("Retry-After", String(retryAfterSeconds)).set("Cache-Control", "no-store").type("text/plain").send(`${TOO_MANY_FAILURES}.\n`);
    },
    storeUnavailable: (res) => {
      res.status(503).set("Retry-After", "5").set("Cache-Control", "no-store").type("text/plain").send("The credential cannot be checked now; retry later.\n");
    },
    unauthorized: (_req, res, _verdict, next) => {
      if (options.hidden) return next("router");
      res
        .status(401)
        .set("WWW-Authenticate", challenges)
        .set("Cache-Control", "no-store")
        .type("text/plain")
        .send("Authentication required: the status page takes the credentials of ADMIN_TOKENS or ADMIN_BASIC_USERS.\n");
    },
  });
}
