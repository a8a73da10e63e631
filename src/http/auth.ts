import { createHash, timingSafeEqual } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import type { BearerCredential } from "../config";
import { errorBody } from "../scim/errors";

const CHALLENGE = 'Bearer realm="DigiCert SCIM Bridge"';

/** Name of the matching credential, or null. Compares digests in constant time and checks every credential. */
export function matchBearer(header: string | undefined, credentials: BearerCredential[]): string | null {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  if (!m) return null;
  const digest = createHash("sha256").update(m[1], "utf8").digest();
  let found: string | null = null;
  for (const c of credentials) {
    if (timingSafeEqual(digest, c.sha256) && found === null) found = c.name;
  }
  return found;
}

/**
 * Runs before any body parsing, so an unauthenticated client cannot make the bridge parse its payload, and
 * answers 401 with the WWW-Authenticate challenge that scimmy-routers leaves out.
 */
export function bearerAuth(credentials: BearerCredential[]) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const name = matchBearer(req.get("authorization"), credentials);
    if (name) {
      res.locals.credential = name;
      return next();
    }
    res.locals.credential = "none";
    res
      .status(401)
      .set("WWW-Authenticate", CHALLENGE)
      .type("application/scim+json")
      .send(errorBody({ status: 401, detail: "Missing or invalid bearer token" }));
  };
}
