import type { NextFunction, Request, Response } from "express";
import type { Logger } from "../log/logger";
import type { AuthVerdict } from "./auth";
import type { AuthSurface, FailureLimiter } from "./auth-failures";
import { requestContext } from "./request-context";
import type { StoreTokens } from "./store-tokens";

// What every authenticated surface (SCIM, /metrics, /admin) does before its handler, in one place: refuse an address
// AUTH_FAILURE_LIMIT blocks, check the credential, count and log a failure. Only the answers differ (a SCIM error
// body, plain text, a hidden page), so each surface says how it renders them.

/** What every authenticated surface shares: the failure limiter, the store's tokens and the log. */
export interface AuthSupport {
  /** AUTH_FAILURE_LIMIT: per replica, or shared through Redis (REDIS_URL). */
  limiter?: FailureLimiter;
  store?: StoreTokens;
  logger?: Logger;
}

/** How a surface answers when its prelude lets a request no further. */
export interface PreludeAnswers {
  /** The client's address is blocked by AUTH_FAILURE_LIMIT for this many seconds (429 with Retry-After). */
  blocked(res: Response, retryAfterSeconds: number): void;
  /** The token store could not be read (503; the prelude has logged it). */
  storeUnavailable(res: Response): void;
  /** No usable credential (the failure is counted already): usually 401 with a challenge. */
  unauthorized(req: Request, res: Response, verdict: AuthVerdict, next: NextFunction): void;
}

/**
 * The credential prelude of one surface: on success the credential's name goes into the request context and the
 * request goes on; until then the context names credential "none".
 */
export function credentialPrelude(
  surface: AuthSurface,
  authenticate: (authorization: string | undefined) => Promise<AuthVerdict>,
  support: AuthSupport,
  answers: PreludeAnswers,
) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const ctx = requestContext(res);
    ctx.credential = "none";
    const blocked = (await support.limiter?.blockedFor(req)) ?? 0;
    if (blocked) return answers.blocked(res, blocked);
    let verdict: AuthVerdict;
    try {
      verdict = await authenticate(req.get("authorization"));
    } catch (err) {
      storeUnavailable(res, surface, err, support);
      return answers.storeUnavailable(res);
    }
    if (verdict.kind === "ok") {
      ctx.credential = verdict.name;
      return next();
    }
    await recordFailure(req, res, verdict, surface, support);
    answers.unauthorized(req, res, verdict, next);
  };
}

/**
 * After a verdict that is not ok: counts the failure when a credential was presented, and logs a refused known
 * credential (its name and why, never the secret).
 */
export async function recordFailure(req: Request, res: Response, verdict: AuthVerdict, surface: AuthSurface, support: AuthSupport): Promise<void> {
  if (verdict.kind === "none" || verdict.kind === "ok") return;
  // Counted before the answer goes out, so the client's next attempt (on any replica) sees it.
  await support.limiter?.fail(req, surface);
  if (verdict.kind === "refused") {
    support.logger?.warn(`credential refused: ${verdict.reason.replace("_", " ")}`, {
      requestId: requestContext(res).requestId,
      surface,
      credential: verdict.name,
      reason: verdict.reason,
    });
  }
}

/** Logs a store that could not be read during authentication; the caller answers 503. */
export function storeUnavailable(res: Response, surface: AuthSurface, err: unknown, support: AuthSupport): void {
  support.logger?.warn("cannot check a credential: the token store does not answer", {
    requestId: requestContext(res).requestId,
    surface,
    error: (err as Error)?.message,
  });
}
