import { randomUUID } from "node:crypto";
import express, { type NextFunction, type Request, type Response } from "express";
import type { OAuthConfig } from "../config";
import { hs256, matchClient, parseBasicHeader, REALM, TOKEN_AUDIENCE, TOKEN_ISSUER, TOO_MANY_FAILURES } from "./auth";
import type { FailureLimiter } from "./auth-failures";
import { requestContext } from "./request-context";

// POST /oauth/token: the OAuth 2.0 client credentials grant (RFC 6749 §4.4) for IdPs such as Microsoft Entra
// that fetch their SCIM bearer token themselves. Mounted outside /scim/v2 and only when OAUTH_CLIENTS is set.
// The access token is an HS256 JWT that src/http/auth.ts verifies; no state is kept, so replicas sharing
// OAUTH_SIGNING_KEY accept each other's tokens.

const MAX_BODY = "16kb";
const JWT_HEADER = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" }), "utf8").toString("base64url");

/** A signed access token for `clientId`, valid for oauth.tokenTtlSeconds from `nowSeconds`. */
export function signAccessToken(clientId: string, oauth: OAuthConfig, nowSeconds = Math.floor(Date.now() / 1000)): string {
  const claims = {
    iss: TOKEN_ISSUER,
    aud: TOKEN_AUDIENCE,
    sub: clientId,
    iat: nowSeconds,
    exp: nowSeconds + oauth.tokenTtlSeconds,
    jti: randomUUID(),
  };
  const payload = Buffer.from(JSON.stringify(claims), "utf8").toString("base64url");
  return `${JWT_HEADER}.${payload}.${hs256(`${JWT_HEADER}.${payload}`, oauth.signingKey)}`;
}

type OAuthErrorCode = "invalid_request" | "invalid_client" | "unsupported_grant_type" | "temporarily_unavailable";

/** RFC 6749 §5.2 error response. */
function oauthError(res: Response, status: number, error: OAuthErrorCode, description: string): void {
  res.status(status).set({ "Cache-Control": "no-store", Pragma: "no-cache" });
  if (error === "invalid_client") res.set("WWW-Authenticate", `Basic ${REALM}`);
  res.json({ error, error_description: description });
}

/** RFC 6749 §2.3.1 wants Basic credentials form-encoded first; many clients skip that, so both spellings count. */
function spellings(value: string): string[] {
  try {
    const decoded = decodeURIComponent(value.replace(/\+/g, " "));
    return decoded === value ? [value] : [value, decoded];
  } catch {
    return [value];
  }
}

function issueToken(oauth: OAuthConfig, limiter?: FailureLimiter) {
  return async (req: Request, res: Response): Promise<void> => {
    requestContext(res).credential = "none";
    const body: Record<string, unknown> =
      req.body !== null && typeof req.body === "object" && !Array.isArray(req.body) ? (req.body as Record<string, unknown>) : {};
    for (const key of ["grant_type", "client_id", "client_secret", "scope"]) {
      if (body[key] !== undefined && typeof body[key] !== "string") {
        return oauthError(res, 400, "invalid_request", `${key} must be given once, as a string`);
      }
    }
    const grantType = body.grant_type as string | undefined;
    const bodyId = body.client_id as string | undefined;
    const bodySecret = body.client_secret as string | undefined;
    if (!grantType) return oauthError(res, 400, "invalid_request", "grant_type is required");
    if (grantType !== "client_credentials") {
      return oauthError(res, 400, "unsupported_grant_type", "only grant_type=client_credentials is supported");
    }

    const header = req.get("authorization");
    let ids: string[];
    let secrets: string[];
    if (header !== undefined) {
      const basic = parseBasicHeader(header);
      if (!basic) {
        await limiter?.fail(req, "oauth");
        return oauthError(res, 401, "invalid_client", "the Authorization header must be HTTP Basic with client_id:client_secret");
      }
      if (bodySecret !== undefined) {
        return oauthError(res, 400, "invalid_request", "use one client authentication method: HTTP Basic or client_secret in the body, not both");
      }
      ids = spellings(basic.user);
      secrets = spellings(basic.password);
      if (bodyId !== undefined && !ids.includes(bodyId)) {
        return oauthError(res, 400, "invalid_request", "client_id in the body differs from the HTTP Basic user");
      }
    } else if (bodyId !== undefined && bodySecret !== undefined) {
      ids = [bodyId];
      secrets = [bodySecret];
    } else {
      return oauthError(res, 401, "invalid_client", "client authentication is required: HTTP Basic, or client_id and client_secret");
    }

    const clientId = matchClient(ids, secrets, oauth.clients);
    if (!clientId) {
      // AUTH_FAILURE_LIMIT: a wrong client id or secret counts against the client's address.
      await limiter?.fail(req, "oauth");
      return oauthError(res, 401, "invalid_client", "client authentication failed");
    }
    requestContext(res).credential = `oauth:${clientId}`;
    res
      .status(200)
      .set({ "Cache-Control": "no-store", Pragma: "no-cache" })
      .json({ access_token: signAccessToken(clientId, oauth), token_type: "Bearer", expires_in: oauth.tokenTtlSeconds });
  };
}

/** 429 before anything is parsed while the client's address is blocked by AUTH_FAILURE_LIMIT. */
function refuseBlocked(limiter?: FailureLimiter) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const blocked = (await limiter?.blockedFor(req)) ?? 0;
    if (!blocked) return next();
    requestContext(res).credential = "none";
    res.set("Retry-After", String(blocked));
    oauthError(res, 429, "temporarily_unavailable", TOO_MANY_FAILURES);
  };
}

/** The token endpoint; mount it at /oauth/token. */
export function oauthTokenRouter(oauth: OAuthConfig, limiter?: FailureLimiter): express.Router {
  const router = express.Router();
  router.post(
    "/",
    refuseBlocked(limiter),
    express.urlencoded({ extended: false, limit: MAX_BODY, parameterLimit: 20 }),
    express.json({ limit: MAX_BODY }),
    issueToken(oauth, limiter),
  );
  router.all("/", (_req: Request, res: Response) => {
    res.set("Allow", "POST");
    oauthError(res, 405, "invalid_request", "use POST");
  });
  // Body parser failures (malformed JSON, oversize or over-long form) are the client's: invalid_request.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  router.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    requestContext(res).credential = "none";
    const status = (err as { status?: number }).status;
    oauthError(res, status === 413 ? 413 : 400, "invalid_request", status === 413 ? "request body too large" : "the request body cannot be parsed");
  });
  return router;
}
