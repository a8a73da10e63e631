import { createHmac } from "node:crypto";
import type { BasicCredential, BearerCredential, OAuthClient, OAuthConfig } from "../config";
import { errorBody, sendScimError } from "../scim/errors";
import type { TokenScope } from "../provisioning/records";
import { digestEquals, indexOfDigest, sha256, textEquals } from "./secure-compare";
import type { StoreTokens } from "./store-tokens";
import { credentialPrelude, type AuthSupport } from "./credential-prelude";

// Verification of every credential the SCIM endpoint accepts: static bearer tokens (SCIM_BEARER_TOKENS, with an
// optional expiry), tokens kept in the store (`digicert-scim tokens`), HTTP Basic users (SCIM_BASIC_USERS) and the
// HS256 access tokens POST /oauth/token issues (OAUTH_CLIENTS). Every comparison is of SHA-256 digests, in constant
// time, against every configured entry (no early exit): src/http/secure-compare.ts. Failed attempts are counted
// per client address (AUTH_FAILURE_LIMIT, src/http/auth-failures.ts).

export const REALM = 'realm="DigiCert SCIM Bridge"';
export const TOKEN_ISSUER = "digicert-scim-bridge";
export const TOKEN_AUDIENCE = "scim";
/** Clock skew tolerated on exp, iat and nbf between replicas. */
export const CLOCK_LEEWAY_SECONDS = 30;
const MAX_TOKEN_LENGTH = 4096;
export const TOO_MANY_FAILURES = "Too many failed authentication attempts from this address; try again later";

export type ScimAuthMethods = {
  bearerTokens: BearerCredential[];
  basicUsers?: BasicCredential[];
  oauth?: OAuthConfig;
};

/**
 * What an authentication found. `none`: no credential was presented (not counted as a failure); `invalid`: one was,
 * and matches nothing; `refused`: it is a known credential that may not be used (expired, revoked, other scope).
 */
export type AuthVerdict =
  | { kind: "ok"; name: string }
  | { kind: "none" }
  | { kind: "invalid" }
  | { kind: "refused"; reason: "expired" | "revoked" | "wrong_scope"; name: string };

export const NONE: AuthVerdict = { kind: "none" };
export const INVALID: AuthVerdict = { kind: "invalid" };

/** The token of an `Authorization: Bearer` header, or null. */
export function bearerTokenOf(header: string | undefined): string | null {
  return /^Bearer\s+(\S+)\s*$/i.exec(header ?? "")?.[1] ?? null;
}

/** The matching credential of `credentials` for a token digest (all compared in constant time), or null. */
export function findBearer(digest: Buffer, credentials: readonly BearerCredential[]): BearerCredential | null {
  const i = indexOfDigest(
    digest,
    credentials.map((c) => c.sha256),
  );
  return i < 0 ? null : credentials[i];
}

/** ok, or refused as expired, for a matched environment token; `prefix` goes before its name. */
export function bearerVerdict(credential: BearerCredential, prefix = "", now = Date.now()): AuthVerdict {
  const name = `${prefix}${credential.name}`;
  if (credential.expires !== undefined && credential.expires <= now) return { kind: "refused", reason: "expired", name };
  return { kind: "ok", name };
}

/** Name of the matching credential, or null (expiry not considered). Compares digests in constant time, every one. */
export function matchBearer(header: string | undefined, credentials: BearerCredential[]): string | null {
  const token = bearerTokenOf(header);
  if (token === null) return null;
  return findBearer(sha256(token), credentials)?.name ?? null;
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
    const userOk = digestEquals(user, u.usernameSha256);
    const passwordOk = digestEquals(password, u.passwordSha256);
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
    for (const d of idDigests) idOk = digestEquals(d, c.idSha256) || idOk;
    let secretOk = false;
    for (const d of secretDigests) for (const s of c.secretSha256) secretOk = digestEquals(d, s) || secretOk;
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
 * alg HS256 only (never "none"), signature in constant time (digests of the canonical base64url text, so a
 * signature of another length is compared too), iss, aud, exp in the future (CLOCK_LEEWAY_SECONDS of leeway),
 * iat/nbf not in the future, and `sub` still a configured client.
 */
export function verifyAccessToken(token: string, oauth: OAuthConfig, nowSeconds = Math.floor(Date.now() / 1000)): string | null {
  if (token.length > MAX_TOKEN_LENGTH) return null;
  const parts = token.split(".");
  if (parts.length !== 3 || !parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p))) return null;
  const [h, p, signature] = parts;
  const header = jsonObjectOf(h);
  if (!header || header.alg !== "HS256" || header.crit !== undefined) return null;
  if (header.typ !== undefined && header.typ !== "JWT") return null;
  if (!textEquals(signature, hs256(`${h}.${p}`, oauth.signingKey))) return null;

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

/** A store token's verdict for `scope`, named `${prefix}token:<name>`. Rejects when the store cannot be read. */
export async function storeVerdict(store: StoreTokens | undefined, digest: Buffer, scope: TokenScope, prefix = ""): Promise<AuthVerdict> {
  if (!store) return INVALID;
  const r = await store.verify(digest, scope);
  if (r.ok) return { kind: "ok", name: `${prefix}token:${r.name}` };
  if (r.reason === "unknown") return INVALID;
  return { kind: "refused", reason: r.reason, name: `${prefix}token:${r.name}` };
}

/**
 * The SCIM verdict for an Authorization header: an environment token (its expiry checked), an OAuth access token,
 * a store token of scope `scim`, or an HTTP Basic user. Names: the token's name, oauth:<client>, token:<name>,
 * basic:<username>.
 */
export async function authenticateScim(
  header: string | undefined,
  methods: ScimAuthMethods,
  store?: StoreTokens,
  now = Date.now(),
): Promise<AuthVerdict> {
  if (!header?.trim()) return NONE;
  const token = bearerTokenOf(header);
  if (token !== null) {
    const digest = sha256(token);
    const env = findBearer(digest, methods.bearerTokens);
    if (env) return bearerVerdict(env, "", now);
    if (methods.oauth) {
      const client = verifyAccessToken(token, methods.oauth, Math.floor(now / 1000));
      if (client) return { kind: "ok", name: `oauth:${client}` };
    }
    return storeVerdict(store, digest, "scim");
  }
  if (/^Basic\s/i.test(header) && methods.basicUsers?.length) {
    const name = matchBasic(header, methods.basicUsers);
    return name ? { kind: "ok", name } : INVALID;
  }
  return INVALID;
}

/** Name of the credential the Authorization header carries (environment and OAuth only), or null. */
export function authenticate(header: string | undefined, methods: ScimAuthMethods): string | null {
  const token = bearerTokenOf(header);
  if (token !== null) {
    const env = findBearer(sha256(token), methods.bearerTokens);
    if (env) {
      const v = bearerVerdict(env);
      return v.kind === "ok" ? v.name : null;
    }
    const client = methods.oauth ? verifyAccessToken(token, methods.oauth) : null;
    return client ? `oauth:${client}` : null;
  }
  if (/^Basic\s/i.test(header ?? "") && methods.basicUsers?.length) return matchBasic(header, methods.basicUsers);
  return null;
}

/**
 * The one authentication of /scim/v2, for every configured method. Runs before any body parsing, so an
 * unauthenticated client cannot make the bridge parse its payload. Answers 429 (with Retry-After) while the
 * client's address is blocked by AUTH_FAILURE_LIMIT, and 401 with a WWW-Authenticate challenge per scheme in use
 * (which scimmy-routers leaves out) when the credential is missing or wrong.
 */
export function scimAuth(methods: ScimAuthMethods, support: AuthSupport = {}) {
  // Store tokens are bearer tokens: with a store, Bearer is always a scheme in use.
  const bearer = methods.bearerTokens.length > 0 || methods.oauth !== undefined || support.store !== undefined;
  const basic = (methods.basicUsers?.length ?? 0) > 0;
  const detail = basic ? "Missing or invalid credentials" : "Missing or invalid bearer token";
  return credentialPrelude("scim", (header) => authenticateScim(header, methods, support.store), support, {
    blocked: (res, retryAfterSeconds) => sendScimError(res, { status: 429, detail: TOO_MANY_FAILURES, retryAfterSeconds }),
    storeUnavailable: (res) => sendScimError(res, { status: 503, detail: "The credential cannot be checked now; retry later", retryAfterSeconds: 5 }),
    unauthorized: (req, res, verdict) => {
      const header = req.get("authorization");
      const challenges: string[] = [];
      // RFC 6750 §3.1: a presented but unusable token (wrong, expired, bad signature) gets error="invalid_token".
      if (bearer) {
        const expired = verdict.kind === "refused" && verdict.reason === "expired" ? ', error_description="The token has expired"' : "";
        challenges.push(/^Bearer\s/i.test(header ?? "") ? `Bearer ${REALM}, error="invalid_token"${expired}` : `Bearer ${REALM}`);
      }
      if (basic) challenges.push(`Basic ${REALM}`);
      res
        .status(401)
        .set("WWW-Authenticate", challenges)
        .type("application/scim+json")
        .send(errorBody({ status: 401, detail }));
    },
  });
}

/** Static bearer tokens only (kept for callers of the earlier API). */
export function bearerAuth(credentials: BearerCredential[]) {
  return scimAuth({ bearerTokens: credentials });
}
