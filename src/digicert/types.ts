// The one interface both DigiCert platforms sit behind. Everything here is platform-neutral: no SCIM shapes,
// no CertCentral or ONE wire field names. Ids are strings on both platforms (CertCentral's ints are stringified).

/** The platforms built in. */
export type Platform = "certcentral" | "one";
/**
 * A platform's name as DIGICERT_PLATFORM gives it: a key of the platform registry (src/digicert/registry.ts),
 * which may hold more targets than the two built in.
 */
export type PlatformName = Platform | (string & {});

/**
 * What a platform can do, as read-only data: the provisioning core asks these instead of which platform it is.
 * The same for every client of one platform (configuration does not change them), so the registry also offers
 * them before a client exists.
 */
export interface PlatformCapabilities {
  /** "one": a user holds exactly one role, so a mapping rule may name only one; "many": the roles add up. */
  readonly rolesPerUser: "one" | "many";
  /**
   * Role writes leave the roles outside RoleScope.managed in place (ONE: roles in managers no mapping names), so a
   * user read shows roles the bridge does not own: only managed roles and the bridge's own are compared in drift.
   */
  readonly keepsUnmanagedRoles: boolean;
  /** What the part of DigiCert the bridge manages is called in messages: CertCentral's container, ONE's account. */
  readonly scopeNoun: "container" | "account";
  /** Users can be restricted to divisions (listDivisions, setDivisions; a mapping rule's `divisions`). */
  readonly divisions: boolean;
  /**
   * How SCIM active:false keeps a user without deleting it, when the configuration does not delete:
   * "demote" (CERTCENTRAL_DEACTIVATE=demote:<role>: the user keeps only that role; reactivation gives the roles
   * back; there is no disabled state) or "disable" (disableUser/enableUser; `deactivation()` says when the client
   * deletes instead).
   */
  readonly accessRemoval: "demote" | "disable";
  /** Profile fields DigiCert stores beyond names and email, as drift reconcile compares them. */
  readonly profile: {
    readonly jobTitle: boolean;
    /**
     * "always": compared also when the IdP has none. "when-set": an absent phone is not written (never ""), so a
     * partial update keeps the old number: only a phone the IdP gives is compared.
     */
    readonly phone: "always" | "when-set";
  };
}

/** The profile of a DigiCert user as the bridge wants it to be. Absent optional fields mean "empty". */
export interface DigiCertUserInput {
  username: string;
  firstName: string;
  lastName: string;
  email: string;
  jobTitle?: string | null;
  phone?: string | null;
}

export type DigiCertUserStatus = "active" | "pending" | "disabled" | "locked" | "deleted" | "unknown";

export interface DigiCertUser {
  id: string;
  username: string;
  firstName: string;
  lastName: string;
  email: string;
  jobTitle: string | null;
  phone: string | null;
  status: DigiCertUserStatus;
  /**
   * The user's role ids, or null when DigiCert's answer does not say (the documented ONE user object carries
   * `applications[].permissions`, not roles): unknown is never read as "no roles".
   */
  roleIds: string[] | null;
  /** False when the user lives outside the configured container (CertCentral) or account (ONE). */
  inScope: boolean;
}

export interface DigiCertRole {
  id: string;
  name: string;
  /** ONE: the manager (application code) the role belongs to, e.g. account_manager; roles are per manager. */
  application?: string;
}

/**
 * Which of a user's roles a role change may touch. Of the roles the user holds now, those in `managed` that are
 * not granted are removed; the others (ONE: roles in managers no mapping rule names) are kept. Without `managed`
 * the granted list replaces the user's roles. `known` is what the bridge last gave the user, used when DigiCert's
 * answer does not say which roles the user holds.
 */
export interface RoleScope {
  managed?: string[];
  known?: string[] | null;
}

/** A role change carried by a profile update: `grant` as in setRoles; without it the roles are kept as they are. */
export interface RoleUpdate extends RoleScope {
  grant?: string[];
}

/** How this client removes access for SCIM active:false, for /readyz and `digicert-scim check`. */
export interface DeactivationInfo {
  /** What the configuration asks for. */
  configured: "delete" | "disable";
  /** What happens now: "delete" also after the disable route was found unsupported. */
  effective: "delete" | "disable";
  /** Why effective differs from configured (the refusal seen), or what is still untried. */
  detail?: string;
}

export interface ListUsersOptions {
  /** Users asked for per call (CertCentral `limit`, ONE `limit`); default 500. Each page is one paced call. */
  pageSize?: number;
}

/** One page of `listUsers`. */
export interface DigiCertUserPage {
  users: DigiCertUser[];
  /** 0-based index of the page's first user in DigiCert's list. */
  offset: number;
  /** Users in the whole list when DigiCert says (CertCentral always; ONE only with the `{items,total}` shape). */
  total?: number;
}

/** A field DigiCert would refuse, found before any call is made. `field` is the neutral input field name. */
export interface FieldProblem {
  field: keyof DigiCertUserInput;
  message: string;
}

export interface DigiCertClient {
  readonly platform: PlatformName;
  readonly capabilities: PlatformCapabilities;

  /** Checks the documented limits (charset, lengths, email shape) without calling DigiCert. */
  validate(input: DigiCertUserInput): FieldProblem[];

  /** `opts.divisionIds`: CertCentral divisions (container ids) the new user is restricted to. */
  createUser(input: DigiCertUserInput, roleIds: string[], opts?: { divisionIds?: string[] }): Promise<{ id: string }>;
  /** null when DigiCert does not know the id. */
  getUser(id: string): Promise<DigiCertUser | null>;
  /** The user whose username has the same key (src/user-name.ts: Unicode-normalised, case-insensitive); null when there is none. */
  findUserByUsername(username: string): Promise<DigiCertUser | null>;
  /**
   * Every user DigiCert's list-users call shows, page by page (one paced call each): CertCentral `GET /user` in the
   * configured container (every user the key sees without one), ONE `GET /user` (standard users of the key's
   * accounts; `inScope` says whether a user is in the configured account). Users appear once even if DigiCert's
   * paging shifts under concurrent changes; ONE users listed as deleted are included with status "deleted".
   */
  listUsers(opts?: ListUsersOptions): AsyncIterable<DigiCertUserPage>;
  /**
   * Makes the profile equal to `input` (and, with `roles.grant`, the roles as setRoles would). Platform quirks are
   * handled inside: CertCentral erases job title and telephone that are not re-sent, so the client always sends
   * them; ONE reads the user and writes the whole object back, roles included (`roles.known` when DigiCert does
   * not show them).
   */
  updateUser(id: string, input: DigiCertUserInput, roles?: RoleUpdate): Promise<void>;
  /** Sets the roles the bridge manages (see RoleScope); ONE keeps roles outside `managed`. */
  setRoles(id: string, roleIds: string[], scope?: RoleScope): Promise<void>;
  /**
   * Disables sign-in without deleting. Throws DigiCertError kind "unsupported" when the platform has no such
   * call, the configuration deletes instead, or DigiCert refuses the route (ONE: any 4xx but 401/408/429, or 501;
   * remembered for the process). The caller then deletes: access is never left in place.
   */
  disableUser(id: string): Promise<void>;
  enableUser(id: string): Promise<void>;
  /** Deleting a user DigiCert no longer knows succeeds (the goal state holds). */
  deleteUser(id: string): Promise<void>;
  listRoles(): Promise<DigiCertRole[]>;
  /** CertCentral divisions (containers) a mapping may name; absent where the platform has none. */
  listDivisions?(): Promise<DigiCertRole[]>;
  /** Restricts the user to these divisions ([] = unrestricted); a destructive overwrite. Absent = no divisions. */
  setDivisions?(id: string, divisionIds: string[]): Promise<void>;
  /** The API key's own user (`GET /user/me`), for `digicert-scim check`; optional like circuit(). */
  keyUser?(): Promise<DigiCertUser | null>;
  /** How access is removed (optional so test doubles may omit it: then disableUser decides). */
  deactivation?(): DeactivationInfo;
  /** One cheap authenticated call, for readiness: throws DigiCertError when unreachable or the key is refused. */
  ping(): Promise<void>;
  /**
   * The circuit breaker of the shared caller, for readiness: "open" while calls fail fast after repeated
   * outages (until `openUntil`), "half-open" when the next call is the trial. Optional so test doubles may omit it.
   */
  circuit?(): { state: "closed" | "open" | "half-open"; openUntil?: string; consecutiveFailures: number };
  /**
   * Where calls are paced, for readiness: "local" (no Redis), "shared" (the budget shared through Redis) or
   * "fallback" (Redis unreachable: this replica alone at 1/`replicas` of the budget), and how many calls wait for
   * their slot (`queued`, for metrics). Optional like circuit().
   */
  pacing?(): { mode: "local" | "shared" | "fallback"; replicas?: number; queued?: number };
}
