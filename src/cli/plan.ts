// `digicert-scim plan [--since 24h] [--user <userName|id>] [--json]`: what a DRY_RUN bridge would have asked
// DigiCert to do, grouped by user, read from the dry-run entries of the audit trail. For a first roll-out: point
// the IdP at a dry-run bridge, push, then read here exactly which DigiCert users would be created, changed,
// given which roles, disabled or deleted. Reads the bridge's database (DATABASE_URL) only.
import type { AuditEntry, AuditQuery } from "../provisioning/records";
import { oneLine, openBridgeStore, parseSince, showValue, SINCE_HELP } from "./audit-support";
import { configOrReport, line, tenantOf, type Output } from "./common";

export interface PlanOptions {
  /** An ISO date or a duration back from now (24h, 7d); default: everything recorded. */
  since?: string;
  json?: boolean;
  /** Only this user (a userName, any case, or a SCIM user id). */
  user?: string;
  /** --tenant: whose dry run (default "default"). */
  tenant?: string;
}

/** More than any dry run needs; the newest are kept when there are more. */
const MAX_CALLS = 100_000;

interface UserPlan {
  userId: string | null;
  userName: string | null;
  calls: AuditEntry[];
}

/** Exit status: 0 shown (or nothing recorded), 1 configuration or database problem, 2 usage error. */
export async function planCommand(opts: PlanOptions, env: NodeJS.ProcessEnv, stdout: Output, stderr: Output): Promise<number> {
  const since = opts.since === undefined ? undefined : parseSince(opts.since);
  if (since === null) {
    line(stderr, `digicert-scim plan: --since must be ${SINCE_HELP}; got ${opts.since}`);
    line(stderr, "Usage: digicert-scim plan [--since <ISO date | 24h | 7d>] [--user <userName|SCIM id>] [--json]");
    return 2;
  }
  const config = configOrReport(env, stderr, { storeOnly: true });
  if (!config) return 1;
  const store = await openBridgeStore(config, stderr, { tenant: opts.tenant });
  if (!store) return 1;
  try {
    const query: AuditQuery = { kind: ["digicert"], dryRun: true, since, limit: MAX_CALLS };
    const user = opts.user?.trim();
    if (user) {
      const row = (await store.users.getById(user)) ?? (await store.users.getByUserName(user));
      query.resourceId = row ? [row.id, user] : [user];
      query.userName = row?.userName ?? user;
    }
    const calls = await store.audit.query(query);
    const plans = groupByUser(calls);
    if (opts.json) {
      line(stdout, JSON.stringify(planJson(plans, since, tenantOf(config, opts.tenant).dryRun), null, 2));
      return 0;
    }
    printPlan(stdout, plans, since, user, calls.length === MAX_CALLS);
    return 0;
  } catch (err) {
    line(stderr, `digicert-scim: ${oneLine((err as Error).message)}`);
    return 1;
  } finally {
    await store.close();
  }
}

function groupByUser(calls: AuditEntry[]): UserPlan[] {
  const plans = new Map<string, UserPlan>();
  for (const c of calls) {
    const key = c.resourceId ?? `name:${c.userName ?? "?"}`;
    let p = plans.get(key);
    if (!p) plans.set(key, (p = { userId: c.resourceId, userName: c.userName, calls: [] }));
    if (c.userName) p.userName = c.userName;
    p.calls.push(c);
  }
  return [...plans.values()];
}

function totals(plans: UserPlan[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of plans) for (const c of p.calls) if (c.digicert) out[c.digicert.operation] = (out[c.digicert.operation] ?? 0) + 1;
  return out;
}

function planJson(plans: UserPlan[], since: string | undefined, dryRunConfigured: boolean) {
  return {
    since: since ?? null,
    dryRunConfigured,
    users: plans.map((p) => ({
      userId: p.userId,
      userName: p.userName,
      calls: p.calls.map((c) => ({
        at: c.at,
        operation: c.digicert?.operation ?? c.action,
        digicertId: c.digicert?.digicertId ?? null,
        outcome: c.outcome,
        errorKind: c.digicert?.errorKind ?? null,
        detail: c.detail === null ? null : oneLine(c.detail),
        changes: c.changes,
        requestId: c.requestId,
        jobId: c.jobId,
      })),
    })),
    totals: totals(plans),
  };
}

const field = (c: AuditEntry, path: string) => c.changes.find((x) => x.path === path)?.after;

/** "create DigiCert user alice (Ada Lovelace, ada@example.com) with roles Standard User (5)". */
function describeCall(c: AuditEntry): string {
  const id = c.digicert?.digicertId;
  const profile = () => {
    const name = [field(c, "firstName"), field(c, "lastName")].filter((v) => typeof v === "string" && v).join(" ");
    const extra = [name, field(c, "email"), field(c, "jobTitle"), field(c, "phone")].filter((v) => typeof v === "string" && v);
    return extra.length ? ` (${extra.join(", ")})` : "";
  };
  const roles = () => showValue(field(c, "roles") ?? []).replace(/^\[|\]$/g, "") || "none";
  let text: string;
  switch (c.digicert?.operation) {
    case "createUser":
      text = `create DigiCert user ${String(field(c, "username") ?? c.userName ?? "")}${profile()} with roles ${roles()}`;
      break;
    case "updateUser":
      text = `update DigiCert user ${id ?? "?"} to ${String(field(c, "username") ?? "")}${profile()}`;
      break;
    case "setRoles":
      text = `set the roles of DigiCert user ${id ?? "?"} to ${roles()}`;
      break;
    case "setDivisions": {
      const divisions = showValue(field(c, "divisions") ?? []).replace(/^\[|\]$/g, "");
      text = divisions ? `restrict DigiCert user ${id ?? "?"} to divisions ${divisions}` : `lift the division restriction of DigiCert user ${id ?? "?"}`;
      break;
    }
    case "disableUser":
      text = `disable DigiCert user ${id ?? "?"}`;
      break;
    case "enableUser":
      text = `enable DigiCert user ${id ?? "?"}`;
      break;
    case "deleteUser":
      text = `delete DigiCert user ${id ?? "?"}`;
      break;
    default:
      text = c.action;
  }
  if (c.outcome === "error") {
    const why = c.digicert?.errorKind === "duplicate" ? "DigiCert already has this username: the bridge adopts that user instead" : `${c.digicert?.errorKind ?? "error"}: ${c.detail ?? ""}`;
    text += ` — would be refused (${why})`;
  }
  return oneLine(text);
}

function printPlan(out: Output, plans: UserPlan[], since: string | undefined, user: string | undefined, truncated: boolean): void {
  const scope = `${since ? ` since ${since}` : ""}${user ? ` for ${user}` : ""}`;
  if (!plans.length) {
    line(out, `No dry-run DigiCert calls recorded${scope}.`);
    line(out, "Run the bridge with DRY_RUN=true and let the IdP push; each DigiCert write it would make is recorded.");
    return;
  }
  line(out, `Dry run: what the bridge would have asked DigiCert to do${scope} (nothing was sent):`);
  for (const p of plans) {
    line(out);
    line(out, oneLine(`${p.userName ?? "(unknown user)"}${p.userId ? ` — SCIM id ${p.userId}` : ""}`));
    for (const c of p.calls) line(out, `  ${c.at}  ${describeCall(c)}`);
  }
  const t = totals(plans);
  const count = plans.reduce((n, p) => n + p.calls.length, 0);
  line(out);
  line(
    out,
    `${plans.length} user${plans.length === 1 ? "" : "s"}, ${count} DigiCert call${count === 1 ? "" : "s"}: ` +
      Object.entries(t)
        .map(([op, n]) => `${op} ${n}`)
        .join(", "),
  );
  if (truncated) line(out, `(only the newest ${MAX_CALLS} calls; use --since or --user to narrow)`);
}
