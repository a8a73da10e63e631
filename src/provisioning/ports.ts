// What the domain needs from persistence, declared here and implemented by src/store (SQLite and PostgreSQL), plus
// the errors those implementations throw for the domain to act on.
import type { DigiCertRole } from "../digicert/types";
import type { ReconcileReport, ReconcileReportSummary } from "./drift";
import type { GroupQuery, GroupSort, Page, UserQuery, UserSort } from "./queries";
import type { AuditEntry, AuditQuery, GroupChanges, GroupMember, GroupRef, GroupRow, JobError, MembershipChange, NewAuditEntry, NewGroupRow, NewOutboxJob, NewStoredToken, NewUserRow, OutboxJob, OutboxStats, OutboxStatus, StoredResponse, StoredToken, UserChanges, UserLink, UserRow, UserStateCounts, UserView } from "./records";

export interface UserRepository {
  /** Throws StoreConflictError when the userName (any case) is taken. */
  insert(row: NewUserRow): Promise<UserRow>;
  getById(id: string): Promise<UserRow | null>;
  getByUserName(userName: string): Promise<UserRow | null>;
  /** Rows ordered by creation then id; total counts every match. `query` undefined = all users. */
  list(query: UserQuery | undefined, page: Page, sort?: UserSort): Promise<{ total: number; rows: UserRow[] }>;
  /** A user with its emails and groups, in one query (reads are most of the traffic). */
  view(id: string): Promise<UserView | null>;
  /**
   * A page of users as list() gives it, each with its emails and (when `withGroups`) its groups, in one query per
   * page, plus one for the total unless the filter can match one user at most.
   */
  listViews(query: UserQuery | undefined, page: Page, sort: UserSort | undefined, withGroups: boolean): Promise<{ total: number; rows: UserView[] }>;
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
  /**
   * Up to `limit` users this store's target has no record of: a target added to a tenant that already had users
   * (always none on a primary target, whose record is the user's own row).
   */
  unlinkedIds(limit: number): Promise<string[]>;
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

export interface IdempotencyRepository {
  get(credential: string, key: string): Promise<StoredResponse | null>;
  /**
   * Claims a key for the request about to run (an in-flight marker owned by `token`, unique per credential and
   * key across replicas). True when the caller now owns it: the key was free, held a failed answer, or held a
   * marker claimed before `staleBefore` (ISO; its owner is presumed dead). False when another request holds it.
   */
  claim(credential: string, key: string, requestHash: string, token: string, staleBefore: string): Promise<boolean>;
  /** The owner's answer replaces its marker (nothing happens once another request took the key over). */
  complete(response: Omit<StoredResponse, "created">, token: string): Promise<void>;
  /** Forgets responses older than `before` (ISO); returns how many. */
  purgeBefore(before: string): Promise<number>;
}

export interface OutboxRepository {
  /**
   * Adds jobs (in order) and marks their users pending. Returns the new job ids: this store's target's, the ones
   * its worker runs (a fan-out store queues the same jobs for its other targets too, in the same transaction).
   */
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
  /** Cancels a user's unfinished jobs (a rolled-back create; on every target of a fan-out store); returns how many of this target's. */
  cancelUnfinished(userId: string): Promise<number>;
  stats(): Promise<OutboxStats>;
  /** Jobs finished (done) at or after `since` (ISO): the drain rate. */
  doneSince(since: string): Promise<number>;
  /**
   * Unfinished jobs queued before job `id` that can run now (running, or pending and due): what a new job waits
   * behind. Jobs put off to a later retry are not counted.
   */
  countAhead(id: number): Promise<number>;
  /** Forgets finished jobs (done, superseded, cancelled) older than `before`; failed ones stay until retried. */
  purgeFinishedBefore(before: string): Promise<number>;
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
  /** DigiCert's role list as last fetched (src/store/role-list-repository.ts). */
  readonly roleLists: RoleListRepository;
  /** Runs `fn` in one database transaction. Use only `tx`'s repositories inside (SQLite has one connection). */
  transaction<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T>;
  /** Cheap round trip for readiness. */
  ping(): Promise<void>;
  /** Which tenant (and which of its DigiCert targets: "" = the primary) this store's queries are confined to. */
  readonly scope: { tenant: string; target: string };
  /**
   * The same database confined to another tenant and target (src/store/tenant-scope.ts). Shares this store's
   * connections: closing it does nothing, the store it came from closes them. A store of a secondary target keeps
   * its users' link and sync state apart from the primary's (src/store/target-links.ts). `fanOut` (a primary
   * target's store only): the tenant's other targets, which every job this store queues is queued for too, and
   * whose sync state its user reads show (UserRow.targets; src/store/fan-out.ts).
   */
  scoped(tenant: string, target?: string, opts?: ScopeOptions): Store;
  close(): Promise<void>;
}

export interface ScopeOptions {
  /** The names of the tenant's targets other than the primary, in the tenant's order. */
  fanOut?: readonly string[];
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

/**
 * The database could not be reached or dropped the connection (a restart, a failover, an administrator ending the
 * session). Retrying later may succeed. `maybeApplied`: the connection died while a COMMIT (or a statement outside a
 * transaction) was on its way, so the write may or may not have been stored; false when it certainly was not.
 */
export class StoreUnavailableError extends StoreError {
  constructor(
    readonly maybeApplied: boolean,
    message = "the database is unavailable (connection lost or refused)",
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "StoreUnavailableError";
  }
}

export interface ReconcileRepository {
  /** Stores a finished run; returns its id. */
  save(report: ReconcileReport): Promise<number>;
  /** The newest stored run (by start time), entries included; null before the first. */
  latest(): Promise<(ReconcileReport & { id: number }) | null>;
  /** The newest run without entries. */
  latestSummary(): Promise<ReconcileReportSummary | null>;
  /** Runs newest first, without entries. */
  list(limit: number): Promise<ReconcileReportSummary[]>;
  /** Forgets runs that started before `before` (ISO), always keeping the newest; returns how many. */
  purgeBefore(before: string): Promise<number>;
  /**
   * Takes the named lease for `owner` for `leaseMs` when nobody holds it (or its holder's lease ran out) and the
   * last run under it started at least `minIntervalMs` ago; records the start. True when taken.
   */
  tryLease(name: string, owner: string, leaseMs: number, minIntervalMs: number): Promise<boolean>;
  /** Extends a lease `owner` holds; false when it lost it. */
  renewLease(name: string, owner: string, leaseMs: number): Promise<boolean>;
  releaseLease(name: string, owner: string): Promise<void>;
}

/** `create` with a name that is taken (revoked tokens keep theirs). */
export class TokenNameTakenError extends StoreError {
  constructor(readonly tokenName: string) {
    super(`a token named "${tokenName}" exists already (revoked tokens keep their name); choose another name`);
    this.name = "TokenNameTakenError";
  }
}

/** Which list: DigiCert's roles, or CertCentral's divisions (which mapping rules may name). */
export type RoleListKind = "roles" | "divisions";

export interface KnownRoleList {
  list: DigiCertRole[];
  /** ISO-8601: when DigiCert answered with it. */
  fetchedAt: string;
}

/**
 * DigiCert's role list kept each time it is fetched, so ROLE_MAPPING_FILE can be resolved from it when the bridge
 * starts while DigiCert is unreachable.
 */
export interface RoleListRepository {
  save(platform: string, kind: RoleListKind, list: DigiCertRole[], fetchedAt?: string): Promise<void>;
  /** The list last saved for this platform, or null. */
  latest(platform: string, kind: RoleListKind): Promise<KnownRoleList | null>;
}

export interface TokenRepository {
  /** Stores a new token; TokenNameTakenError when the name is taken. */
  create(token: NewStoredToken, now?: string): Promise<StoredToken>;
  /**
   * The token with this digest (lower-case hex), revoked and expired ones included (the caller decides), with its
   * digest as stored, for a constant-time comparison by the caller; null when there is none.
   */
  findByDigest(sha256: string): Promise<(StoredToken & { sha256: string }) | null>;
  getByName(name: string): Promise<StoredToken | null>;
  /** Every token, oldest first. Never the digests. */
  list(): Promise<StoredToken[]>;
  /** Marks the token revoked now (a token revoked earlier keeps its time); null when there is no such name. */
  revoke(name: string, now?: string): Promise<StoredToken | null>;
  /** Sets last_used = `at` unless it is already later than `notBefore` (so replicas write it at most once a minute). */
  touch(id: string, at: string, notBefore: string): Promise<void>;
}
