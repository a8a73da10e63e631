import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import type { BasicCredential, BearerCredential, OAuthClient, OAuthConfig } from "../config";
import { errorBody } from "../scim/errors";

// Verification of every credential the SCIM endpoint accepts: static bearer tokens (SCIM_BEARER_TOKENS), HTTP
// Basic users (SCIM_BASIC_USERS) and the HS256 access tokens POST /oauth/token issues (OAUTH_CLIENTS). Only
// digests are compared, in constant time, against every configured entry (no early exit).

export const REALM = 'realm="DigiCert SCIM Bridge"';
export const TOKEN_ISSUER = "digicert-scim-bridge";
export const TOKEN_AUDIENCE = "scim";
/** Clock skew tolerated on exp, iat and nbf between replicas. */
export const CLOCK_LEEWAY_SECONDS = 30;
const MAX_TOKEN_LENGTH = 4096;

export type ScimAuthMethods = {
  bearerTokens: BearerCredential[];
  basicUsers?: BasicCredential[];
  oauth?: OAuthConfig;
};

const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest();

/** Name of the matching credential, or null. Compares digests in constant time and checks every credential. */
export function matchBearer(header: string | undefined, credentials: BearerCredential[]): string | null {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  if (!m) return null;
  const digest = sha256(m[1]);
  let found: string | null = null;
  for (const c of credentials) {
    if (timingSafeEqual(digest, c.sha256) && found === null) found = c.name;
  }
  return found;
}

/** The user-id and password of an `Authorization: Basic` header (RFC 7617), or null when it is not one. */
export function parseBasicHeader(header: string | undefined): { user: string; password: string } | null {
  const m = /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header ?? "");
  if (!m) return null;
  const decoded = Buffer.from(m[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** `basic:<username>` of the matching SCIM_BASIC_USERS entry, or null. Username and password both in constant time. */
export function matchBasic(header: string | undefined, users: BasicCredential[]): string | null {
  const basic = parseBasicHeader(header);
  if (!basic) return null;
  const user = sha256(basic.user);
  const password = sha256(basic.password);
  let found: string | null = null;
  for (const u of users) {
    const userOk = timingSafeEqual(user, u.usernameSha256);
    const passwordOk = timingSafeEqual(password, u.passwordSha256);
    if (userOk && passwordOk && found === null) found = u.name;
  }
  return found;
}

/**
 * The client_id whose id and one of whose secrets match, or null. Every candidate spelling is compared against
 * every client and every secret digest.
 */
export function matchClient(ids: string[], secrets: string[], clients: OAuthClient[]): string | null {
  const idDigests = ids.map(sha256);
  const secretDigests = secrets.map(sha256);
  let found: string | null = null;
  for (const c of clients) {
    let idOk = false;
    for (const d of idDigests) idOk = timingSafeEqual(d, c.idSha256) || idOk;
    let secretOk = false;
    for (const d of secretDigests) for (const s of c.secretSha256) secretOk = timingSafeEqual(d, s) || secretOk;
    if (idOk && secretOk && found === null) found = c.clientId;
  }
  return found;
}

function jsonObjectOf(segment: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** HS256 signature of `header.payload`, base64url. */
export function hs256(signingInput: string, key: string): string {
  return createHmac("sha256", key).update(signingInput, "utf8").digest("base64url");
}

/**
 * The client_id (`sub`) of a valid access token from POST /oauth/token, or null. Checks: three base64url parts,
 * alg HS256 only (never "none"), signature in constant time (compared as canonical base64url text), iss, aud,
 * exp in the future (CLOCK_LEEWAY_SECONDS of leeway), iat/nbf not in the future, and `sub` still a configured client.
 */
export function verifyAccessToken(token: string, oauth: OAuthConfig, nowSeconds = Math.floor(Date.now() / 1000)): string | null {
  if (token.length > MAX_TOKEN_LENGTH) return null;
  const parts = token.split(".");
  if (parts.length !== 3 || !parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p))) return null;
  const [h, p, signature] = parts;
  const header = jsonObjectOf(h);
  if (!header || header.alg !== "HS256" || header.crit !== undefined) return null;
  if (header.typ !== undefined && header.typ !== "JWT") return null;
  const expected = Buffer.from(hs256(`${h}.${p}`, oauth.signingKey), "utf8");
  const given = Buffer.from(signature, "utf8");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;

  const claims = jsonObjectOf(p);
  if (!claims) return null;
  if (claims.iss !== TOKEN_ISSUER) return null;
  const aud = claims.aud;
  if (!(aud === TOKEN_AUDIENCE || (Array.isArray(aud) && aud.includes(TOKEN_AUDIENCE)))) return null;
  const isTime = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
  if (!isTime(claims.exp) || claims.exp + CLOCK_LEEWAY_SECONDS <= nowSeconds) return null;
  if (!isTime(claims.iat) || claims.iat > nowSeconds + CLOCK_LEEWAY_SECONDS) return null;
  if (claims.nbf !== undefined && (!isTime(claims.nbf) || claims.nbf > nowSeconds + CLOCK_LEEWAY_SECONDS)) return null;
  const sub = claims.sub;
  // A client removed from OAUTH_CLIENTS loses its outstanding tokens at the next start.
  if (typeof sub !== "string" || !oauth.clients.some((c) => c.clientId === sub)) return null;
  return sub;
}

/** Name of the credential the Authorization header carries (token name, basic:<user>, oauth:<client>), or null. */
export function authenticate(header: string | undefined, methods: ScimAuthMethods): string | null {
  if (/^Bearer\s/i.test(header ?? "")) {
    const name = methods.bearerTokens.length ? matchBearer(header, methods.bearerTokens) : null;
    if (name) return name;
    if (methods.oauth) {
      const token = /^Bearer\s+(\S+)\s*$/i.exec(header!)?.[1];
      const client = token ? verifyAccessToken(token, methods.oauth) : null;
      if (client) return `oauth:${client}`;
    }
    return null;
  }
  if (/^Basic\s/i.test(header ?? "") && methods.basicUsers?.length) return matchBasic(header, methods.basicUsers);
  return null;
}

/**
 * The one authentication of /scim/v2, for every configured method. Runs before any body parsing, so an
 * unauthenticated client cannot make the bridge parse its payload, and answers 401 with a WWW-Authenticate
 * challenge per scheme in use (which scimmy-routers leaves out).
 */
export function scimAuth(methods: ScimAuthMethods) {
  const bearer = methods.bearerTokens.length > 0 || methods.oauth !== undefined;
  const basic = (methods.basicUsers?.length ?? 0) > 0;
  const detail = basic ? "Missing or invalid credentials" : "Missing or invalid bearer token";
  return (req: Request, res: Response, next: NextFunction): void => {
    const header = req.get("authorization");
    const name = authenticate(header, methods);
    if (name) {
      res.locals.credential = name;
      return next();
    }
    res.locals.credential = "none";
    const challenges: string[] = [];
    // RFC 6750 §3.1: a presented but unusable token (wrong, expired, bad signature) gets error="invalid_token".
    if (bearer) challenges.push(/^Bearer\s/i.test(header ?? "") ? `Bearer ${REALM}, error="invalid_token"` : `Bearer ${REALM}`);
    if (basic) challenges.push(`Basic ${REALM}`);
    res
      .status(401)
      .set("WWW-Authenticate", challenges)
      .type("application/scim+json")
      .send(errorBody({ status: 401, detail }));
  };
}

/** Static bearer tokens only (kept for callers of the earlier API). */
export function bearerAuth(credentials: BearerCredential[]) {
  return scimAuth({ bearerTokens: credentials });
}
