// Hooks through which the DigiCert layer reports what it does (for metrics), without knowing who listens:
// nothing here depends on Prometheus or the HTTP server. The wiring connects them to the metrics registry.
import { AsyncLocalStorage } from "node:async_hooks";
import type { TraceContext } from "../log/trace-context";
import type { PlatformName } from "./types";

/**
 * Who caused a DigiCert call: the outbox job (its id, user and the SCIM request that queued it), or a named origin
 * (readiness, reconcile). Set by the caller around its work (`withCallCause`); the HTTP layer reads it when the call
 * starts, before pacing, so a call keeps its cause whichever job's turn the rate limiter runs it in. It names the
 * call on the status page and in the call's log lines; its trace is sent on in the call's `traceparent`.
 */
export interface CallCause {
  origin: string;
  requestId?: string | null;
  jobId?: number;
  userId?: string;
  userName?: string | null;
  /** The W3C trace the call belongs to (the SCIM request's, carried by its job); without one each call begins its own. */
  trace?: TraceContext;
}

const causes = new AsyncLocalStorage<CallCause>();

/** Runs `fn` with `cause` named on every DigiCert call it makes. */
export function withCallCause<T>(cause: CallCause, fn: () => T): T {
  return causes.run(cause, fn);
}

/** The cause of the code running now, if one was set. */
export function currentCallCause(): CallCause | undefined {
  return causes.getStore();
}

/** How one attempt at a DigiCert call ended: the HTTP status, or why there was none. */
export type DigiCertCallStatus = number | "network" | "timeout" | "circuit_open";

/** One attempt at a DigiCert call (every retry is an attempt of its own). */
export interface DigiCertCallObservation {
  platform: PlatformName;
  method: string;
  /** The route template, ids replaced by `{id}` (e.g. `/user/{id}/role`), so label values stay few. */
  endpoint: string;
  status: DigiCertCallStatus;
  /** Time on the wire, pacing wait excluded; 0 when the open circuit refused the call before sending it. */
  seconds: number;
  /** Who caused the call, when the caller said (withCallCause). */
  cause?: CallCause;
}

export type DigiCertCallObserver = (call: DigiCertCallObservation) => void;

/** What the rate limiter (pacing.ts) reports. */
export interface PacingObserver {
  /** A call got its slot after waiting this long (0 when one was free). */
  waited(seconds: number): void;
}

/** Everything createDigiCertClient can report; all optional. */
export interface DigiCertObservers {
  call?: DigiCertCallObserver;
  pacing?: PacingObserver;
}

// Path segments that name an API route rather than an object; anything else is an id.
const ROUTE_WORDS = new Set(["user", "users", "me", "role", "roles", "container", "account", "disable", "enable", "availability"]);
const MAX_SEGMENTS = 6;

/**
 * `/user/123/role` → `/user/{id}/role`; `/user/me` stays. Query strings are dropped, unknown words count as ids,
 * and paths deeper than a few segments are cut, so a surprise path cannot multiply the label values.
 */
export function routeTemplate(path: string): string {
  const segments = path.split("?")[0].split("/").filter((s) => s !== "");
  const named = segments.slice(0, MAX_SEGMENTS).map((s) => (ROUTE_WORDS.has(s.toLowerCase()) ? s.toLowerCase() : "{id}"));
  return "/" + named.join("/") + (segments.length > MAX_SEGMENTS ? "/{more}" : "");
}

/** Calls a hook without letting it break the call it reports on. */
export function safely<A extends unknown[]>(hook: ((...args: A) => void) | undefined, ...args: A): void {
  if (!hook) return;
  try {
    hook(...args);
  } catch {
    // A metrics hook that throws must not fail a DigiCert call.
  }
}
