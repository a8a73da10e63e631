// What the status page (/admin) shows, gathered from the running bridge. Every section is read on its own: one
// that cannot be read (the store down, DigiCert's role list unreachable) shows its error and the others still show.
import { withCallCause } from "../../digicert/observer";
import { jobFailureCode } from "../../provisioning/job-failure-codes";
import { scrubSecrets, type Logger } from "../../log/logger";
import type { AccessPolicy } from "../../provisioning/access-policy";
import type { RuleMatch } from "../../config/role-mapping";
import type { GroupRepository, OutboxRepository, UserRepository } from "../../provisioning/ports";
import type { OutboxJob, OutboxKind, OutboxStats, UserStateCounts } from "../../provisioning/records";
import type { ReadinessReport } from "../health";
import { buildInfo, type BuildInfo } from "../../version";
import type { ActivitySource, DigiCertActivityView } from "./activity";
import type { UserLookupSource } from "./users";

/** The audit trail, when there is one: its newest events first. Rows are shown as they come (see page.ts). */
export interface AuditSource {
  recent(limit: number): Promise<readonly object[]>;
}

/** Reconciliation reports, when there are any: the last one, or null before the first run. */
export interface ReconcileSource {
  latest(): Promise<object | null | undefined>;
}

/**
 * Everything the status page reads. The store's repositories, the outbox worker and the AccessPolicy fit these
 * shapes as they are; `audit` and `reconcile` are optional: absent, their sections say "not available yet".
 */
export interface StatusSource {
  users: Pick<UserRepository, "countByState">;
  groups: Pick<GroupRepository, "count">;
  /**
   * stats() and list() of the outbox repository; doneSince(), when given, measures the drain rate shown (jobs
   * finished lately, all replicas). A `drainPerSecond` from stats() is ignored: the OutboxWorker's figure falls back
   * to the configured budget when the outbox is quiet, which is not what the page means by "drained".
   */
  outbox: {
    stats(): Promise<OutboxStats & { drainPerSecond?: number }>;
    list: OutboxRepository["list"];
    doneSince?: OutboxRepository["doneSince"];
  };
  /** The role mapping in force (AccessPolicy). */
  access: Pick<AccessPolicy, "managed" | "current">;
  audit?: AuditSource;
  reconcile?: ReconcileSource;
  /** DigiCert calls of this replica (recent ones with their cause, per minute) and outbox depth per minute. */
  activity?: ActivitySource;
  /** The user look-up (/admin?q=…, /admin/api/users): absent, the page has no search. */
  lookup?: UserLookupSource;
}

/** A section that could not be read. */
export interface SectionError {
  error: string;
}

export interface FailedJobView {
  id: number;
  userId: string;
  userName: string | null;
  kind: OutboxKind;
  attempts: number;
  /** `kind` is the cause's stored code (provisioning/job-failure-codes.ts), e.g. "digicert:validation". */
  error: { kind: string; message: string } | null;
  /** When it was marked failed (the job's last update). */
  failedAt: string;
}

export interface JobView {
  id: number;
  userId: string;
  userName: string | null;
  kind: OutboxKind;
  status: string;
  attempts: number;
  /** When it may run next (pending) or was queued. */
  runAfter: string;
  created: string;
  /** Why its last try failed (it is being retried), or null. */
  lastError: string | null;
  /** The SCIM request that queued it. */
  requestId: string | null;
}

/** Jobs finished per second over the last DRAIN_WINDOW_SECONDS, all replicas: measured, never the budget. */
export interface DrainView {
  measuredPerSecond: number;
  jobsDone: number;
  windowSeconds: number;
}

export interface OutboxView {
  pending: number;
  running: number;
  failed: number;
  oldestUnfinished: string | null;
  /** Age of the oldest pending or running job, in whole seconds; null when there is none. */
  oldestUnfinishedAgeSeconds: number | null;
  /** The measured drain rate; absent when the source cannot measure it. */
  drain?: DrainView;
  /** The latest failed jobs, newest first (at most FAILED_JOBS_SHOWN). */
  failedJobs: FailedJobView[];
  /** Pending and running jobs, newest first (at most PENDING_JOBS_SHOWN). */
  pendingJobs: JobView[];
}

/** The page's headline: failed when a component failed, degraded when one is degraded or a section cannot be read. */
export interface OverallView {
  status: "ok" | "degraded" | "failed";
  /** What makes it so, one line each ("digicert: DigiCert circuit open …"). */
  reasons: string[];
}

export interface RoleRuleView {
  rule: number;
  line: number;
  match: string;
  roles: string[];
}

export interface RoleMappingView {
  /** False without ROLE_MAPPING_FILE: new users get the default role and roles are never changed afterwards. */
  managed: boolean;
  source: string;
  default: string[];
  unmapped: "default" | "deactivate";
  rules: RoleRuleView[];
  /** One sentence saying what the mapping does, as the page shows it. */
  summary: string;
}

export type Optional<T> = { available: false } | ({ available: true } & T);

export interface AdminStatus {
  /** The tenant this page is about (its store's users, outbox, audit, reconcile runs), and every tenant served. */
  tenant?: string;
  tenants?: string[];
  generatedAt: string;
  /** The build answering: package.json's version, its commit, the Node.js version (src/version.ts). */
  version: BuildInfo;
  overall: OverallView;
  health: ReadinessReport | SectionError;
  users: UserStateCounts | SectionError;
  groups: { total: number } | SectionError;
  outbox: OutboxView | SectionError;
  roleMapping: RoleMappingView | SectionError;
  audit: Optional<{ events: object[] }> | SectionError;
  reconcile: Optional<{ report: object | null }> | SectionError;
  digicert: Optional<DigiCertActivityView> | SectionError;
}

export const FAILED_JOBS_SHOWN = 10;
export const PENDING_JOBS_SHOWN = 20;
export const DRAIN_WINDOW_SECONDS = 300;
export const AUDIT_EVENTS_SHOWN = 20;
const MAX_ERROR_CHARS = 300;

export function isSectionError(v: unknown): v is SectionError {
  return typeof v === "object" && v !== null && typeof (v as SectionError).error === "string" && Object.keys(v).length === 1;
}

function matchText(m: RuleMatch): string {
  if (m.kind === "displayName") return `group "${m.value}"`;
  if (m.kind === "externalId") return `group externalId "${m.value}"`;
  return `group name matching /${m.source}/`;
}

function roleMappingView(managed: boolean, mapping: Awaited<ReturnType<AccessPolicy["current"]>>): RoleMappingView {
  const def = mapping.default.map((r) => r.name);
  const defText = def.length ? def.join(", ") : "no role";
  const summary = !managed
    ? `No mapping file: new users get ${defText}; the bridge does not change roles afterwards.`
    : `${mapping.rules.length} rule${mapping.rules.length === 1 ? "" : "s"} from ${mapping.source}; ` +
      (mapping.unmapped === "deactivate" ? "users in no mapped group get no DigiCert access." : `users in no mapped group get ${defText}.`) +
      (mapping.multipleRoles ? " A user gets the roles of every matching rule." : " The first matching rule decides a user's role.");
  return {
    managed,
    source: mapping.source,
    default: def,
    unmapped: mapping.unmapped,
    rules: mapping.rules.map(({ spec, roles }) => ({ rule: spec.index, line: spec.line, match: matchText(spec.match), roles: roles.map((r) => r.name) })),
    summary,
  };
}

async function section<T>(name: string, logger: Logger, read: () => Promise<T>): Promise<T | SectionError> {
  try {
    return await read();
  } catch (err) {
    logger.warn("status page: a section could not be read", { section: name, error: (err as Error)?.message });
    const message = scrubSecrets(String((err as Error)?.message ?? err));
    return { error: message.length > MAX_ERROR_CHARS ? `${message.slice(0, MAX_ERROR_CHARS)}…` : message };
  }
}

export function jobView(j: OutboxJob): JobView {
  return {
    id: j.id,
    userId: j.userId,
    userName: j.payload.userName ?? null,
    kind: j.kind,
    status: j.status,
    attempts: j.attempts,
    runAfter: j.runAfter,
    created: j.created,
    lastError: j.error ? scrubSecrets(j.error.message) : null,
    requestId: j.payload.requestId ?? null,
  };
}

/** The headline from the sections: any failed component fails it; any degraded one, or an unreadable section, degrades it. */
export function overallOf(status: Omit<AdminStatus, "overall">): OverallView {
  const reasons: string[] = [];
  let failed = false;
  if (isSectionError(status.health)) {
    failed = true;
    reasons.push(`health: ${status.health.error}`);
  } else {
    for (const [name, c] of Object.entries(status.health.components)) {
      if (c.status === "failed") {
        failed = true;
        reasons.push(`${name}: ${c.error}`);
      } else if (c.status === "degraded") reasons.push(`${name}: ${c.detail}`);
    }
  }
  if (!isSectionError(status.outbox) && status.outbox.failed > 0 && !reasons.some((r) => r.startsWith("outbox:"))) {
    reasons.push(`outbox: ${status.outbox.failed} failed job${status.outbox.failed === 1 ? "" : "s"}`);
  }
  for (const [name, v] of Object.entries(status)) if (name !== "health" && isSectionError(v)) reasons.push(`${name}: could not be read`);
  return { status: failed ? "failed" : reasons.length ? "degraded" : "ok", reasons };
}

/** Reads every section at once. `health` is the readiness probe /readyz uses (same cache). */
export async function collectStatus(
  source: StatusSource,
  health: () => Promise<ReadinessReport>,
  logger: Logger,
  now: () => number = Date.now,
  scope?: { tenant: string; tenants: string[] },
): Promise<AdminStatus> {
  const at = now();
  const [h, users, groups, outbox, roleMapping, audit, reconcile] = await Promise.all([
    section("health", logger, health),
    section("users", logger, () => source.users.countByState()),
    section("groups", logger, async () => ({ total: await source.groups.count() })),
    section("outbox", logger, async (): Promise<OutboxView> => {
      const doneSince = source.outbox.doneSince;
      const [stats, failed, pending, done] = await Promise.all([
        source.outbox.stats(),
        source.outbox.list({ status: ["failed"], limit: FAILED_JOBS_SHOWN }),
        source.outbox.list({ status: ["pending", "running"], limit: PENDING_JOBS_SHOWN }),
        doneSince ? doneSince(new Date(at - DRAIN_WINDOW_SECONDS * 1000).toISOString()) : Promise.resolve(null),
      ]);
      source.activity?.sampleDepth(stats.pending + stats.running);
      const oldest = stats.oldestUnfinished ? Date.parse(stats.oldestUnfinished) : NaN;
      return {
        pending: stats.pending,
        running: stats.running,
        failed: stats.failed,
        oldestUnfinished: stats.oldestUnfinished,
        oldestUnfinishedAgeSeconds: Number.isFinite(oldest) ? Math.max(0, Math.round((at - oldest) / 1000)) : null,
        ...(done !== null
          ? { drain: { measuredPerSecond: Math.round((done / DRAIN_WINDOW_SECONDS) * 100) / 100, jobsDone: done, windowSeconds: DRAIN_WINDOW_SECONDS } }
          : {}),
        failedJobs: failed.map((j) => ({
          id: j.id,
          userId: j.userId,
          userName: j.payload.userName ?? null,
          kind: j.kind,
          attempts: j.attempts,
          error: j.error ? { kind: jobFailureCode(j.error.cause), message: scrubSecrets(j.error.message) } : null,
          failedAt: j.finished ?? j.updated,
        })),
        pendingJobs: pending.map(jobView),
      };
    }),
    // The mapping may need DigiCert's role list: its calls are the status page's.
    section("roleMapping", logger, () =>
      withCallCause({ origin: "status page (role list)" }, async () => roleMappingView(source.access.managed, await source.access.current())),
    ),
    section("audit", logger, async (): Promise<Optional<{ events: object[] }>> =>
      source.audit ? { available: true, events: [...(await source.audit.recent(AUDIT_EVENTS_SHOWN))] } : { available: false },
    ),
    section("reconcile", logger, async (): Promise<Optional<{ report: object | null }>> =>
      source.reconcile ? { available: true, report: (await source.reconcile.latest()) ?? null } : { available: false },
    ),
  ]);
  // After the outbox section, so the chart's current minute includes this read's depth sample.
  const digicert = await section("digicert", logger, async (): Promise<Optional<DigiCertActivityView>> =>
    source.activity ? { available: true, ...source.activity.view() } : { available: false },
  );
  const sections = { health: h, users, groups, outbox, roleMapping, audit, reconcile, digicert };
  const generatedAt = new Date(at).toISOString();
  const gathered = { ...(scope ? { tenant: scope.tenant, tenants: scope.tenants } : {}), generatedAt, version: buildInfo(), ...sections };
  return { ...gathered, overall: overallOf(gathered) };
}
