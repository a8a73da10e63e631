// Reports of reconciliation runs (store vs DigiCert), and the lease that lets one replica at a time run the
// schedule. The report shapes live here because they are stored as they are; src/provisioning/reconcile.ts makes them.
import type { Kysely } from "kysely";
import { codecFor, type Database, type DbBool, type Dialect } from "./db";
import type { ReconcileReport, ReconcileReportSummary, ReconcileRepository, ReconcileStats } from "./types";

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
