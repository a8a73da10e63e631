// The audit trail's vocabulary: who made a change (AuditActor), what changed (attribute diffs with secrets masked),
// and how an entry reaches the store and the log. Used by the services (inside their transactions), the SCIM
// refusal hook and the DigiCert call recorder.
import { maskDeep, redact, type Logger } from "../log/logger";
import type { TraceContext } from "../log/trace-context";
import type { AuditChange, AuditEntry, NewAuditEntry, UserSnapshot } from "./records";
import type { AuditRepository } from "./ports";

/** Who asked for a change: from the SCIM request context. Never holds a secret. */
export interface AuditActor {
  /** The credential's name (token-1, okta, basic:okta, oauth:entra), never the secret. */
  credential: string | null;
  idp: string | null;
  requestId: string | null;
  /** The request's W3C trace, carried into the jobs it queues so their DigiCert calls continue it (not audited). */
  trace?: TraceContext;
  /** The HTTP method: tells a PATCH from a PUT, both of which reach UserService.replace. */
  method?: string;
}

export const MASK = "[REDACTED]";
/**
 * Attribute names whose values are never kept (SCIM `password`, and anything named like a secret or a credential
 * header), matched anywhere in the name.
 */
const SECRET_NAME = /(password|passwd|secret|token|api[-_]?key|credential|private[-_]?key|authorization|cookie|devkey)/i;
/** Past these sizes a value is summarised rather than kept whole, so one request cannot bloat the trail. */
const MAX_VALUE_CHARS = 2000;
const MAX_LIST_ITEMS = 50;
const MAX_CHANGES = 200;
/** Levels of a value the trail keeps; deeper ones become "[nested too deeply]" (the walk itself never recurses). */
export const MAX_VALUE_DEPTH = 64;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/**
 * A value with secret-named keys masked at any depth, registered secret values (tokens, keys) scrubbed, and what
 * lies deeper than MAX_VALUE_DEPTH cut (the log redactor's walker, with the trail's wider list of secret names).
 */
export function maskValue(value: unknown): unknown {
  return maskDeep(value, { secretKey: isSecretName, maxDepth: MAX_VALUE_DEPTH });
}

/** Keeps a value as it is when small; long lists keep their first items and say how many more there were. */
function capValue(value: unknown): unknown {
  if (value === undefined) return undefined;
  const text = JSON.stringify(value) ?? "";
  if (text.length <= MAX_VALUE_CHARS) return value;
  if (Array.isArray(value)) {
    const kept = value.slice(0, MAX_LIST_ITEMS).map((v) => capValue(v));
    return value.length > MAX_LIST_ITEMS ? [...kept, `… and ${value.length - MAX_LIST_ITEMS} more`] : kept;
  }
  if (typeof value === "string") return `${value.slice(0, MAX_VALUE_CHARS)}… (${value.length} characters)`;
  return `(a value of ${text.length} characters, not kept)`;
}

/** Masks and caps every change: what any entry stores. A path named like a secret keeps only that it changed. */
export function safeChanges(changes: AuditChange[]): AuditChange[] {
  const kept = changes.slice(0, MAX_CHANGES).map((c) => {
    const secret = c.path.split(/[.:[\]]/).some((seg) => isSecretName(seg));
    const out: AuditChange = { path: c.path };
    if (c.op) out.op = c.op;
    if ("before" in c) out.before = secret ? MASK : capValue(maskValue(c.before));
    if ("after" in c) out.after = secret ? MASK : capValue(maskValue(c.after));
    return out;
  });
  if (changes.length > MAX_CHANGES) kept.push({ path: `(${changes.length - MAX_CHANGES} more changes not kept)` });
  return kept;
}

/** Leaf paths of a SCIM resource: `name.givenName`, `urn:…:User:jobTitle`; lists are compared whole. */
function flatten(value: Record<string, unknown>, prefix = "", sep = ".", out = new Map<string, unknown>(), depth = 0): Map<string, unknown> {
  for (const [k, v] of Object.entries(value)) {
    // Absent, null and empty mean the same in SCIM ("unassigned"): none of them is a value to compare.
    if (v === undefined || v === null || (Array.isArray(v) && !v.length)) continue;
    const path = prefix ? `${prefix}${sep}${k}` : k;
    // Deeper than any SCIM schema goes: compared whole (and cut by maskValue) instead of walked further.
    if (v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length && depth < 8) {
      // An extension's attributes follow its schema URN after a colon, as SCIM paths write them.
      flatten(v as Record<string, unknown>, path, !prefix && /^urn:/i.test(k) ? ":" : ".", out, depth + 1);
    } else out.set(path, v);
  }
  return out;
}

/** Attribute changes between two versions of a SCIM resource (either may be absent: created, deleted). */
export function diffResources(
  before: Record<string, unknown> | null,
  after: Record<string, unknown> | null,
  ignore: readonly string[] = ["schemas", "meta", "id"],
): AuditChange[] {
  const strip = (r: Record<string, unknown> | null) => {
    if (!r) return new Map<string, unknown>();
    const copy = { ...r };
    for (const k of ignore) delete copy[k];
    return flatten(copy);
  };
  const b = strip(before);
  const a = strip(after);
  const changes: AuditChange[] = [];
  for (const path of new Set([...b.keys(), ...a.keys()])) {
    const had = b.has(path);
    const has = a.has(path);
    if (had && has && JSON.stringify(b.get(path)) === JSON.stringify(a.get(path))) continue;
    const change: AuditChange = { path };
    if (had) change.before = b.get(path);
    if (has) change.after = a.get(path);
    changes.push(change);
  }
  return safeChanges(changes);
}

/** The SCIM view of a stored user for diffing: the resource with the stored userName, externalId and active. */
function userView(s: UserSnapshot | null): Record<string, unknown> | null {
  if (!s) return null;
  const { password: _p, groups: _g, ...resource } = s.resource;
  const view: Record<string, unknown> = { ...resource, userName: s.userName, active: s.active };
  if (s.externalId !== null) view.externalId = s.externalId;
  else delete view.externalId;
  return view;
}

export function diffUsers(before: UserSnapshot | null, after: UserSnapshot | null): AuditChange[] {
  return diffResources(userView(before), userView(after));
}

/** The fields every entry of one SCIM request carries. */
export function requestFields(actor: AuditActor | undefined): Pick<NewAuditEntry, "actor" | "idp" | "requestId"> {
  return { actor: actor?.credential ?? null, idp: actor?.idp ?? null, requestId: actor?.requestId ?? null };
}

/** One log line per entry (info), the same fields as stored; values are already masked. */
export function logAudit(logger: Logger, entries: (NewAuditEntry | AuditEntry)[]): void {
  for (const e of entries) {
    logger.info("audit", {
      audit: {
        kind: e.kind,
        action: e.action,
        outcome: e.outcome,
        actor: e.actor ?? null,
        idp: e.idp ?? null,
        requestId: e.requestId ?? null,
        resourceType: e.resourceType ?? null,
        resourceId: e.resourceId ?? null,
        userName: e.userName ?? null,
        changes: e.changes ?? [],
        ...(e.status ? { status: e.status } : {}),
        ...(e.detail ? { detail: e.detail } : {}),
        ...(e.jobId ? { jobId: e.jobId } : {}),
        ...(e.dryRun ? { dryRun: true } : {}),
        ...(e.digicert ? { digicert: e.digicert } : {}),
      },
    });
  }
}

/**
 * Entries written outside a change's own transaction (refused requests, DigiCert calls): stored, then logged.
 * Never throws: a trail that cannot be written is logged as an error, and what it was about goes on.
 */
export class AuditTrail {
  constructor(
    private readonly repo: () => AuditRepository,
    private readonly logger: Logger,
  ) {}

  async record(all: NewAuditEntry[]): Promise<void> {
    if (!all.length) return;
    // Details quote DigiCert's and the bridge's messages: mask any secret that slipped into one.
    const entries = all.map((e) => (e.detail ? { ...e, detail: redact(e.detail) as string } : e));
    try {
      await this.repo().appendMany(entries);
    } catch (err) {
      this.logger.error("could not write the audit trail", { error: (err as Error).message, actions: entries.map((e) => e.action) });
    }
    logAudit(this.logger, entries);
  }
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** AUDIT_RETENTION_DAYS: forgets older entries (0 keeps everything). Returns how many went. */
export async function purgeAudit(repo: AuditRepository, retentionDays: number, logger: Logger, now = Date.now()): Promise<number> {
  if (retentionDays <= 0) return 0;
  const purged = await repo.purgeBefore(new Date(now - retentionDays * DAY_MS).toISOString());
  if (purged) logger.info("audit entries past their retention purged", { purged, retentionDays });
  return purged;
}
