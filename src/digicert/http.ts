// The one place that talks HTTP to DigiCert. Both platform clients go through it so that pacing, logging,
// transport-error translation and the GET-only retry policy are identical and the API key is handled in one spot.
import http from "node:http";
import https from "node:https";
import axios, { AxiosInstance, AxiosResponse } from "axios";
import type { Logger } from "../log/logger";
import { DigiCertError } from "./errors";
import type { Platform } from "./types";

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
  platform: Platform;
  baseUrl: string;
  authHeader: string;
  apiKey: string;
  timeoutMs: number;
  logger: Logger;
  classify: ErrorClassifier;
  pacer?: Scheduler;
  /** Backoff before each GET retry; its length is the retry count. */
  retryDelaysMs?: number[];
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

const DEFAULT_RETRY_DELAYS_MS = [100, 250];
// A Retry-After longer than this is the server asking for a real pause: surface it instead of retrying inline.
const MAX_INLINE_RETRY_AFTER_S = 2;

export class DigiCertHttp {
  private readonly axios: AxiosInstance;
  private readonly httpAgent = new http.Agent({ keepAlive: true });
  private readonly httpsAgent = new https.Agent({ keepAlive: true });
  private readonly retryDelaysMs: number[];

  constructor(private readonly opts: DigiCertHttpOptions) {
    this.retryDelaysMs = opts.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
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

  get platform(): Platform {
    return this.opts.platform;
  }

  async request(method: HttpMethod, path: string, call: CallOptions = {}): Promise<HttpResult> {
    const retries = method === "GET" ? this.retryDelaysMs : [];
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(method, path, call);
      } catch (e) {
        const retryable =
          e instanceof DigiCertError &&
          e.kind === "unavailable" &&
          attempt < retries.length &&
          (e.retryAfterSeconds === undefined || e.retryAfterSeconds <= MAX_INLINE_RETRY_AFTER_S);
        if (!retryable) throw e;
        const wait = Math.max(retries[attempt], (e.retryAfterSeconds ?? 0) * 1000);
        await sleep(wait + Math.floor(Math.random() * 50));
      }
    }
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private async once(method: HttpMethod, path: string, call: CallOptions): Promise<HttpResult> {
    const run = () => this.send(method, path, call);
    return this.opts.pacer ? this.opts.pacer.schedule(run) : run();
  }

  private async send(method: HttpMethod, path: string, call: CallOptions): Promise<HttpResult> {
    const started = Date.now();
    let res: AxiosResponse<string>;
    try {
      res = await this.axios.request<string>({
        method,
        url: path,
        params: cleanQuery(call.query),
        data: call.body === undefined ? undefined : JSON.stringify(call.body),
        headers: call.body === undefined ? undefined : { "Content-Type": "application/json" },
      });
    } catch (e) {
      const reason = transportReason(e);
      this.log(method, path, undefined, started, reason);
      throw new DigiCertError("unavailable", `DigiCert ${this.label()} is unreachable (${reason})`);
    }
    this.log(method, path, res.status, started);
    return this.interpret(res);
  }

  private interpret(res: AxiosResponse<string>): HttpResult {
    const status = res.status;
    const text = typeof res.data === "string" ? res.data : "";
    const parsed = parseJson(text);
    if (status >= 200 && status < 300) {
      if (text.trim() === "") return { status, data: undefined };
      if (parsed === NOT_JSON) {
        throw new DigiCertError("unexpected", `DigiCert ${this.label()} answered ${status} with a body that is not JSON`, {
          status,
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
    if (status >= 500) {
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

  private log(method: string, path: string, status: number | undefined, started: number, error?: string): void {
    const entry: Record<string, unknown> = {
      platform: this.opts.platform,
      method,
      path: path.split("?")[0],
      status,
      ms: Date.now() - started,
    };
    if (error) entry.error = error;
    this.opts.logger.info("digicert call", entry);
  }

  private label(): string {
    return this.opts.platform === "certcentral" ? "CertCentral" : "ONE";
  }
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

/** Reads `{"errors":[…]}`, `{"error":{…}}` and a bare `{"code","message"}`; anything else yields no problems. */
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
  if (Array.isArray(b.errors)) return b.errors.map(pick).filter((p): p is WireProblem => !!p);
  if (b.error !== undefined) {
    const p = pick(b.error);
    return p ? [p] : [];
  }
  const p = pick(b);
  return p ? [p] : [];
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
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return "DNS lookup failed";
  if (code === "ERR_CANCELED") return "cancelled";
  return typeof code === "string" ? code : "network error";
}
