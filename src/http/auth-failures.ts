// AUTH_FAILURE_LIMIT: failed authentications are counted per client address, across every authenticated surface
// (/scim/v2, /oauth/token, /admin, /metrics). After `count` failures within `windowMs`, the address is blocked for
// `windowMs`: every attempt then gets 429 with Retry-After before any credential is looked at, so a correct one
// does not get through either and guessing cannot go on. One warning is logged per block (address and surface,
// never what was presented). Successful authentications reset nothing.
//
// AuthFailureLimiter counts per process and is bounded: at most `maxTracked` addresses are remembered, the least
// recently failing forgotten first. IPv6 clients are counted per /64 (one host usually holds a whole /64).
// With REDIS_URL, SharedAuthFailureLimiter counts in Redis instead, so every replica sees the same count and N
// replicas still allow `count` attempts, not N×; while Redis does not answer it falls back to the local count (one
// warning; never everyone blocked, never everyone let in).
import { randomUUID } from "node:crypto";
import net from "node:net";
import type { Request } from "express";
import Redis from "ioredis";
import type { AuthFailureLimit } from "../config/auth-settings";
import type { Logger } from "../log/logger";

export type AuthSurface = "scim" | "oauth" | "admin" | "metrics";

export const DEFAULT_MAX_TRACKED = 10_000;

interface Entry {
  /** Times of the failures within the window, oldest first (at most `count`). */
  failures: number[];
  /** Blocked until this time (epoch ms); 0 = not blocked. */
  blockedUntil: number;
  /** Last time this entry changed; entries are kept in this order (oldest first) for eviction. */
  touched: number;
}

export interface AuthFailureLimiterOptions {
  limit: AuthFailureLimit | null;
  logger: Logger;
  maxTracked?: number;
  now?: () => number;
  /** Log the block warning (default true); the shared limiter logs its own. */
  warn?: boolean;
}

/**
 * The request as a limiter sees it: its address, and the tenant whose SCIM surface it reached (absent: the default
 * tenant and the bridge's own surfaces). One tenant's misconfigured IdP must not lock out another tenant whose IdP
 * sends from the same addresses (an IdP's shared egress), so each other tenant counts apart.
 */
export type LimitedRequest = Pick<Request, "ip"> & { limitScope?: string };

/** The key a request's failures are counted under: its address (clientKey), within its tenant's count. */
export function limitKey(req: LimitedRequest): string {
  const key = clientKey(req.ip);
  return req.limitScope ? `t:${req.limitScope}:${key}` : key;
}

/** A limiter whose counts are `tenant`'s own (see LimitedRequest). */
export function tenantLimiter(limiter: FailureLimiter, tenant: string): FailureLimiter {
  const scoped = (req: Pick<Request, "ip">): LimitedRequest => ({ ip: req.ip, limitScope: tenant });
  return {
    get enabled() {
      return limiter.enabled;
    },
    blockedFor: (req) => limiter.blockedFor(scoped(req)),
    fail: (req, surface) => limiter.fail(scoped(req), surface),
  };
}

/** What every authenticated surface asks (credential-prelude.ts, oauth.ts): either limiter. */
export interface FailureLimiter {
  readonly enabled: boolean;
  /** Whole seconds until the request's address may try again; 0 when it is not blocked. */
  blockedFor(req: LimitedRequest): number | Promise<number>;
  /** Counts a failed authentication; blocks the address at the limit. Never throws. */
  fail(req: LimitedRequest, surface: AuthSurface): boolean | Promise<void>;
  close?(): Promise<void>;
}

function blockWarning(logger: Logger, limit: AuthFailureLimit, key: string, surface: AuthSurface, shared?: boolean): void {
  logger.warn("too many failed authentications: client address blocked", {
    address: key,
    surface,
    failures: limit.count,
    windowSeconds: limit.windowMs / 1000,
    blockedSeconds: Math.ceil(limit.windowMs / 1000),
    ...(shared === undefined ? {} : { counted: shared ? "all replicas (Redis)" : "this replica (Redis unreachable)" }),
  });
}

/** Expands an IPv6 address (no zone) to its eight 16-bit groups. */
function ipv6Groups(address: string): number[] {
  let text = address;
  // A trailing dotted IPv4 part (::ffff:1.2.3.4, 64:ff9b::1.2.3.4) becomes two groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1].split(".").map(Number);
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
  const parse = (s: string | undefined) => (s ? s.split(":").filter((g) => g !== "").map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  const fill = tail === undefined ? [] : new Array<number>(8 - left.length - right.length).fill(0);
  return [...left, ...fill, ...right];
}

/**
 * The key failures are counted under: an IPv4 address (IPv4-mapped IPv6 included) as it is, an IPv6 address as its
 * /64 prefix, anything else (no address known) as given.
 */
export function clientKey(ip: string | undefined): string {
  if (!ip) return "unknown";
  const address = ip.replace(/%.*$/, "");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1];
  if (net.isIPv4(address)) return address;
  if (!net.isIPv6(address)) return address;
  const groups = ipv6Groups(address);
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(":")}::/64`;
}

export class AuthFailureLimiter implements FailureLimiter {
  private readonly entries = new Map<string, Entry>();
  private readonly maxTracked: number;
  private readonly now: () => number;

  constructor(private readonly opts: AuthFailureLimiterOptions) {
    this.maxTracked = Math.max(1, opts.maxTracked ?? DEFAULT_MAX_TRACKED);
    this.now = opts.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.opts.limit !== null;
  }

  /** Addresses remembered now (for tests and the memory bound). */
  get tracked(): number {
    return this.entries.size;
  }

  /** Whole seconds until the request's address may try again; 0 when it is not blocked. */
  blockedFor(req: LimitedRequest): number {
    if (!this.opts.limit) return 0;
    const entry = this.entries.get(limitKey(req));
    const left = entry ? entry.blockedUntil - this.now() : 0;
    return left > 0 ? Math.max(1, Math.ceil(left / 1000)) : 0;
  }

  /**
   * Counts a failed authentication of the request's address on `surface`; blocks the address at the limit. True
   * when this failure blocked it.
   */
  fail(req: LimitedRequest, surface: AuthSurface): boolean {
    const limit = this.opts.limit;
    if (!limit) return false;
    const now = this.now();
    const key = limitKey(req);
    const entry = this.entries.get(key) ?? { failures: [], blockedUntil: 0, touched: now };
    // An attempt that was let in before the block (a store look-up in flight) does not extend it.
    if (entry.blockedUntil > now) return false;
    const since = now - limit.windowMs;
    entry.failures = entry.failures.filter((t) => t > since);
    entry.failures.push(now);
    const blocked = entry.failures.length >= limit.count;
    if (blocked) {
      entry.failures = [];
      entry.blockedUntil = now + limit.windowMs;
      if (this.opts.warn !== false) blockWarning(this.opts.logger, limit, key, surface);
    }
    entry.touched = now;
    // Re-inserted so the map stays in order of last failure, oldest first.
    this.entries.delete(key);
    this.entries.set(key, entry);
    this.evict(now, limit.windowMs);
    return blocked;
  }

  /** Forgets entries with nothing left to remember, then the oldest ones beyond the bound. */
  private evict(now: number, windowMs: number): void {
    for (const [key, entry] of this.entries) {
      const stale = entry.blockedUntil <= now && entry.touched <= now - windowMs;
      if (!stale) break;
      this.entries.delete(key);
    }
    while (this.entries.size > this.maxTracked) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}

// --- shared through Redis ------------------------------------------------------------------------------------------

/**
 * One failure, atomically: nothing while the address is blocked; else drop failures older than the window, add
 * this one, and at the limit replace them by a block key that expires after the window. Redis's clock, so the
 * replicas' clocks need not agree. Returns 0 (blocked already, not counted), 1 (counted) or 2 (this one blocked).
 */
const FAIL_SCRIPT = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZADD', KEYS[1], now, ARGV[3])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], '1', 'PX', window)
  return 2
end
redis.call('PEXPIRE', KEYS[1], window)
return 1
`;

export const DEFAULT_REDIS_PREFIX = "digicert-scim:auth-failures:";
/** A Redis command slower than this counts as Redis not answering: the request is not held up longer. */
const REDIS_TIMEOUT_MS = 500;
/** At start, how long the first requests wait for the first connection before counting locally. */
const FIRST_CONNECT_MS = 1000;

/** The Redis calls the shared limiter makes (an ioredis client has them). */
export interface FailureStore {
  pttl(key: string): Promise<number>;
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  quit(): Promise<unknown>;
  disconnect?(): void;
}

export interface SharedAuthFailureLimiterOptions extends AuthFailureLimiterOptions {
  /** REDIS_URL; or `store`, an already open client (tests). */
  redisUrl?: string;
  store?: FailureStore;
  /** Key prefix; every replica of one bridge must use the same. */
  prefix?: string;
}

/** An ioredis client that never queues a command while disconnected and gives up on one after REDIS_TIMEOUT_MS. */
function openRedis(url: string, logger: Logger): Redis {
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: REDIS_TIMEOUT_MS,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(200 * times, 2000),
    connectionName: "digicert-scim-auth-failures",
    // Closing between reconnection attempts (Redis unreachable) otherwise holds the process up for 2 s.
    disconnectTimeout: 200,
  });
  // Errors surface on the commands (and are logged there, once per outage); unhandled, this event would crash.
  client.on("error", (err) => logger.debug("auth failure limit: Redis connection error", { error: err.message }));
  return client;
}

/**
 * AUTH_FAILURE_LIMIT counted in Redis, shared by every replica. Each failure is also counted locally, so when Redis
 * does not answer the replica goes on with its own recent count (as without REDIS_URL) instead of letting every
 * attempt in or refusing everyone.
 */
export class SharedAuthFailureLimiter implements FailureLimiter {
  private readonly local: AuthFailureLimiter;
  private readonly store: FailureStore;
  private readonly prefix: string;
  /** Redis did not answer the last command: say so once, and once when it is back. */
  private down = false;
  /**
   * Resolves once the first connection is up, or FIRST_CONNECT_MS after start: commands are never queued while
   * disconnected (an outage must not hold every request up), so without this the first requests after a start
   * would be counted locally only.
   */
  private readonly firstConnect: Promise<void>;

  constructor(private readonly opts: SharedAuthFailureLimiterOptions) {
    this.local = new AuthFailureLimiter({ ...opts, warn: false });
    if (opts.store) {
      this.store = opts.store;
      this.firstConnect = Promise.resolve();
    } else if (opts.redisUrl) {
      const client = openRedis(opts.redisUrl, opts.logger);
      this.store = client;
      this.firstConnect = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, FIRST_CONNECT_MS);
        timer.unref();
        client.once("ready", () => {
          clearTimeout(timer);
          resolve();
        });
      });
    } else {
      throw new Error("SharedAuthFailureLimiter needs redisUrl or store");
    }
    this.prefix = opts.prefix ?? DEFAULT_REDIS_PREFIX;
  }

  get enabled(): boolean {
    return this.opts.limit !== null;
  }

  /** True while Redis does not answer and this replica counts alone. */
  get fallback(): boolean {
    return this.down;
  }

  private keys(req: LimitedRequest): [string, string] {
    const key = limitKey(req);
    return [`${this.prefix}f:${key}`, `${this.prefix}b:${key}`];
  }

  private answered(): void {
    if (!this.down) return;
    this.down = false;
    this.opts.logger.info("auth failure limit: Redis answers again; failed authentications are counted across replicas");
  }

  private unreachable(err: unknown): void {
    if (this.down) return;
    this.down = true;
    this.opts.logger.warn("auth failure limit: Redis does not answer; this replica counts failed authentications alone until it does", {
      error: (err as Error)?.message,
    });
  }

  async blockedFor(req: LimitedRequest): Promise<number> {
    if (!this.opts.limit) return 0;
    try {
      await this.firstConnect;
      const ms = await this.store.pttl(this.keys(req)[1]);
      this.answered();
      return ms > 0 ? Math.max(1, Math.ceil(ms / 1000)) : 0;
    } catch (err) {
      this.unreachable(err);
      return this.local.blockedFor(req);
    }
  }

  async fail(req: LimitedRequest, surface: AuthSurface): Promise<void> {
    const limit = this.opts.limit;
    if (!limit) return;
    const blockedLocally = this.local.fail(req, surface);
    try {
      await this.firstConnect;
      const [failures, block] = this.keys(req);
      const verdict = await this.store.eval(FAIL_SCRIPT, 2, failures, block, limit.windowMs, limit.count, randomUUID());
      this.answered();
      if (Number(verdict) === 2) blockWarning(this.opts.logger, limit, limitKey(req), surface, true);
    } catch (err) {
      this.unreachable(err);
      if (blockedLocally) blockWarning(this.opts.logger, limit, limitKey(req), surface, false);
    }
  }

  /** Closes the connection (a graceful QUIT when connected) and stops reconnecting. */
  async close(): Promise<void> {
    if (!this.down) await this.store.quit().catch(() => undefined);
    this.store.disconnect?.();
  }
}
