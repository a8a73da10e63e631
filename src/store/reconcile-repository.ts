// Reports of reconciliation runs (store vs DigiCert), and the lease that lets one replica at a time run the
// schedule. The report shapes live here because they are stored as they are; src/provisioning/reconcile.ts makes them.
import type { Kysely } from "kysely";
import { codecFor, type Database, type DbBool, type Dialect } from "./db";

/** The kinds of drift, in report order. */
export const DRIFT_KINDS = [
  "missing",
  "deactivated_by_hand",
  "reactivated_by_hand",
  "roles_changed",
  "profile_changed",
  "not_provisioned",
  "unmanaged",
] as const;

/**
 * - `missing`: the bridge links the user to a DigiCert id DigiCert does not know (deleted by hand), or that now lies
 *   outside the managed container/account.
 * - `deactivated_by_hand`: disabled (or listed as deleted) in DigiCert while the IdP says the user has access.
 * - `reactivated_by_hand`: has access in DigiCert (enabled, or a role other than the demotion role) while the
 *   bridge had disabled or demoted it.
 * - `roles_changed`: DigiCert's roles differ from those the bridge gave (reported only when the bridge manages roles).
 * - `profile_changed`: username, name, email, job title or phone differ from what the IdP declared.
 * - `not_provisioned`: the IdP says the user should have access, the bridge has no DigiCert user for it.
 * - `unmanaged`: a DigiCert user in scope that no stored user is linked to. Reported, never touched.
 */
export type DriftKind = (typeof DRIFT_KINDS)[number];

export interface ProfileDifference {
  field: "username" | "firstName" | "lastName" | "email" | "jobTitle" | "phone";
  /** What the IdP declared (what the bridge would send). */
  expected: string | null;
  /** What DigiCert holds. */
  actual: string | null;
}

export interface DriftEntry {
  kind: DriftKind;
  /** The SCIM user; null for `unmanaged`. */
  userId: string | null;
  userName: string | null;
  /** DigiCert's id: the linked one, or the one found (unmanaged, or a same-username user a fix will adopt). */
  digicertId: string | null;
  /** DigiCert's username when DigiCert has the user. */
  digicertUsername: string | null;
  /** One line for people. */
  detail: string;
  /** Status or role ids the bridge expected / DigiCert has (deactivated/reactivated_by_hand, roles_changed). */
  expected?: string | string[] | null;
  actual?: string | string[] | null;
  /** profile_changed: each field that differs. */
  fields?: ProfileDifference[];
  /**
   * queued: `--fix` recorded the truth in the link and queued an outbox job (`jobId`); fixed: `--fix` only had to
   * correct the link (DigiCert already matches the IdP); reported: found, not fixed (no `--fix`, or not fixable:
   * unmanaged users, a user outside the container/account); skipped: `--fix` left it because the user changed
   * while reconcile ran (its own job will converge it).
   */
  action: "queued" | "fixed" | "reported" | "skipped";
  jobId?: number;
}

export interface ReconcileStats {
  /** DigiCert users listed (in scope); those outside the container/account are only counted in outOfScope. */
  digicertUsers: number;
  outOfScope: number;
  /** List-users calls made (pages), and single-user look-ups confirming users the list did not show. */
  listCalls: number;
  lookups: number;
  storeUsers: number;
  /** Stored users compared; the others were skipped because a job for them was pending or finished mid-run. */
  checked: number;
  skipped: number;
  /** Stored users with at least one kind of drift. */
  driftedUsers: number;
  /** Outbox jobs queued by --fix, and drifted users --fix left alone because they changed meanwhile. */
  queued: number;
  fixSkipped: number;
}

export interface ReconcileReport {
  /** Set once stored. */
  id?: number;
  trigger: "cli" | "schedule";
  fix: boolean;
  platform: string;
  /** ISO-8601. */
  startedAt: string;
  finishedAt: string;
  /** Users per kind of drift (every kind present, 0 when none). */
  counts: Record<DriftKind, number>;
  stats: ReconcileStats;
  entries: DriftEntry[];
}

/** A stored report without its entries: cheap to read on every metrics scrape or status page view. */
export type ReconcileReportSummary = Omit<ReconcileReport, "entries"> & { id: number };

export interface ReconcileRepository {
  /** Stores a finished run; returns its id. */
  save(report: ReconcileReport): Promise<number>;
  /** The newest stored run (by start time), entries included; null before the first. */
  latest(): Promise<(ReconcileReport & { id: number }) | null>;
  /** The newest run without entries. */
  latestSummary(): Promise<ReconcileReportSummary | null>;
  /** Runs newest first, without entries. */
  list(limit: number): Promise<ReconcileReportSummary[]>;
  /** Forgets runs that started before `before` (ISO), always keeping the newest; returns how many. */
  purgeBefore(before: string): Promise<number>;
  /**
   * Takes the named lease for `owner` for `leaseMs` when nobody holds it (or its holder's lease ran out) and the
   * last run under it started at least `minIntervalMs` ago; records the start. True when taken.
   */
  tryLease(name: string, owner: string, leaseMs: number, minIntervalMs: number): Promise<boolean>;
  /** Extends a lease `owner` holds; false when it lost it. */
  renewLease(name: string, owner: string, leaseMs: number): Promise<boolean>;
  releaseLease(name: string, owner: string): Promise<void>;
}

interface RunsTable {
  id: number | string;
  started: string;
  finished: string;
  trigger: string;
  fix: DbBool;
  platform: string;
  counts: unknown;
  summary: unknown;
  entries: unknown;
}

interface LeaseTable {
  name: string;
  owner: string | null;
  lease_until: string | null;
  last_started: string | null;
}

interface ReconcileTables {
  scim_reconcile_runs: RunsTable;
  scim_reconcile_lease: LeaseTable;
}

const SUMMARY_COLUMNS = ["id", "started", "finished", "trigger", "fix", "platform", "counts", "summary"] as const;

export class SqlReconcileRepository implements ReconcileRepository {
  private readonly db: Kysely<ReconcileTables>;
  private readonly codec;

  constructor(db: Kysely<Database>, dialect: Dialect) {
    // The tables are this repository's own (migration 0006); typed here rather than in db.ts.
    this.db = db as unknown as Kysely<ReconcileTables>;
    this.codec = codecFor(dialect);
  }

  async save(r: ReconcileReport): Promise<number> {
    const row = await this.db
      .insertInto("scim_reconcile_runs")
      .values({
        started: r.startedAt,
        finished: r.finishedAt,
        trigger: r.trigger,
        fix: this.codec.bool(r.fix),
        platform: r.platform,
        counts: JSON.stringify(r.counts),
        summary: JSON.stringify(r.stats),
        entries: JSON.stringify(r.entries),
      } as never)
      .returning("id")
      .executeTakeFirstOrThrow();
    return Number(row.id);
  }

  async latest(): Promise<(ReconcileReport & { id: number }) | null> {
    const row = await this.db.selectFrom("scim_reconcile_runs").selectAll().orderBy("started", "desc").orderBy("id", "desc").limit(1).executeTakeFirst();
    if (!row) return null;
    return { ...this.summaryOf(row), entries: readJson(row.entries) as ReconcileReport["entries"] };
  }

  async latestSummary(): Promise<ReconcileReportSummary | null> {
    return (await this.list(1))[0] ?? null;
  }

  async list(limit: number): Promise<ReconcileReportSummary[]> {
    const rows = await this.db
      .selectFrom("scim_reconcile_runs")
      .select([...SUMMARY_COLUMNS])
      .orderBy("started", "desc")
      .orderBy("id", "desc")
      .limit(Math.max(1, limit))
      .execute();
    return rows.map((r) => this.summaryOf(r));
  }

  async purgeBefore(before: string): Promise<number> {
    const newest = await this.latestSummary();
    if (!newest) return 0;
    const res = await this.db
      .deleteFrom("scim_reconcile_runs")
      .where("started", "<", before)
      .where("id", "!=", newest.id as never)
      .executeTakeFirst();
    return Number(res.numDeletedRows ?? 0);
  }

  async tryLease(name: string, owner: string, leaseMs: number, minIntervalMs: number): Promise<boolean> {
    const now = Date.now();
    const nowIso = new Date(now).toISOString();
    await this.db
      .insertInto("scim_reconcile_lease")
      .values({ name, owner: null, lease_until: null, last_started: null })
      .onConflict((oc) => oc.column("name").doNothing())
      .execute();
    const dueBefore = new Date(now - minIntervalMs).toISOString();
    const res = await this.db
      .updateTable("scim_reconcile_lease")
      .set({ owner, lease_until: new Date(now + leaseMs).toISOString(), last_started: nowIso })
      .where("name", "=", name)
      .where((eb) => eb.or([eb("lease_until", "is", null), eb("lease_until", "<", nowIso)]))
      .where((eb) => eb.or([eb("last_started", "is", null), eb("last_started", "<=", dueBefore)]))
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async renewLease(name: string, owner: string, leaseMs: number): Promise<boolean> {
    const res = await this.db
      .updateTable("scim_reconcile_lease")
      .set({ lease_until: new Date(Date.now() + leaseMs).toISOString() })
      .where("name", "=", name)
      .where("owner", "=", owner)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    await this.db
      .updateTable("scim_reconcile_lease")
      .set({ owner: null, lease_until: null })
      .where("name", "=", name)
      .where("owner", "=", owner)
      .execute();
  }

  private summaryOf(row: Pick<RunsTable, (typeof SUMMARY_COLUMNS)[number]>): ReconcileReportSummary {
    return {
      id: Number(row.id),
      trigger: row.trigger === "schedule" ? "schedule" : "cli",
      fix: this.codec.readBool(row.fix),
      platform: row.platform,
      startedAt: row.started,
      finishedAt: row.finished,
      counts: readJson(row.counts) as ReconcileReport["counts"],
      stats: readJson(row.summary) as unknown as ReconcileStats,
    };
  }
}

// pg parses jsonb itself; SQLite returns the text.
function readJson(v: unknown): unknown {
  return typeof v === "string" ? JSON.parse(v) : v;
}
