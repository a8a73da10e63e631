// AUTH_FAILURE_LIMIT: failed authentications are counted per client address, across every authenticated surface
// (/scim/v2, /oauth/token, /admin, /metrics). After `count` failures within `windowMs`, the address is blocked for
// `windowMs`: every attempt then gets 429 with Retry-After before any credential is looked at, so a correct one
// does not get through either and guessing cannot go on. One warning is logged per block (address and surface,
// never what was presented). Successful authentications reset nothing.
//
// Per process (each replica counts on its own) and bounded: at most `maxTracked` addresses are remembered, the
// least recently failing forgotten first. IPv6 clients are counted per /64 (one host usually holds a whole /64).
import net from "node:net";
import type { Request } from "express";
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

export class AuthFailureLimiter {
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
  blockedFor(req: Pick<Request, "ip">): number {
    if (!this.opts.limit) return 0;
    const entry = this.entries.get(clientKey(req.ip));
    const left = entry ? entry.blockedUntil - this.now() : 0;
    return left > 0 ? Math.max(1, Math.ceil(left / 1000)) : 0;
  }

  /** Counts a failed authentication of the request's address on `surface`; blocks the address at the limit. */
  fail(req: Pick<Request, "ip">, surface: AuthSurface): void {
    const limit = this.opts.limit;
    if (!limit) return;
    const now = this.now();
    const key = clientKey(req.ip);
    const entry = this.entries.get(key) ?? { failures: [], blockedUntil: 0, touched: now };
    // An attempt that was let in before the block (a store look-up in flight) does not extend it.
    if (entry.blockedUntil > now) return;
    const since = now - limit.windowMs;
    entry.failures = entry.failures.filter((t) => t > since);
    entry.failures.push(now);
    if (entry.failures.length >= limit.count) {
      entry.failures = [];
      entry.blockedUntil = now + limit.windowMs;
      this.opts.logger.warn("too many failed authentications: client address blocked", {
        address: key,
        surface,
        failures: limit.count,
        windowSeconds: limit.windowMs / 1000,
        blockedSeconds: Math.ceil(limit.windowMs / 1000),
      });
    }
    entry.touched = now;
    // Re-inserted so the map stays in order of last failure, oldest first.
    this.entries.delete(key);
    this.entries.set(key, entry);
    this.evict(now, limit.windowMs);
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
