import type { NextFunction, Request, Response } from "express";
import type { AdminConfig } from "../../config";
import { matchBasic, matchBearer, parseBasicHeader } from "../auth";

// Authentication of the status page: ADMIN_TOKENS as bearer tokens, ADMIN_BASIC_USERS as HTTP Basic users, and,
// so that a browser's login prompt works with a token alone, an ADMIN_TOKENS token as the Basic password (any
// username). Only digests are compared, in constant time, against every configured credential (src/http/auth.ts).
// The SCIM credentials are never consulted here, nor these on /scim/v2.

export const ADMIN_REALM = 'realm="DigiCert SCIM Bridge admin"';

/** The credential name the request log shows (admin:<token name> or admin:basic:<user>), or null. */
export function authenticateAdmin(header: string | undefined, admin: AdminConfig): string | null {
  if (/^Bearer\s/i.test(header ?? "")) {
    const name = admin.tokens.length ? matchBearer(header, admin.tokens) : null;
    return name ? `admin:${name}` : null;
  }
  if (/^Basic\s/i.test(header ?? "")) {
    // Both lists are always checked, so the time taken does not say which kind of credential was close.
    const user = matchBasic(header, admin.basicUsers);
    const basic = parseBasicHeader(header);
    const token = basic && admin.tokens.length ? matchBearer(`Bearer ${basic.password}`, admin.tokens) : null;
    if (user) return `admin:${user}`;
    if (token) return `admin:${token}`;
  }
  return null;
}

/**
 * 401 with a Basic challenge (and a Bearer one when ADMIN_TOKENS is set) unless the request carries an admin
 * credential. The answer is plain text, never cached.
 */
export function adminAuth(admin: AdminConfig) {
  const challenges = [`Basic ${ADMIN_REALM}`, ...(admin.tokens.length ? [`Bearer ${ADMIN_REALM}`] : [])];
  return (req: Request, res: Response, next: NextFunction): void => {
    const name = authenticateAdmin(req.get("authorization"), admin);
    if (name) {
      res.locals.credential = name;
      return next();
    }
    res.locals.credential = "none";
    res
      .status(401)
      .set("WWW-Authenticate", challenges)
      .set("Cache-Control", "no-store")
      .type("text/plain")
      .send("Authentication required: the status page takes the credentials of ADMIN_TOKENS or ADMIN_BASIC_USERS.\n");
  };
}
