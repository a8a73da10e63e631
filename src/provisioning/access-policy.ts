import { loadRoleMappingFile, RoleMappingError } from "../config/role-mapping";
import { capabilitiesOf } from "../digicert/registry";
import type { DigiCertRole, PlatformName } from "../digicert/types";
import type { Logger } from "../log/logger";
import type { GroupRef } from "./records";
import { MisconfiguredError } from "./errors";
import { compileRoleMapping, effectiveDivisions, effectiveRoles, type CompiledRoleMapping } from "./role-policy";
import type { RoleResolver } from "./role-resolver";

export interface DesiredAccess {
  /** Whether the user should have a usable DigiCert account at all (before the SCIM active flag). */
  entitled: boolean;
  /** Role ids the user should hold; null when roles are not managed by the bridge. */
  roleIds: string[] | null;
  /** CertCentral divisions the user is restricted to ([] = unrestricted); null when the mapping names none. */
  divisionIds?: string[] | null;
}

export interface AccessPolicyDeps {
  platform: PlatformName;
  roles: RoleResolver;
  /** DIGICERT_DEFAULT_ROLE: the default when no mapping file, or the file, names none. */
  fallbackDefaultRole: string | readonly string[];
  /** ROLE_MAPPING_FILE. Without it the bridge gives new users the default role and never changes roles after. */
  mappingFile?: string;
  /** CertCentral's divisions (GET /container), listed when the mapping names some. */
  listDivisions?: () => Promise<DigiCertRole[]>;
  logger: Logger;
}

/** Which DigiCert roles (and whether any access) a user's groups call for, under the current mapping. */
export class AccessPolicy {
  private compiled: CompiledRoleMapping | null = null;
  private refreshTimer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: AccessPolicyDeps) {}

  /** True when a mapping file owns the roles of every user. */
  get managed(): boolean {
    return !!this.deps.mappingFile;
  }

  /**
   * Reads the mapping file and resolves its role names against DigiCert's current list. Throws RoleMappingError
   * (file or role problems) or DigiCertError; the mapping in force is replaced only on success.
   */
  async load(): Promise<CompiledRoleMapping> {
    const spec = this.deps.mappingFile ? loadRoleMappingFile(this.deps.mappingFile, this.deps.platform) : null;
    const available = await this.deps.roles.roles(true);
    const wantsDivisions = capabilitiesOf(this.deps.platform).divisions && !!spec?.rules.some((r) => r.divisions?.length);
    const divisions = wantsDivisions && this.deps.listDivisions ? await this.deps.listDivisions() : undefined;
    const compiled = compileRoleMapping(spec, available, this.deps.platform, this.deps.fallbackDefaultRole, divisions);
    this.compiled = compiled;
    return compiled;
  }

  /** The mapping in force, compiled on first use when no file was checked at start. */
  async current(): Promise<CompiledRoleMapping> {
    if (this.compiled) return this.compiled;
    try {
      return await this.load();
    } catch (err) {
      // Only DIGICERT_DEFAULT_ROLE can be wrong here (a mapping file is checked at start): the admin must fix it.
      if (err instanceof RoleMappingError) throw new MisconfiguredError(err.problems.join("; "));
      throw err;
    }
  }

  /**
   * The access a user's groups and directly assigned roles (Okta entitlements, the SCIM `roles` the IdP writes)
   * call for. Direct roles go through the same precedence as rules: on DigiCert ONE they join the mapping's roles,
   * on CertCentral (one role per user) the first direct role wins over the groups. Without a mapping file and
   * without direct roles, roles are left alone (null).
   */
  async desired(groups: GroupRef[], assignedRoleIds: string[] = []): Promise<DesiredAccess> {
    const mapping = await this.current();
    // A role the mapping forbids is never granted, even if an assignment made before the forbid is still stored.
    const forbidden = new Set(mapping.forbidden.map((r) => r.id));
    const assigned = [...new Set(assignedRoleIds)].filter((id) => !forbidden.has(id));
    const divisionIds = effectiveDivisions(mapping, groups);
    const divisions = divisionIds === null ? {} : { divisionIds };
    if (!this.managed && !assigned.length) return { entitled: true, roleIds: null };
    const fromGroups = this.managed ? effectiveRoles(mapping, groups) : { entitled: true, roles: [] };
    if (!assigned.length) return { entitled: fromGroups.entitled, roleIds: fromGroups.roles.map((r) => r.id), ...divisions };
    if (!mapping.multipleRoles) return { entitled: true, roleIds: [assigned[0]], ...divisions };
    return { entitled: true, roleIds: [...new Set([...fromGroups.roles.map((r) => r.id), ...assigned])], ...divisions };
  }

  /** The subset of role ids DigiCert does not know, to refuse a direct assignment before anything changes. */
  async unknownRoleIds(ids: string[]): Promise<string[]> {
    if (!ids.length) return [];
    const known = new Set((await this.deps.roles.roles()).map((r) => r.id));
    return ids.filter((id) => !known.has(id));
  }

  /** The subset of role ids the mapping forbids granting (`forbid`), named, to refuse a direct assignment. */
  async forbiddenRoles(ids: string[]): Promise<{ id: string; name: string }[]> {
    if (!ids.length) return [];
    const forbidden = (await this.current()).forbidden;
    return forbidden.filter((r) => ids.includes(r.id));
  }

  /**
   * DigiCert's roles that SCIM may grant, for the Role catalogue (Okta entitlements): forbidden ones are not
   * offered. Served from the cache while fresh.
   */
  async listRoles(): Promise<DigiCertRole[]> {
    const roles = await this.deps.roles.roles();
    const forbidden = new Set((await this.current()).forbidden.map((r) => r.id));
    return forbidden.size ? roles.filter((r) => !forbidden.has(r.id)) : roles;
  }

  /**
   * Every role the mapping can give (its default and its rules'): the roles the bridge owns. A role outside them
   * that a user holds (ONE: in a manager no rule names) is kept when the bridge changes the user's roles.
   */
  async managedRoleIds(): Promise<string[]> {
    const m = await this.current();
    return [...new Set([...m.default, ...m.rules.flatMap((r) => r.roles)].map((r) => r.id))];
  }

  /** Role ids given to a brand-new user when roles are not managed: the default. */
  async defaultRoleIds(): Promise<string[]> {
    return (await this.current()).default.map((r) => r.id);
  }

  roleName(id: string): string | undefined {
    return this.deps.roles.nameOf(id);
  }

  /** Re-resolves role names now and then, so a role renamed or re-created in DigiCert is picked up. */
  startRefresh(intervalMs: number): void {
    this.stopRefresh();
    this.refreshTimer = setInterval(() => {
      this.load().catch((err) =>
        this.deps.logger.warn("role mapping refresh failed; keeping the mapping in force", { error: (err as Error).message }),
      );
    }, intervalMs);
    this.refreshTimer.unref();
  }

  stopRefresh(): void {
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.refreshTimer = null;
  }
}
