import { randomUUID } from "node:crypto";
import { syncWaitMs } from "./sync-wait";
import { noticeCommitted } from "./write-turn";
import { userNameKey } from "../user-name";
import type { DigiCertClient, DigiCertUserInput } from "../digicert/types";
import type { Logger } from "../log/logger";
import { StoreConflictError, StoreVersionConflictError, type GroupRepository, type Store } from "./ports";
import type { JobError, NewAuditEntry, NewOutboxJob, OutboxKind, OutboxPayload, UserRow, UserSnapshot } from "./records";
import type { Page, UserQuery, UserSort } from "./queries";
import type { AccessPolicy } from "./access-policy";
import { diffUsers, logAudit, requestFields, type AuditActor } from "./audit";
import { linkOf, sameRoles } from "./digicert-sync";
import { assertVersion, ConcurrentChangeError, ConflictError, InvalidInputError, NotFoundError } from "./errors";
import { errorOfJob } from "./job-errors";
import type { UserDraft } from "./model";
import type { JobOutcome } from "./outbox-worker";
import { jobFailureCode } from "./job-failure-codes";
import { profileFromDraft, rejectProblems, sameProfile } from "./profile";
import { linkedAnywhere, overallSyncState } from "./target-sync";

/** The part of the outbox worker a request uses: wake it, and wait for a job. */
export interface JobDispatcher {
  kick(): void;
  waitFor(ids: number[], timeoutMs: number): Promise<JobOutcome>;
}

export interface UserServiceDeps {
  store: Store;
  digicert: Pick<DigiCertClient, "validate">;
  access: AccessPolicy;
  dispatcher: JobDispatcher;
  /** How long a request waits for its DigiCert job before answering with the job still pending. */
  syncWaitMs: number;
  /** Rebuilds the draft a stored row was made from, to tell which DigiCert fields a change touches. */
  draftOf: (row: UserRow) => UserDraft;
  logger: Logger;
  newId?: () => string;
}

export interface AccessChange {
  userId: string;
  userName: string;
  before: string[] | null;
  after: string[] | null;
}

function snapshotOf(row: UserRow): UserSnapshot {
  return { userName: row.userName, externalId: row.externalId, active: row.active, resource: row.resource, emails: row.emails };
}

function fieldsOf(draft: UserDraft, active: boolean): UserSnapshot {
  return { userName: draft.userName, externalId: draft.externalId, active, resource: draft.resource, emails: draft.emails };
}

/**
 * The request id and trace a job carries, so the audit trail links its DigiCert calls to the SCIM request and the
 * calls continue the request's trace (their log lines and `traceparent` name its trace id).
 */
export function requestOf(actor: Pick<AuditActor, "requestId" | "trace"> | undefined): Pick<OutboxPayload, "requestId" | "traceId" | "traceFlags"> {
  return {
    ...(actor?.requestId ? { requestId: actor.requestId } : {}),
    ...(actor?.trace ? { traceId: actor.trace.traceId, traceFlags: actor.trace.flags } : {}),
  };
}

function userEntry(actor: AuditActor | undefined, action: string, row: Pick<UserRow, "id" | "userName">, changes: NewAuditEntry["changes"], jobId?: number): NewAuditEntry {
  return {
    kind: "scim",
    action,
    outcome: "ok",
    ...requestFields(actor),
    resourceType: "User",
    resourceId: row.id,
    userName: row.userName,
    changes,
    jobId: jobId ?? null,
  };
}

/** The bridge undoing a change DigiCert refused, on behalf of the request that made it. */
function rollbackEntry(actor: AuditActor | undefined, row: Pick<UserRow, "id" | "userName">, changes: NewAuditEntry["changes"], error: JobError, jobId?: number): NewAuditEntry {
  return {
    ...userEntry(actor, "user.rollback", row, changes, jobId),
    kind: "bridge",
    detail: `DigiCert refused the change (${jobFailureCode(error.cause)}): ${error.message}`,
  };
}

/**
 * The use cases on a SCIM User. A change is stored together with an outbox job for DigiCert in one transaction;
 * the request then waits (up to syncWaitMs) for the job. Finished: the answer shows DigiCert's result, and a change
 * DigiCert refuses is rolled back and answered with the refusal. Not finished: the change stands and the job
 * completes later (the user shows syncState "pending"). Reads never touch DigiCert.
 */
export class UserService {
  private readonly newId: () => string;

  constructor(private readonly deps: UserServiceDeps) {
    this.newId = deps.newId ?? randomUUID;
  }

  async get(id: string): Promise<UserRow> {
    const row = await this.deps.store.users.getById(id);
    if (!row) throw new NotFoundError(`User ${id} not found`);
    return row;
  }

  list(query: UserQuery | undefined, page: Page, sort?: UserSort): Promise<{ total: number; rows: UserRow[] }> {
    return this.deps.store.users.list(query, page, sort);
  }

  /** `actor`: who asked (recorded in the audit trail with the change, in the same transaction). */
  async create(draft: UserDraft, actor?: AuditActor): Promise<UserRow> {
    const { store } = this.deps;
    await this.assertUserNameFree(draft.userName);
    this.checkProfile(draft);
    await this.assertRolesKnown(draft);
    const id = this.newId();
    let created: { row: UserRow; jobId: number; audit: NewAuditEntry[] };
    try {
      created = await store.transaction(async (tx) => {
        const row = await tx.users.insert({
          id,
          ...fieldsOf(draft, draft.active ?? true),
          digicertId: null,
          adopted: false,
        });
        const [jobId] = await tx.outbox.enqueue([
          { userId: id, kind: "create", payload: { userName: row.userName, profileChanged: true, version: row.version, ...requestOf(actor) } },
        ]);
        const audit = [userEntry(actor, "user.create", row, diffUsers(null, snapshotOf(row)), jobId!)];
        await tx.audit.appendMany(audit);
        return { row, jobId: jobId!, audit };
      });
    } catch (err) {
      // Lost a race with a concurrent create of the same userName: nothing of ours was stored.
      if (err instanceof StoreConflictError) {
        const winner = await store.users.getByUserName(draft.userName);
        throw new ConflictError(`userName '${draft.userName}' is already taken${winner ? ` by User ${winner.id}` : ""}`, winner?.id);
      }
      throw err;
    }
    logAudit(this.deps.logger, created.audit);
    return this.settle(created.row, [created.jobId], (error) => this.undoCreate(created.row, error, actor));
  }

  /**
   * PUT and PATCH both arrive here with the complete new state of the user. `basedOnVersion`: the version the
   * draft was computed from (a PATCH applies its operations to a read); a newer stored version means another
   * change came in between, and this one must be recomputed (ConcurrentChangeError) rather than undo it.
   */
  async replace(id: string, draft: UserDraft, basedOnVersion?: number, actor?: AuditActor): Promise<UserRow> {
    const { store, logger } = this.deps;
    const row = await this.get(id);
    if (basedOnVersion !== undefined && row.version !== basedOnVersion) throw this.concurrentChange(id);
    if (userNameKey(draft.userName) !== userNameKey(row.userName)) await this.assertUserNameFree(draft.userName, id);
    const profile = this.checkProfile(draft);
    await this.assertRolesKnown(draft);
    const before = this.previousProfile(row);
    const active = draft.active ?? row.active;
    const profileChanged = !before || !sameProfile(before, profile);
    const rolesChanged = !sameRoles(this.deps.draftOf(row).assignedRoleIds, draft.assignedRoleIds);
    const kind: OutboxKind = row.active === active ? "update" : active ? "reactivate" : "deactivate";
    // A change DigiCert holds nothing of (say, a nickName) needs no job, unless the user is out of step already (on
    // any of a fan-out tenant's targets).
    const needsJob = profileChanged || rolesChanged || kind !== "update" || overallSyncState(row) !== "synced";
    let saved: { row: UserRow; jobIds: number[]; audit: NewAuditEntry[] };
    try {
      saved = await store.transaction(async (tx) => {
        const updated = await tx.users.update(id, fieldsOf(draft, active), row.version);
        if (!updated) throw new NotFoundError(`User ${id} not found`);
        const jobIds = needsJob
          ? await tx.outbox.enqueue([
              {
                userId: id,
                kind,
                payload: { userName: updated.userName, profileChanged, version: updated.version, before: snapshotOf(row), ...requestOf(actor) },
              },
            ])
          : [];
        // A write that changed nothing is not a change: no entry (the calls of a job it queued to repair an
        // earlier failure are recorded all the same).
        const changes = diffUsers(snapshotOf(row), snapshotOf(updated));
        const audit = changes.length ? [userEntry(actor, actor?.method === "PATCH" ? "user.patch" : "user.replace", updated, changes, jobIds[0])] : [];
        await tx.audit.appendMany(audit);
        return { row: updated, jobIds, audit };
      });
    } catch (err) {
      if (err instanceof StoreConflictError) throw new ConflictError(`userName '${draft.userName}' is already taken`);
      if (err instanceof StoreVersionConflictError) throw this.concurrentChange(id);
      throw err;
    }
    // Committed: a caller serialising this user's writes may let the next one start while this one waits for DigiCert.
    noticeCommitted();
    logAudit(logger, saved.audit);
    if (kind !== "update") logger.info(active ? "user reactivated" : "user deactivated", { userId: id, userName: draft.userName });
    // A deactivation is never undone because of DigiCert: rolling it back would give a departed user access again.
    // Its job keeps trying (syncState pending, with the error) and the IdP hears it was done.
    const undo = kind === "deactivate" ? null : (error: JobError) => this.undoReplace(saved.row, snapshotOf(row), error, actor);
    return this.settle(saved.row, saved.jobIds, undo);
  }

  /** `expectedVersion`: the If-Match version, checked in the transaction that deletes (412 when it moved on). */
  async delete(id: string, actor?: AuditActor, expectedVersion?: number): Promise<void> {
    const { store, logger } = this.deps;
    const { jobIds, audit, row } = await store.transaction(async (tx) => {
      const row = await tx.users.getById(id);
      if (!row) throw new NotFoundError(`User ${id} not found`);
      assertVersion(row, expectedVersion);
      // Queued while the user is still there: a fan-out tenant's other targets read their own DigiCert id from
      // the user's links, which go with the user.
      const jobIds = await tx.outbox.enqueue([
        { userId: id, kind: "delete", payload: { userName: row.userName, digicertId: row.digicertId, ...requestOf(actor) } },
      ]);
      await tx.users.delete(id);
      const audit = [userEntry(actor, "user.delete", row, diffUsers(snapshotOf(row), null), jobIds[0])];
      await tx.audit.appendMany(audit);
      return { jobIds, audit, row };
    });
    logger.info("user deleted", { userId: id, userName: row.userName, digicertId: row.digicertId });
    logAudit(logger, audit);
    // The SCIM user is gone whatever DigiCert says; a refused delete stays visible as a failed job.
    this.deps.dispatcher.kick();
    await this.deps.dispatcher.waitFor(jobIds, syncWaitMs(this.deps.syncWaitMs));
  }

  /**
   * Outbox jobs that bring the given users' DigiCert roles and access in line with their groups, after
   * memberships or the mapping changed; for the caller to enqueue in its own transaction.
   */
  accessJobs(userIds: string[], actor?: Pick<AuditActor, "requestId" | "trace">): NewOutboxJob[] {
    const payload = requestOf(actor);
    return [...new Set(userIds)].map((userId) => ({ userId, kind: "roles" as const, payload: { ...payload } }));
  }

  /**
   * Which of the given users' DigiCert roles or access differ from what their groups and the mapping now call
   * for, judged against what the bridge last gave them. Makes no DigiCert call.
   */
  async accessChanges(userIds: string[], groups: GroupRepository = this.deps.store.groups): Promise<AccessChange[]> {
    const changes: AccessChange[] = [];
    const unique = [...new Set(userIds)];
    const CHUNK = 500;
    for (let i = 0; i < unique.length; i += CHUNK) {
      const ids = unique.slice(i, i + CHUNK);
      const groupsByUser = await groups.groupsOfUsers(ids);
      for (const id of ids) {
        const row = await this.deps.store.users.getById(id);
        if (!row) continue;
        const desired = await this.deps.access.desired(groupsByUser.get(id) ?? [], this.deps.draftOf(row).assignedRoleIds);
        const access = row.active && desired.entitled;
        const link = linkOf(row);
        const hasAccess = !!link.digicertId && link.digicertEnabled;
        if (access === hasAccess && (!access || desired.roleIds === null || sameRoles(link.digicertRoleIds, desired.roleIds))) continue;
        changes.push({
          userId: id,
          userName: row.userName,
          before: hasAccess ? link.digicertRoleIds : [],
          after: access ? (desired.roleIds ?? link.digicertRoleIds) : [],
        });
      }
    }
    return changes;
  }

  /** Enqueues jobs for the users and waits for them like a request would; no rollback (groups stay as stored). */
  async settleJobs(jobIds: number[]): Promise<JobOutcome> {
    if (!jobIds.length) return { status: "done" };
    this.deps.dispatcher.kick();
    return this.deps.dispatcher.waitFor(jobIds, syncWaitMs(this.deps.syncWaitMs));
  }

  // ---------------------------------------------------------------------------------------------------------

  /**
   * Waits for the request's jobs; on a refusal undoes the change and throws what DigiCert said. Without `undo` the
   * change stands whatever DigiCert said, and the answer shows the user's sync state.
   */
  private async settle(row: UserRow, jobIds: number[], undo: ((error: JobError) => Promise<void>) | null): Promise<UserRow> {
    const outcome = await this.settleJobs(jobIds);
    if (outcome.status === "failed" && undo) {
      await undo(outcome.error);
      throw errorOfJob(outcome.error);
    }
    return (await this.deps.store.users.getById(row.id)) ?? row;
  }

  /** A create DigiCert refused leaves nothing behind, so the IdP's corrected retry is not a 409. */
  private async undoCreate(created: UserRow, error: JobError, actor?: AuditActor): Promise<void> {
    const audit = await this.deps.store.transaction(async (tx) => {
      const current = await tx.users.getById(created.id);
      if (!current || current.version !== created.version) return [];
      await tx.outbox.cancelUnfinished(created.id);
      // The refusal may have come after DigiCert made the user (say, on its roles), or another target of a fan-out
      // tenant made it before the primary refused: that user goes too (queued before the user's links go with it).
      const jobIds = linkedAnywhere(current)
        ? await tx.outbox.enqueue([
            { userId: created.id, kind: "delete", payload: { userName: current.userName, digicertId: current.digicertId, ...requestOf(actor) } },
          ])
        : [];
      await tx.users.delete(created.id);
      const audit = [rollbackEntry(actor, current, diffUsers(snapshotOf(current), null), error, jobIds[0])];
      await tx.audit.appendMany(audit);
      return audit;
    });
    logAudit(this.deps.logger, audit);
    this.deps.logger.info("create rolled back after DigiCert refused it", { userId: created.id, userName: created.userName });
  }

  /** Puts the user back as it was and lets a job bring DigiCert back too (the refused job may have half-applied). */
  private async undoReplace(saved: UserRow, previous: UserSnapshot, error: JobError, actor?: AuditActor): Promise<void> {
    const restored = await this.deps.store.transaction(async (tx) => {
      const current = await tx.users.getById(saved.id);
      if (!current || current.version !== saved.version) return null;
      const back = await tx.users.update(saved.id, previous, current.version);
      const [jobId] = await tx.outbox.enqueue([
        { userId: saved.id, kind: "update", payload: { userName: previous.userName, profileChanged: true, version: back?.version, ...requestOf(actor) } },
      ]);
      const audit = [rollbackEntry(actor, back ?? current, diffUsers(snapshotOf(current), previous), error, jobId)];
      await tx.audit.appendMany(audit);
      return audit;
    });
    if (restored) {
      logAudit(this.deps.logger, restored);
      this.deps.dispatcher.kick();
      this.deps.logger.info("change rolled back after DigiCert refused it", { userId: saved.id, userName: previous.userName });
    }
  }

  private concurrentChange(id: string): ConcurrentChangeError {
    return new ConcurrentChangeError(`User ${id} was modified by another request at the same time; retry`);
  }

  private checkProfile(draft: UserDraft): DigiCertUserInput {
    const profile = profileFromDraft(draft, (p) => this.deps.digicert.validate(p));
    rejectProblems(this.deps.digicert.validate(profile));
    return profile;
  }

  private async assertRolesKnown(draft: UserDraft): Promise<void> {
    const unknown = await this.deps.access.unknownRoleIds(draft.assignedRoleIds);
    if (unknown.length) throw new InvalidInputError(`roles: no DigiCert role with id ${unknown.join(", ")}`, "roles");
    const forbidden = await this.deps.access.forbiddenRoles(draft.assignedRoleIds);
    if (forbidden.length) {
      const named = forbidden.map((r) => `${r.name} (${r.id})`).join(", ");
      throw new InvalidInputError(`roles: ${named} may not be granted through SCIM (forbid in the role mapping file)`, "roles");
    }
  }

  private async assertUserNameFree(userName: string, exceptId?: string): Promise<void> {
    const holder = await this.deps.store.users.getByUserName(userName);
    if (holder && holder.id !== exceptId) {
      throw new ConflictError(`userName '${userName}' is already taken by User ${holder.id}`, holder.id);
    }
  }

  private previousProfile(row: UserRow): DigiCertUserInput | null {
    try {
      return profileFromDraft(this.deps.draftOf(row), (p) => this.deps.digicert.validate(p));
    } catch {
      return null;
    }
  }
}
