// Parsing of the authentication settings that are not credential lists: token expiry (`;expires=` on an entry of
// SCIM_BEARER_TOKENS / ADMIN_TOKENS / METRICS_TOKEN), AUTH_FAILURE_LIMIT and TRUST_PROXY. Messages never quote a
// credential.
import net from "node:net";
import { parseDuration } from "./duration";

/** `count` failed authentications from one client address within `windowMs` block it for `windowMs`. */
export interface AuthFailureLimit {
  count: number;
  windowMs: number;
}

export const DEFAULT_AUTH_FAILURE_LIMIT = "20/60s";

/** What Express's "trust proxy" setting takes: a hop count, true (every hop), or addresses, CIDRs and names. */
export type TrustProxy = boolean | number | string[];

const EXPIRES_SUFFIX = /;\s*expires\s*=([^;]*)$/i;

/** Splits `entry;expires=<when>` into the entry and the text after `expires=` (undefined without the suffix). */
export function splitExpiry(raw: string): { entry: string; expires?: string } {
  const m = EXPIRES_SUFFIX.exec(raw);
  if (!m) return { entry: raw };
  return { entry: raw.slice(0, m.index).trim(), expires: m[1].trim() };
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * An ISO-8601 date (`2027-01-01`: the token expires at 00:00 UTC that day) or date-time with a zone
 * (`2027-01-01T12:00:00Z`, `…+02:00`) as epoch milliseconds; null when it is neither or not a real date.
 */
export function parseExpiry(text: string): number | null {
  const t = text.trim();
  const d = DATE.exec(t);
  if (d) {
    const ms = Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]));
    // Date.UTC rolls 2027-02-30 over into March: refuse dates that do not exist.
    return new Date(ms).toISOString().slice(0, 10) === t ? ms : null;
  }
  if (!DATE_TIME.test(t)) return null;
  const ms = Date.parse(t);
  if (!Number.isFinite(ms)) return null;
  // Refuse impossible fields that Date.parse would roll over (e.g. 2027-01-01T25:00Z).
  const [, month, day, hour, minute] = /^\d{4}-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(t)!.map(Number);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59) return null;
  return ms;
}

export const EXPIRY_HINT = "an ISO date such as 2027-01-01 (00:00 UTC that day) or a date-time such as 2027-01-01T12:00:00Z";

/**
 * `--expires` of `digicert-scim tokens create`: a duration from now (`90d`, `12h`) or an ISO date / date-time.
 * Returns epoch milliseconds, or throws an Error saying what is wrong.
 */
export function parseExpiresOption(text: string, now = Date.now()): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?\s*(m|h|d)$/i.test(t)) return now + parseDuration(t, { minMs: 60_000, maxMs: 3650 * 86_400_000 });
  const at = parseExpiry(t);
  if (at === null) throw new Error(`--expires must be a duration such as 90d or 12h, or ${EXPIRY_HINT}`);
  if (at <= now) throw new Error("--expires is in the past");
  return at;
}

/** AUTH_FAILURE_LIMIT: `count/window` (window units ms, s, m, h); `0` or `off` = no limit (null). */
export function parseAuthFailureLimit(spec: string | undefined): AuthFailureLimit | null {
  const s = (spec ?? DEFAULT_AUTH_FAILURE_LIMIT).trim();
  if (/^(0|off)$/i.test(s)) return null;
  const m = /^(\d+)\s*\/\s*(\d+(?:\.\d+)?\s*(?:ms|s|m|h))$/i.exec(s);
  if (!m) throw new Error(`must be <count>/<window> such as 20/60s (window units ms, s, m, h), or 0 or off to disable`);
  const count = Number(m[1]);
  if (!Number.isSafeInteger(count) || count < 1 || count > 1_000_000) throw new Error("the count must be between 1 and 1000000 (0 or off disables the limit)");
  const windowMs = parseDuration(m[2], { minMs: 1000, maxMs: 86_400_000 });
  return { count, windowMs };
}

const PROXY_NAMES = new Set(["loopback", "linklocal", "uniquelocal"]);

/** One TRUST_PROXY list item: an IP address, a CIDR (address/prefix) or loopback, linklocal, uniquelocal. */
function isProxyAddress(item: string): boolean {
  if (PROXY_NAMES.has(item.toLowerCase())) return true;
  const slash = item.indexOf("/");
  const address = slash < 0 ? item : item.slice(0, slash);
  const family = net.isIP(address);
  if (!family) return false;
  if (slash < 0) return true;
  const prefix = item.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * TRUST_PROXY, for Express's "trust proxy": unset or `false` = undefined (X-Forwarded-For is ignored: the client
 * address is the TCP peer); `true` = trust every hop; a number = that many hops; else a comma-separated list of
 * proxy addresses, CIDRs and the names loopback, linklocal, uniquelocal.
 */
export function parseTrustProxy(spec: string | undefined): TrustProxy | undefined {
  const s = spec?.trim();
  if (!s || /^false$/i.test(s)) return undefined;
  if (/^true$/i.test(s)) return true;
  if (/^\d+$/.test(s)) {
    const hops = Number(s);
    if (hops > 100) throw new Error("a hop count must be between 0 and 100");
    return hops === 0 ? undefined : hops;
  }
  const items = s.split(",").map((i) => i.trim()).filter((i) => i !== "");
  const bad = items.filter((i) => !isProxyAddress(i));
  if (bad.length || !items.length) {
    throw new Error(
      `must be true, a hop count, or a comma-separated list of proxy IP addresses, CIDRs (10.0.0.0/8) and loopback, linklocal, uniquelocal; not understood: ${bad.join(", ")}`,
    );
  }
  return items;
}
