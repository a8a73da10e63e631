// The one place that talks HTTP to DigiCert. Both platform clients go through it so that pacing, logging,
// transport-error translation, the retry policy (retry.ts) and the circuit breaker (circuit.ts) are identical
// and the API key is handled in one spot.
import http from "node:http";
import https from "node:https";
import axios, { AxiosInstance, AxiosResponse } from "axios";
import type { Logger } from "../log/logger";
import { newTrace, traceparentFor, type TraceContext } from "../log/trace-context";
import { type CallOutcome, CircuitBreaker, type CircuitSnapshot, DEFAULT_CIRCUIT_COOLDOWN_MS, DEFAULT_CIRCUIT_THRESHOLD } from "./circuit";
import { DigiCertError } from "./errors";
import {
  DEFAULT_MAX_RETRIES,
  DEFAULT_RATE_LIMIT_BACKOFF_MS,
  DEFAULT_RETRY_BASE_DELAY_MS,
  DEFAULT_RETRY_BUDGET_MS,
  isIdempotent,
  retryCause,
  retryDelayMs,
  type RetryTiming,
} from "./retry";
import type { PlatformName } from "./types";
import { type CallCause, currentCallCause, type DigiCertCallObserver, type DigiCertCallStatus, routeTemplate, safely } from "./observer";

export type HttpMethod = "GET" | "POST" | "PUT" | "DELETE";

/** One `{code,message}` problem as DigiCert reports it (both platforms, both envelope styles). */
export interface WireProblem {
  code?: string;
  message?: string;
}

/** Turns a 4xx that is not 429 into a typed error; each platform knows its own codes. */
export type ErrorClassifier = (status: number, problems: WireProblem[]) => DigiCertError;

/** Anything that can run a job under a rate budget (see pacing.ts). */
export interface Scheduler {
  schedule<T>(fn: () => Promise<T>): Promise<T>;
}

export interface DigiCertHttpOptions {
  platform: PlatformName;
  /** The platform as messages name it ("DigiCert ONE is unreachable"). */
  displayName: string;
  baseUrl: string;
  authHeader: string;
  apiKey: string;
  timeoutMs: number;
  logger: Logger;
  classify: ErrorClassifier;
  pacer?: Scheduler;
  /** Retries of one idempotent call (GET, PUT, DELETE); default 3. POST is never retried. */
  maxRetries?: number;
  /** Most time one call may spend waiting between its attempts (backoff and Retry-After); default 8000. */
  retryBudgetMs?: number;
  /** First step of the full-jitter exponential backoff; default 250. */
  retryBaseDelayMs?: number;
  /** Shortest wait after a 429 without Retry-After; default 5000 (doc §A.9). */
  rateLimitBackoffMs?: number;
  /** Consecutive "unavailable" calls that open the circuit; default 5, 0 = never. */
  circuitThreshold?: number;
  /** How long an open circuit fails calls fast; default 30000. */
  circuitCooldownMs?: number;
  /** Told about every attempt (retries included) and every call the open circuit refused; for metrics. */
  onCall?: DigiCertCallObserver;
  /** Tests only. */
  random?: () => number;
  now?: () => number;
}

export interface CallOptions {
  query?: Record<string, string | number | undefined>;
  body?: unknown;
}

export interface HttpResult {
  status: number;
  /** Parsed JSON body, or undefined when DigiCert sent none (204). */
  data: unknown;
}

// Errors that never got an HTTP answer, with the transport reason ("timeout", "connection reset"…).
const transportFailures = new WeakMap<DigiCertError, string>();
// Errors that came from talking to DigiCert (an answer or a transport failure), as opposed to local ones such as
// a pacing give-up or the open circuit: only these tell the circuit breaker anything.
const wireErrors = new WeakSet<DigiCertError>();

/** One logical call's cause (for the status page) and trace, read once when it starts; its attempts share them. */
interface CallScope {
  cause?: CallCause;
  trace: TraceContext;
  /** What every log line about the call names: its origin, the SCIM request, job and user behind it, its trace id. */
  logFields: Record<string, unknown>;
}

function scopeOf(cause: CallCause | undefined): CallScope {
  const trace = cause?.trace ?? newTrace();
  const logFields: Record<string, unknown> = {};
  if (cause) {
    logFields.origin = cause.origin;
    if (cause.requestId) logFields.requestId = cause.requestId;
    if (cause.jobId !== undefined) logFields.jobId = cause.jobId;
    if (cause.userId) logFields.userId = cause.userId;
  }
  logFields.traceId = trace.traceId;
  return { cause, trace, logFields };
}

export type { CircuitSnapshot } from "./circuit";

export class DigiCertHttp {
  private readonly axios: AxiosInstance;
  private readonly httpAgent = new http.Agent({ keepAlive: true });
  private readonly httpsAgent = new https.Agent({ keepAlive: true });
  private readonly maxRetries: number;
  private readonly retryBudgetMs: number;
  private readonly timing: RetryTiming;
  private readonly breaker: CircuitBreaker;

  constructor(private readonly opts: DigiCertHttpOptions) {
    this.maxRetries = opts.maxRetries ?? DEFAULT_MAX_RETRIES;
    this.retryBudgetMs = opts.retryBudgetMs ?? DEFAULT_RETRY_BUDGET_MS;
    this.timing = {
      baseDelayMs: opts.retryBaseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS,
      rateLimitBackoffMs: opts.rateLimitBackoffMs ?? DEFAULT_RATE_LIMIT_BACKOFF_MS,
      random: opts.random ?? Math.random,
    };
    this.breaker = new CircuitBreaker({
      threshold: opts.circuitThreshold ?? DEFAULT_CIRCUIT_THRESHOLD,
      cooldownMs: opts.circuitCooldownMs ?? DEFAULT_CIRCUIT_COOLDOWN_MS,
      now: opts.now,
      onChange: (c) => {
        const entry = { platform: opts.platform, state: c.state, openUntil: c.openUntil, consecutiveFailures: c.consecutiveFailures };
        if (c.state === "open") opts.logger.warn("digicert circuit open", entry);
        else opts.logger.info(`digicert circuit ${c.state}`, entry);
      },
    });
    this.axios = axios.create({
      baseURL: opts.baseUrl.replace(/\/+$/, ""),
      timeout: opts.timeoutMs,
      headers: { [opts.authHeader]: opts.apiKey, Accept: "application/json" },
      // Keep the raw text: we decide what "not JSON" means and never let axios echo a body into an error.
      responseType: "text",
      transformResponse: [(d: unknown) => d],
      validateStatus: () => true,
      maxRedirects: 0,
      httpAgent: this.httpAgent,
      httpsAgent: this.httpsAgent,
    });
  }

  get platform(): PlatformName {
    return this.opts.platform;
  }

  /** The circuit breaker's state, for readiness checks. */
  circuit(): CircuitSnapshot {
    return this.breaker.snapshot();
  }

  /**
   * One logical call: fails fast while the circuit is open, otherwise runs the attempts the retry policy allows
   * and reports the final outcome to the circuit breaker.
   */
  async request(method: HttpMethod, path: string, call: CallOptions = {}): Promise<HttpResult> {
    // Read now, before pacing: the rate limiter may run the call from another job's async context.
    const scope = scopeOf(currentCallCause());
    let trial: boolean;
    try {
      trial = this.breaker.admit();
    } catch (e) {
      this.observe(method, path, "circuit_open", 0, scope.cause);
      throw e;
    }
    let outcome: CallOutcome = "neutral";
    try {
      const res = await this.withRetries(method, path, call, scope);
      outcome = "success";
      return res;
    } catch (e) {
      outcome = outcomeOf(e);
      if (trial && outcome === "failure" && e instanceof DigiCertError) e.duringOutage = true;
      throw e;
    } finally {
      this.breaker.record(trial, outcome);
    }
  }

  private async withRetries(method: HttpMethod, path: string, call: CallOptions, scope: CallScope): Promise<HttpResult> {
    const retries = isIdempotent(method) ? this.maxRetries : 0;
    let waited = 0;
    for (let retry = 1; ; retry++) {
      try {
        return await this.once(method, path, call, scope);
      } catch (e) {
        const cause = retryCause(e, e instanceof DigiCertError ? transportFailures.get(e) : undefined);
        if (!cause || retry > retries) throw e;
        const err = e as DigiCertError;
        const waitMs = retryDelayMs(cause, retry, this.timing);
        const remaining = this.retryBudgetMs - waited;
        if (waitMs > remaining) {
          this.opts.logger.info("digicert retry skipped", {
            ...this.where(method, path),
            ...scope.logFields,
            attempt: retry,
            reason: cause.reason,
            waitMs,
            remainingBudgetMs: remaining,
          });
          // A 429 without Retry-After: tell the caller how long we would have waited (the SCIM layer passes it on).
          if (cause.rateLimited && err.retryAfterSeconds === undefined) throw withRetryAfter(err, Math.ceil(waitMs / 1000));
          throw err;
        }
        this.opts.logger.warn("digicert retry", { ...this.where(method, path), ...scope.logFields, attempt: retry, reason: cause.reason, waitMs });
        await sleep(waitMs);
        waited += waitMs;
      }
    }
  }

  private where(method: string, path: string): Record<string, unknown> {
    return { platform: this.opts.platform, method, path: path.split("?")[0] };
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private async once(method: HttpMethod, path: string, call: CallOptions, scope: CallScope): Promise<HttpResult> {
    const run = () => this.send(method, path, call, scope);
    return this.opts.pacer ? this.opts.pacer.schedule(run) : run();
  }

  private async send(method: HttpMethod, path: string, call: CallOptions, scope: CallScope): Promise<HttpResult> {
    const { cause } = scope;
    const started = Date.now();
    // Every attempt is a span of its own within the call's trace (always sent: a harmless header DigiCert may ignore).
    const headers: Record<string, string> = { traceparent: traceparentFor(scope.trace) };
    if (call.body !== undefined) headers["Content-Type"] = "application/json";
    let res: AxiosResponse<string>;
    try {
      res = await this.axios.request<string>({
        method,
        url: path,
        params: cleanQuery(call.query),
        data: call.body === undefined ? undefined : JSON.stringify(call.body),
        headers,
      });
    } catch (e) {
      const reason = transportReason(e);
      this.log(method, path, undefined, started, scope, reason);
      this.observe(method, path, reason === "timeout" ? "timeout" : "network", (Date.now() - started) / 1000, cause);
      const err = new DigiCertError("unavailable", `DigiCert ${this.label()} is unreachable (${reason})`);
      transportFailures.set(err, reason);
      wireErrors.add(err);
      throw err;
    }
    this.log(method, path, res.status, started, scope);
    this.observe(method, path, res.status, (Date.now() - started) / 1000, cause);
    try {
      return this.interpret(res);
    } catch (e) {
      if (e instanceof DigiCertError) wireErrors.add(e);
      throw e;
    }
  }

  private interpret(res: AxiosResponse<string>): HttpResult {
    const status = res.status;
    const text = typeof res.data === "string" ? res.data : "";
    const parsed = parseJson(text);
    if (status >= 200 && status < 300) {
      if (text.trim() === "") return { status, data: undefined };
      if (parsed === NOT_JSON) {
        // A 2xx says DigiCert did the work; only its answer was lost on the way (a proxy's page, a cut body).
        throw new DigiCertError("unexpected", `DigiCert ${this.label()} answered ${status} with a body that is not JSON`, {
          status,
          maybeApplied: true,
        });
      }
      return { status, data: parsed };
    }
    const problems = parsed === NOT_JSON ? [] : extractProblems(parsed);
    const retryAfterSeconds = parseRetryAfter(res.headers["retry-after"]);
    const detail = joinMessages(problems);
    if (status === 429) {
      return throwIt(
        new DigiCertError("rate_limited", `DigiCert ${this.label()} rate limit reached${detail ? `: ${detail}` : ""}`, {
          status,
          code: problems[0]?.code,
          retryAfterSeconds,
        }),
      );
    }
    // Not Implemented is an answer about the route, not an outage: retrying cannot help.
    if (status === 501) {
      return throwIt(new DigiCertError("unsupported", `DigiCert ${this.label()} does not implement this call (501)`, { status, code: problems[0]?.code }));
    }
    // 408: DigiCert (or a proxy) gave up waiting for our request; like a 5xx it is worth another attempt.
    if (status >= 500 || status === 408) {
      return throwIt(
        new DigiCertError("unavailable", `DigiCert ${this.label()} answered ${status}${detail ? `: ${detail}` : ""}`, {
          status,
          code: problems[0]?.code,
          retryAfterSeconds,
        }),
      );
    }
    if (status >= 400) return throwIt(this.opts.classify(status, problems));
    // 1xx/3xx: we never follow redirects, so a redirect means a wrong base URL.
    throw new DigiCertError("unexpected", `DigiCert ${this.label()} answered an unexpected status ${status}`, { status });
  }

  private log(method: string, path: string, status: number | undefined, started: number, scope: CallScope, error?: string): void {
    const entry: Record<string, unknown> = {
      platform: this.opts.platform,
      method,
      path: path.split("?")[0],
      status,
      ms: Date.now() - started,
      ...scope.logFields,
    };
    if (error) entry.error = error;
    this.opts.logger.info("digicert call", entry);
  }

  private observe(method: string, path: string, status: DigiCertCallStatus, seconds: number, cause?: CallCause): void {
    safely(this.opts.onCall, { platform: this.opts.platform, method, endpoint: routeTemplate(path), status, seconds, ...(cause ? { cause } : {}) });
  }

  private label(): string {
    return this.opts.displayName;
  }
}

/** A wire failure that ended "unavailable" is an outage; any other answer proves DigiCert reachable. */
function outcomeOf(e: unknown): CallOutcome {
  if (!(e instanceof DigiCertError) || !wireErrors.has(e)) return "neutral";
  return e.kind === "unavailable" ? "failure" : "success";
}

function withRetryAfter(e: DigiCertError, retryAfterSeconds: number): DigiCertError {
  const copy = new DigiCertError(e.kind, e.message, { status: e.status, code: e.code, retryAfterSeconds });
  wireErrors.add(copy);
  return copy;
}

function throwIt(e: DigiCertError): never {
  throw e;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function cleanQuery(q?: Record<string, string | number | undefined>): Record<string, string> | undefined {
  if (!q) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(q)) if (v !== undefined) out[k] = String(v);
  return out;
}

const NOT_JSON = Symbol("not-json");

function parseJson(text: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return NOT_JSON;
  }
}

/**
 * Reads `{"errors":[…]}`, `{"errors":{…}}`, `{"error":{…}}` and a bare `{"code","message"}`; anything else yields
 * no problems. `errors` as an object is either one problem (`{"code","message"}`) or a map from field or code to
 * message(s), e.g. `{"username":"is not available"}` (§D.8: seen in client fixtures, not in DigiCert's docs).
 */
export function extractProblems(body: unknown): WireProblem[] {
  if (!body || typeof body !== "object") return [];
  const b = body as Record<string, unknown>;
  const pick = (p: unknown): WireProblem | undefined => {
    if (!p || typeof p !== "object") return typeof p === "string" ? { message: p } : undefined;
    const o = p as Record<string, unknown>;
    const code = typeof o.code === "string" ? o.code : undefined;
    const message = typeof o.message === "string" ? o.message : undefined;
    return code || message ? { code, message } : undefined;
  };
  const present = (p: WireProblem | undefined): p is WireProblem => !!p;
  if (Array.isArray(b.errors)) return b.errors.map(pick).filter(present);
  if (typeof b.errors === "string") return [{ message: b.errors }];
  if (b.errors && typeof b.errors === "object") {
    const one = pick(b.errors);
    if (one) return [one];
    return Object.entries(b.errors as Record<string, unknown>).flatMap(([key, value]) =>
      (Array.isArray(value) ? value : [value]).map((v) => keyed(key, v)).filter(present),
    );
  }
  if (b.error !== undefined) {
    const p = pick(b.error);
    return p ? [p] : [];
  }
  const p = pick(b);
  return p ? [p] : [];
}

/** One entry of an `errors` map; the key is the code. A fragment such as "is not available" gets its field back. */
function keyed(key: string, value: unknown): WireProblem | undefined {
  if (typeof value === "string") {
    const field = key.split("|").pop() ?? key; // invalid_param|username names the field username
    const fragment = /^[a-z]/.test(value) && !value.toLowerCase().includes(field.toLowerCase());
    return { code: key, message: fragment ? `${field} ${value}` : value };
  }
  if (!value || typeof value !== "object") return undefined;
  const o = value as Record<string, unknown>;
  const message = typeof o.message === "string" ? o.message : undefined;
  return { code: typeof o.code === "string" ? o.code : key, message };
}

export function joinMessages(problems: WireProblem[]): string {
  return problems
    .map((p) => p.message ?? p.code ?? "")
    .filter((m) => m !== "")
    .join("; ");
}

/** Retry-After is either delta-seconds or an HTTP-date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: unknown, now = Date.now()): number | undefined {
  if (typeof value !== "string" || value.trim() === "") return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

function transportReason(e: unknown): string {
  const code = (e as { code?: unknown })?.code;
  if (code === "ECONNABORTED" || code === "ETIMEDOUT") return "timeout";
  if (code === "ECONNREFUSED") return "connection refused";
  if (code === "ECONNRESET" || code === "EPIPE") return "connection reset";
  if (code === "EAI_AGAIN") return "DNS lookup failed (temporary)";
  if (code === "ENOTFOUND") return "DNS lookup failed";
  if (code === "ERR_CANCELED") return "cancelled";
  return typeof code === "string" ? code : "network error";
}
