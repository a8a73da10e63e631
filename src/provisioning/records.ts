// The records the bridge keeps about users, groups, the outbox toward DigiCert, Idempotency-Key answers and the
// audit trail, as the domain works with them. src/store persists them (and alone knows SQL).
import type { DigiCertErrorKind } from "../digicert/errors";

export interface StoredEmail {
  value: string;
  type?: string | null;
  primary?: boolean;
}

export interface UserRow {
  /** The bridge's own SCIM id (UUID). */
  id: string;
  userName: string;
  externalId: string | null;
  active: boolean;
  /** The SCIM resource as last accepted, without id and meta. Opaque to the store. */
  resource: Record<string, unknown>;
  /** Emails indexed for filtering (value compared case-insensitively, type case-insensitively). */
  emails: StoredEmail[];
  /** DigiCert's id of the linked user; null while no DigiCert user exists (e.g. deactivated on CertCentral). */
  digicertId: string | null;
  /** True when the link was made to a DigiCert user that existed before the bridge created one. */
  adopted: boolean;
  /**
   * Whether the linked DigiCert user currently has access: false while it is disabled (ONE) or demoted
   * (CertCentral demote mode). Meaningless when digicertId is null. Defaults to true on insert.
   */
  digicertEnabled: boolean;
  /** The DigiCert role ids the bridge last gave (or found on) the linked user; null when unknown. */
  digicertRoleIds: string[] | null;
  /** CertCentral divisions the bridge restricted the user to (a mapping rule's `divisions`); null = never set. */
  digicertDivisionIds: string[] | null;
  /** Whether DigiCert holds what the store says: jobs still to run (pending), all done (synced), or one failed. */
  syncState: SyncState;
  /** Why the last DigiCert job for this user failed or is being retried; null once a job succeeds. */
  syncError: string | null;
  /** When a job for this user last completed (ISO); null before the first. */
  syncedAt: string | null;
  /** ISO-8601 timestamps with milliseconds. */
  created: string;
  lastModified: string;
  /** Starts at 1, +1 on every update. */
  version: number;
  /**
   * A fan-out tenant's other targets (all but the primary, whose link and sync state are the fields above), in the
   * tenant's order, as its SCIM surface reads them; absent for a single-target tenant and in a target's own store.
   */
  targets?: TargetSync[];
}

export type SyncState = "synced" | "pending" | "failed";

/** A user on one of a fan-out tenant's secondary targets: its link there and where its jobs stand. */
export interface TargetSync {
  /** The target's name (TenantTarget.name). */
  target: string;
  digicertId: string | null;
  /** pending also while the target has no record of the user yet (no job has reached it). */
  syncState: SyncState;
  syncError: string | null;
  syncedAt: string | null;
}

/** A user as a read shows it: the row, its emails included, and the groups it belongs to. */
export interface UserView {
  row: UserRow;
  /** Ordered by displayName (without case), then id; empty when the read did not ask for them. */
  groups: GroupRef[];
}

export interface UserStateCounts {
  total: number;
  active: number;
  inactive: number;
  sync: Record<SyncState, number>;
}

/** The bridge's knowledge of the DigiCert side of one user, as the outbox worker leaves it. */
export type UserLink = Pick<UserRow, "digicertId" | "adopted" | "digicertEnabled" | "digicertRoleIds"> &
  /** Absent: left as stored (setLink does not touch it). */
  Partial<Pick<UserRow, "digicertDivisionIds">>;

/** The user's sync state has one owner, the outbox: enqueuing marks it pending, a job's end marks it synced or failed. */
type SyncOwned = "syncState" | "syncError" | "syncedAt";
type ServerOwned = "created" | "lastModified" | "version" | "digicertEnabled" | "digicertRoleIds" | "digicertDivisionIds" | SyncOwned;
export type NewUserRow = Omit<UserRow, ServerOwned> & Partial<Pick<UserRow, "digicertEnabled" | "digicertRoleIds">>;

export type UserChanges = Partial<Omit<UserRow, "id" | "created" | "lastModified" | "version" | SyncOwned>>;

// --- Groups -------------------------------------------------------------------------------------------------

export interface GroupRow {
  id: string;
  displayName: string;
  externalId: string | null;
  /** The SCIM group as last accepted, without id, meta and members. Opaque to the store. */
  resource: Record<string, unknown>;
  created: string;
  lastModified: string;
  /** +1 on every change, membership changes included. */
  version: number;
}

export type NewGroupRow = Omit<GroupRow, "created" | "lastModified" | "version">;
export type GroupChanges = Partial<Pick<GroupRow, "displayName" | "externalId" | "resource">>;

/** What role rules match on: enough of a group to name it, without its members. */
export interface GroupRef {
  id: string;
  displayName: string;
  externalId: string | null;
}

export interface GroupMember {
  userId: string;
  userName: string;
}

export interface MembershipChange {
  /** User ids that became members (were not members before). */
  added: string[];
  /** User ids that stopped being members (were members before). */
  removed: string[];
}

// --- Idempotency keys -----------------------------------------------------------------------------------------

export interface StoredResponse {
  credential: string;
  key: string;
  /** Hash of the request (method, path, body) the response answered; a reuse with another request is refused. */
  requestHash: string;
  /**
   * 0 while the request that claimed the key is still being answered (an in-flight marker; `body` then holds its
   * owner's token, `created` the claim's time); 201 for a kept answer; >= 400 for a failed answer, kept only for
   * the retries that waited on it (a later request takes the key over).
   */
  status: number;
  location: string | null;
  body: string;
  created: string;
}

/** StoredResponse.status of an in-flight marker. */
export const IDEMPOTENCY_IN_FLIGHT = 0;

// --- Outbox toward DigiCert ---------------------------------------------------------------------------------

/** What a job is for. Every kind but "delete" brings DigiCert to the user's stored state; the kind says why. */
export type OutboxKind = "create" | "update" | "deactivate" | "reactivate" | "roles" | "delete";
/** pending → running → done | failed; a later job that completes supersedes earlier failed ones. */
export type OutboxStatus = "pending" | "running" | "done" | "failed" | "superseded" | "cancelled";

/** The user fields a rollback restores when DigiCert refuses a change the IdP is still waiting for. */
export interface UserSnapshot {
  userName: string;
  externalId: string | null;
  active: boolean;
  resource: Record<string, unknown>;
  emails: StoredEmail[];
}

export interface OutboxPayload {
  /** For logs and the CLI; absent on role jobs made in bulk. */
  userName?: string;
  /** The change touched fields DigiCert holds (name, email, …): the profile is sent again. */
  profileChanged?: boolean;
  /** delete: the DigiCert user to remove (the user row is gone by then). */
  digicertId?: string | null;
  /** The user's version the change produced; a rollback applies only while it is still the stored one. */
  version?: number;
  /** The user before the change (absent for a create). */
  before?: UserSnapshot;
  /** The SCIM request that caused the job (absent for jobs the bridge made itself): links its DigiCert calls in the audit trail. */
  requestId?: string;
  /** The W3C trace of that request (trace id, flags): the job's DigiCert calls send it on in `traceparent`. */
  traceId?: string;
  traceFlags?: string;
}

/** What kind of failure ended or delayed a job; stored as a code (see job-failure-codes.ts). */
export type JobFailureCause =
  | { source: "digicert"; kind: DigiCertErrorKind }
  | { source: "conflict" }
  /** `field`: the neutral profile field at fault (provisioning/model.ts), when known. */
  | { source: "invalid"; field?: string }
  | { source: "misconfigured" }
  | { source: "internal" };

/** Why a job failed, in a form any replica can turn back into the error the waiting request answers with. */
export interface JobError {
  cause: JobFailureCause;
  message: string;
}

export interface OutboxJob {
  id: number;
  userId: string;
  kind: OutboxKind;
  payload: OutboxPayload;
  status: OutboxStatus;
  /** How many times a worker has started it (so > 1 means it may have run before: look before creating). */
  attempts: number;
  runAfter: string;
  leaseOwner: string | null;
  leaseUntil: string | null;
  error: JobError | null;
  created: string;
  updated: string;
  finished: string | null;
}

export interface NewOutboxJob {
  userId: string;
  kind: OutboxKind;
  payload: OutboxPayload;
}

export interface OutboxStats {
  pending: number;
  running: number;
  failed: number;
  /** created of the oldest unfinished job, or null. */
  oldestUnfinished: string | null;
}

// --- Audit trail ---------------------------------------------------------------------------------------------

/**
 * scim: a SCIM write (accepted or refused); digicert: a DigiCert write call an outbox job made (or, in dry-run,
 * would have made); bridge: a change the bridge made on its own (a rollback after a DigiCert refusal, a mapping reload).
 */
export type AuditKind = "scim" | "digicert" | "bridge";
/** ok: done; refused: a SCIM write answered >= 400; error: a DigiCert call that failed. */
export type AuditOutcome = "ok" | "refused" | "error";

/** One changed attribute, secrets masked. `op` for memberships and PATCH operations; an absent before/after = none. */
export interface AuditChange {
  path: string;
  op?: "add" | "remove" | "replace";
  before?: unknown;
  after?: unknown;
}

/** What a DigiCert call entry says beyond the common fields. */
export interface AuditDigiCertCall {
  /** createUser, updateUser, setRoles, disableUser, enableUser, deleteUser. */
  operation: string;
  /** The DigiCert user the call was about (createUser: the id it got). */
  digicertId: string | null;
  /** The DigiCert error kind when the call failed (validation, duplicate, unavailable, …). */
  errorKind: string | null;
}

export interface AuditEntry {
  id: number;
  /** ISO-8601 with milliseconds. */
  at: string;
  kind: AuditKind;
  /**
   * user.create, user.replace (PUT), user.patch, user.delete, user.rollback, group.create, group.replace,
   * group.patch, group.delete, group.member.add, group.member.remove (on the member), mapping.reload,
   * digicert.<operation>.
   */
  action: string;
  /** Name of the credential that made the request, never the secret; null for what the bridge did on its own. */
  actor: string | null;
  /** The IdP detected for the request (okta, entra, onelogin, jumpcloud, other). */
  idp: string | null;
  requestId: string | null;
  resourceType: "User" | "Group" | null;
  resourceId: string | null;
  /** The user's userName at the time (User entries); null for groups. */
  userName: string | null;
  changes: AuditChange[];
  outcome: AuditOutcome;
  /** refused: the HTTP status the request was answered with. */
  status: number | null;
  /** refused: the SCIM error detail; error: the DigiCert error message; otherwise a note or null. */
  detail: string | null;
  /** The outbox job the entry queued (SCIM) or ran in (DigiCert). */
  jobId: number | null;
  /** A DigiCert call a dry-run bridge did not make. */
  dryRun: boolean;
  digicert: AuditDigiCertCall | null;
}

/** What append takes: kind, action and outcome; everything else defaults to null/empty (`at` to now). */
export type NewAuditEntry = Pick<AuditEntry, "kind" | "action" | "outcome"> & Partial<Omit<AuditEntry, "id" | "kind" | "action" | "outcome">>;

export interface AuditQuery {
  /** Entries about this resource (or these) … */
  resourceId?: string | string[];
  /** … or about this userName (any case). Both given: entries matching either; neither: every entry. */
  userName?: string;
  /** At or after this time (ISO). */
  since?: string;
  kind?: AuditKind[];
  dryRun?: boolean;
  /** The newest `limit` matches (default 1000). */
  limit?: number;
}

/** What a stored token opens: `scim` the SCIM endpoint (/scim/v2), `admin` the status page and /metrics. */
export type TokenScope = "scim" | "admin";
export const TOKEN_SCOPES: readonly TokenScope[] = ["scim", "admin"];

export interface StoredToken {
  id: string;
  /** Shown in logs as token:<name>; unique among all stored tokens, revoked ones included. */
  name: string;
  scope: TokenScope;
  /** ISO-8601 timestamps; null = never expires / not revoked / never used. */
  created: string;
  expires: string | null;
  revoked: string | null;
  /** Updated at most once a minute per token (see TokenRepository.touch). */
  lastUsed: string | null;
}

export interface NewStoredToken {
  name: string;
  scope: TokenScope;
  /** Lower-case hex SHA-256 of the token. */
  sha256: string;
  expires: string | null;
}
