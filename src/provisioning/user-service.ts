import { randomUUID } from "node:crypto";
import type { CertCentralDeactivation } from "../config";
import { isDigiCertError } from "../digicert/errors";
import type { DigiCertClient, DigiCertUserInput } from "../digicert/types";
import type { Logger } from "../log/logger";
import { StoreConflictError, StoreVersionConflictError, type NewUserRow, type Page, type UserQuery, type UserRepository, type UserRow } from "../store/types";
import { ConflictError, NotFoundError } from "./errors";
import type { UserDraft } from "./model";
import { profileFromDraft, rejectProblems, sameProfile } from "./profile";
import type { RoleResolver } from "./role-resolver";

export interface UserServiceDeps {
  users: UserRepository;
  digicert: DigiCertClient;
  roles: RoleResolver;
  defaultRole: string;
  certcentralDeactivation: CertCentralDeactivation;
  /** Rebuilds the draft a stored row was made from, to tell which DigiCert fields a change touches. */
  draftOf: (row: UserRow) => UserDraft;
  logger: Logger;
  newId?: () => string;
}

interface Link {
  digicertId: string | null;
  adopted: boolean;
}

function rowFields(draft: UserDraft, active: boolean, link: Link): Omit<NewUserRow, "id"> {
  return {
    userName: draft.userName,
    externalId: draft.externalId,
    active,
    resource: draft.resource,
    emails: draft.emails,
    digicertId: link.digicertId,
    adopted: link.adopted,
  };
}

/**
 * The use cases on a SCIM User. Each one changes DigiCert first and the store after, so that a failed DigiCert
 * call leaves the store as it was; reads never touch DigiCert.
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
    const active = draft.active ?? true;
    // An inactive user gets no DigiCert account until it is activated: nothing to sign in with, nothing to leak.
    const link: Link = active ? await this.materialise(profile) : { digicertId: null, adopted: false };
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
    const { users, digicert, logger } = this.deps;
    const row = await this.get(id);
    if (draft.userName.toLowerCase() !== row.userName.toLowerCase()) await this.assertUserNameFree(draft.userName, id);
    const profile = profileFromDraft(draft);
    rejectProblems(digicert.validate(profile));
    const before = this.previousProfile(row);
    const changed = !before || !sameProfile(before, profile);
    const active = draft.active ?? row.active;
    let link: Link = { digicertId: row.digicertId, adopted: row.adopted };

    if (row.active && active) {
      link = link.digicertId ? await this.update(link, profile, changed) : await this.materialise(profile);
    } else if (row.active && !active) {
      if (link.digicertId) link = await this.deactivate(link, profile, changed);
      logger.info("user deactivated", { userId: id, userName: draft.userName, digicertId: row.digicertId });
    } else if (!row.active && active) {
      link = await this.reactivate(link, profile, changed);
      logger.info("user reactivated", { userId: id, userName: draft.userName, digicertId: link.digicertId });
    } else if (link.digicertId && changed) {
      link = await this.update(link, profile, true);
    }

    try {
      const updated = await users.update(id, rowFields(draft, active, link), row.version);
      if (!updated) throw new NotFoundError(`User ${id} not found`);
      return updated;
    } catch (err) {
      if (err instanceof StoreConflictError) throw new ConflictError(`userName '${draft.userName}' is already taken`);
      if (err instanceof StoreVersionConflictError) {
        throw new ConflictError(`User ${id} was modified by another request at the same time; retry`);
      }
      throw err;
    }
  }

  async delete(id: string): Promise<void> {
    const row = await this.get(id);
    if (row.digicertId) await this.deps.digicert.deleteUser(row.digicertId);
    await this.deps.users.delete(id);
    this.deps.logger.info("user deleted", { userId: id, userName: row.userName, digicertId: row.digicertId });
  }

  // --- DigiCert side -------------------------------------------------------------------------------------------

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

  private defaultRoleId(): Promise<string> {
    return this.deps.roles.resolve(this.deps.defaultRole, "DIGICERT_DEFAULT_ROLE");
  }

  /** Creates the DigiCert user, or adopts the one DigiCert already has under that username. */
  private async materialise(profile: DigiCertUserInput): Promise<Link> {
    const roleId = await this.defaultRoleId();
    try {
      const { id } = await this.deps.digicert.createUser(profile, [roleId]);
      return { digicertId: id, adopted: false };
    } catch (err) {
      if (isDigiCertError(err) && err.kind === "duplicate") return this.adopt(profile, roleId);
      throw err;
    }
  }

  /** Links a DigiCert user made by hand before SSO, then makes its profile what the IdP says. */
  private async adopt(profile: DigiCertUserInput, roleId: string): Promise<Link> {
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
    // Roles a human gave by hand are kept: adoption must never demote an existing administrator.
    if (!found.roleIds.length) await digicert.setRoles(found.id, [roleId]);
    if (found.status === "disabled") await digicert.enableUser(found.id);
    logger.info("adopted existing DigiCert user", { userName: profile.username, digicertId: found.id });
    return { digicertId: found.id, adopted: true };
  }

  private async update(link: Link, profile: DigiCertUserInput, changed: boolean): Promise<Link> {
    if (!changed || !link.digicertId) return link;
    try {
      await this.deps.digicert.updateUser(link.digicertId, profile);
      return link;
    } catch (err) {
      // Someone deleted the DigiCert user by hand: the IdP still says it should exist, so it comes back.
      if (isDigiCertError(err) && err.kind === "not_found") {
        this.deps.logger.warn("DigiCert user missing; re-creating it", { digicertId: link.digicertId });
        return this.materialise(profile);
      }
      throw err;
    }
  }

  private async deactivate(link: Link, profile: DigiCertUserInput, changed: boolean): Promise<Link> {
    const { digicert, certcentralDeactivation } = this.deps;
    const id = link.digicertId!;
    if (digicert.platform === "certcentral") {
      if (certcentralDeactivation.mode === "delete") {
        await digicert.deleteUser(id);
        return { digicertId: null, adopted: false };
      }
      const demoteTo = await this.deps.roles.resolve(certcentralDeactivation.role, "CERTCENTRAL_DEACTIVATE");
      const kept = await this.update(link, profile, changed);
      await digicert.setRoles(kept.digicertId!, [demoteTo]);
      return kept;
    }
    const kept = await this.update(link, profile, changed);
    try {
      await digicert.disableUser(kept.digicertId!);
      return kept;
    } catch (err) {
      if (isDigiCertError(err) && err.kind === "unsupported") {
        await digicert.deleteUser(kept.digicertId!);
        return { digicertId: null, adopted: false };
      }
      if (isDigiCertError(err) && err.kind === "not_found") return { digicertId: null, adopted: false };
      throw err;
    }
  }

  private async reactivate(link: Link, profile: DigiCertUserInput, changed: boolean): Promise<Link> {
    const { digicert } = this.deps;
    if (!link.digicertId) return this.materialise(profile);
    if (digicert.platform === "certcentral") {
      // Demoted while inactive: give the default role back.
      const kept = await this.update(link, profile, changed);
      if (kept.digicertId === link.digicertId) await digicert.setRoles(kept.digicertId!, [await this.defaultRoleId()]);
      return kept;
    }
    try {
      await digicert.enableUser(link.digicertId);
    } catch (err) {
      if (isDigiCertError(err) && (err.kind === "not_found" || err.kind === "unsupported")) {
        return this.materialise(profile);
      }
      throw err;
    }
    return this.update(link, profile, changed);
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
