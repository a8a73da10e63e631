// The one interface both DigiCert platforms sit behind. Everything here is platform-neutral: no SCIM shapes,
// no CertCentral or ONE wire field names. Ids are strings on both platforms (CertCentral's ints are stringified).

export type Platform = "certcentral" | "one";

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
  roleIds: string[];
  /** False when the user lives outside the configured container (CertCentral) or account (ONE). */
  inScope: boolean;
}

export interface DigiCertRole {
  id: string;
  name: string;
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
  readonly platform: Platform;

  /** Checks the documented limits (charset, lengths, email shape) without calling DigiCert. */
  validate(input: DigiCertUserInput): FieldProblem[];

  createUser(input: DigiCertUserInput, roleIds: string[]): Promise<{ id: string }>;
  /** null when DigiCert does not know the id. */
  getUser(id: string): Promise<DigiCertUser | null>;
  /** Exact, case-insensitive username match; null when there is none. */
  findUserByUsername(username: string): Promise<DigiCertUser | null>;
  /**
   * Every user DigiCert's list-users call shows, page by page (one paced call each): CertCentral `GET /user` in the
   * configured container (every user the key sees without one), ONE `GET /user` (standard users of the key's
   * accounts; `inScope` says whether a user is in the configured account). Users appear once even if DigiCert's
   * paging shifts under concurrent changes; ONE users listed as deleted are included with status "deleted".
   */
  listUsers(opts?: ListUsersOptions): AsyncIterable<DigiCertUserPage>;
  /**
   * Makes the profile equal to `input`. Platform quirks are handled inside (CertCentral erases job title and
   * telephone that are not re-sent, so the client always sends them; an absent value clears the field).
   */
  updateUser(id: string, input: DigiCertUserInput): Promise<void>;
  setRoles(id: string, roleIds: string[]): Promise<void>;
  /**
   * Disables sign-in without deleting. Throws DigiCertError kind "unsupported" when the platform has no such
   * call or DigiCert refuses it as such (CertCentral always; ONE when the route answers 404-route/405).
   */
  disableUser(id: string): Promise<void>;
  enableUser(id: string): Promise<void>;
  /** Deleting a user DigiCert no longer knows succeeds (the goal state holds). */
  deleteUser(id: string): Promise<void>;
  listRoles(): Promise<DigiCertRole[]>;
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
