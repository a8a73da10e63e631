// What `digicert-scim audit` and `digicert-scim plan` share: opening the bridge's database, reading --since, and
// printing audit entries (secrets are masked when entries are written; printed text is masked again).
import { redact } from "../log/logger";
import type { AuditChange, AuditEntry } from "../provisioning/records";

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/**
 * `--since`: an ISO date or date-time (2024-05-01, 2024-05-01T10:00:00Z) or a duration back from `now` (90m, 24h,
 * 7d, 2w). Returns the ISO instant, or null when the value is neither.
 */
export function parseSince(value: string, now = Date.now()): string | null {
  const v = value.trim();
  const d = /^(\d{1,9})\s*(s|m|h|d|w)$/i.exec(v);
  if (d) return new Date(now - Number(d[1]) * UNITS[d[2].toLowerCase()]).toISOString();
  if (!/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/i.test(v)) return null;
  const t = Date.parse(v);
  return Number.isFinite(t) ? new Date(t).toISOString() : null;
}

export { openBridgeStore } from "./common";

export const SINCE_HELP = "an ISO date or date-time (2024-05-01, 2024-05-01T10:00:00Z) or a duration such as 30m, 24h, 7d, 2w";


/** One line, control characters flattened, registered secrets masked. */
export function oneLine(s: string): string {
  return (redact(s) as string).replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
}

export function showValue(v: unknown): string {
  if (v === undefined) return "(none)";
  if (Array.isArray(v)) return `[${v.map(showValue).join(", ")}]`;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    // A role or a member: its name, and its id in parentheses.
    const name = o.name ?? o.display;
    const id = o.id ?? o.value;
    if ((typeof name === "string" || typeof id === "string") && Object.keys(o).length <= 2) {
      return name !== undefined && id !== undefined ? `${String(name)} (${String(id)})` : String(name ?? id);
    }
    return JSON.stringify(o);
  }
  return JSON.stringify(v);
}

export function showChange(c: AuditChange): string {
  if (c.op === "add") return `${c.path} +${showValue(c.after)}`;
  if (c.op === "remove") return `${c.path} -${showValue(c.before ?? c.after)}`;
  if (!("before" in c) && !("after" in c)) return c.path;
  if (!("before" in c)) return `${c.path}: ${showValue(c.after)}`;
  if (!("after" in c)) return `${c.path}: ${showValue(c.before)} → (none)`;
  return `${c.path}: ${showValue(c.before)} → ${showValue(c.after)}`;
}

export function resultOf(e: AuditEntry): string {
  if (e.outcome === "refused") return `refused ${e.status ?? ""}`.trim();
  if (e.outcome === "error") return `error${e.digicert?.errorKind ? ` (${e.digicert.errorKind})` : ""}`;
  return "ok";
}

/** An entry as --json prints it: the stored shape. */
export function entryJson(e: AuditEntry) {
  return { ...e, detail: e.detail === null ? null : (redact(e.detail) as string) };
}
