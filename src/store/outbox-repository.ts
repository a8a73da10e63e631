// OutboxRepository over kysely. Jobs are claimed under a lease: a worker that dies mid-job leaves it to whoever
// claims after the lease runs out. On PostgreSQL claims skip rows another claimer holds locked (SKIP LOCKED);
// SQLite serialises every transaction, which gives the same guarantee.
import { Kysely, Selectable, Transaction } from "kysely";
import { chunksOf } from "./chunks";
import { nextTimestamp } from "./clock";
import type { Codec, Database, Dialect, OutboxTable } from "./db";
import { codecFor, inTransaction } from "./db";
import { jobFailureCause, jobFailureCode } from "../provisioning/job-failure-codes";
import type { FanOut } from "./fan-out";
import { linkStoreFor, type LinkStore } from "./target-links";
import { scopeOf } from "./tenant-scope";
import type {
  JobError,
  NewOutboxJob,
  OutboxJob,
  OutboxKind,
  OutboxPayload,
  OutboxRepository,
  OutboxStats,
  OutboxStatus,
  SyncState,
} from "./types";

const UNFINISHED: OutboxStatus[] = ["pending", "running"];
const FINISHED: OutboxStatus[] = ["done", "superseded", "cancelled"];
const iso = (ms = Date.now()) => new Date(ms).toISOString();

export class SqlOutboxRepository implements OutboxRepository {
  private readonly codec: Codec;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
    /** Where the sync state of this store's target is kept (src/store/target-links.ts). */
    private readonly links: LinkStore = linkStoreFor(scopeOf(""), dialect),
    /** A fan-out tenant's primary store: the other targets every job is queued for too. */
    private readonly fanOut?: FanOut,
  ) {
    this.codec = codecFor(dialect);
  }

  async enqueue(jobs: NewOutboxJob[]): Promise<number[]> {
    if (!jobs.length) return [];
    return inTransaction(this.db, async (trx) => {
      const ids: number[] = [];
      for (const chunk of chunksOf(jobs, 500)) {
        // created orders jobs for people; run_after is compared with the wall clock, so it must not run ahead of it.
        const now = nextTimestamp();
        const due = iso();
        const rows = await trx
          .insertInto("scim_outbox")
          .values(
            chunk.map((j) => ({
              user_id: j.userId,
              kind: j.kind,
              payload: this.codec.json(j.payload as unknown as Record<string, unknown>),
              status: "pending",
              attempts: 0,
              run_after: due,
              created: now,
              updated: now,
            })),
          )
          .returning("id")
          .execute();
        ids.push(...rows.map((r) => Number(r.id)));
        const userIds = [...new Set(chunk.filter((j) => j.kind !== "delete").map((j) => j.userId))];
        if (userIds.length) await this.setUserState(trx, userIds, "pending", undefined);
      }
      await this.fanOut?.enqueue(trx, jobs);
      return ids;
    });
  }

  async claim(owner: string, limit: number, leaseMs: number): Promise<OutboxJob[]> {
    if (limit <= 0) return [];
    return inTransaction(this.db, async (trx) => {
      const now = iso();
      let runnable = trx
        .selectFrom("scim_outbox as o")
        .select("o.id")
        .where((eb) =>
          eb.or([
            eb.and([eb("o.status", "=", "pending"), eb("o.run_after", "<=", now)]),
            eb.and([eb("o.status", "=", "running"), eb("o.lease_until", "<", now)]),
          ]),
        )
        // Only the earliest unfinished job of each user: one user's changes reach DigiCert in the order they came.
        .where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom("scim_outbox as p")
                .select("p.id")
                .whereRef("p.user_id", "=", "o.user_id")
                .whereRef("p.id", "<", "o.id")
                .where("p.status", "in", UNFINISHED),
            ),
          ),
        )
        .orderBy("o.id")
        .limit(limit);
      if (this.dialect === "postgres") runnable = runnable.forUpdate().skipLocked();
      const ids = (await runnable.execute()).map((r) => Number(r.id));
      if (!ids.length) return [];
      await trx
        .updateTable("scim_outbox")
        .set((eb) => ({
          status: "running",
          lease_owner: owner,
          lease_until: iso(Date.now() + leaseMs),
          attempts: eb("attempts", "+", 1),
          updated: now,
        }))
        .where("id", "in", ids)
        .execute();
      const rows = await trx.selectFrom("scim_outbox").selectAll().where("id", "in", ids).orderBy("id").execute();
      return rows.map((r) => this.toJob(r));
    });
  }

  async renew(ids: number[], owner: string, leaseMs: number): Promise<void> {
    if (!ids.length) return;
    await this.db
      .updateTable("scim_outbox")
      .set({ lease_until: iso(Date.now() + leaseMs) })
      .where("id", "in", ids)
      .where("lease_owner", "=", owner)
      .where("status", "=", "running")
      .execute();
  }

  async complete(id: number, owner: string): Promise<boolean> {
    return inTransaction(this.db, async (trx) => {
      const job = await this.finishHeld(trx, id, owner, { status: "done", error_kind: null, last_error: null });
      if (!job) return false;
      // Every job brings the user to its whole stored state, so this success also covers what earlier failures missed.
      await trx
        .updateTable("scim_outbox")
        .set({ status: "superseded", updated: iso() })
        .where("user_id", "=", job.user_id)
        .where("id", "<", id)
        .where("status", "=", "failed")
        .execute();
      // PostgreSQL (read committed): lock the row holding the user's sync state on this target (scim_users, or its
      // scim_user_targets row: target-links.ts) before looking for other jobs. An enqueue for this user writes that
      // row in its transaction, so it is then either committed and seen by the check below, or runs after us and
      // makes the user pending again. Without the lock the check missed a job enqueued (not yet committed)
      // meanwhile, and the user ended "synced" with that job still to run (outbox-suite test).
      if (this.dialect === "postgres") await this.links.lockUser(trx, job.user_id);
      const more = await trx
        .selectFrom("scim_outbox")
        .select("id")
        .where("user_id", "=", job.user_id)
        .where("status", "in", UNFINISHED)
        .executeTakeFirst();
      if (!more) await this.setUserState(trx, [job.user_id], "synced", null, iso());
      return true;
    });
  }

  async reschedule(id: number, owner: string, runAfter: string, error: JobError, countAttempt: boolean): Promise<boolean> {
    return inTransaction(this.db, async (trx) => {
      const result = await trx
        .updateTable("scim_outbox")
        .set((eb) => ({
          status: "pending",
          run_after: runAfter,
          lease_owner: null,
          lease_until: null,
          error_kind: jobFailureCode(error.cause),
          last_error: error.message,
          updated: iso(),
          ...(countAttempt ? {} : { attempts: eb("attempts", "-", 1) }),
        }))
        .where("id", "=", id)
        .where("lease_owner", "=", owner)
        .where("status", "=", "running")
        .returning("user_id")
        .executeTakeFirst();
      if (!result) return false;
      await this.setUserState(trx, [result.user_id], "pending", error.message);
      return true;
    });
  }

  async fail(id: number, owner: string, error: JobError): Promise<boolean> {
    return inTransaction(this.db, async (trx) => {
      const job = await this.finishHeld(trx, id, owner, { status: "failed", error_kind: jobFailureCode(error.cause), last_error: error.message });
      if (!job) return false;
      await this.setUserState(trx, [job.user_id], "failed", error.message);
      return true;
    });
  }

  async release(owner: string): Promise<number> {
    const result = await this.db
      .updateTable("scim_outbox")
      .set({ status: "pending", lease_owner: null, lease_until: null, updated: iso() })
      .where("lease_owner", "=", owner)
      .where("status", "=", "running")
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async get(ids: number[]): Promise<OutboxJob[]> {
    if (!ids.length) return [];
    const rows = await this.db.selectFrom("scim_outbox").selectAll().where("id", "in", ids).orderBy("id").execute();
    return rows.map((r) => this.toJob(r));
  }

  async list(filter: { status?: OutboxStatus[]; userId?: string; limit: number }): Promise<OutboxJob[]> {
    let q = this.db.selectFrom("scim_outbox").selectAll();
    if (filter.status?.length) q = q.where("status", "in", filter.status);
    if (filter.userId) q = q.where("user_id", "=", filter.userId);
    const rows = await q.orderBy("id", "desc").limit(Math.max(0, filter.limit)).execute();
    return rows.map((r) => this.toJob(r));
  }

  async retryFailed(ids?: number[]): Promise<number> {
    return inTransaction(this.db, async (trx) => {
      let q = trx.selectFrom("scim_outbox").select(["id", "user_id"]).where("status", "=", "failed");
      if (ids) q = q.where("id", "in", ids.length ? ids : [-1]);
      const rows = await q.execute();
      if (!rows.length) return 0;
      const now = iso();
      for (const chunk of chunksOf(rows.map((r) => Number(r.id)))) {
        await trx
          .updateTable("scim_outbox")
          .set({ status: "pending", attempts: 0, run_after: now, finished: null, updated: now })
          .where("id", "in", chunk)
          .execute();
      }
      await this.setUserState(trx, [...new Set(rows.map((r) => r.user_id))], "pending", undefined);
      return rows.length;
    });
  }

  async cancelUnfinished(userId: string): Promise<number> {
    return inTransaction(this.db, async (trx) => {
      const now = iso();
      const result = await trx
        .updateTable("scim_outbox")
        .set({ status: "cancelled", lease_owner: null, lease_until: null, finished: now, updated: now })
        .where("user_id", "=", userId)
        .where("status", "in", [...UNFINISHED, "failed"])
        .executeTakeFirst();
      await this.fanOut?.cancelUnfinished(trx, userId);
      return Number(result.numUpdatedRows);
    });
  }

  async stats(): Promise<OutboxStats> {
    const counts = await this.db
      .selectFrom("scim_outbox")
      .select(["status", (eb) => eb.fn.countAll<number | string | bigint>().as("n")])
      .where("status", "in", [...UNFINISHED, "failed"])
      .groupBy("status")
      .execute();
    const by = new Map(counts.map((c) => [c.status, Number(c.n)]));
    const oldest = await this.db
      .selectFrom("scim_outbox")
      .select((eb) => eb.fn.min("created").as("created"))
      .where("status", "in", UNFINISHED)
      .executeTakeFirst();
    return {
      pending: by.get("pending") ?? 0,
      running: by.get("running") ?? 0,
      failed: by.get("failed") ?? 0,
      oldestUnfinished: (oldest?.created as string | null | undefined) ?? null,
    };
  }

  async doneSince(since: string): Promise<number> {
    const r = await this.db
      .selectFrom("scim_outbox")
      .select((eb) => eb.fn.countAll<number | string | bigint>().as("n"))
      .where("finished", ">=", since)
      .where("status", "=", "done")
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  async countAhead(id: number): Promise<number> {
    const now = iso();
    const r = await this.db
      .selectFrom("scim_outbox")
      .select((eb) => eb.fn.countAll<number | string | bigint>().as("n"))
      .where("id", "<", id)
      .where((eb) => eb.or([eb("status", "=", "running"), eb.and([eb("status", "=", "pending"), eb("run_after", "<=", now)])]))
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  async purgeFinishedBefore(before: string): Promise<number> {
    const result = await this.db
      .deleteFrom("scim_outbox")
      .where("status", "in", FINISHED)
      .where("finished", "<", before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  // ---------------------------------------------------------------------------------------------------------

  /** Ends a job `owner` holds; null when the lease was lost (another worker took the job over). */
  private async finishHeld(
    trx: Transaction<Database>,
    id: number,
    owner: string,
    end: { status: OutboxStatus; error_kind: string | null; last_error: string | null },
  ): Promise<{ user_id: string } | null> {
    const now = iso();
    const result = await trx
      .updateTable("scim_outbox")
      .set({ ...end, lease_owner: null, lease_until: null, finished: now, updated: now })
      .where("id", "=", id)
      .where("lease_owner", "=", owner)
      .where("status", "=", "running")
      .returning("user_id")
      .executeTakeFirst();
    return result ?? null;
  }

  /** `error` undefined leaves the stored error as it is. */
  private async setUserState(
    trx: Transaction<Database>,
    userIds: string[],
    state: SyncState,
    error: string | null | undefined,
    syncedAt?: string,
  ): Promise<void> {
    await this.links.setState(trx, userIds, state, error, syncedAt);
  }

  private toJob(r: Selectable<OutboxTable>): OutboxJob {
    return {
      id: Number(r.id),
      userId: r.user_id,
      kind: r.kind as OutboxKind,
      payload: this.codec.readJson(r.payload) as unknown as OutboxPayload,
      status: r.status as OutboxStatus,
      attempts: Number(r.attempts),
      runAfter: r.run_after,
      leaseOwner: r.lease_owner,
      leaseUntil: r.lease_until,
      error: r.error_kind ? { cause: jobFailureCause(r.error_kind), message: r.last_error ?? "" } : null,
      created: r.created,
      updated: r.updated,
      finished: r.finished,
    };
  }
}
