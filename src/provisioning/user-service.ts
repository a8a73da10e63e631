import { randomUUID } from "node:crypto";
import type { CertCentralDeactivation } from "../config";
import { isDigiCertError } from "../digicert/errors";
import type { DigiCertClient, DigiCertUserInput } from "../digicert/types";
import type { Logger } from "../log/logger";
import {
  StoreConflictError,
  StoreVersionConflictError,
  type GroupRepository,
  type NewUserRow,
  type Page,
  type UserQuery,
  type UserRepository,
  type UserRow,
} from "../store/types";
import type { AccessPolicy } from "./access-policy";
import { ConflictError, InvalidInputError, NotFoundError } from "./errors";
import type { UserDraft } from "./model";
import { profileFromDraft, rejectProblems, sameProfile } from "./profile";
import type { RoleResolver } from "./role-resolver";

export interface UserServiceDeps {
  users: UserRepository;
  groups: GroupRepository;
  digicert: DigiCertClient;
  roles: RoleResolver;
  access: AccessPolicy;
  certcentralDeactivation: CertCentralDeactivation;
  /** Rebuilds the draft a stored row was made from, to tell which DigiCert fields a change touches. */
  draftOf: (row: UserRow) => UserDraft;
  logger: Logger;
  newId?: () => string;
}

/** The bridge's knowledge of the DigiCert side of one user. */
interface Link {
  digicertId: string | null;
  adopted: boolean;
  enabled: boolean;
  roleIds: string[] | null;
}

/** What DigiCert should hold for a user: an account or none, its profile, and its roles (null = leave alone). */
interface Target {
  access: boolean;
  profile: DigiCertUserInput;
  profileChanged: boolean;
  roleIds: string[] | null;
}

/** Attempts of a DigiCert create that failed in transit, each preceded (after the first) by a look-up. */
const CREATE_ATTEMPTS = 3;
const CREATE_RETRY_DELAY_MS = 200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const NO_LINK: Link = { digicertId: null, adopted: false, enabled: true, roleIds: null };

function linkOf(row: UserRow): Link {
  return { digicertId: row.digicertId, adopted: row.adopted, enabled: row.digicertEnabled, roleIds: row.digicertRoleIds };
}

function linkFields(link: Link): Pick<UserRow, "digicertId" | "adopted" | "digicertEnabled" | "digicertRoleIds"> {
  return { digicertId: link.digicertId, adopted: link.adopted, digicertEnabled: link.enabled, digicertRoleIds: link.roleIds };
}

function rowFields(draft: UserDraft, active: boolean, link: Link): Omit<NewUserRow, "id"> {
  return {
    userName: draft.userName,
    externalId: draft.externalId,
    active,
    resource: draft.resource,
    emails: draft.emails,
    ...linkFields(link),
  };
}

function sameRoles(a: string[] | null, b: string[]): boolean {
  if (!a || a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((r) => set.has(r));
}

/**
 * The use cases on a SCIM User. Each one brings DigiCert to the target state first and writes the store after,
 * so a failed DigiCert call leaves the store as it was; reads never touch DigiCert. DigiCert access follows
 * `active` and, when a role mapping is in force, the user's groups.
 */
export class UserService {
  private readonly newId: () => string;

  constructor(private readonly deps: UserServiceDeps) {
    this.newId = deps.newId ?? randomUUID;
  }

  async get(id: string): Promise<UserRow> {
    const row = await this.deps.users.getById(id);
    if (!row) throw new NotFoundError(`User ${id} not found`);
    return row;
  }

  list(query: UserQuery | undefined, page: Page): Promise<{ total: number; rows: UserRow[] }> {
    return this.deps.users.list(query, page);
  }

  async create(draft: UserDraft): Promise<UserRow> {
    const { users, digicert } = this.deps;
    await this.assertUserNameFree(draft.userName);
    const profile = profileFromDraft(draft);
    rejectProblems(digicert.validate(profile));
    await this.assertRolesKnown(draft);
    const active = draft.active ?? true;
    // A new user is in no group yet: the mapping's answer for "no groups" decides its first roles.
    const desired = await this.deps.access.desired([], draft.assignedRoleIds);
    const link = await this.converge(NO_LINK, {
      access: active && desired.entitled,
      profile,
      profileChanged: true,
      roleIds: desired.roleIds,
    });
    try {
      return await users.insert({ id: this.newId(), ...rowFields(draft, active, link) });
    } catch (err) {
      // Lost a race with a concurrent create of the same userName: undo our DigiCert user, keep theirs.
      if (err instanceof StoreConflictError) {
        if (link.digicertId && !link.adopted) await this.bestEffortDelete(link.digicertId);
        const winner = await users.getByUserName(draft.userName);
        throw new ConflictError(`userName '${draft.userName}' is already taken`, winner?.id);
      }
      throw err;
    }
  }

  /** PUT and PATCH both arrive here with the complete new state of the user. */
  async replace(id: string, draft: UserDraft): Promise<UserRow> {
    const { digicert, logger } = this.deps;
    const row = await this.get(id);
    if (draft.userName.toLowerCase() !== row.userName.toLowerCase()) await this.assertUserNameFree(draft.userName, id);
    const profile = profileFromDraft(draft);
    rejectProblems(digicert.validate(profile));
    await this.assertRolesKnown(draft);
    const before = this.previousProfile(row);
    const active = draft.active ?? row.active;
    const desired = await this.desiredFor(id, draft.assignedRoleIds);
    const link = await this.converge(linkOf(row), {
      access: active && desired.entitled,
      profile,
      profileChanged: !before || !sameProfile(before, profile),
      roleIds: desired.roleIds,
    });
    if (row.active !== active) {
      logger.info(active ? "user reactivated" : "user deactivated", { userId: id, userName: draft.userName, digicertId: link.digicertId ?? row.digicertId });
    }
    return this.save(id, rowFields(draft, active, link), row.version);
  }

  async delete(id: string): Promise<void> {
    const row = await this.get(id);
    if (row.digicertId) await this.deps.digicert.deleteUser(row.digicertId);
    await this.deps.users.delete(id);
    this.deps.logger.info("user deleted", { userId: id, userName: row.userName, digicertId: row.digicertId });
  }

  /**
   * Brings each user's DigiCert access and roles in line with their groups, after memberships or the mapping
   * changed. Makes DigiCert calls only for users whose target differs from what the bridge last gave them.
   * Returns the users whose DigiCert roles or access changed, for summaries.
   */
  async reconcileAccess(userIds: string[]): Promise<{ userId: string; before: string[] | null; after: string[] | null }[]> {
    const changed: { userId: string; before: string[] | null; after: string[] | null }[] = [];
    const unique = [...new Set(userIds)];
    const CHUNK = 500;
    for (let i = 0; i < unique.length; i += CHUNK) {
      const ids = unique.slice(i, i + CHUNK);
      const groupsByUser = await this.deps.groups.groupsOfUsers(ids);
      for (const id of ids) {
        const row = await this.deps.users.getById(id);
        if (!row) continue;
        const draft = this.deps.draftOf(row);
        const desired = await this.deps.access.desired(groupsByUser.get(id) ?? [], draft.assignedRoleIds);
        const access = row.active && desired.entitled;
        const current = linkOf(row);
        const hasAccess = !!current.digicertId && current.enabled;
        if (access === hasAccess && (!access || desired.roleIds === null || sameRoles(current.roleIds, desired.roleIds))) continue;
        const profile = profileFromDraft(draft);
        const link = await this.converge(current, { access, profile, profileChanged: false, roleIds: desired.roleIds });
        await this.save(id, linkFields(link), row.version);
        changed.push({ userId: id, before: hasAccess ? current.roleIds : [], after: link.digicertId && link.enabled ? link.roleIds : [] });
      }
    }
    return changed;
  }

  // --- DigiCert side -------------------------------------------------------------------------------------------

  private async desiredFor(userId: string, assignedRoleIds: string[]) {
    const groups = (await this.deps.groups.groupsOfUsers([userId])).get(userId) ?? [];
    return this.deps.access.desired(groups, assignedRoleIds);
  }

  private async assertRolesKnown(draft: UserDraft): Promise<void> {
    const unknown = await this.deps.access.unknownRoleIds(draft.assignedRoleIds);
    if (unknown.length) throw new InvalidInputError(`roles: no DigiCert role with id ${unknown.join(", ")}`, "roles");
  }

  private async save(id: string, changes: Parameters<UserRepository["update"]>[1], version: number): Promise<UserRow> {
    try {
      const updated = await this.deps.users.update(id, changes, version);
      if (!updated) throw new NotFoundError(`User ${id} not found`);
      return updated;
    } catch (err) {
      if (err instanceof StoreConflictError) throw new ConflictError(`userName '${changes.userName}' is already taken`);
      if (err instanceof StoreVersionConflictError) {
        throw new ConflictError(`User ${id} was modified by another request at the same time; retry`);
      }
      throw err;
    }
  }

  private async assertUserNameFree(userName: string, exceptId?: string): Promise<void> {
    const holder = await this.deps.users.getByUserName(userName);
    if (holder && holder.id !== exceptId) {
      throw new ConflictError(`userName '${userName}' is already taken by User ${holder.id}`, holder.id);
    }
  }

  private previousProfile(row: UserRow): DigiCertUserInput | null {
    try {
      return profileFromDraft(this.deps.draftOf(row));
    } catch {
      return null;
    }
  }

  /** Moves the DigiCert side from `link` to `target`, making only the calls the difference needs. */
  private async converge(link: Link, target: Target): Promise<Link> {
    if (!target.access) {
      if (!link.digicertId) return link;
      let l = link;
      const deleting = this.deps.digicert.platform === "certcentral" && this.deps.certcentralDeactivation.mode === "delete";
      if (target.profileChanged && !deleting) l = await this.update(l, target.profile);
      return l.enabled && l.digicertId ? this.disable(l) : l;
    }
    if (!link.digicertId) return this.materialise(target.profile, target.roleIds);
    let l = link;
    if (!l.enabled) l = await this.enable(l, target);
    if (target.profileChanged) l = await this.update(l, target.profile, target.roleIds);
    if (target.roleIds && !sameRoles(l.roleIds, target.roleIds)) {
      await this.deps.digicert.setRoles(l.digicertId!, target.roleIds);
      l = { ...l, roleIds: target.roleIds };
    }
    return l;
  }

  /** Creates the DigiCert user, or adopts the one DigiCert already has under that username. */
  private async materialise(profile: DigiCertUserInput, managedRoles: string[] | null): Promise<Link> {
    const roleIds = managedRoles ?? (await this.deps.access.defaultRoleIds());
    for (let attempt = 1; ; attempt++) {
      try {
        const { id } = await this.deps.digicert.createUser(profile, roleIds);
        return { digicertId: id, adopted: false, enabled: true, roleIds };
      } catch (err) {
        if (isDigiCertError(err) && err.kind === "duplicate") return this.adopt(profile, managedRoles, roleIds);
        // A create that timed out or lost its connection may have reached DigiCert: look before sending it again,
        // so a retry never makes a second DigiCert user.
        if (!isDigiCertError(err) || err.kind !== "unavailable" || attempt >= CREATE_ATTEMPTS) throw err;
        await sleep(CREATE_RETRY_DELAY_MS * attempt);
        const landed = await this.deps.digicert.findUserByUsername(profile.username);
        if (landed?.inScope) {
          this.deps.logger.info("create had reached DigiCert before failing; linking it", { userName: profile.username, digicertId: landed.id });
          return this.adopt(profile, managedRoles, roleIds, false);
        }
      }
    }
  }

  /** Links a DigiCert user made by hand before SSO, then makes its profile what the IdP says. */
  private async adopt(profile: DigiCertUserInput, managedRoles: string[] | null, defaultRoles: string[], handMade = true): Promise<Link> {
    const { digicert, logger } = this.deps;
    const found = await digicert.findUserByUsername(profile.username);
    if (!found) {
      throw new ConflictError(
        `DigiCert already has a user named '${profile.username}' in another DigiCert account; it cannot be linked`,
      );
    }
    if (!found.inScope) {
      const scope = digicert.platform === "certcentral" ? "container" : "account";
      throw new ConflictError(
        `DigiCert user '${profile.username}' belongs to another ${scope} than the one this bridge manages; it cannot be linked`,
      );
    }
    await digicert.updateUser(found.id, profile);
    // Without a mapping, roles a human gave by hand are kept: adoption must never demote an administrator.
    // With one, the mapping owns roles like for every other user.
    let roleIds = found.roleIds;
    const wanted = managedRoles ?? (found.roleIds.length ? null : defaultRoles);
    if (wanted && !sameRoles(found.roleIds, wanted)) {
      await digicert.setRoles(found.id, wanted);
      roleIds = wanted;
    }
    if (found.status === "disabled") await digicert.enableUser(found.id);
    if (handMade) logger.info("adopted existing DigiCert user", { userName: profile.username, digicertId: found.id });
    return { digicertId: found.id, adopted: handMade, enabled: true, roleIds };
  }

  private async update(link: Link, profile: DigiCertUserInput, roleIds: string[] | null = link.roleIds): Promise<Link> {
    try {
      await this.deps.digicert.updateUser(link.digicertId!, profile);
      return link;
    } catch (err) {
      // Someone deleted the DigiCert user by hand: the IdP still says it should exist, so it comes back.
      if (isDigiCertError(err) && err.kind === "not_found" && link.enabled) {
        this.deps.logger.warn("DigiCert user missing; re-creating it", { digicertId: link.digicertId });
        return this.materialise(profile, roleIds);
      }
      if (isDigiCertError(err) && err.kind === "not_found") return NO_LINK;
      throw err;
    }
  }

  private async disable(link: Link): Promise<Link> {
    const { digicert, certcentralDeactivation } = this.deps;
    const id = link.digicertId!;
    if (digicert.platform === "certcentral") {
      if (certcentralDeactivation.mode === "delete") {
        await digicert.deleteUser(id);
        return NO_LINK;
      }
      const demoteTo = await this.deps.roles.resolve(certcentralDeactivation.role, "CERTCENTRAL_DEACTIVATE");
      await digicert.setRoles(id, [demoteTo]);
      return { ...link, enabled: false, roleIds: [demoteTo] };
    }
    try {
      await digicert.disableUser(id);
      return { ...link, enabled: false };
    } catch (err) {
      if (isDigiCertError(err) && err.kind === "unsupported") {
        await digicert.deleteUser(id);
        return NO_LINK;
      }
      if (isDigiCertError(err) && err.kind === "not_found") return NO_LINK;
      throw err;
    }
  }

  private async enable(link: Link, target: Target): Promise<Link> {
    const { digicert } = this.deps;
    if (digicert.platform === "certcentral") {
      // Demoted while inactive: give the roles back (the mapping's, or the default).
      const roleIds = target.roleIds ?? (await this.deps.access.defaultRoleIds());
      await digicert.setRoles(link.digicertId!, roleIds);
      return { ...link, enabled: true, roleIds };
    }
    try {
      await digicert.enableUser(link.digicertId!);
      return { ...link, enabled: true };
    } catch (err) {
      if (isDigiCertError(err) && (err.kind === "not_found" || err.kind === "unsupported")) {
        return this.materialise(target.profile, target.roleIds);
      }
      throw err;
    }
  }

  private async bestEffortDelete(digicertId: string): Promise<void> {
    try {
      await this.deps.digicert.deleteUser(digicertId);
    } catch (err) {
      this.deps.logger.error("could not remove a DigiCert user created by a lost race; remove it by hand", {
        digicertId,
        error: (err as Error).message,
      });
    }
  }
}
