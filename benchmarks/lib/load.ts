// autocannon, run in this process against a server in another, with per-request paths and bodies. Latency
// percentiles are computed here from every response (autocannon's own summary has no p95).
import autocannon from "autocannon";
import { BENCH_TOKEN } from "./dataset";
import type { BenchContext } from "./context";

export interface LoadSpec {
  url: string;
  method?: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  /** Called for every request: its path (with query) and, for writes, its body. */
  next(): { path: string; body?: unknown };
  connections: number;
  durationSec: number;
  /** Requests per second across all connections (closed loop without it). */
  overallRate?: number;
  timeoutSec?: number;
  /** The server under load: its CPU time is read before and after. */
  server?: { cpuSeconds(): number };
}

export interface LoadResult {
  /** Requests answered, all statuses. */
  requests: number;
  /** Answers by status (0 = error or timeout). */
  statuses: Record<string, number>;
  /** 2xx answers per second of the run. */
  okPerSec: number;
  /** Latency of 2xx answers, ms. */
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  errors: number;
  seconds: number;
  /** CPU the server process used per answered request, ms (when the spec names the server). */
  cpuMsPerRequest?: number;
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function summarise(latencies: number[]): { p50: number; p95: number; p99: number; mean: number } {
  const s = [...latencies].sort((a, b) => a - b);
  return {
    p50: percentile(s, 50),
    p95: percentile(s, 95),
    p99: percentile(s, 99),
    mean: s.reduce((a, b) => a + b, 0) / Math.max(1, s.length),
  };
}

export async function runLoad(ctx: BenchContext, spec: LoadSpec): Promise<LoadResult> {
  const method = spec.method ?? "GET";
  const headers: Record<string, string> = { authorization: `Bearer ${BENCH_TOKEN}`, "user-agent": "scim-bench" };
  if (method !== "GET" && method !== "DELETE") headers["content-type"] = "application/scim+json";
  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  const started = Date.now();
  const cpuBefore = spec.server?.cpuSeconds();
  let settle!: (err: Error | null, result?: autocannon.Result) => void;
  const finished = new Promise<autocannon.Result>((resolve, reject) => {
    settle = (err, result) => (err ? reject(err) : resolve(result!));
  });
  const instance = autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.durationSec,
    timeout: spec.timeoutSec ?? 30,
    ...(spec.overallRate ? { overallRate: spec.overallRate } : {}),
    headers,
    requests: [
      {
        method,
        setupRequest: (req) => {
          const n = spec.next();
          return { ...req, path: n.path, ...(n.body !== undefined ? { body: JSON.stringify(n.body) } : {}) };
        },
      },
    ],
  }, (err, result) => settle(err, result));
  instance.on("response", (_client, status: number, _bytes: number, ms: number) => {
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (status >= 200 && status < 300) latencies.push(ms);
  });
  const onAbort = () => instance.stop();
  ctx.abort.signal.addEventListener("abort", onAbort);
  const result = await finished.finally(() => ctx.abort.signal.removeEventListener("abort", onAbort));
  const cpu = spec.server && cpuBefore !== undefined ? spec.server.cpuSeconds() - cpuBefore : undefined;
  const seconds = Math.max(0.001, result.duration || (Date.now() - started) / 1000);
  const ok = latencies.length;
  const requests = Object.values(statuses).reduce((a, b) => a + b, 0);
  const cpuMsPerRequest = cpu !== undefined && requests > 0 ? (1000 * cpu) / requests : undefined;
  return { requests, statuses, okPerSec: ok / seconds, ...summarise(latencies), errors: result.errors, seconds, cpuMsPerRequest };
}

export function describeStatuses(s: Record<string, number>): string {
  return Object.entries(s)
    .sort()
    .map(([k, v]) => `${k}: ${v}`)
    .join(", ");
}
