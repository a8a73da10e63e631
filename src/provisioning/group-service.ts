import { randomUUID } from "node:crypto";
import type { Logger } from "../log/logger";
import { StoreConflictError, StoreVersionConflictError, type GroupRepository, type Store, type StoreTransaction, type UserRepository } from "./ports";
import type { GroupChanges, GroupMember, GroupRef, GroupRow, MembershipChange, NewAuditEntry } from "./records";
import type { GroupQuery, GroupSort, Page } from "./queries";
import type { AccessPolicy } from "./access-policy";
import { diffResources, logAudit, requestFields, safeChanges, type AuditActor } from "./audit";
import { assertVersion, ConflictError, InvalidInputError, NotFoundError } from "./errors";
import type { UserService } from "./user-service";

/** A group as the IdP declared it, lifted out of the SCIM wire shape. */
export interface GroupDraft {
  displayName: string;
  externalId: string | null;
  resource: Record<string, unknown>;
  memberIds: string[];
}

/**
 * A membership PATCH reduced to its net effect. Operations are folded in order, so "remove x, add x" adds x.
 * `replaceWith` set means the member list becomes exactly that (plus `add`, minus `remove`).
 */
export interface GroupPatchPlan {
  add: Set<string>;
  remove: Set<string>;
  replaceWith: Set<string> | null;
  displayName?: string;
  externalId?: string | null;
}

export interface GroupServiceDeps {
  store: Store;
  userService: UserService;
  access: AccessPolicy;
  logger: Logger;
  newId?: () => string;
  /**
   * Whether group membership and names can change anyone's DigiCert access: a role mapping on any of the tenant's
   * targets (a fan-out tenant's secondary target may map groups when its primary does not). Default: `access`'s.
   */
  groupsGrantAccess?: () => boolean;
}

/**
 * Use cases on SCIM Groups. Groups live only in the bridge's store; what reaches DigiCert is the change of each
 * affected member's roles. With a role mapping, a membership change and the role jobs of the members it touches
 * are stored in one transaction; the request then waits (like a User change) for those jobs, without rolling
 * the group back: a member whose roles DigiCert refuses shows syncState "failed".
 */
export class GroupService {
  private readonly newId: () => string;

  constructor(private readonly deps: GroupServiceDeps) {
    this.newId = deps.newId ?? randomUUID;
  }

  async get(id: string, groups: GroupRepository = this.deps.store.groups): Promise<GroupRow> {
    const row = await groups.getById(id);
    if (!row) throw new NotFoundError(`Group ${id} not found`);
    return row;
  }

  list(query: GroupQuery | undefined, page: Page, sort?: GroupSort): Promise<{ total: number; rows: GroupRow[] }> {
    return this.deps.store.groups.list(query, page, sort);
  }

  groupsOfUsers(userIds: string[]): Promise<Map<string, GroupRef[]>> {
    return this.deps.store.groups.groupsOfUsers(userIds);
  }

  async members(id: string): Promise<GroupMember[]> {
    return (await this.deps.store.groups.members(id)).rows;
  }

  /** `actor`: who asked (recorded in the audit trail with the change, in the same transaction). */
  async create(draft: GroupDraft, actor?: AuditActor): Promise<GroupRow> {
    const { row, jobIds, audit } = await this.inTransaction(async (tx) => {
      const memberIds = await this.requireUsers(tx.users, draft.memberIds);
      let row: GroupRow;
      try {
        row = await tx.groups.insert(
          { id: this.newId(), displayName: draft.displayName, externalId: draft.externalId, resource: draft.resource },
          memberIds,
        );
      } catch (err) {
        throw this.mapStoreError(err, draft.displayName);
      }
      const jobIds = await this.enqueueAccess(tx, memberIds, actor);
      const audit = await this.recordChange(tx, actor, "group.create", null, row, { added: memberIds, removed: [] }, memberIds, jobIds);
      return { row, jobIds, audit };
    });
    logAudit(this.deps.logger, audit);
    await this.settle(jobIds, `group ${row.id} created`);
    return row;
  }

  /** PUT: the group becomes exactly the draft, members included. */
  /** `expectedVersion`: the If-Match version, checked in the transaction that writes (412 when it moved on). */
  async replace(id: string, draft: GroupDraft, actor?: AuditActor, expectedVersion?: number): Promise<GroupRow> {
    const { row, jobIds, audit } = await this.inTransaction(async (tx) => {
      const before = await this.get(id, tx.groups);
      assertVersion(before, expectedVersion);
      const memberIds = await this.requireUsers(tx.users, draft.memberIds);
      const renamed = await this.rename(tx.groups, before, { displayName: draft.displayName, externalId: draft.externalId, resource: draft.resource });
      const change = await tx.groups.replaceMembers(id, memberIds);
      const affected = renamed ? await this.allMemberIds(tx.groups, id) : [...change.added, ...change.removed];
      const queuedFor = [...affected, ...change.removed];
      const jobIds = await this.enqueueAccess(tx, queuedFor, actor);
      const row = await this.get(id, tx.groups);
      const audit = await this.recordChange(tx, actor, "group.replace", before, row, change, queuedFor, jobIds);
      return { row, jobIds, audit };
    });
    logAudit(this.deps.logger, audit);
    await this.settle(jobIds, `group ${id} replaced`);
    return row;
  }

  /**
   * PATCH without SCIMMY's read-apply-write: membership deltas go straight to the store, so the work follows the
   * size of the change, not of the group. Unknown member ids fail the whole request before anything changes.
   */
  async patch(id: string, plan: GroupPatchPlan, actor?: AuditActor, expectedVersion?: number): Promise<void> {
    const { jobIds, audit } = await this.inTransaction(async (tx) => {
      const group = await this.get(id, tx.groups);
      assertVersion(group, expectedVersion);
      const adding = [...plan.add, ...(plan.replaceWith ?? [])];
      await this.requireUsers(tx.users, adding);
      let renamed = false;
      if (plan.displayName !== undefined || plan.externalId !== undefined) {
        const resource = { ...group.resource };
        if (plan.displayName !== undefined) resource.displayName = plan.displayName;
        if (plan.externalId !== undefined) {
          if (plan.externalId === null) delete resource.externalId;
          else resource.externalId = plan.externalId;
        }
        renamed = await this.rename(tx.groups, group, {
          displayName: plan.displayName ?? group.displayName,
          externalId: plan.externalId === undefined ? group.externalId : plan.externalId,
          resource,
        });
      }
      // Members named by the request are re-checked even when their membership did not change: a job is cheap
      // when nothing differs, and it repairs a member whose earlier role change failed.
      const touched = new Set<string>([...plan.add, ...plan.remove]);
      const change: MembershipChange = { added: [], removed: [] };
      if (plan.replaceWith) {
        const target = new Set([...plan.replaceWith, ...plan.add].filter((u) => !plan.remove.has(u)));
        const replaced = await tx.groups.replaceMembers(id, [...target]);
        for (const u of [...replaced.added, ...replaced.removed]) touched.add(u);
        Object.assign(change, replaced);
      } else {
        if (plan.remove.size) change.removed = (await tx.groups.removeMembers(id, [...plan.remove])).removed;
        if (plan.add.size) change.added = (await tx.groups.addMembers(id, [...plan.add])).added;
      }
      const affected = renamed ? [...touched, ...(await this.allMemberIds(tx.groups, id))] : [...touched];
      // Ids named for removal that are not users have nothing in DigiCert to change.
      const queuedFor = await tx.users.existingIds(affected);
      const jobIds = await this.enqueueAccess(tx, queuedFor, actor);
      const after = await this.get(id, tx.groups);
      const audit = await this.recordChange(tx, actor, "group.patch", group, after, change, queuedFor, jobIds);
      return { jobIds, audit };
    });
    logAudit(this.deps.logger, audit);
    await this.settle(jobIds, `group ${id} patched`);
  }

  /** Deleting a group takes away what it granted; former members fall back to what their other groups give. */
  async delete(id: string, actor?: AuditActor, expectedVersion?: number): Promise<void> {
    const { jobIds, audit } = await this.inTransaction(async (tx) => {
      const before = await tx.groups.getById(id);
      if (before) assertVersion(before, expectedVersion);
      const former = await tx.groups.delete(id);
      if (former === null || !before) throw new NotFoundError(`Group ${id} not found`);
      const jobIds = await this.enqueueAccess(tx, former, actor);
      const audit = await this.recordChange(tx, actor, "group.delete", before, null, { added: [], removed: former }, former, jobIds);
      return { jobIds, audit };
    });
    logAudit(this.deps.logger, audit);
    await this.settle(jobIds, `group ${id} deleted`);
  }

  // ---------------------------------------------------------------------------------------------------------

  private inTransaction<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    return this.deps.store.transaction(fn);
  }

  /** Without a mapping file, groups grant nothing: no job. */
  private async enqueueAccess(tx: StoreTransaction, userIds: string[], actor?: AuditActor): Promise<number[]> {
    if (!this.groupsGrantAccess() || !userIds.length) return [];
    return tx.outbox.enqueue(this.deps.userService.accessJobs(userIds, actor));
  }

  /**
   * The audit entries of a group change, appended in its transaction: one for the group (name changes, members
   * added and removed), and one per member added or removed, on that user, with the role job queued for them.
   * Nothing is recorded when nothing changed (the calls of role jobs queued to re-check members are, all the same).
   */
  private async recordChange(
    tx: StoreTransaction,
    actor: AuditActor | undefined,
    action: string,
    before: GroupRow | null,
    after: GroupRow | null,
    change: MembershipChange,
    queuedFor: string[],
    jobIds: number[],
  ): Promise<NewAuditEntry[]> {
    const group = (after ?? before)!;
    const view = (g: GroupRow | null) => (g ? { ...g.resource, displayName: g.displayName, externalId: g.externalId ?? undefined } : null);
    const names = await this.userNames(tx.users, [...change.added, ...change.removed]);
    const member = (userId: string) => ({ value: userId, ...(names.get(userId) ? { display: names.get(userId) } : {}) });
    const changes = [
      ...diffResources(view(before), view(after), ["schemas", "meta", "id", "members"]),
      ...safeChanges([
        ...(change.added.length ? [{ path: "members", op: "add" as const, after: change.added.map(member) }] : []),
        ...(change.removed.length ? [{ path: "members", op: "remove" as const, before: change.removed.map(member) }] : []),
      ]),
    ];
    if (!changes.length) return [];
    const jobOf = new Map([...new Set(queuedFor)].map((u, i) => [u, jobIds[i]]));
    const common = { kind: "scim" as const, outcome: "ok" as const, ...requestFields(actor) };
    const ref = { value: group.id, display: group.displayName };
    const entries: NewAuditEntry[] = [
      { ...common, action, resourceType: "Group", resourceId: group.id, changes, detail: `group '${group.displayName}'` },
      ...change.added.map((u): NewAuditEntry => ({
        ...common,
        action: "group.member.add",
        resourceType: "User",
        resourceId: u,
        userName: names.get(u) ?? null,
        changes: safeChanges([{ path: "groups", op: "add", after: ref }]),
        jobId: jobOf.get(u) ?? null,
      })),
      ...change.removed.map((u): NewAuditEntry => ({
        ...common,
        action: "group.member.remove",
        resourceType: "User",
        resourceId: u,
        userName: names.get(u) ?? null,
        changes: safeChanges([{ path: "groups", op: "remove", before: ref }]),
        jobId: jobOf.get(u) ?? null,
      })),
    ];
    await tx.audit.appendMany(entries);
    return entries;
  }

  /** userNames of the given users (those that exist), a few hundred per query. */
  private async userNames(users: UserRepository, ids: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const unique = [...new Set(ids)];
    for (let i = 0; i < unique.length; i += 200) {
      const chunk = unique.slice(i, i + 200);
      const { rows } = await users.list({ anyOf: chunk.map((value) => [{ attr: "id" as const, value }]) }, { offset: 0, limit: chunk.length });
      for (const r of rows) out.set(r.id, r.userName);
    }
    return out;
  }

  private async settle(jobIds: number[], reason: string): Promise<void> {
    if (!jobIds.length) return;
    const outcome = await this.deps.userService.settleJobs(jobIds);
    this.deps.logger.info("DigiCert role jobs queued", { reason, users: jobIds.length, outcome: outcome.status });
  }

  /** Changes name fields; true when a name a mapping rule could match on changed. */
  private async rename(groups: GroupRepository, group: GroupRow, changes: GroupChanges): Promise<boolean> {
    const nameChanged = changes.displayName !== group.displayName || changes.externalId !== group.externalId;
    try {
      await groups.update(group.id, changes, group.version);
    } catch (err) {
      throw this.mapStoreError(err, changes.displayName ?? group.displayName);
    }
    return nameChanged && this.groupsGrantAccess();
  }

  private groupsGrantAccess(): boolean {
    return this.deps.groupsGrantAccess ? this.deps.groupsGrantAccess() : this.deps.access.managed;
  }

  private async allMemberIds(groups: GroupRepository, id: string): Promise<string[]> {
    return (await groups.members(id)).rows.map((m) => m.userId);
  }

  private async requireUsers(users: UserRepository, ids: string[]): Promise<string[]> {
    const unique = [...new Set(ids)];
    if (!unique.length) return unique;
    const existing = new Set(await users.existingIds(unique));
    const unknown = unique.filter((u) => !existing.has(u));
    if (unknown.length) {
      const shown = unknown.slice(0, 20).join(", ") + (unknown.length > 20 ? ` and ${unknown.length - 20} more` : "");
      throw new InvalidInputError(`members: no User with id ${shown}`, "members");
    }
    return unique;
  }

  private mapStoreError(err: unknown, displayName: string): unknown {
    if (err instanceof StoreConflictError) return new ConflictError(`displayName '${displayName}' is already taken by another Group`);
    if (err instanceof StoreVersionConflictError) return new ConflictError("The group was modified by another request at the same time; retry");
    return err;
  }
}
