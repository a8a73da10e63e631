// Reconciliation: compares every stored user with what DigiCert holds, finds the drift people made by hand in
// DigiCert (or that DigiCert lost), and with `fix` makes the outbox restore the state the IdP declared.
//
// The outbox converges DigiCert to a user's stored state by comparing with the user's *link* (what the bridge last
// gave DigiCert), never with DigiCert itself. So a fix does two things in one transaction: it records DigiCert's
// real state in the link (a user deleted by hand loses its link, one disabled by hand is marked disabled, roles
// changed by hand are recorded as they are) and queues a job; the worker then sees the real difference and makes
// the calls that undo it, within the rate budget like every other job.
import type { CertCentralDeactivation } from "../config";
import type { DigiCertClient, DigiCertUser, DigiCertUserInput, PlatformCapabilities } from "../digicert/types";
import type { Logger } from "../log/logger";
import { DRIFT_KINDS, type DriftEntry, type DriftKind, type ProfileDifference, type ReconcileReport, type ReconcileStats } from "./drift";
import type { OutboxKind, UserLink, UserRow } from "./records";
import type { Store } from "./ports";
import { linkOf, NO_LINK, sameRoles, type SyncTarget } from "./digicert-sync";
import { userNameKey } from "../user-name";

export { DRIFT_KINDS } from "./drift";
export type { DriftEntry, DriftKind, ProfileDifference, ReconcileReport, ReconcileReportSummary, ReconcileStats } from "./drift";

export interface ReconcileDeps {
  store: Store;
  digicert: DigiCertClient;
  /** DigiCertSync.targetOf: what DigiCert should hold for a stored user under its groups and the mapping in force. */
  targetOf: (row: UserRow, profileChanged: boolean) => Promise<SyncTarget>;
  certcentralDeactivation: CertCentralDeactivation;
  /**
   * AccessPolicy.managedRoleIds: on a platform whose role writes keep unmanaged roles, a role outside these and outside
   * what the bridge gave (ONE: another manager's) is not drift. Without it every role counts.
   */
  managedRoleIds?: () => Promise<string[]>;
  logger: Logger;
  /** Wakes the local outbox worker after a fix queued jobs (the server; the CLI leaves them to the bridge's poll). */
  kick?: () => void;
}

export interface ReconcileProgress {
  /** digicert: listing DigiCert's users; store: comparing stored users; fix: queuing jobs. */
  phase: "digicert" | "store" | "fix";
  done: number;
  /** When known (DigiCert's list total, the store's user count, the drifted users). */
  total?: number;
}

export interface ReconcileOptions {
  /** Record the truth in the links and queue a job per drifted user. Default false (report only). */
  fix?: boolean;
  trigger?: ReconcileReport["trigger"];
  /** Store the report (`store.reconcile.save`). Default true. */
  save?: boolean;
  /** DigiCert list page size (default: the client's, 500). */
  pageSize?: number;
  /** onProgress is called after every DigiCert page and every `progressEvery` stored users (default 500). */
  progressEvery?: number;
  /** Awaited when it returns a promise; its errors are ignored. */
  onProgress?: (p: ReconcileProgress) => void | Promise<void>;
  /**
   * At most this many single-user look-ups (default 100) confirm that a linked user the list did not show is
   * really gone (the list may have shifted while it was paged). Beyond that the list is believed.
   */
  maxLookups?: number;
  /** Aborted: the run stops at the next page or user (throws ReconcileAbortedError); nothing is saved. */
  signal?: AbortSignal;
}

export class ReconcileAbortedError extends Error {
  constructor() {
    super("reconcile stopped before it finished");
    this.name = "ReconcileAbortedError";
  }
}

const STORE_PAGE = 500;
const DEFAULT_PROGRESS_EVERY = 500;
const DEFAULT_MAX_LOOKUPS = 100;
/** Drift entries logged one by one (unmanaged users only in the summary): a large drift still logs one summary. */
const MAX_LOGGED_ENTRIES = 50;

/** What a finding asks the fix to do for its user. */
interface Finding {
  entry: DriftEntry;
  /** The link as DigiCert really is, for the fields this finding knows about. */
  link?: Partial<UserLink>;
  /** False when there is nothing DigiCert needs (the link alone was wrong). */
  job: boolean;
  fixable: boolean;
}

interface UserDrift {
  row: UserRow;
  findings: Finding[];
}

/** Job kind per drift (first drift of a user wins): it says why the job exists in `outbox list` and the audit trail. */
const JOB_KIND: Record<DriftKind, OutboxKind> = {
  missing: "create",
  not_provisioned: "create",
  deactivated_by_hand: "reactivate",
  reactivated_by_hand: "deactivate",
  roles_changed: "roles",
  profile_changed: "update",
  unmanaged: "update",
};

export function emptyCounts(): Record<DriftKind, number> {
  return Object.fromEntries(DRIFT_KINDS.map((k) => [k, 0])) as Record<DriftKind, number>;
}

/** Compares the store with DigiCert; with `fix`, queues the outbox jobs that restore the IdP's state. */
export async function reconcile(deps: ReconcileDeps, opts: ReconcileOptions = {}): Promise<ReconcileReport> {
  const { store, digicert, logger } = deps;
  const startedAt = new Date().toISOString();
  const progressEvery = Math.max(1, opts.progressEvery ?? DEFAULT_PROGRESS_EVERY);
  const progress = async (p: ReconcileProgress) => {
    try {
      await opts.onProgress?.(p);
    } catch {
      // progress output must never end the run
    }
  };
  const stats: ReconcileStats = {
    digicertUsers: 0,
    outOfScope: 0,
    listCalls: 0,
    lookups: 0,
    storeUsers: 0,
    checked: 0,
    skipped: 0,
    driftedUsers: 0,
    queued: 0,
    fixSkipped: 0,
  };
  logger.info("reconcile started", { trigger: opts.trigger ?? "cli", fix: !!opts.fix, platform: digicert.platform });

  // 1. DigiCert first, the store after: a user the bridge creates meanwhile is then linked by the time the store is
  //    read (and looked up singly if the list missed it) instead of showing as unmanaged.
  const listed = new Map<string, DigiCertUser>();
  const checkAbort = () => {
    if (opts.signal?.aborted) throw new ReconcileAbortedError();
  };
  for await (const page of digicert.listUsers(opts.pageSize ? { pageSize: opts.pageSize } : {})) {
    checkAbort();
    stats.listCalls++;
    for (const u of page.users) {
      if (!u.inScope) {
        stats.outOfScope++;
        continue;
      }
      listed.set(u.id, u);
    }
    await progress({ phase: "digicert", done: listed.size + stats.outOfScope, ...(page.total !== undefined ? { total: page.total } : {}) });
  }
  stats.digicertUsers = listed.size;

  // 2. Every stored user against DigiCert.
  const linked = new Set<string>();
  const claimed = new Set<string>();
  const byUsername = new Map<string, DigiCertUser>();
  for (const u of listed.values()) if (u.status !== "deleted") byUsername.set(userNameKey(u.username), u);
  const maxLookups = opts.maxLookups ?? DEFAULT_MAX_LOOKUPS;
  const managed = deps.managedRoleIds && digicert.capabilities.keepsUnmanagedRoles ? new Set(await deps.managedRoleIds()) : null;
  const drifts: UserDrift[] = [];
  const storeTotal = await store.users.count();
  for (let offset = 0; ; offset += STORE_PAGE) {
    checkAbort();
    const { rows } = await store.users.list(undefined, { offset, limit: STORE_PAGE });
    for (const row of rows) {
      if (row.digicertId === null || !listed.has(row.digicertId)) checkAbort();
      stats.storeUsers++;
      if (row.digicertId) linked.add(row.digicertId);
      // A job is queued or running for this user, or finished while DigiCert was being listed: the list may
      // predate what the job did, so the comparison would be wrong. The next run checks it.
      if (row.syncState === "pending" || (row.syncedAt !== null && row.syncedAt >= startedAt)) {
        stats.skipped++;
      } else {
        let target: SyncTarget;
        try {
          target = await deps.targetOf(row, true);
        } catch (err) {
          stats.skipped++;
          logger.warn("reconcile: cannot compute what DigiCert should hold for a user; skipped", { userId: row.id, error: (err as Error).message });
          continue;
        }
        stats.checked++;
        let dc: DigiCertUser | null | undefined;
        if (row.digicertId) {
          dc = listed.get(row.digicertId);
          if (!dc && stats.lookups < maxLookups) {
            stats.lookups++;
            dc = await digicert.getUser(row.digicertId);
          }
        } else if (target.access) {
          dc = byUsername.get(userNameKey(row.userName));
          if (dc && linked.has(dc.id)) dc = undefined;
          if (dc) claimed.add(dc.id);
        }
        const findings = compare(row, target, dc ?? null, digicert.capabilities, deps.certcentralDeactivation, managed);
        if (findings.length) drifts.push({ row, findings });
      }
      if (stats.storeUsers % progressEvery === 0) await progress({ phase: "store", done: stats.storeUsers, total: Math.max(storeTotal, stats.storeUsers) });
    }
    if (rows.length < STORE_PAGE) break;
  }
  if (stats.storeUsers % progressEvery !== 0) await progress({ phase: "store", done: stats.storeUsers, total: Math.max(storeTotal, stats.storeUsers) });

  // 3. DigiCert users no stored user is linked to. Users the bridge itself is deleting right now are not drift.
  const beingDeleted = await digicertIdsBeingDeleted(store, startedAt);
  const unmanaged: DriftEntry[] = [];
  for (const u of listed.values()) {
    if (u.status === "deleted" || linked.has(u.id) || claimed.has(u.id) || beingDeleted.has(u.id)) continue;
    unmanaged.push({
      kind: "unmanaged",
      userId: null,
      userName: null,
      digicertId: u.id,
      digicertUsername: u.username,
      detail: `DigiCert user '${u.username}' (${u.status}) is linked to no SCIM user; left as it is`,
      actual: u.status,
      action: "reported",
    });
  }

  // 4. The fix.
  stats.driftedUsers = drifts.length;
  if (opts.fix && drifts.length) {
    let done = 0;
    for (const d of drifts) {
      checkAbort();
      await fixUser(deps, d, stats);
      if (++done % progressEvery === 0) await progress({ phase: "fix", done, total: drifts.length });
    }
    if (done % progressEvery !== 0) await progress({ phase: "fix", done, total: drifts.length });
    if (stats.queued) deps.kick?.();
  }

  const entries = [...drifts.flatMap((d) => d.findings.map((f) => f.entry)), ...unmanaged];
  entries.sort((a, b) => DRIFT_KINDS.indexOf(a.kind) - DRIFT_KINDS.indexOf(b.kind));
  const counts = emptyCounts();
  for (const e of entries) counts[e.kind]++;
  const report: ReconcileReport = {
    trigger: opts.trigger ?? "cli",
    fix: !!opts.fix,
    platform: digicert.platform,
    startedAt,
    finishedAt: new Date().toISOString(),
    counts,
    stats,
    entries,
  };
  if (opts.save !== false) report.id = await store.reconcile.save(report);
  logReport(logger, report);
  return report;
}

/** Drift found for one stored user, given what DigiCert has under its link (or its username when unlinked). */
function compare(
  row: UserRow,
  target: SyncTarget,
  dc: DigiCertUser | null,
  capabilities: PlatformCapabilities,
  deactivation: CertCentralDeactivation,
  managed: Set<string> | null = null,
): Finding[] {
  const link = linkOf(row);
  // Roles DigiCert does not show are unknown, never drift; the roles a bridge does not own are not its to judge.
  const seenRoles =
    dc?.roleIds == null ? null : managed ? dc.roleIds.filter((r) => managed.has(r) || (link.digicertRoleIds ?? []).includes(r)) : dc.roleIds;
  const base = { userId: row.id, userName: row.userName, action: "reported" as const };
  if (!link.digicertId) {
    if (!target.access) return [];
    const adopt = dc && dc.inScope;
    return [
      {
        entry: {
          ...base,
          kind: "not_provisioned",
          digicertId: adopt ? dc.id : null,
          digicertUsername: adopt ? dc.username : null,
          detail: adopt
            ? `the IdP gives this user DigiCert access but the bridge has no DigiCert user for it; DigiCert user ${dc.id} has its username and would be adopted`
            : "the IdP gives this user DigiCert access but the bridge has no DigiCert user for it",
          ...(row.syncError ? { actual: row.syncError } : {}),
        },
        job: true,
        fixable: true,
      },
    ];
  }

  if (!dc || dc.status === "deleted") {
    return [
      {
        entry: {
          ...base,
          kind: "missing",
          digicertId: link.digicertId,
          digicertUsername: null,
          detail: target.access
            ? `DigiCert has no user ${link.digicertId} (deleted by hand?); a fix creates it again`
            : `DigiCert has no user ${link.digicertId} (deleted by hand?); the IdP gives no access, so a fix only forgets the link`,
        },
        link: NO_LINK,
        job: target.access,
        fixable: true,
      },
    ];
  }
  if (!dc.inScope) {
    const scope = capabilities.scopeNoun;
    return [
      {
        entry: {
          ...base,
          kind: "missing",
          digicertId: dc.id,
          digicertUsername: dc.username,
          detail: `DigiCert user ${dc.id} was moved out of the managed ${scope}; move it back by hand (a fix cannot)`,
        },
        job: false,
        fixable: false,
      },
    ];
  }

  const out: Finding[] = [];
  const withDc = { ...base, digicertId: dc.id, digicertUsername: dc.username };
  const demoteMode = capabilities.accessRemoval === "demote" && deactivation.mode === "demote";
  const disabledInDc = dc.status === "disabled";
  if (link.digicertEnabled) {
    if (disabledInDc && target.access) {
      out.push({
        entry: { ...withDc, kind: "deactivated_by_hand", detail: "disabled in DigiCert while the IdP says the user has access", expected: "active", actual: dc.status },
        link: { digicertEnabled: false },
        job: true,
        fixable: true,
      });
    }
    if (target.roleIds !== null && link.digicertRoleIds !== null && seenRoles !== null && !sameRoles(link.digicertRoleIds, seenRoles)) {
      out.push({
        entry: {
          ...withDc,
          kind: "roles_changed",
          detail: `DigiCert roles [${seenRoles.join(", ")}] differ from the roles the bridge gave [${link.digicertRoleIds.join(", ")}]`,
          expected: link.digicertRoleIds,
          actual: seenRoles,
        },
        link: { digicertRoleIds: seenRoles },
        job: true,
        fixable: true,
      });
    }
  } else if (!target.access) {
    if (demoteMode) {
      // Demoted is the "disabled" of a platform that demotes: any other role is access given back by hand.
      if (seenRoles !== null && !sameRoles(link.digicertRoleIds, seenRoles)) {
        out.push({
          entry: {
            ...withDc,
            kind: "reactivated_by_hand",
            detail: `given roles [${seenRoles.join(", ")}] in DigiCert while the bridge had demoted the user (the IdP says no access)`,
            expected: link.digicertRoleIds,
            actual: seenRoles,
          },
          link: { digicertEnabled: true, digicertRoleIds: seenRoles },
          job: true,
          fixable: true,
        });
      }
    } else if (capabilities.accessRemoval === "disable" && !disabledInDc) {
      out.push({
        entry: { ...withDc, kind: "reactivated_by_hand", detail: "enabled in DigiCert while the bridge had disabled the user (the IdP says no access)", expected: "disabled", actual: dc.status },
        link: { digicertEnabled: true },
        job: true,
        fixable: true,
      });
    }
  }

  const fields = profileDifferences(target.profile, dc, capabilities.profile);
  if (fields.length) {
    out.push({
      entry: {
        ...withDc,
        kind: "profile_changed",
        detail: `changed in DigiCert: ${fields.map((f) => `${f.field} ${JSON.stringify(f.actual)} (IdP: ${JSON.stringify(f.expected)})`).join(", ")}`,
        fields,
      },
      job: true,
      fixable: true,
    });
  }
  return out;
}

/** Username and email compare without case (DigiCert treats them so); names, title and phone exactly, trimmed. */
export function profileDifferences(want: DigiCertUserInput, dc: DigiCertUser, stored: PlatformCapabilities["profile"]): ProfileDifference[] {
  const out: ProfileDifference[] = [];
  const norm = (v: string | null | undefined) => (v ?? "").trim();
  const check = (field: ProfileDifference["field"], expected: string | null | undefined, actual: string | null, fold = false) => {
    const e = norm(expected);
    const a = norm(actual);
    if (fold ? e.toLowerCase() !== a.toLowerCase() : e !== a) out.push({ field, expected: e || null, actual: a || null });
  };
  check("username", want.username, dc.username, true);
  check("firstName", want.firstName, dc.firstName);
  check("lastName", want.lastName, dc.lastName);
  check("email", want.email, dc.email, true);
  if (stored.jobTitle) check("jobTitle", want.jobTitle, dc.jobTitle);
  // "when-set" (ONE): an update is written without an absent phone, so a partial PUT keeps the old number: a phone
  // the IdP removed is a difference no fix can clear, and reporting it on every run would only be noise.
  if (stored.phone === "always" || norm(want.phone) !== "") check("phone", want.phone, dc.phone);
  return out;
}

/**
 * Records DigiCert's real state in the link and queues one job, in one transaction, unless the user changed since
 * it was compared (then its own job converges it, and the next run looks again).
 */
async function fixUser(deps: ReconcileDeps, d: UserDrift, stats: ReconcileStats): Promise<void> {
  const fixable = d.findings.filter((f) => f.fixable);
  if (!fixable.length) return;
  const link: UserLink = Object.assign({}, linkOf(d.row), ...fixable.map((f) => f.link ?? {}));
  const job = fixable.some((f) => f.job);
  const kind = JOB_KIND[fixable[0].entry.kind];
  const outcome = await deps.store.transaction(async (tx) => {
    const fresh = await tx.users.getById(d.row.id);
    if (!fresh || fresh.version !== d.row.version || fresh.syncState === "pending" || !sameLink(linkOf(fresh), linkOf(d.row))) {
      return { skipped: true as const };
    }
    if (!sameLink(link, linkOf(fresh))) await tx.users.setLink(fresh.id, link);
    if (!job) return { skipped: false as const };
    const [jobId] = await tx.outbox.enqueue([{ userId: fresh.id, kind, payload: { userName: fresh.userName, profileChanged: true } }]);
    return { skipped: false as const, jobId };
  });
  if (outcome.skipped) stats.fixSkipped++;
  else if (outcome.jobId !== undefined) stats.queued++;
  for (const f of fixable) {
    if (outcome.skipped) f.entry.action = "skipped";
    else if (outcome.jobId === undefined) f.entry.action = "fixed";
    else {
      f.entry.action = "queued";
      f.entry.jobId = outcome.jobId;
    }
  }
  if (!outcome.skipped) {
    deps.logger.info("reconcile: fix queued", {
      userId: d.row.id,
      userName: d.row.userName,
      drift: fixable.map((f) => f.entry.kind),
      ...(outcome.jobId !== undefined ? { jobId: outcome.jobId } : {}),
    });
  }
}

function sameLink(a: UserLink, b: UserLink): boolean {
  return (
    a.digicertId === b.digicertId &&
    a.adopted === b.adopted &&
    a.digicertEnabled === b.digicertEnabled &&
    (a.digicertRoleIds === null ? b.digicertRoleIds === null : b.digicertRoleIds !== null && sameRoles(a.digicertRoleIds, b.digicertRoleIds))
  );
}

/** DigiCert ids of delete jobs unfinished, or finished since `since`: their SCIM users are gone from the store. */
async function digicertIdsBeingDeleted(store: Store, since: string): Promise<Set<string>> {
  const jobs = await store.outbox.list({ status: ["pending", "running", "failed", "done"], limit: 1000 });
  const ids = new Set<string>();
  for (const j of jobs) {
    if (j.kind !== "delete" || !j.payload.digicertId) continue;
    if (j.status === "done" && (j.finished ?? "") < since) continue;
    ids.add(j.payload.digicertId);
  }
  return ids;
}

function logReport(logger: Logger, report: ReconcileReport): void {
  const drift = DRIFT_KINDS.filter((k) => report.counts[k] > 0);
  let logged = 0;
  for (const e of report.entries) {
    if (e.kind === "unmanaged" || logged >= MAX_LOGGED_ENTRIES) continue;
    logged++;
    logger.warn("reconcile: drift", {
      kind: e.kind,
      userId: e.userId,
      userName: e.userName,
      digicertId: e.digicertId,
      detail: e.detail,
      action: e.action,
      ...(e.jobId !== undefined ? { jobId: e.jobId } : {}),
    });
  }
  logger.info("reconcile finished", {
    trigger: report.trigger,
    fix: report.fix,
    drift: drift.length ? Object.fromEntries(drift.map((k) => [k, report.counts[k]])) : "none",
    ...report.stats,
    ms: Date.parse(report.finishedAt) - Date.parse(report.startedAt),
    ...(report.id !== undefined ? { reportId: report.id } : {}),
  });
}

/**
 * True when the report found drift the bridge is responsible for: every kind but `unmanaged` (DigiCert users the
 * bridge does not manage, such as the API key's own user, are reported but are not the IdP's state drifting).
 */
export function hasDrift(report: Pick<ReconcileReport, "counts">): boolean {
  return DRIFT_KINDS.some((k) => k !== "unmanaged" && report.counts[k] > 0);
}
