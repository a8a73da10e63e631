// What createApp needs for authentication on every surface: one failure limiter (AUTH_FAILURE_LIMIT) shared by
// /scim/v2, /oauth/token, /admin and /metrics, the store's tokens, and the warnings the start logs about credentials.
import type { AppConfig, BearerCredential } from "../config";
import type { Logger } from "../log/logger";
import type { TokenRepository } from "../provisioning/ports";
import type { AuthSupport } from "./credential-prelude";
import { AuthFailureLimiter, SharedAuthFailureLimiter, type FailureLimiter } from "./auth-failures";
import { metricsOpenWarning } from "./metrics-auth";
import { StoreTokens, warnExpiringEnvTokens } from "./store-tokens";

export type TokenLookup = Pick<TokenRepository, "findByDigest" | "touch">;

export interface AppAuth extends AuthSupport {
  limiter: FailureLimiter;
}

export function createAuthSupport(
  config: Pick<AppConfig, "scim" | "admin"> & Partial<Pick<AppConfig, "authFailureLimit">> & { digicert?: Pick<AppConfig["digicert"], "redisUrl"> },
  metricsTokens: BearerCredential[] | undefined,
  tokens: TokenLookup | undefined,
  logger: Logger,
): AppAuth {
  warnExpiringEnvTokens(
    [
      { variable: "SCIM_BEARER_TOKENS", tokens: config.scim.bearerTokens },
      { variable: "ADMIN_TOKENS", tokens: config.admin?.tokens },
      { variable: "METRICS_TOKEN", tokens: metricsTokens },
    ],
    logger,
  );
  const open = metricsOpenWarning(metricsTokens, config.admin);
  if (open) logger.warn(open);
  const limit = config.authFailureLimit ?? null;
  // REDIS_URL: one count for every replica (the DigiCert rate budget's Redis); else, or while it is down, per replica.
  const redisUrl = config.digicert?.redisUrl;
  return {
    limiter: limit && redisUrl ? new SharedAuthFailureLimiter({ limit, logger, redisUrl }) : new AuthFailureLimiter({ limit, logger }),
    store: tokens ? new StoreTokens({ repo: tokens, logger }) : undefined,
    logger,
  };
}
