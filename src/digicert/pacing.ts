// Keeps every DigiCert call inside the published per-key budget (rolling windows, all of which must hold) so the
// bridge is never the reason DigiCert blocks the key. One Bottleneck limiter runs a token bucket that satisfies
// every window at once (strict spacing); with Redis the spacing is shared by all replicas.
import { createHash } from "node:crypto";
import { DigiCertError } from "./errors";
import Bottleneck from "bottleneck";

export interface RateWindow {
  count: number;
  windowMs: number;
}

export const DEFAULT_WINDOWS: RateWindow[] = [
  { count: 1000, windowMs: 180_000 },
  { count: 100, windowMs: 5_000 },
];

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses `1000/180s,100/5s` (units ms|s|m|h; a bare `/s` means one unit). */
export function parseRateLimit(spec: string): RateWindow[] {
  if (typeof spec !== "string" || spec.trim() === "") {
    throw new Error("empty rate limit; expected e.g. 1000/180s,100/5s");
  }
  return spec.split(",").map((part) => {
    const m = /^\s*(\d+)\s*\/\s*(\d*(?:\.\d+)?)\s*(ms|s|m|h)\s*$/i.exec(part);
    if (!m) throw new Error(`"${part.trim()}" is not <count>/<window> with unit ms|s|m|h, e.g. 100/5s`);
    const count = Number(m[1]);
    const amount = m[2] === "" ? 1 : Number(m[2]);
    const windowMs = Math.round(amount * UNIT_MS[m[3].toLowerCase()]);
    if (!Number.isSafeInteger(count) || count < 1) throw new Error(`"${part.trim()}": count must be at least 1`);
    if (!(windowMs >= 1)) throw new Error(`"${part.trim()}": window must be at least 1ms`);
    return { count, windowMs };
  });
}

export interface BucketPlan {
  /** Milliseconds between two call starts. */
  intervalMs: number;
  /** Calls allowed at once beyond the spacing; always 0 (strict spacing), kept for the plan's readers. */
  burst: number;
}

// Margin for network jitter between our dispatch and DigiCert's clock (3% of each interval).
const JITTER_FACTOR = 1.03;

/**
 * Strict spacing: one call start per I ms lets at most ceil(W/I) calls start in any window W, so I is the
 * largest W/count over the windows, stretched by the jitter margin. That uses about 97% of the strictest window.
 * A token bucket with bursts was tried first: Bottleneck refills reservoirs on its heartbeat, which cost a fifth
 * of the rate in a measured flood (77% of the limit), while minTime spacing is kept to the millisecond.
 */
export function planBucket(windows: RateWindow[]): BucketPlan {
  if (windows.length === 0) throw new Error("at least one rate window is required");
  const interval = Math.max(...windows.map((w) => w.windowMs / w.count));
  return { intervalMs: Math.max(1, Math.ceil(interval * JITTER_FACTOR)), burst: 0 };
}

export interface PacerOptions {
  windows?: RateWindow[];
  maxConcurrent?: number;
  redisUrl?: string;
  /** The API key (or anything identifying the budget); only its SHA-256 is used. */
  keyId: string;
  /**
   * Longest a call may wait for its turn before failing as "unavailable" (default 30 s). Bounds the wait when
   * the queue is long or Redis is unreachable; a call that gave up never runs later.
   */
  maxWaitMs?: number;
}

export interface Pacer {
  schedule<T>(fn: () => Promise<T>): Promise<T>;
  stop(): Promise<void>;
  readonly clustered: boolean;
}

const DEFAULT_MAX_WAIT_MS = 30_000;

function scheduleWithin<T>(limiter: Bottleneck, fn: () => Promise<T>, maxWaitMs: number, clustered: boolean): Promise<T> {
  let state: "waiting" | "started" | "abandoned" = "waiting";
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      if (state !== "waiting") return;
      state = "abandoned";
      const why = clustered ? "the shared rate limiter (Redis) did not grant a slot" : "the DigiCert rate budget is exhausted";
      reject(new DigiCertError("unavailable", `DigiCert call not sent: ${why} within ${Math.round(maxWaitMs / 1000)} s`, { retryAfterSeconds: 10 }));
    }, maxWaitMs);
    limiter
      .schedule(() => {
        if (state === "abandoned") return Promise.resolve(undefined as T);
        state = "started";
        clearTimeout(timer);
        return fn();
      })
      .then(
        (v) => state === "started" && resolve(v),
        (e) => {
          clearTimeout(timer);
          if (state !== "abandoned") reject(e);
        },
      );
  });
}

export function limiterId(keyId: string): string {
  return "digicert-" + createHash("sha256").update(keyId).digest("hex").slice(0, 32);
}

export function createPacer(opts: PacerOptions): Pacer {
  const windows = opts.windows && opts.windows.length > 0 ? opts.windows : DEFAULT_WINDOWS;
  const plan = planBucket(windows);
  const base: Bottleneck.ConstructorOptions = {
    maxConcurrent: opts.maxConcurrent ?? 4,
    minTime: plan.intervalMs,
  };
  const clustered = !!opts.redisUrl;
  const limiter = new Bottleneck(
    clustered
      ? {
          ...base,
          id: limiterId(opts.keyId),
          datastore: "ioredis",
          clearDatastore: false,
          clientOptions: opts.redisUrl,
          // Stale state of a crashed replica must not hold the budget forever.
          timeout: 10 * 60_000,
        }
      : base,
  );
  if (clustered) {
    // Bottleneck passes clientOptions to `new Redis(options)`; ioredis accepts a URL string there. Errors are
    // emitted on the limiter; without a listener they would crash the process.
    limiter.on("error", () => undefined);
  }
  return {
    clustered,
    schedule: <T>(fn: () => Promise<T>) => scheduleWithin(limiter, fn, opts.maxWaitMs ?? DEFAULT_MAX_WAIT_MS, clustered),
    stop: async () => {
      // With Redis unreachable, stop() waits for a connection that never comes: bound it, then drop the sockets.
      const grace = new Promise<void>((r) => setTimeout(r, 1000).unref());
      await Promise.race([limiter.stop({ dropWaitingJobs: true }).catch(() => undefined), grace]);
      if (clustered) await Promise.resolve(limiter.disconnect(false)).catch(() => undefined);
    },
  };
}
