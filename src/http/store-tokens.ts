// Bearer tokens from the store (`digicert-scim tokens create`), checked on each request besides the tokens of the
// environment. A token is looked up by its SHA-256 digest (the store keeps nothing else), and the stored digest is
// compared again in constant time. Valid tokens are remembered for CACHE_MS per process, so revoking a token takes
// effect within that time on every replica; unknown, revoked and expired tokens are never remembered, so a token
// just created works at once. last_used is written at most once a minute per token.
import { ConfigError, NO_AUTH_PROBLEM, type AppConfig, type BearerCredential } from "../config";
import type { Logger } from "../log/logger";
import type { StoredToken, TokenScope } from "../provisioning/records";
import type { TokenRepository } from "../provisioning/ports";
import { digestEquals } from "./secure-compare";

export const STORE_TOKEN_CACHE_MS = 10_000;
const TOUCH_EVERY_MS = 60_000;
const MAX_CACHED = 1000;
/** Tokens expiring within this are warned about at start. */
export const EXPIRY_WARNING_MS = 14 * 86_400_000;

export type StoreTokenResult =
  | { ok: true; name: string }
  | { ok: false; reason: "unknown" }
  | { ok: false; reason: "expired" | "revoked" | "wrong_scope"; name: string };

type Found = StoredToken & { sha256: string };

export interface StoreTokensOptions {
  repo: Pick<TokenRepository, "findByDigest" | "touch">;
  logger: Logger;
  cacheMs?: number;
  now?: () => number;
}

export class StoreTokens {
  private readonly cache = new Map<string, { token: Found; at: number }>();
  private readonly touched = new Map<string, number>();
  private readonly cacheMs: number;
  private readonly now: () => number;

  constructor(private readonly opts: StoreTokensOptions) {
    this.cacheMs = opts.cacheMs ?? STORE_TOKEN_CACHE_MS;
    this.now = opts.now ?? Date.now;
  }

  /** Checks a presented token (its digest) for `scope`. Rejects when the store cannot be read. */
  async verify(digest: Buffer, scope: TokenScope): Promise<StoreTokenResult> {
    const hex = digest.toString("hex");
    const now = this.now();
    let token: Found | null = null;
    const cached = this.cache.get(hex);
    if (cached && now - cached.at < this.cacheMs) token = cached.token;
    else {
      if (cached) this.cache.delete(hex);
      token = await this.opts.repo.findByDigest(hex);
    }
    // The look-up was by digest; the stored digest is compared once more, in constant time, like every credential.
    if (!token || !digestEquals(digest, Buffer.from(token.sha256, "hex"))) return { ok: false, reason: "unknown" };
    if (token.revoked !== null) return { ok: false, reason: "revoked", name: token.name };
    if (token.expires !== null && Date.parse(token.expires) <= now) {
      this.cache.delete(hex);
      return { ok: false, reason: "expired", name: token.name };
    }
    if (!cached || cached.token !== token) this.remember(hex, token, now);
    if (token.scope !== scope) return { ok: false, reason: "wrong_scope", name: token.name };
    this.touch(token, now);
    return { ok: true, name: token.name };
  }

  private remember(hex: string, token: Found, now: number): void {
    this.cache.set(hex, { token, at: now });
    while (this.cache.size > MAX_CACHED) this.cache.delete(this.cache.keys().next().value as string);
  }

  private touch(token: Found, now: number): void {
    const last = this.touched.get(token.id) ?? (token.lastUsed ? Date.parse(token.lastUsed) : 0);
    if (now - last < TOUCH_EVERY_MS) return;
    this.touched.set(token.id, now);
    while (this.touched.size > MAX_CACHED) this.touched.delete(this.touched.keys().next().value as string);
    this.opts.repo
      .touch(token.id, new Date(now).toISOString(), new Date(now - TOUCH_EVERY_MS).toISOString())
      .catch((err) => this.opts.logger.debug("could not record a token's last use", { credential: `token:${token.name}`, error: (err as Error).message }));
  }
}

/** Env tokens that have expired or expire within 14 days, as one warning each (name and date; never the token). */
export function warnExpiringEnvTokens(lists: { variable: string; tokens: BearerCredential[] | undefined }[], logger: Logger, now = Date.now()): void {
  for (const { variable, tokens } of lists) {
    for (const t of tokens ?? []) {
      if (t.expires === undefined) continue;
      const expires = new Date(t.expires).toISOString();
      if (t.expires <= now) logger.warn("a configured token has expired and is refused", { variable, credential: t.name, expires });
      else if (t.expires - now <= EXPIRY_WARNING_MS) {
        logger.warn("a configured token expires soon", { variable, credential: t.name, expires, days: Math.floor((t.expires - now) / 86_400_000) });
      }
    }
  }
}

/** The same for the store's tokens that are not revoked. */
export function warnExpiringStoreTokens(tokens: StoredToken[], logger: Logger, now = Date.now()): void {
  for (const t of tokens) {
    if (t.revoked !== null || t.expires === null) continue;
    const at = Date.parse(t.expires);
    if (at <= now || at - now > EXPIRY_WARNING_MS) continue;
    logger.warn("a stored token expires soon (digicert-scim tokens list)", {
      credential: `token:${t.name}`,
      scope: t.scope,
      expires: t.expires,
      days: Math.floor((at - now) / 86_400_000),
    });
  }
}

/** Whether a stored token is usable now: not revoked, not expired. */
export function isActive(t: StoredToken, now = Date.now()): boolean {
  return t.revoked === null && (t.expires === null || Date.parse(t.expires) > now);
}

/**
 * At start: warns about stored tokens expiring soon, and refuses to start (ConfigError) when the IdP would have no
 * way in: no SCIM_BEARER_TOKENS, SCIM_BASIC_USERS or OAUTH_CLIENTS and no usable store token of scope scim.
 */
/** SCIM_BEARER_TOKENS, SCIM_BASIC_USERS or OAUTH_CLIENTS gives the IdP a way in without the store. */
export function credentialsInEnv(config: Pick<AppConfig, "scim">): boolean {
  return config.scim.bearerTokens.length > 0 || config.scim.basicUsers.length > 0 || config.scim.oauth !== undefined;
}

export async function checkCredentialsAtStart(
  config: Pick<AppConfig, "scim">,
  repo: Pick<TokenRepository, "list">,
  logger: Logger,
  now = Date.now(),
): Promise<void> {
  const stored = await repo.list();
  warnExpiringStoreTokens(stored, logger, now);
  if (credentialsInEnv(config)) return;
  const usable = stored.filter((t) => t.scope === "scim" && isActive(t, now));
  if (!usable.length) throw new ConfigError([NO_AUTH_PROBLEM]);
  logger.info("SCIM credentials: tokens from the store only", { tokens: usable.length });
}
