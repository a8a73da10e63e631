// Carries out one outbox job: brings DigiCert to what the store says about a user. Every job converges to the
// user's whole stored state (not to a diff recorded at request time), so jobs are safe to repeat, a later job
// covers an earlier one that failed, and a job for a user deleted meanwhile has nothing to do.
import type { CertCentralDeactivation } from "../config";
import { DigiCertError, isDigiCertError } from "../digicert/errors";
import type { DigiCertClient, DigiCertUserInput, RoleUpdate } from "../digicert/types";
import type { Logger } from "../log/logger";
import type { GroupRepository, OutboxRepository, UserRepository } from "./ports";
import type { OutboxJob, UserLink, UserRow } from "./records";
import type { AccessPolicy, DesiredAccess } from "./access-policy";
import { AccessRemovalError, ConflictError, MappingPendingError } from "./errors";
import type { UserDraft } from "./model";
import { profileFromDraft } from "./profile";
import type { RoleResolver } from "./role-resolver";

export interface DigiCertSyncDeps {
  users: UserRepository;
  groups: GroupRepository;
  outbox: OutboxRepository;
  digicert: DigiCertClient;
  roles: RoleResolver;
  access: AccessPolicy;
  certcentralDeactivation: CertCentralDeactivation;
  draftOf: (row: UserRow) => UserDraft;
  logger: Logger;
  /** A DigiCert user made by hand before SSO was adopted (metrics). Not called when relinking the bridge's own create. */
  onAdopted?: () => void;
  /** The client one job uses, built around `digicert` (the audit trail's call recorder); `digicert` itself without it. */
  clientForJob?: (job: OutboxJob) => DigiCertClient;
}

/** What DigiCert should hold for a user: an account or none, its profile, and its roles (null = leave alone). */
export interface SyncTarget {
  access: boolean;
  profile: DigiCertUserInput;
  profileChanged: boolean;
  roleIds: string[] | null;
  /** CertCentral divisions the user is restricted to ([] = none); absent or null = leave alone. */
  divisionIds?: string[] | null;
}

/** Per job: whether it may have run before (so a create may already have reached DigiCert). */
interface Run {
  resumed: boolean;
  /** Saves the link as soon as DigiCert holds a new user, so a failure after that never forgets it. */
  checkpoint: (link: UserLink) => Promise<void>;
}

export const NO_LINK: UserLink = { digicertId: null, adopted: false, digicertEnabled: true, digicertRoleIds: null, digicertDivisionIds: null };

export function linkOf(row: UserRow): UserLink {
  return {
    digicertId: row.digicertId,
    adopted: row.adopted,
    digicertEnabled: row.digicertEnabled,
    digicertRoleIds: row.digicertRoleIds,
    digicertDivisionIds: row.digicertDivisionIds ?? null,
  };
}

export function sameRoles(a: string[] | null, b: string[]): boolean {
  if (!a || a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((r) => set.has(r));
}

export class DigiCertSync {
  constructor(private readonly deps: DigiCertSyncDeps) {}

  /** `signal` aborted: the worker was killed; record nothing more (DigiCert calls in flight still land). */
  async run(job: OutboxJob, signal?: AbortSignal): Promise<void> {
    if (this.deps.clientForJob) {
      // Jobs run concurrently: each gets its own client, through a sync of its own.
      const { clientForJob, ...deps } = this.deps;
      return new DigiCertSync({ ...deps, digicert: clientForJob(job) }).run(job, signal);
    }
    if (job.kind === "delete") return this.remove(job);
    const { users, logger } = this.deps;
    const row = await users.getById(job.userId);
    // Deleted since: the delete job that followed takes care of DigiCert.
    if (!row) return;
    const target = await this.targetOf(row, job.payload.profileChanged === true || !row.digicertId);
    const run: Run = {
      resumed: job.attempts > 1,
      checkpoint: async (link) => {
        if (!signal?.aborted) await users.setLink(row.id, link);
      },
    };
    const link = await this.converge(linkOf(row), target, run);
    if (signal?.aborted) return;
    if (!(await users.setLink(row.id, link)) && link.digicertId) {
      // The user was deleted while this job ran: what it just linked must go too.
      logger.info("user deleted while its DigiCert job ran; removing the DigiCert user", { userId: row.id, digicertId: link.digicertId });
      await this.deps.outbox.enqueue([{ userId: row.id, kind: "delete", payload: { userName: row.userName, digicertId: link.digicertId } }]);
    }
  }

  /** What DigiCert should hold for a stored user, under its groups and the mapping in force now. */
  async targetOf(row: UserRow, profileChanged: boolean): Promise<SyncTarget> {
    const draft = this.deps.draftOf(row);
    const groups = (await this.deps.groups.groupsOfUsers([row.id])).get(row.id) ?? [];
    let desired: DesiredAccess;
    try {
      desired = await this.deps.access.desired(groups, draft.assignedRoleIds);
    } catch (err) {
      // An inactive user loses access whatever the mapping says: deprovisioning never waits for it.
      if (!(err instanceof MappingPendingError) || row.active) throw err;
      desired = { entitled: false, roleIds: null };
    }
    const divisions = desired.divisionIds === undefined ? {} : { divisionIds: desired.divisionIds };
    return { access: row.active && desired.entitled, profile: profileFromDraft(draft, (p) => this.deps.digicert.validate(p)), profileChanged, roleIds: desired.roleIds, ...divisions };
  }

  private async remove(job: OutboxJob): Promise<void> {
    const id = job.payload.digicertId;
    if (!id) return;
    try {
      await this.deps.digicert.deleteUser(id);
    } catch (err) {
      // A SCIM DELETE takes access away like active:false: never given up on (job-errors.ts).
      throw new AccessRemovalError(err);
    }
    this.deps.logger.info("DigiCert user deleted", { userId: job.userId, userName: job.payload.userName, digicertId: id });
  }

  /** Moves the DigiCert side from `link` to `target`, making only the calls the difference needs. */
  private async converge(link: UserLink, target: SyncTarget, run: Run): Promise<UserLink> {
    if (!target.access) {
      if (!link.digicertId) return link;
      try {
        return await this.removeAccess(link, target);
      } catch (err) {
        // Never settle for a departed user who keeps access: retried until DigiCert lets it go (job-errors.ts).
        throw new AccessRemovalError(err);
      }
    }
    return this.alignDivisions(await this.grant(link, target, run), target);
  }

  /** Gives the user access with the profile and roles the target says (creating or adopting it when needed). */
  private async grant(link: UserLink, target: SyncTarget, run: Run): Promise<UserLink> {
    if (!link.digicertId) return this.materialise(target.profile, target.roleIds, run, target.divisionIds);
    let l = link;
    if (!l.digicertEnabled) {
      l = await this.enable(l, target, run);
      // Made anew (enable not offered, or the user gone): created with the profile and roles wanted.
      if (l.digicertId !== link.digicertId) return l;
    }
    const roles = target.roleIds ? await this.roleChange(l, target.roleIds) : null;
    if (target.profileChanged) l = await this.update(l, target, run, roles);
    else if (roles) {
      await this.deps.digicert.setRoles(l.digicertId!, roles.grant!, roles);
      l = { ...l, digicertRoleIds: roles.grant! };
    }
    return l;
  }

  /** CertCentral divisions, kept in step like roles when the mapping names some (§A.5: a destructive overwrite). */
  private async alignDivisions(link: UserLink, target: SyncTarget): Promise<UserLink> {
    const want = target.divisionIds;
    if (want === undefined || want === null || !link.digicertId || !this.deps.digicert.setDivisions) return link;
    if (link.digicertDivisionIds && sameRoles(link.digicertDivisionIds, want)) return link;
    await this.deps.digicert.setDivisions(link.digicertId, want);
    return { ...link, digicertDivisionIds: want };
  }

  /**
   * The role write a user needs, or null when none is due. A user adopted with roles DigiCert does not show is
   * read again first: while its roles stay unknown they are left alone (an administrator made by hand is never
   * demoted from a state the bridge cannot see).
   */
  private async roleChange(link: UserLink, grant: string[]): Promise<RoleUpdate | null> {
    let known = link.digicertRoleIds;
    if (known === null && link.adopted) {
      const dc = await this.deps.digicert.getUser(link.digicertId!);
      known = dc?.roleIds ?? null;
      if (known === null) {
        this.deps.logger.info("DigiCert does not show the roles of this adopted user; its roles are left as they are", { digicertId: link.digicertId });
        return null;
      }
    }
    if (known !== null && sameRoles(known, grant)) return null;
    // The roles the bridge owns: the mapping's and what it gave this user before; any other role is kept.
    const managed = [...new Set([...(await this.deps.access.managedRoleIds()), ...(known ?? [])])];
    return { grant, managed, known };
  }

  /** Creates the DigiCert user, or adopts the one DigiCert already has under that username. */
  private async materialise(profile: DigiCertUserInput, managedRoles: string[] | null, run: Run, divisionIds?: string[] | null): Promise<UserLink> {
    const { digicert, logger } = this.deps;
    const roleIds = managedRoles ?? (await this.deps.access.defaultRoleIds());
    if (run.resumed) {
      // This job ran before and may have created the user just before it failed or the process died: look first,
      // so a retry never makes a second DigiCert user.
      const landed = await digicert.findUserByUsername(profile.username);
      if (landed?.inScope) {
        logger.info("an earlier attempt had created the DigiCert user; linking it", { userName: profile.username, digicertId: landed.id });
        return this.adopt(profile, managedRoles, roleIds, run, false);
      }
    }
    try {
      const divisions = divisionIds && digicert.setDivisions ? { divisionIds } : undefined;
      const { id } = await digicert.createUser(profile, roleIds, divisions);
      const link: UserLink = { digicertId: id, adopted: false, digicertEnabled: true, digicertRoleIds: roleIds, ...(divisions ? { digicertDivisionIds: divisionIds } : {}) };
      await run.checkpoint(link);
      return link;
    } catch (err) {
      if (isDigiCertError(err) && err.kind === "duplicate") return this.adopt(profile, managedRoles, roleIds, run);
      if (isDigiCertError(err) && err.maybeApplied) return this.afterUnreadableCreate(err, profile, managedRoles, roleIds, run);
      throw err;
    }
  }

  /**
   * DigiCert took the create (2xx) but its answer could not be read: like a lost answer, the user may exist. It is
   * looked up and linked when there; otherwise the job is tried again (a resumed job looks before it re-sends).
   * Never a refusal: failing here would roll back a user DigiCert may hold.
   */
  private async afterUnreadableCreate(err: DigiCertError, profile: DigiCertUserInput, managedRoles: string[] | null, roleIds: string[], run: Run): Promise<UserLink> {
    const { digicert, logger } = this.deps;
    const retry = (why: string) =>
      new DigiCertError("unavailable", `${err.message}; ${why}: the create is tried again after a look-up`, { status: err.status });
    let landed;
    try {
      landed = await digicert.findUserByUsername(profile.username);
    } catch (lookup) {
      throw retry(`the look-up that followed failed (${(lookup as Error).message})`);
    }
    if (!landed?.inScope) throw retry("DigiCert does not show the user (yet)");
    logger.warn("DigiCert's answer to the create could not be read, but it holds the user; linking it", {
      userName: profile.username,
      digicertId: landed.id,
      error: err.message,
    });
    return this.adopt(profile, managedRoles, roleIds, run, false);
  }

  /**
   * Links a DigiCert user made by hand before SSO (or by an earlier attempt), then makes its profile what the IdP
   * says. Roles: without a mapping, roles a human gave are kept; with one, the mapping owns the roles it names
   * (others are kept on ONE); and roles DigiCert does not show are never written from that unknown state.
   */
  private async adopt(profile: DigiCertUserInput, managedRoles: string[] | null, defaultRoles: string[], run: Run, handMade = true): Promise<UserLink> {
    const { digicert, logger } = this.deps;
    const found = await digicert.findUserByUsername(profile.username);
    if (!found) {
      throw new ConflictError(
        `DigiCert already has a user named '${profile.username}' in another DigiCert account; it cannot be linked`,
      );
    }
    if (!found.inScope) {
      const scope = digicert.capabilities.scopeNoun;
      throw new ConflictError(
        `DigiCert user '${profile.username}' belongs to another ${scope} than the one this bridge manages; it cannot be linked`,
      );
    }
    // The bridge's own create (a resumed job) carried `defaultRoles`, even when DigiCert does not show them.
    const shown = found.roleIds ?? (handMade ? null : defaultRoles);
    await run.checkpoint({ digicertId: found.id, adopted: handMade, digicertEnabled: found.status !== "disabled", digicertRoleIds: shown });
    // Counted once the link is saved: a retry of this job finds the user as its own (handMade false) and does not count again.
    if (handMade) {
      try {
        this.deps.onAdopted?.();
      } catch {
        // A metrics hook must not fail the job.
      }
    }
    let roleIds = shown;
    const wanted = shown === null ? null : managedRoles ?? (shown.length ? null : defaultRoles);
    if (wanted && !sameRoles(shown, wanted)) {
      const managed = [...new Set([...(await this.deps.access.managedRoleIds()), ...(handMade ? [] : shown ?? [])])];
      await digicert.updateUser(found.id, profile, { grant: wanted, managed, known: shown });
      roleIds = wanted;
    } else {
      try {
        await digicert.updateUser(found.id, profile, { known: shown });
      } catch (err) {
        // A ONE whose PUT replaces the whole object needs the roles, which it does not show: sending none could
        // strip them, so the update is refused. Link the user as it is rather than fail the IdP's create;
        // reconcile reports the profile difference.
        if (!(shown === null && isDigiCertError(err) && err.kind === "validation")) throw err;
        logger.warn("DigiCert refused the adopted user's profile update and does not show its roles; linked as it is", {
          userName: profile.username,
          digicertId: found.id,
          error: err.message,
        });
      }
    }
    if (shown === null) logger.info("DigiCert does not show the adopted user's roles; they are left as they are", { userName: profile.username, digicertId: found.id });
    if (found.status === "disabled") {
      try {
        await digicert.enableUser(found.id);
      } catch (err) {
        if (isDigiCertError(err) && err.kind === "unsupported") {
          throw new ConflictError(`DigiCert user '${profile.username}' is disabled and DigiCert offers the bridge no way to enable it; enable it in DigiCert`);
        }
        throw err;
      }
    }
    if (handMade) logger.info("adopted existing DigiCert user", { userName: profile.username, digicertId: found.id });
    return { digicertId: found.id, adopted: handMade, digicertEnabled: true, digicertRoleIds: roleIds };
  }

  private async update(link: UserLink, target: SyncTarget, run: Run, roles: RoleUpdate | null = null): Promise<UserLink> {
    try {
      await this.deps.digicert.updateUser(link.digicertId!, target.profile, roles ?? { known: link.digicertRoleIds });
      return roles?.grant ? { ...link, digicertRoleIds: roles.grant } : link;
    } catch (err) {
      // Someone deleted the DigiCert user by hand: the IdP still says it should exist, so it comes back.
      if (isDigiCertError(err) && err.kind === "not_found" && link.digicertEnabled) {
        this.deps.logger.warn("DigiCert user missing; re-creating it", { digicertId: link.digicertId });
        return this.materialise(target.profile, target.roleIds ?? link.digicertRoleIds, run);
      }
      if (isDigiCertError(err) && err.kind === "not_found") return NO_LINK;
      throw err;
    }
  }

  /**
   * How SCIM active:false removes access here: delete, demote (a platform that demotes, CERTCENTRAL_DEACTIVATE) or
   * disable (a platform that disables, unless its client deletes instead: ONE_DEACTIVATE, or the route refused).
   */
  private removal(): "delete" | "demote" | "disable" {
    const { digicert, certcentralDeactivation } = this.deps;
    if (digicert.capabilities.accessRemoval === "demote") return certcentralDeactivation.mode;
    return digicert.deactivation ? digicert.deactivation().effective : "disable";
  }

  /** Takes DigiCert access away; a profile change on a user kept (disabled, demoted) follows once access is gone. */
  private async removeAccess(link: UserLink, target: SyncTarget): Promise<UserLink> {
    const { digicert } = this.deps;
    const id = link.digicertId!;
    const how = this.removal();
    if (how === "delete") {
      await digicert.deleteUser(id);
      return NO_LINK;
    }
    let l = link;
    if (how === "demote") {
      if (l.digicertEnabled) {
        const demoteTo = await this.deps.roles.resolve((this.deps.certcentralDeactivation as { role: string }).role, "CERTCENTRAL_DEACTIVATE");
        await digicert.setRoles(id, [demoteTo]);
        l = { ...l, digicertEnabled: false, digicertRoleIds: [demoteTo] };
      }
    } else if (l.digicertEnabled) {
      try {
        await digicert.disableUser(id);
        l = { ...l, digicertEnabled: false };
      } catch (err) {
        if (isDigiCertError(err) && err.kind === "unsupported") {
          // The disable route is not there (or not for us): delete at once rather than leave access in place.
          await digicert.deleteUser(id);
          return NO_LINK;
        }
        if (isDigiCertError(err) && err.kind === "not_found") return NO_LINK;
        throw err;
      }
    }
    if (target.profileChanged) {
      try {
        await digicert.updateUser(id, target.profile, { known: l.digicertRoleIds });
      } catch (err) {
        // Access is gone already; the profile of a kept user follows with the next job.
        this.deps.logger.warn("could not update the profile of a deactivated DigiCert user", { digicertId: id, error: (err as Error).message });
      }
    }
    return l;
  }

  private async enable(link: UserLink, target: SyncTarget, run: Run): Promise<UserLink> {
    const { digicert } = this.deps;
    if (digicert.capabilities.accessRemoval === "demote") {
      // Demoted while inactive: give the roles back (the mapping's, or the default).
      const roleIds = target.roleIds ?? (await this.deps.access.defaultRoleIds());
      await digicert.setRoles(link.digicertId!, roleIds);
      return { ...link, digicertEnabled: true, digicertRoleIds: roleIds };
    }
    try {
      await digicert.enableUser(link.digicertId!);
      return { ...link, digicertEnabled: true };
    } catch (err) {
      if (isDigiCertError(err) && err.kind === "unsupported") {
        // Disabled earlier, and enable is not offered now: the disabled user goes, a new one is made.
        await digicert.deleteUser(link.digicertId!);
        return this.materialise(target.profile, target.roleIds, run);
      }
      if (isDigiCertError(err) && err.kind === "not_found") return this.materialise(target.profile, target.roleIds, run);
      throw err;
    }
  }
}
