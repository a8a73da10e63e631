// `digicert-scim audit --user <userName|id> [--since 7d] [--limit N] [--json]`: one user's history from the audit
// trail: every SCIM change and refusal (who, which IdP, what changed), the group memberships it gained and lost,
// and each DigiCert call its jobs made with the result. Reads the bridge's database (DATABASE_URL) only.
import type { AuditEntry } from "../provisioning/records";
import type { Store } from "../provisioning/ports";
import { entryJson, oneLine, openBridgeStore, parseSince, resultOf, showChange, SINCE_HELP } from "./audit-support";
import { configOrReport, line, type Output } from "./common";
import { printTable } from "./table";

export interface AuditOptions {
  /** A userName (any case) or a SCIM user id; users deleted since are found by either too. */
  user: string;
  /** An ISO date or a duration back from now (24h, 7d). */
  since?: string;
  /** The newest N entries (default 200). */
  limit?: number;
  json?: boolean;
  /** --tenant: whose trail (default "default"). */
  tenant?: string;
}

export const DEFAULT_AUDIT_LIMIT = 200;

/** Exit status: 0 shown (or nothing in the range), 1 configuration/database problem or no such user, 2 usage error. */
export async function auditCommand(opts: AuditOptions, env: NodeJS.ProcessEnv, stdout: Output, stderr: Output): Promise<number> {
  const user = opts.user?.trim();
  if (!user) return usage(stderr, "--user needs a userName or a SCIM user id");
  const since = opts.since === undefined ? undefined : parseSince(opts.since);
  if (since === null) return usage(stderr, `--since must be ${SINCE_HELP}; got ${opts.since}`);
  const limit = opts.limit ?? DEFAULT_AUDIT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) return usage(stderr, `--limit must be a whole number of at least 1; got ${opts.limit}`);
  const config = configOrReport(env, stderr, { storeOnly: true });
  if (!config) return 1;
  const store = await openBridgeStore(config, stderr, { tenant: opts.tenant });
  if (!store) return 1;
  try {
    const found = await historyOf(store, user, since, limit);
    if (!found.exists) {
      line(stderr, `No user ${user} and no audit entries about one (a userName or a SCIM user id).`);
      return 1;
    }
    if (opts.json) {
      line(stdout, JSON.stringify(found.entries.map(entryJson), null, 2));
      return 0;
    }
    printHistory(stdout, user, found, since, limit);
    return 0;
  } catch (err) {
    line(stderr, `digicert-scim: ${oneLine((err as Error).message)}`);
    return 1;
  } finally {
    await store.close();
  }
}

function usage(stderr: Output, problem: string): number {
  line(stderr, `digicert-scim audit: ${problem}`);
  line(stderr, "Usage: digicert-scim audit --user <userName|SCIM id> [--since <ISO date | 24h | 7d>] [--limit N] [--json]");
  return 2;
}

interface History {
  exists: boolean;
  userName: string | null;
  ids: string[];
  entries: AuditEntry[];
}

/**
 * Everything about the user: entries on its SCIM id, or on its userName. A user deleted since is still found, by
 * the userName or id its entries carry; a userName used by successive users shows all of them.
 */
async function historyOf(store: Store, user: string, since: string | undefined, limit: number): Promise<History> {
  const row = (await store.users.getById(user)) ?? (await store.users.getByUserName(user));
  const userName = row?.userName ?? user;
  const ids = new Set<string>(row ? [row.id] : []);
  // Ids the trail knows under this userName (or this id): users deleted or renamed since.
  const known = await store.audit.query({ resourceId: [...ids, user], userName, limit: 10_000 });
  for (const e of known) if (e.resourceType === "User" && e.resourceId) ids.add(e.resourceId);
  const entries = await store.audit.query({ resourceId: [...ids], userName, since, limit });
  return { exists: !!row || known.length > 0, userName: row?.userName ?? known.find((e) => e.userName)?.userName ?? null, ids: [...ids], entries };
}

function byOf(e: AuditEntry): string {
  if (e.actor) return e.idp ? `${e.actor} (${e.idp})` : e.actor;
  if (e.kind === "digicert") return "outbox";
  return "bridge";
}

function detailsOf(e: AuditEntry): string {
  const parts = e.changes.map(showChange);
  if (e.digicert?.digicertId && e.digicert.operation !== "createUser") parts.unshift(`DigiCert user ${e.digicert.digicertId}`);
  if (e.digicert?.operation === "createUser" && e.digicert.digicertId) parts.push(`got DigiCert id ${e.digicert.digicertId}`);
  if (e.detail && !(e.kind === "scim" && e.outcome === "ok")) parts.push(e.detail);
  return oneLine(parts.join("; ")) || "-";
}

function printHistory(out: Output, asked: string, h: History, since: string | undefined, limit: number): void {
  const who = h.userName && h.userName.toLowerCase() !== asked.toLowerCase() ? `${h.userName} (${asked})` : (h.userName ?? asked);
  const idNote = h.ids.length ? ` — SCIM id ${h.ids.join(", ")}` : "";
  line(out, `Audit trail of ${who}${idNote}${since ? `, since ${since}` : ""}:`);
  if (!h.entries.length) {
    line(out, "  nothing recorded in that period.");
    return;
  }
  const rows = h.entries.map((e) => [
    e.at,
    `${e.action}${e.dryRun ? " [dry-run]" : ""}`,
    byOf(e),
    resultOf(e),
    e.requestId ?? "-",
    e.jobId === null ? "-" : String(e.jobId),
    detailsOf(e),
  ]);
  printTable(out, ["TIME", "ACTION", "BY", "RESULT", "REQUEST", "JOB", "DETAILS"], rows);
  if (h.entries.length === limit) line(out, `(the newest ${limit} entries; --limit N shows more)`);
  if (h.entries.some((e) => e.dryRun)) line(out, "[dry-run]: DigiCert calls a DRY_RUN bridge did not send.");
}
