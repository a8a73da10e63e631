// AuditRepository over kysely: an append-only table, read by resource, by userName and by time.
import type { Kysely, Selectable } from "kysely";
import { chunksOf } from "./chunks";
import { nextTimestamp } from "./clock";
import type { AuditTable, Codec, Database, Dialect } from "./db";
import { codecFor } from "./db";
import type { AuditChange, AuditEntry, AuditKind, AuditOutcome, AuditQuery, AuditRepository, NewAuditEntry } from "./types";

const DEFAULT_LIMIT = 1000;
/** Rows per multi-row insert: 20 columns each, well under both dialects' bound-parameter limits. */
const INSERT_CHUNK = 200;

export class SqlAuditRepository implements AuditRepository {
  private readonly codec: Codec;

  constructor(
    private readonly db: Kysely<Database>,
    dialect: Dialect,
  ) {
    this.codec = codecFor(dialect);
  }

  async append(entry: NewAuditEntry): Promise<AuditEntry> {
    const row = await this.db.insertInto("scim_audit").values(this.toRow(entry)).returningAll().executeTakeFirstOrThrow();
    return this.toEntry(row);
  }

  async appendMany(entries: NewAuditEntry[]): Promise<void> {
    for (const chunk of chunksOf(entries, INSERT_CHUNK)) {
      await this.db.insertInto("scim_audit").values(chunk.map((e) => this.toRow(e))).execute();
    }
  }

  async query(q: AuditQuery): Promise<AuditEntry[]> {
    const ids = q.resourceId === undefined ? [] : Array.isArray(q.resourceId) ? q.resourceId : [q.resourceId];
    const name = q.userName?.toLowerCase();
    // Asked about nothing (an empty id list and no name): nothing matches.
    if (q.resourceId !== undefined && !ids.length && name === undefined) return [];
    let sel = this.db.selectFrom("scim_audit").selectAll();
    if (ids.length || name !== undefined) {
      sel = sel.where((eb) =>
        eb.or([
          ...[...chunksOf(ids)].map((chunk) => eb("resource_id", "in", chunk)),
          ...(name !== undefined ? [eb("user_name_lower", "=", name)] : []),
        ]),
      );
    }
    if (q.since) sel = sel.where("at", ">=", q.since);
    if (q.kind?.length) sel = sel.where("kind", "in", q.kind);
    if (q.dryRun !== undefined) sel = sel.where("dry_run", "=", this.codec.bool(q.dryRun));
    const rows = await sel
      .orderBy("at", "desc")
      .orderBy("id", "desc")
      .limit(Math.max(0, q.limit ?? DEFAULT_LIMIT))
      .execute();
    return rows.reverse().map((r) => this.toEntry(r));
  }

  async recent(limit: number): Promise<AuditEntry[]> {
    const rows = await this.db
      .selectFrom("scim_audit")
      .selectAll()
      .orderBy("at", "desc")
      .orderBy("id", "desc")
      .limit(Math.max(0, limit))
      .execute();
    return rows.map((r) => this.toEntry(r));
  }

  async purgeBefore(before: string): Promise<number> {
    const res = await this.db.deleteFrom("scim_audit").where("at", "<", before).executeTakeFirst();
    return Number(res.numDeletedRows ?? 0);
  }

  // ---------------------------------------------------------------------------------------------------------

  private toRow(e: NewAuditEntry) {
    return {
      at: e.at ?? nextTimestamp(),
      kind: e.kind,
      action: e.action,
      actor: e.actor ?? null,
      idp: e.idp ?? null,
      request_id: e.requestId ?? null,
      resource_type: e.resourceType ?? null,
      resource_id: e.resourceId ?? null,
      user_name: e.userName ?? null,
      user_name_lower: e.userName ? e.userName.toLowerCase() : null,
      changes: e.changes?.length ? JSON.stringify(e.changes) : null,
      outcome: e.outcome,
      status: e.status ?? null,
      detail: e.detail ?? null,
      job_id: e.jobId ?? null,
      dry_run: this.codec.bool(e.dryRun ?? false),
      dc_operation: e.digicert?.operation ?? null,
      dc_id: e.digicert?.digicertId ?? null,
      dc_error_kind: e.digicert?.errorKind ?? null,
    };
  }

  private toEntry(r: Selectable<AuditTable>): AuditEntry {
    const changes: unknown = r.changes === null || r.changes === undefined ? [] : typeof r.changes === "string" ? JSON.parse(r.changes) : r.changes;
    return {
      id: Number(r.id),
      at: r.at,
      kind: r.kind as AuditKind,
      action: r.action,
      actor: r.actor,
      idp: r.idp,
      requestId: r.request_id,
      resourceType: r.resource_type as AuditEntry["resourceType"],
      resourceId: r.resource_id,
      userName: r.user_name,
      changes: Array.isArray(changes) ? (changes as AuditChange[]) : [],
      outcome: r.outcome as AuditOutcome,
      status: r.status === null ? null : Number(r.status),
      detail: r.detail,
      jobId: r.job_id === null ? null : Number(r.job_id),
      dryRun: this.codec.readBool(r.dry_run),
      digicert: r.dc_operation ? { operation: r.dc_operation, digicertId: r.dc_id, errorKind: r.dc_error_kind } : null,
    };
  }
}
