// The store's public shapes. Callers see rows and a neutral query; only src/store knows SQL.
import type { DigiCertErrorKind } from "../digicert/errors";
import type { ReconcileRepository } from "./reconcile-repository";
import type { TokenRepository } from "./token-repository";

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
}

export type SyncState = "synced" | "pending" | "failed";

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

export type UserCondition =
  | { attr: "id"; value: string }
  | { attr: "userName"; value: string } // case-insensitive
  | { attr: "externalId"; value: string } // case-exact
  | { attr: "email"; value: string; type?: string } // value and type case-insensitive
  | { attr: "active"; value: boolean };

/**
 * OR of AND-groups: `anyOf: [[a, b], [c]]` means (a AND b) OR c. Or, for the whole filter grammar, `where`: a
 * tree of comparisons on the store's own fields (translated from SCIM by src/scim/user-filter.ts).
 */
export type UserQuery = { anyOf: UserCondition[][] } | { where: UserFilterNode };

export type FilterOp = "eq" | "ne" | "co" | "sw" | "ew" | "gt" | "ge" | "lt" | "le" | "pr";

/**
 * A field a user filter may compare. Columns are indexed; `json` reads the stored SCIM resource (a singular
 * attribute at `path`), `email` a column of the user's stored emails, `jsonItem` a sub-attribute of one element of
 * a multi-valued attribute of the resource (only inside `anyElement`).
 */
export type UserFilterField =
  | { kind: "id" | "userName" | "externalId" | "active" | "created" | "lastModified" | "version" }
  | { kind: "json"; path: string[]; type: "string" | "boolean" | "number" | "dateTime"; caseExact: boolean }
  | { kind: "email"; column: "value" | "type" | "primary" }
  | { kind: "jsonItem"; sub: string | null; type: "string" | "boolean" | "number" | "dateTime"; caseExact: boolean };

export type UserFilterNode =
  | { and: UserFilterNode[] }
  | { or: UserFilterNode[] }
  | { not: UserFilterNode }
  | { field: UserFilterField; op: FilterOp; value?: string | number | boolean | null }
  /** Some stored email matches `where` (whose fields are `email` ones): one email must satisfy all of it. */
  | { anyEmail: UserFilterNode }
  /** Some element of the multi-valued resource attribute `attr` matches `where` (fields `jsonItem`). */
  | { anyElement: { attr: string; where: UserFilterNode } };

/** A list's order: by a singular field, users without it last, ties broken by id (stable paging). */
export interface UserSort {
  field: UserFilterField;
  descending: boolean;
}

/** A group list's order (ties broken by id); displayName sorts without case. */
export interface GroupSort {
  by: "displayName" | "externalId" | "id" | "created" | "lastModified";
  descending: boolean;
}

export interface Page {
  /** 0-based. */
  offset: number;
  /** 0 is allowed: only the total is wanted. */
  limit: number;
}

export interface UserRepository {
  /** Throws StoreConflictError when the userName (any case) is taken. */
  insert(row: NewUserRow): Promise<UserRow>;
  getById(id: string): Promise<UserRow | null>;
  getByUserName(userName: string): Promise<UserRow | null>;
  /** Rows ordered by creation then id; total counts every match. `query` undefined = all users. */
  list(query: UserQuery | undefined, page: Page, sort?: UserSort): Promise<{ total: number; rows: UserRow[] }>;
  /**
   * Applies the changes, bumps version and lastModified. With expectedVersion, throws StoreVersionConflictError
   * when the stored version differs. Throws StoreConflictError on a userName clash. Returns null if the id is gone.
   */
  update(id: string, changes: UserChanges, expectedVersion?: number): Promise<UserRow | null>;
  /**
   * Records the DigiCert side of a user after an outbox job, without touching version or lastModified: the SCIM
   * resource did not change. Returns false when the user is gone.
   */
  setLink(id: string, link: UserLink): Promise<boolean>;
  /** Returns false when there was nothing to delete. */
  delete(id: string): Promise<boolean>;
  count(): Promise<number>;
  /** Users by SCIM active flag and by sync state, for metrics and the status page. */
  countByState(): Promise<UserStateCounts>;
  /** The subset of `ids` that exist, in any order. */
  existingIds(ids: string[]): Promise<string[]>;
}

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

export type GroupCondition =
  | { attr: "id"; value: string }
  | { attr: "displayName"; value: string } // case-insensitive
  | { attr: "externalId"; value: string } // case-exact
  | { attr: "member"; value: string }; // the group has this user id as a member

/** OR of AND-groups, or, for the whole filter grammar, `where`: a tree over the group's own fields. */
export type GroupQuery = { anyOf: GroupCondition[][] } | { where: GroupFilterNode };

export type GroupFilterField = { kind: "id" | "displayName" | "externalId" | "created" | "lastModified" | "version" } | { kind: "memberValue" };

export type GroupFilterNode =
  | { and: GroupFilterNode[] }
  | { or: GroupFilterNode[] }
  | { not: GroupFilterNode }
  | { field: GroupFilterField; op: FilterOp; value?: string | number | boolean | null }
  /** Some member of the group matches `where` (fields `memberValue`: the member's user id). */
  | { anyMember: GroupFilterNode };

export interface MembershipChange {
  /** User ids that became members (were not members before). */
  added: string[];
  /** User ids that stopped being members (were members before). */
  removed: string[];
}

/**
 * Groups and their members. Membership operations cost in proportion to the ids they are given, never to the
 * size of the group, and bump the group's version and lastModified (only when something changed). Member ids
 * must be existing users (the caller checks with UserRepository.existingIds); duplicates in the input are ignored.
 */
export interface GroupRepository {
  /** Throws StoreConflictError("displayName") when the displayName (any case) is taken. */
  insert(row: NewGroupRow, memberIds: string[]): Promise<GroupRow>;
  getById(id: string): Promise<GroupRow | null>;
  /** Rows ordered by creation then id; total counts every match. `query` undefined = all groups. */
  list(query: GroupQuery | undefined, page: Page, sort?: GroupSort): Promise<{ total: number; rows: GroupRow[] }>;
  /** Like UserRepository.update; StoreConflictError("displayName") on a clash. Null if the id is gone. */
  update(id: string, changes: GroupChanges, expectedVersion?: number): Promise<GroupRow | null>;
  /** Deletes the group and its memberships; returns the former member ids, or null when there was no group. */
  delete(id: string): Promise<string[] | null>;
  /** Members ordered by userName; with a page, only that window (total is always the full count). */
  members(groupId: string, page?: Page): Promise<{ total: number; rows: GroupMember[] }>;
  addMembers(groupId: string, userIds: string[]): Promise<MembershipChange>;
  removeMembers(groupId: string, userIds: string[]): Promise<MembershipChange>;
  replaceMembers(groupId: string, userIds: string[]): Promise<MembershipChange>;
  /** The groups each user belongs to (users without groups map to []). */
  groupsOfUsers(userIds: string[]): Promise<Map<string, GroupRef[]>>;
  /** Every group, without members (for re-applying a role mapping). */
  allGroupRefs(): Promise<GroupRef[]>;
  count(): Promise<number>;
}

// --- Idempotency keys -----------------------------------------------------------------------------------------

export interface StoredResponse {
  credential: string;
  key: string;
  /** Hash of the request (method, path, body) the response answered; a reuse with another request is refused. */
  requestHash: string;
  status: number;
  location: string | null;
  body: string;
  created: string;
}

export interface IdempotencyRepository {
  get(credential: string, key: string): Promise<StoredResponse | null>;
  /** Keeps the first response stored under a key (a concurrent second one is ignored). */
  put(response: Omit<StoredResponse, "created">): Promise<void>;
  /** Forgets responses older than `before` (ISO); returns how many. */
  purgeBefore(before: string): Promise<number>;
}

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
}

/** What kind of failure ended or delayed a job; stored as a code (see job-error-codes.ts). */
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

export interface OutboxRepository {
  /** Adds jobs (in order) and marks their users pending. Returns the new job ids. */
  enqueue(jobs: NewOutboxJob[]): Promise<number[]>;
  /**
   * Takes up to `limit` runnable jobs for `owner`: due pending jobs and running jobs whose lease ran out, each the
   * earliest unfinished job of its user (so one user's jobs run in order). Concurrent claimers never get the same job.
   */
  claim(owner: string, limit: number, leaseMs: number): Promise<OutboxJob[]>;
  /** Extends the lease of jobs `owner` still holds. */
  renew(ids: number[], owner: string, leaseMs: number): Promise<void>;
  /** Marks a job done (false when `owner` lost its lease); supersedes the user's earlier failed jobs. */
  complete(id: number, owner: string): Promise<boolean>;
  /** Puts a job back to run at `runAfter`; `countAttempt` false when the try never reached DigiCert. */
  reschedule(id: number, owner: string, runAfter: string, error: JobError, countAttempt: boolean): Promise<boolean>;
  fail(id: number, owner: string, error: JobError): Promise<boolean>;
  /** Hands back every job `owner` holds (on shutdown), so another worker can take them at once. */
  release(owner: string): Promise<number>;
  get(ids: number[]): Promise<OutboxJob[]>;
  /** Newest first. */
  list(filter: { status?: OutboxStatus[]; userId?: string; limit: number }): Promise<OutboxJob[]>;
  /** Failed jobs (all, or those given) become pending again with a fresh attempt count. Returns how many. */
  retryFailed(ids?: number[]): Promise<number>;
  /** Cancels a user's unfinished jobs (a rolled-back create); returns how many. */
  cancelUnfinished(userId: string): Promise<number>;
  stats(): Promise<OutboxStats>;
  /** Jobs finished (done) at or after `since` (ISO): the drain rate. */
  doneSince(since: string): Promise<number>;
  /** Forgets finished jobs (done, superseded, cancelled) older than `before`; failed ones stay until retried. */
  purgeFinishedBefore(before: string): Promise<number>;
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

/** The audit trail: append-only, forgotten by age (AUDIT_RETENTION_DAYS). */
export interface AuditRepository {
  append(entry: NewAuditEntry): Promise<AuditEntry>;
  appendMany(entries: NewAuditEntry[]): Promise<void>;
  /** Matching entries, oldest first (the newest `limit` of them). */
  query(q: AuditQuery): Promise<AuditEntry[]>;
  /** The newest `limit` entries, newest first. */
  recent(limit: number): Promise<AuditEntry[]>;
  /** Forgets entries older than `before` (ISO); returns how many. */
  purgeBefore(before: string): Promise<number>;
}

/** Repositories bound to one transaction: what they write commits or rolls back together. */
export interface StoreTransaction {
  readonly users: UserRepository;
  readonly groups: GroupRepository;
  readonly outbox: OutboxRepository;
  readonly audit: AuditRepository;
}

export interface Store {
  readonly dialect: "sqlite" | "postgres";
  readonly users: UserRepository;
  readonly groups: GroupRepository;
  readonly outbox: OutboxRepository;
  readonly idempotency: IdempotencyRepository;
  /** The audit trail (src/store/audit-repository.ts). */
  readonly audit: AuditRepository;
  /** Reconciliation reports and the schedule's lease (src/store/reconcile-repository.ts). */
  readonly reconcile: ReconcileRepository;
  /** Bearer tokens of `digicert-scim tokens` (src/store/token-repository.ts). */
  readonly tokens: TokenRepository;
  /** Runs `fn` in one database transaction. Use only `tx`'s repositories inside (SQLite has one connection). */
  transaction<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T>;
  /** Cheap round trip for readiness. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The family of store failures the callers act on (other driver errors are internal). */
export abstract class StoreError extends Error {}

export class StoreConflictError extends StoreError {
  constructor(
    readonly attribute: "userName" | "displayName",
    message = `${attribute} is already taken`,
  ) {
    super(message);
    this.name = "StoreConflictError";
  }
}

export class StoreVersionConflictError extends StoreError {
  constructor(message = "the stored row changed since it was read") {
    super(message);
    this.name = "StoreVersionConflictError";
  }
}
