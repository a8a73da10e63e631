import { loadRoleMappingFile, RoleMappingError } from "../config/role-mapping";
import { capabilitiesOf } from "../digicert/registry";
import type { DigiCertRole, PlatformName } from "../digicert/types";
import type { Logger } from "../log/logger";
import type { GroupRef } from "./records";
import type { KnownRoleList, RoleListKind } from "./ports";
import { MappingPendingError, MisconfiguredError } from "./errors";
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
  /** The role list last fetched, kept in the store: resolves the mapping at a start while DigiCert is unreachable. */
  storedRoles?: { latest(platform: string, kind: RoleListKind): Promise<KnownRoleList | null> };
  logger: Logger;
}

/**
 * Where ROLE_MAPPING_FILE's role names stand (the `rolemapping` readiness component):
 * - `none`: no mapping file (DIGICERT_DEFAULT_ROLE is resolved on first use);
 * - `resolved`: against DigiCert's list, fetched by this process;
 * - `stored`: against the list kept in the store (fetched at `fetchedAt`) while DigiCert could not be reached;
 * - `waiting`: not resolved; jobs that need the mapping wait (`reason` says why, for the log and the status page).
 */
export type MappingStatus =
  | { state: "none" }
  | { state: "resolved" }
  | { state: "stored"; fetchedAt: string }
  | { state: "waiting"; reason: string; invalid?: boolean };

export interface StartOptions {
  /** First delay of the background retry while waiting for DigiCert; doubles up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
  /** Called once the mapping is resolved against DigiCert after a degraded start (the server wakes its worker). */
  onResolved?: () => void;
}

/** Which DigiCert roles (and whether any access) a user's groups call for, under the current mapping. */
export class AccessPolicy {
  private compiled: CompiledRoleMapping | null = null;
  private refreshTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  /** Set by start(): from then on a managed mapping not yet resolved makes jobs wait (MappingPendingError). */
  private started = false;
  private state: MappingStatus;

  constructor(private readonly deps: AccessPolicyDeps) {
    this.state = deps.mappingFile ? { state: "waiting", reason: "not loaded yet" } : { state: "none" };
  }

  /** Where the mapping's role names stand (see MappingStatus). */
  status(): MappingStatus {
    return this.state;
  }

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
    if (this.managed) this.state = { state: "resolved" };
    this.stopRetry();
    return compiled;
  }

  /**
   * The server's start. Without a mapping file nothing happens (the default role resolves on first use). With one,
   * the file is read and checked (a bad file throws RoleMappingError: the start stops), then resolved against
   * DigiCert's roles; names DigiCert does not offer throw too. When DigiCert cannot be reached the start goes on:
   * the mapping is resolved from the role list kept in the store when there is one (`stored`), else it waits
   * (`waiting`), and is resolved in the background as soon as DigiCert answers. Until then jobs that need it wait.
   */
  async start(opts: StartOptions = {}): Promise<MappingStatus> {
    this.started = true;
    if (!this.managed) return this.state;
    const spec = loadRoleMappingFile(this.deps.mappingFile!, this.deps.platform);
    let unreachable: unknown;
    try {
      await this.load();
      return this.state;
    } catch (err) {
      if (err instanceof RoleMappingError) throw err;
      unreachable = err;
    }
    const why = `DigiCert could not be reached: ${(unreachable as Error)?.message ?? String(unreachable)}`;
    const stored = await this.fromStoredRoles(spec).catch((err: unknown) => ({ problem: `the stored role list cannot be read: ${(err as Error).message}` }));
    if ("compiled" in stored) {
      this.compiled = stored.compiled;
      this.state = { state: "stored", fetchedAt: stored.fetchedAt };
      this.deps.logger.warn("role mapping resolved from the DigiCert role list stored earlier; it is resolved again as soon as DigiCert answers", {
        file: this.deps.mappingFile,
        fetchedAt: stored.fetchedAt,
        error: why,
      });
    } else {
      this.state = { state: "waiting", reason: `${why}; ${stored.problem}` };
      this.deps.logger.warn("role mapping not resolved: jobs that need it wait until DigiCert answers", {
        file: this.deps.mappingFile,
        error: this.state.reason,
      });
    }
    this.retryInBackground(opts, opts.retryMs ?? 2000);
    return this.state;
  }

  /** The mapping compiled against the lists kept in the store, or why it cannot be. */
  private async fromStoredRoles(spec: ReturnType<typeof loadRoleMappingFile>): Promise<{ compiled: CompiledRoleMapping; fetchedAt: string } | { problem: string }> {
    const store = this.deps.storedRoles;
    const roles = store ? await store.latest(this.deps.platform, "roles") : null;
    if (!roles) return { problem: "no DigiCert role list is stored yet" };
    const wantsDivisions = capabilitiesOf(this.deps.platform).divisions && spec.rules.some((r) => r.divisions?.length);
    const divisions = wantsDivisions ? await store!.latest(this.deps.platform, "divisions") : null;
    if (wantsDivisions && !divisions) return { problem: "the mapping names divisions and no division list is stored yet" };
    try {
      const compiled = compileRoleMapping(spec, roles.list, this.deps.platform, this.deps.fallbackDefaultRole, divisions?.list);
      this.deps.roles.remember(roles.list);
      return { compiled, fetchedAt: roles.fetchedAt };
    } catch (err) {
      if (!(err instanceof RoleMappingError)) throw err;
      return { problem: `the stored role list does not resolve the mapping: ${err.problems.join("; ")}` };
    }
  }

  /** Tries DigiCert again and again (backing off) until the mapping resolves against its roles. */
  private retryInBackground(opts: StartOptions, delayMs: number): void {
    this.stopRetry();
    const max = opts.maxRetryMs ?? 60_000;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.load().then(
        (m) => {
          this.deps.logger.info("role mapping resolved against DigiCert's roles", { file: this.deps.mappingFile, rules: m.rules.length });
          opts.onResolved?.();
        },
        (err: unknown) => {
          if (err instanceof RoleMappingError) {
            // DigiCert answered and the file does not fit its roles: a mapping from the stored list may be wrong now.
            this.compiled = null;
            this.state = { state: "waiting", invalid: true, reason: `the mapping does not resolve against DigiCert's roles: ${err.problems.join("; ")}` };
            this.deps.logger.error("role mapping does not resolve against DigiCert's roles; jobs that need it wait until the file is fixed and reloaded (SIGHUP)", {
              file: this.deps.mappingFile,
              problems: err.problems,
            });
          }
          this.retryInBackground(opts, Math.min(delayMs * 2, max));
        },
      );
    }, delayMs);
    this.retryTimer.unref();
  }

  private stopRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  /** The mapping in force, compiled on first use when no file was checked at start. */
  async current(): Promise<CompiledRoleMapping> {
    if (this.compiled) return this.compiled;
    // Started degraded: the background retry resolves it; a job must not guess roles, nor call DigiCert for them.
    if (this.started && this.managed) throw new MappingPendingError(this.state.state === "waiting" ? this.state.reason : "not loaded yet");
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
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.refreshTimer = setInterval(() => {
      this.load().catch((err) =>
        this.deps.logger.warn("role mapping refresh failed; keeping the mapping in force", { error: (err as Error).message }),
      );
    }, intervalMs);
    this.refreshTimer.unref();
  }

  /** Stops the refresh, and the background retry of a degraded start. */
  stopRefresh(): void {
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.refreshTimer = null;
    this.stopRetry();
  }
}
