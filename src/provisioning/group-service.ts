import { randomUUID } from "node:crypto";
import type { Logger } from "../log/logger";
import {
  StoreConflictError,
  StoreVersionConflictError,
  type GroupChanges,
  type GroupMember,
  type GroupQuery,
  type GroupRef,
  type GroupRepository,
  type GroupRow,
  type Page,
  type UserRepository,
} from "../store/types";
import type { AccessPolicy } from "./access-policy";
import { ConflictError, InvalidInputError, NotFoundError } from "./errors";
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
  groups: GroupRepository;
  users: UserRepository;
  userService: UserService;
  access: AccessPolicy;
  logger: Logger;
  newId?: () => string;
}

/**
 * Use cases on SCIM Groups. Groups live only in the bridge's store; what reaches DigiCert is the change of each
 * affected member's roles, made once per member whatever the number of operations in the request.
 */
export class GroupService {
  private readonly newId: () => string;

  constructor(private readonly deps: GroupServiceDeps) {
    this.newId = deps.newId ?? randomUUID;
  }

  async get(id: string): Promise<GroupRow> {
    const row = await this.deps.groups.getById(id);
    if (!row) throw new NotFoundError(`Group ${id} not found`);
    return row;
  }

  list(query: GroupQuery | undefined, page: Page): Promise<{ total: number; rows: GroupRow[] }> {
    return this.deps.groups.list(query, page);
  }

  groupsOfUsers(userIds: string[]): Promise<Map<string, GroupRef[]>> {
    return this.deps.groups.groupsOfUsers(userIds);
  }

  async members(id: string): Promise<GroupMember[]> {
    return (await this.deps.groups.members(id)).rows;
  }

  async create(draft: GroupDraft): Promise<GroupRow> {
    const memberIds = await this.requireUsers(draft.memberIds);
    let row: GroupRow;
    try {
      row = await this.deps.groups.insert(
        { id: this.newId(), displayName: draft.displayName, externalId: draft.externalId, resource: draft.resource },
        memberIds,
      );
    } catch (err) {
      throw this.mapStoreError(err, draft.displayName);
    }
    try {
      await this.apply(memberIds, `group ${row.id} created`);
    } catch (err) {
      // A create the IdP was told failed must not leave the group behind, or its retry would meet a 409.
      await this.deps.groups.delete(row.id);
      await this.apply(memberIds, `group ${row.id} create rolled back`).catch(() => undefined);
      throw err;
    }
    return row;
  }

  /** PUT: the group becomes exactly the draft, members included. */
  async replace(id: string, draft: GroupDraft): Promise<GroupRow> {
    const before = await this.get(id);
    const memberIds = await this.requireUsers(draft.memberIds);
    const renamed = await this.rename(before, { displayName: draft.displayName, externalId: draft.externalId, resource: draft.resource });
    const change = await this.deps.groups.replaceMembers(id, memberIds);
    await this.apply(renamed ? await this.allMemberIds(id) : [...change.added, ...change.removed], `group ${id} replaced`);
    return this.get(id);
  }

  /**
   * PATCH without SCIMMY's read-apply-write: membership deltas go straight to the store, so the work follows the
   * size of the change, not of the group. Unknown member ids fail the whole request before anything changes.
   */
  async patch(id: string, plan: GroupPatchPlan): Promise<void> {
    const group = await this.get(id);
    const adding = [...plan.add, ...(plan.replaceWith ?? [])];
    await this.requireUsers(adding);
    let renamed = false;
    if (plan.displayName !== undefined || plan.externalId !== undefined) {
      const resource = { ...group.resource };
      if (plan.displayName !== undefined) resource.displayName = plan.displayName;
      if (plan.externalId !== undefined) {
        if (plan.externalId === null) delete resource.externalId;
        else resource.externalId = plan.externalId;
      }
      renamed = await this.rename(group, {
        displayName: plan.displayName ?? group.displayName,
        externalId: plan.externalId === undefined ? group.externalId : plan.externalId,
        resource,
      });
    }
    // Members named by the request are re-checked even when their membership did not change: an earlier attempt
    // may have stored the membership and then failed on DigiCert, and the IdP's retry must finish the job.
    const touched = new Set<string>([...plan.add, ...plan.remove]);
    if (plan.replaceWith) {
      const target = new Set([...plan.replaceWith, ...plan.add].filter((u) => !plan.remove.has(u)));
      const change = await this.deps.groups.replaceMembers(id, [...target]);
      for (const u of [...change.added, ...change.removed]) touched.add(u);
    } else {
      if (plan.remove.size) await this.deps.groups.removeMembers(id, [...plan.remove]);
      if (plan.add.size) await this.deps.groups.addMembers(id, [...plan.add]);
    }
    const affected = renamed ? [...new Set([...touched, ...(await this.allMemberIds(id))])] : [...touched];
    await this.apply(affected, `group ${id} patched`);
  }

  /** Deleting a group takes away what it granted; former members fall back to what their other groups give. */
  async delete(id: string): Promise<void> {
    const former = await this.deps.groups.delete(id);
    if (former === null) throw new NotFoundError(`Group ${id} not found`);
    await this.apply(former, `group ${id} deleted`);
  }

  // ---------------------------------------------------------------------------------------------------------

  /** Changes name fields; true when a name a mapping rule could match on changed. */
  private async rename(group: GroupRow, changes: GroupChanges): Promise<boolean> {
    const nameChanged = changes.displayName !== group.displayName || changes.externalId !== group.externalId;
    try {
      await this.deps.groups.update(group.id, changes, group.version);
    } catch (err) {
      throw this.mapStoreError(err, changes.displayName ?? group.displayName);
    }
    return nameChanged && this.deps.access.managed;
  }

  private async allMemberIds(id: string): Promise<string[]> {
    return (await this.deps.groups.members(id)).rows.map((m) => m.userId);
  }

  private async requireUsers(ids: string[]): Promise<string[]> {
    const unique = [...new Set(ids)];
    if (!unique.length) return unique;
    const existing = new Set(await this.deps.users.existingIds(unique));
    const unknown = unique.filter((u) => !existing.has(u));
    if (unknown.length) {
      const shown = unknown.slice(0, 20).join(", ") + (unknown.length > 20 ? ` and ${unknown.length - 20} more` : "");
      throw new InvalidInputError(`members: no User with id ${shown}`, "members");
    }
    return unique;
  }

  private async apply(userIds: string[], reason: string): Promise<void> {
    if (!this.deps.access.managed || !userIds.length) return;
    const changed = await this.deps.userService.reconcileAccess(userIds);
    if (changed.length) this.deps.logger.info("DigiCert roles updated", { reason, users: changed.length });
  }

  private mapStoreError(err: unknown, displayName: string): unknown {
    if (err instanceof StoreConflictError) return new ConflictError(`displayName '${displayName}' is already taken by another Group`);
    if (err instanceof StoreVersionConflictError) return new ConflictError("The group was modified by another request at the same time; retry");
    return err;
  }
}
