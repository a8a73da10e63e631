// Keeps every DigiCert call inside the published per-key budget (rolling windows, all of which must hold) so the
// bridge is never the reason DigiCert blocks the key. Calls start strictly spaced, which satisfies every window at
// once: in-process by a Spacer (./spacer.ts), or, with Redis, by one Bottleneck limiter whose spacing all replicas
// share. While Redis is unreachable, each replica falls back to pacing itself alone at 1/N of the budget
// (N = BRIDGE_REPLICAS).
import { createHash } from "node:crypto";
import { DigiCertError } from "./errors";
import Bottleneck from "bottleneck";
import Redis from "ioredis";
import type { Logger } from "../log/logger";
import { type PacingObserver, safely } from "./observer";
import { Spacer, type Slots } from "./spacer";

export interface RateWindow {
  count: number;
  windowMs: number;
}

export const DEFAULT_WINDOWS: RateWindow[] = [
  { count: 1000, windowMs: 180_000 },
  { count: 100, windowMs: 5_000 },
];

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** The sustained request rate the tightest window allows, per second. */
export function sustainedRatePerSecond(windows: RateWindow[]): number {
  return Math.min(...windows.map((w) => w.count / (w.windowMs / 1000)));
}

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
  /** Milliseconds between two call starts; fractional (to the microsecond), never rounded to whole ms. */
  intervalMs: number;
  /** Calls allowed at once beyond the spacing; always 0 (strict spacing), kept for the plan's readers. */
  burst: number;
}

/**
 * How much later than planned a call may reach DigiCert's counter, in ms: our timer firing late, a busy event
 * loop between the slot and the socket write, the network's latency spread, DigiCert's own clock. Measured on
 * loopback on a loaded 2-core machine: calls planned 19 ms apart arrived in the same millisecond, and a rolling
 * 18 s window saw 2 calls more than the spacing alone allows (about 40 ms of displacement); 250 ms leaves room
 * for a real network on top of that.
 */
export const JITTER_MS = 250;
/** Long windows get at least this share of themselves as margin (1.8 s of CertCentral's 3 minutes). */
export const JITTER_SHARE = 0.01;
/**
 * Further displacement when the spacing is shared through Redis: the slot is granted by Redis and used in another
 * process after a round trip and that process's event loop. Three replicas on a loaded CI host saw 2 DigiCert
 * 429s when a 60 per 4 s window had about 140 ms of room (commit 48df7a1), none with about 210 ms.
 */
export const SHARED_JITTER_MS = 250;
/**
 * Of JITTER_MS, how far the in-process plan may fall behind the clock and still be caught up (see Spacer): a timer
 * firing late or an event loop busy for up to this long costs no rate; the calls held back start together, each
 * at most this much after its planned place. The rest of the allowance (150 ms) is for the network and DigiCert.
 */
export const CATCH_UP_MS = 100;

/**
 * Strict spacing: one call start per I ms lets at most ceil(W/I) calls start in any window W. Calls that reach
 * DigiCert up to J ms later than planned come from a stretch of W + J of our plan, so every window holds when
 * I ≥ (W + J) / count, J = max(jitterMs, 1 % of W). The margin is time, not a share of the rate: it costs
 * 250 ms / 5 s = 5 % of a 100 per 5 s window, but 1 % of CertCentral's binding 1,000 per 3 min (181.8 ms,
 * 0.990 of the limit). I is kept to the microsecond: the Spacer and Bottleneck's minTime in its Redis scripts
 * take fractions and keep the average spacing exact (the timers fire on whole milliseconds, each a little late,
 * never accumulating).
 * A token bucket with bursts was tried first: Bottleneck refills reservoirs on its heartbeat, which cost a fifth
 * of the rate in a measured flood (77% of the limit), while minTime spacing is kept to the millisecond.
 */
export function planBucket(windows: RateWindow[], jitterMs: number = JITTER_MS): BucketPlan {
  if (windows.length === 0) throw new Error("at least one rate window is required");
  const interval = Math.max(...windows.map((w) => (w.windowMs + Math.max(jitterMs, w.windowMs * JITTER_SHARE)) / w.count));
  return { intervalMs: Math.max(0.001, Math.ceil(interval * 1000) / 1000), burst: 0 };
}

/**
 * The spacing shared through Redis: the plan with the Redis hop's allowance, rounded up to a whole millisecond.
 * Bottleneck's Redis scripts set the keys' expiry (PEXPIRE, integers only) from the next start, which a fractional
 * spacing makes fractional: every grant then fails (measured: creates waited out SYNC_WAIT_MS at 3/s).
 */
export function sharedIntervalMs(windows: RateWindow[]): number {
  return Math.ceil(planBucket(windows, JITTER_MS + SHARED_JITTER_MS).intervalMs);
}

/**
 * One replica's share of the budget when N replicas pace alone: every window's count divided by N (rounded
 * down, at least 1), so N replicas together stay within each window.
 */
export function shareWindows(windows: RateWindow[], replicas: number): RateWindow[] {
  const n = Math.max(1, Math.floor(replicas));
  return windows.map((w) => ({ count: Math.max(1, Math.floor(w.count / n)), windowMs: w.windowMs }));
}

/** local: no Redis configured; shared: the budget is shared through Redis; fallback: Redis unreachable, 1/N alone. */
export type PacingMode = "local" | "shared" | "fallback";

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
  /**
   * How many replicas share the key (BRIDGE_REPLICAS). With `redisUrl` it turns the fallback on: Redis is
   * watched, and while it is unreachable (also at start, until it first answers) calls are paced on a local
   * limiter at 1/replicas of every window. Without it, calls wait for Redis (bounded by maxWaitMs).
   */
  replicas?: number;
  /** Where the switches between the shared budget and the fallback are reported. */
  logger?: Logger;
  /** Redis health probe: PING period (default 2000 ms) and timeout (default 1000 ms); tests shorten them. */
  probeIntervalMs?: number;
  probeTimeoutMs?: number;
  /** Told how long each call waited for its slot (metrics). */
  observer?: PacingObserver;
}

/** Who a call is scheduled for, on a pacer several clients share (acquirePacer). */
export interface CallOwner {
  /** Told how long this caller's calls waited (each client its own metrics labels). */
  observer?: PacingObserver;
}

export interface Pacer {
  /** `owner`: the client the call is for; its calls still waiting are dropped by `release(owner)`. */
  schedule<T>(fn: () => Promise<T>, owner?: CallOwner): Promise<T>;
  stop(): Promise<void>;
  readonly clustered: boolean;
  /** Where new calls are paced right now. */
  mode(): PacingMode;
  /** BRIDGE_REPLICAS, when the Redis fallback is on. */
  readonly replicas?: number;
  /** Calls waiting for their slot right now. */
  queued(): number;
  /** Milliseconds between two call starts where new calls are paced right now (the fallback's share, or the whole). */
  intervalMs(): number;
  /** Fails now the calls of `owner` still waiting for a slot (that client is closing); the others go on. */
  release(owner: CallOwner): void;
}

const DEFAULT_MAX_WAIT_MS = 30_000;
const DEFAULT_PROBE_INTERVAL_MS = 2000;
const DEFAULT_PROBE_TIMEOUT_MS = 1000;
const FAILED_PROBES_TO_FALL_BACK = 2;
/** How long ioredis waits for a closing socket to close before destroying it (its default is 2 s). */
const DISCONNECT_TIMEOUT_MS = 200;

interface Waiter {
  fn: () => Promise<unknown>;
  resolve(v: unknown): void;
  reject(e: unknown): void;
  /** waiting for a slot; started (fn called); done (timed out or failed before starting). */
  state: "waiting" | "started" | "done";
  /** Which placement is live: a call moved to another limiter leaves a no-op behind on the first one. */
  attempt: number;
  clustered: boolean;
  timer?: NodeJS.Timeout;
  /** When schedule() was called (Date.now()), for the wait time. */
  queuedAt: number;
  owner?: CallOwner;
}

/**
 * Schedules calls on whichever limiter is current, with the bounded wait. Calls still waiting for a slot when
 * the current limiter changes are moved onto the new one (`moveWaiting`), keeping their deadline; what they
 * leave behind on the old limiter does nothing when its turn comes.
 */
class Dispatcher {
  private readonly waiting = new Set<Waiter>();

  constructor(
    private readonly current: () => { limiter: Slots; clustered: boolean },
    private readonly maxWaitMs: number,
    private readonly observer?: PacingObserver,
  ) {}

  get queued(): number {
    return this.waiting.size;
  }

  schedule<T>(fn: () => Promise<T>, owner?: CallOwner): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const w: Waiter = { fn, resolve: resolve as (v: unknown) => void, reject, state: "waiting", attempt: 0, clustered: false, queuedAt: Date.now(), owner };
      w.timer = setTimeout(() => {
        if (w.state !== "waiting") return;
        w.state = "done";
        this.waiting.delete(w);
        const why = w.clustered ? "the shared rate limiter (Redis) did not grant a slot" : "the DigiCert rate budget is exhausted";
        reject(new DigiCertError("unavailable", `DigiCert call not sent: ${why} within ${Math.round(this.maxWaitMs / 1000)} s`, { retryAfterSeconds: 10 }));
      }, this.maxWaitMs);
      this.waiting.add(w);
      this.place(w, 5);
    });
  }

  moveWaiting(): void {
    // Slightly ahead of new calls (priority 4 < 5), so moved calls keep roughly their turn.
    for (const w of [...this.waiting]) if (w.state === "waiting") this.place(w, 4);
  }

  /**
   * At stop (or when `owner`'s client closes): calls still waiting fail now rather than when their deadline or a
   * lost Redis connection says so.
   */
  dropWaiting(owner?: CallOwner): void {
    for (const w of [...this.waiting]) {
      if (w.state !== "waiting" || (owner !== undefined && w.owner !== owner)) continue;
      w.state = "done";
      this.waiting.delete(w);
      clearTimeout(w.timer);
      w.reject(new DigiCertError("unavailable", "DigiCert call not sent: the bridge is stopping", { retryAfterSeconds: 10 }));
    }
  }

  private place(w: Waiter, priority: number): void {
    const attempt = ++w.attempt;
    const { limiter, clustered } = this.current();
    w.clustered = clustered;
    limiter
      .schedule({ priority }, () => {
        if (w.state !== "waiting" || w.attempt !== attempt) return Promise.resolve(undefined);
        w.state = "started";
        const observer = w.owner ? w.owner.observer : this.observer;
        if (observer) safely((s: number) => observer.waited(s), (Date.now() - w.queuedAt) / 1000);
        this.waiting.delete(w);
        clearTimeout(w.timer);
        return w.fn();
      })
      .then(
        (v) => {
          if (w.state === "started" && w.attempt === attempt) w.resolve(v);
        },
        (e) => {
          // A placement that was moved away, or a call that already timed out, has nobody left to tell.
          if (w.attempt !== attempt || w.state === "done") return;
          w.state = "done";
          this.waiting.delete(w);
          clearTimeout(w.timer);
          w.reject(e);
        },
      );
  }
}

/**
 * Watches Redis with a small client of its own: PING every intervalMs with a short timeout. No offline queue
 * (a PING while disconnected fails at once) and no retried commands; the connection itself is re-tried in the
 * background (capped at intervalMs) so recovery is seen. Errors are swallowed here: the caller logs transitions.
 */
function watchRedis(url: string, intervalMs: number, timeoutMs: number, onResult: (ok: boolean) => void): { stop(): void } {
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    retryStrategy: (times) => Math.min(100 * times, intervalMs),
    connectionName: "digicert-scim-pacing-probe",
    disconnectTimeout: DISCONNECT_TIMEOUT_MS,
  });
  client.on("error", () => undefined);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const untilReady = () =>
    client.status === "ready"
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const t = setTimeout(done, timeoutMs);
          t.unref();
          function done() {
            clearTimeout(t);
            client.off("ready", done);
            resolve();
          }
          client.once("ready", done);
        });
  const tick = async () => {
    let ok = false;
    try {
      await untilReady();
      ok = (await client.ping()) === "PONG";
    } catch {
      ok = false;
    }
    if (stopped) return;
    onResult(ok);
    timer = setTimeout(() => void tick(), intervalMs);
    timer.unref();
  };
  void tick();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      client.disconnect();
    },
  };
}

/**
 * ioredis as Bottleneck's datastore client (its subscriber is a duplicate with the same options). Disconnecting
 * while ioredis is between reconnection attempts (Redis unreachable) leaves a timer waiting for a socket that is
 * already closed, 2 s by default, which holds the process up after stop(); a short one does not.
 */
class QuickDisconnectRedis extends Redis {
  constructor(url: string) {
    super(url, { disconnectTimeout: DISCONNECT_TIMEOUT_MS });
  }
}

export function limiterId(keyId: string): string {
  return "digicert-" + createHash("sha256").update(keyId).digest("hex").slice(0, 32);
}

export function createPacer(opts: PacerOptions): Pacer {
  const windows = opts.windows && opts.windows.length > 0 ? opts.windows : DEFAULT_WINDOWS;
  const maxConcurrent = opts.maxConcurrent ?? 4;
  const clustered = !!opts.redisUrl;
  // Shared through Redis, a slot is granted in one process and used in another, after a Redis round trip and
  // whatever that process's event loop adds: the plan allows for that much more displacement.
  const minTime = clustered ? sharedIntervalMs(windows) : planBucket(windows).intervalMs;
  // Alone, the spacing is kept in-process by a Spacer; shared, by Bottleneck's Redis datastore.
  const shared = clustered
    ? new Bottleneck({
        maxConcurrent,
        minTime,
        id: limiterId(opts.keyId),
        datastore: "ioredis",
        clearDatastore: false,
        clientOptions: opts.redisUrl,
        Redis: QuickDisconnectRedis,
        // Stale state of a crashed replica must not hold the budget forever.
        timeout: 10 * 60_000,
      })
    : undefined;
  // Bottleneck passes clientOptions to `new Redis(options)` (here QuickDisconnectRedis); ioredis accepts a URL
  // string there. Errors are emitted on the limiter; without a listener they would crash the process.
  shared?.on("error", () => undefined);
  const limiter: Slots = shared ?? new Spacer({ intervalMs: minTime, maxConcurrent, catchUpMs: CATCH_UP_MS });

  // The fallback: this replica's share of every window (and of the concurrency), paced in-process.
  const replicas = clustered && opts.replicas !== undefined ? Math.max(1, Math.floor(opts.replicas)) : undefined;
  const fallbackMinTime = replicas !== undefined ? planBucket(shareWindows(windows, replicas)).intervalMs : minTime;
  const fallback =
    replicas !== undefined
      ? new Spacer({ intervalMs: fallbackMinTime, maxConcurrent: Math.max(1, Math.floor(maxConcurrent / replicas)), catchUpMs: CATCH_UP_MS })
      : undefined;
  // undefined until the first probe answers: calls meanwhile go to the fallback rather than wait for Redis.
  let healthy: boolean | undefined;
  let failedProbes = 0;
  const useFallback = () => fallback !== undefined && healthy !== true;
  const dispatcher = new Dispatcher(
    () => (useFallback() ? { limiter: fallback!, clustered: false } : { limiter, clustered }),
    opts.maxWaitMs ?? DEFAULT_MAX_WAIT_MS,
    opts.observer,
  );
  const probe =
    fallback !== undefined
      ? watchRedis(opts.redisUrl!, opts.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS, opts.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS, (ok) => {
          // A single slow PING on a busy host is not an outage: leaving the shared budget lets this replica spend
          // its share on top of what the others take from Redis, so only two failures in a row make it fall back.
          failedProbes = ok ? 0 : failedProbes + 1;
          if (!ok && healthy === true && failedProbes < FAILED_PROBES_TO_FALL_BACK) return;
          if (ok === healthy) return;
          const before = healthy;
          healthy = ok;
          if (!ok) {
            opts.logger?.warn(`DigiCert rate budget: Redis unreachable; pacing this replica alone at 1/${replicas} of the limit`, { replicas });
          } else if (before === false) {
            opts.logger?.info("DigiCert rate budget: Redis reachable again; the budget is shared with the other replicas", { replicas });
          } else {
            opts.logger?.debug("DigiCert rate budget shared through Redis", { replicas });
          }
          dispatcher.moveWaiting();
        })
      : undefined;

  return {
    clustered,
    replicas,
    mode: () => (!clustered ? "local" : useFallback() ? "fallback" : "shared"),
    queued: () => dispatcher.queued,
    intervalMs: () => (useFallback() ? fallbackMinTime : minTime),
    schedule: <T>(fn: () => Promise<T>, owner?: CallOwner) => dispatcher.schedule(fn, owner),
    release: (owner: CallOwner) => dispatcher.dropWaiting(owner),
    stop: async () => {
      probe?.stop();
      dispatcher.dropWaiting();
      // With Redis unreachable, stop() waits for a connection that never comes: bound it, then drop the sockets.
      const grace = new Promise<void>((r) => setTimeout(r, 1000).unref());
      const stopping = [limiter, ...(fallback ? [fallback] : [])].map((l) => l.stop({ dropWaitingJobs: true }).catch(() => undefined));
      await Promise.race([Promise.all(stopping), grace]);
      if (shared) await Promise.resolve(shared.disconnect(false)).catch(() => undefined);
    },
  };
}

/**
 * The process's pacers by budget. DigiCert counts calls per API key, so every client of one key in this process
 * (targets of several tenants may name the same key) must draw on one budget: each gets a handle on one pacer,
 * which stops when the last handle is stopped. Across replicas the budget is shared through Redis (limiterId) as
 * before; this is the in-process half of the same rule.
 */
const pacers = new Map<string, { pacer: Pacer; handles: number; settings: string }>();

/**
 * What makes two clients' budgets one: the key and its windows (one key's targets agree on them, see
 * config/tenants.ts), and the Redis the budget is shared through. The rest is the first client's.
 */
function budgetKey(opts: PacerOptions): string {
  const windows = JSON.stringify(opts.windows && opts.windows.length > 0 ? opts.windows : DEFAULT_WINDOWS);
  return createHash("sha256").update(opts.keyId).update("\0").update(windows).update("\0").update(opts.redisUrl ?? "").digest("hex");
}

const settingsOf = (opts: PacerOptions) => JSON.stringify([opts.maxConcurrent ?? null, opts.replicas ?? null, opts.maxWaitMs ?? null]);

/**
 * A pacer for one client: the budget of its key, shared with every other client of that key in this process.
 * Its `stop` releases this client's share (its waiting calls fail; the others' go on); the last one stops the pacer.
 * Each handle reports its own calls' waits (`opts.observer`).
 */
export function acquirePacer(opts: PacerOptions): Pacer {
  const key = budgetKey(opts);
  let entry = pacers.get(key);
  if (!entry) {
    const { observer: _ownObserver, ...shared } = opts;
    entry = { pacer: createPacer(shared), handles: 0, settings: settingsOf(opts) };
    pacers.set(key, entry);
  } else if (entry.settings !== settingsOf(opts)) {
    opts.logger?.warn("DigiCert clients of one API key differ in DIGICERT_MAX_CONCURRENT or BRIDGE_REPLICAS: they share the first one's budget and settings");
  }
  entry.handles++;
  const { pacer } = entry;
  const owner: CallOwner = { observer: opts.observer };
  let stopped: Promise<void> | undefined;
  return {
    clustered: pacer.clustered,
    replicas: pacer.replicas,
    mode: () => pacer.mode(),
    queued: () => pacer.queued(),
    intervalMs: () => pacer.intervalMs(),
    schedule: <T>(fn: () => Promise<T>) => (stopped ? Promise.reject(new DigiCertError("unavailable", "DigiCert call not sent: the client is closed", { retryAfterSeconds: 10 })) : pacer.schedule(fn, owner)),
    release: (o: CallOwner) => pacer.release(o),
    stop: () =>
      (stopped ??= (async () => {
        pacer.release(owner);
        const e = pacers.get(key);
        if (!e || e.pacer !== pacer) return;
        if (--e.handles > 0) return;
        pacers.delete(key);
        await pacer.stop();
      })()),
  };
}

/** How many budgets this process paces now (tests). */
export function activeBudgets(): number {
  return pacers.size;
}
