// Retry policy of the shared DigiCert caller (http.ts). Pure functions so the decisions can be tested without
// a network: which failures are worth another attempt, and how long to wait before it.
//
// - Only idempotent methods (GET, PUT, DELETE) are retried. A POST that failed may still have created the user
//   at DigiCert; the provisioning layer looks the user up before re-sending, so it is never retried here.
// - 429 and 503 (and any retryable answer that carries one) honour Retry-After, seconds or HTTP-date.
// - 429 without Retry-After (CertCentral never sends one, doc §A.9) backs off for at least 5 s, doubling.
// - Other 5xx, 503 without Retry-After, 408, connection resets/refusals and timeouts: exponential backoff with
//   full jitter (base 250 ms, factor 2).
// - Every other 4xx is final.
import { DigiCertError } from "./errors";
import type { HttpMethod } from "./http";

export const DEFAULT_MAX_RETRIES = 3;
export const DEFAULT_RETRY_BUDGET_MS = 8000;
export const DEFAULT_RETRY_BASE_DELAY_MS = 250;
/** doc §A.9 ASSUMPTION: without Retry-After a 429 needs "a few seconds or minutes"; never retry sooner. */
export const DEFAULT_RATE_LIMIT_BACKOFF_MS = 5000;

export interface RetryTiming {
  /** First backoff step of transient failures (full jitter: a random wait in [0, base·2^(n-1)]). */
  baseDelayMs: number;
  /** Shortest wait after a 429 without Retry-After; doubles with each retry, plus up to 20 % jitter. */
  rateLimitBackoffMs: number;
  random: () => number;
}

export interface RetryCause {
  /** For the log line: "503", "429", "timeout", "connection reset"… */
  reason: string;
  /** The server's Retry-After in milliseconds, when it sent one. */
  retryAfterMs?: number;
  /** 429: DigiCert is pacing us, not failing. */
  rateLimited: boolean;
}

/** Transport failures that are worth another attempt (the request may not have been processed, or is safe again). */
const TRANSIENT_TRANSPORT = new Set(["timeout", "connection reset", "connection refused", "DNS lookup failed (temporary)"]);

export function isIdempotent(method: HttpMethod): boolean {
  return method === "GET" || method === "PUT" || method === "DELETE";
}

/**
 * Why `e` may be retried, or undefined when it must not be. `transport` is the transport-failure reason the
 * caller recorded for errors that never got an HTTP answer (undefined for anything else, e.g. a pacing give-up).
 */
export function retryCause(e: unknown, transport: string | undefined): RetryCause | undefined {
  if (!(e instanceof DigiCertError)) return undefined;
  const retryAfterMs = e.retryAfterSeconds === undefined ? undefined : e.retryAfterSeconds * 1000;
  if (e.status === 429) return { reason: "429", retryAfterMs, rateLimited: true };
  if (e.status !== undefined) {
    // 501 Not Implemented is about the route, not an outage: another attempt gets the same answer.
    if ((e.status >= 500 && e.status !== 501) || e.status === 408) return { reason: String(e.status), retryAfterMs, rateLimited: false };
    return undefined;
  }
  if (e.kind === "unavailable" && transport !== undefined && TRANSIENT_TRANSPORT.has(transport)) {
    return { reason: transport, rateLimited: false };
  }
  return undefined;
}

/** Milliseconds to wait before retry number `retry` (1-based). */
export function retryDelayMs(cause: RetryCause, retry: number, timing: RetryTiming): number {
  if (cause.retryAfterMs !== undefined) return cause.retryAfterMs;
  const step = Math.pow(2, Math.max(0, retry - 1));
  if (cause.rateLimited) {
    const floor = timing.rateLimitBackoffMs * step;
    return Math.round(floor + timing.random() * floor * 0.2);
  }
  return Math.round(timing.random() * timing.baseDelayMs * step);
}
