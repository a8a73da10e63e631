import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { DigiCertObservers, PacingMode } from "../digicert";
import type { UserStateCounts } from "../provisioning/records";
import { buildInfo } from "../version";
import type { ReconcileReportSummary } from "../provisioning/drift";
import { registerReconcileMetrics } from "./reconcile-metrics";

export interface HttpMetrics {
  registry: Registry;
  /** A request answered; `tenant` for a tenant's SCIM surface (its requests are labelled with it). */
  observe(resource: string, method: string, status: number, seconds: number, tenant?: string): void;
  /** A write was answered 429 because the tenant's outbox was full (back-pressure). */
  backPressureRejected(tenant?: string): void;
  /** The hooks one DigiCert target of one tenant reports through: its series carry {tenant, target}. */
  forTarget(tenant: string, target: string): TargetMetrics;
  /** A tenant whose store (users, groups) and targets (outbox, pacing, reconcile reports) the gauges read on scrape. */
  addTenant(source: TenantMetricSource): void;
}

/** What one target's runtime reports: DigiCert calls and waits, outbox jobs, adoptions. */
export interface TargetMetrics {
  /** Hooks for createDigiCertClient: every DigiCert call attempt and every rate-limiter wait. */
  digicert: DigiCertObservers;
  /** An outbox job ended: done, retry (rescheduled) or failed. */
  jobEnded(kind: string, outcome: "done" | "retry" | "failed", seconds: number): void;
  /** A DigiCert user made by hand was adopted (DigiCertSync's onAdopted). */
  adopted(): void;
}

/** What the outbox gauges read on each scrape. */
export type OutboxGaugeSource = () => Promise<{ pending: number; running: number; failed: number; oldestUnfinished: string | null }>;

/** One DigiCert target of a tenant, read on scrape; all optional. */
export interface TargetMetricSource {
  /** The target's name (TENANTS_FILE), the `target` label. */
  target: string;
  /** Its outbox (the store scoped to the tenant and target). */
  outbox?: OutboxGaugeSource;
  /** The DigiCert client's pacing(): local state, no I/O. */
  pacing?: () => { mode: PacingMode; queued?: number };
  /** Users by sync state on this target; the primary target's come from the tenant's `users`. */
  sync?: () => Promise<UserStateCounts["sync"]>;
  /** The newest stored reconciliation report of this target. */
  reconcile?: () => Promise<ReconcileReportSummary | null>;
}

/** One tenant, read on scrape: its store's counts, and each of its targets. */
export interface TenantMetricSource {
  tenant: string;
  users?: () => Promise<UserStateCounts>;
  groups?: () => Promise<number>;
  /** The first is the primary target (the sync state of scim_users is its). */
  targets: TargetMetricSource[];
}

/** How long a scrape waits for the store before reporting the last values it read. */
const SOURCE_TIMEOUT_MS = 2000;

/**
 * A store-backed source read on scrape: gauges collected together share one read, a failed or slow read (store
 * down) yields the last value read instead of failing the scrape, and null before the first success.
 */
function onScrape<T>(source: () => Promise<T>): () => Promise<T | null> {
  let last: T | null = null;
  let inFlight: Promise<T | null> | null = null;
  return () => {
    if (inFlight) return inFlight;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("timeout")), SOURCE_TIMEOUT_MS);
      timer.unref();
    });
    inFlight = Promise.race([Promise.resolve().then(source), timeout])
      .then(
        (v) => (last = v),
        () => last,
      )
      .finally(() => {
        clearTimeout(timer);
        inFlight = null;
      });
    return inFlight;
  };
}

/** A tenant as the gauges read it: one shared read per source per scrape. */
interface TenantReaders {
  tenant: string;
  users?: () => Promise<UserStateCounts | null>;
  groups?: () => Promise<number | null>;
  targets: {
    target: string;
    outbox?: () => Promise<Awaited<ReturnType<OutboxGaugeSource>> | null>;
    pacing?: TargetMetricSource["pacing"];
    sync?: () => Promise<UserStateCounts["sync"] | null>;
    reconcile?: () => Promise<ReconcileReportSummary | null>;
  }[];
}

/**
 * One registry per app, so tests can build several apps in one process without clashing names. Every series about
 * a tenant carries `tenant` (the environment's tenant is "default"), and those about one of its DigiCert targets
 * `target` too; the store gauges read every tenant's own counts on each scrape (addTenant).
 */
export function createMetrics(): HttpMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const tenants: TenantReaders[] = [];
  const eachTenant = async (fn: (t: TenantReaders) => Promise<void>) => {
    await Promise.all(tenants.map(fn));
  };
  const eachTarget = async (fn: (t: TenantReaders, target: TenantReaders["targets"][number]) => Promise<void> | void) => {
    await Promise.all(tenants.flatMap((t) => t.targets.map(async (target) => fn(t, target))));
  };
  // Which build answers: one series, value 1, so `build_info * on(instance) group_left(version) …` can label alerts
  // and a rolling upgrade shows as two versions side by side. Read once, when the registry is built.
  const build = buildInfo();
  new Gauge({
    name: "build_info",
    help: "The bridge's build: version (package.json), commit and Node.js version; always 1",
    labelNames: ["version", "commit", "node"],
    registers: [registry],
  }).set({ version: build.version, commit: build.commit, node: build.node }, 1);
  const jobs = new Counter({
    name: "outbox_jobs_total",
    help: "DigiCert outbox jobs ended, by tenant, target, kind and outcome (done, retry = rescheduled after a failed try, failed)",
    labelNames: ["tenant", "target", "kind", "outcome"],
    registers: [registry],
  });
  const jobLatency = new Histogram({
    name: "outbox_job_duration_seconds",
    help: "Time one try of a DigiCert outbox job took, pacing waits included",
    labelNames: ["tenant", "target", "kind"],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  // Read from the store on scrape, so every replica reports the shared outbox; both outbox gauges share one read
  // per target per scrape (prom-client collects them concurrently).
  new Gauge({
    name: "outbox_jobs",
    help: "DigiCert outbox jobs by tenant, target and state (pending, running, failed)",
    labelNames: ["tenant", "target", "state"],
    registers: [registry],
    async collect() {
      await eachTarget(async (t, target) => {
        const s = await target.outbox?.();
        if (!s) return;
        const labels = { tenant: t.tenant, target: target.target };
        this.set({ ...labels, state: "pending" }, s.pending);
        this.set({ ...labels, state: "running" }, s.running);
        this.set({ ...labels, state: "failed" }, s.failed);
      });
    },
  });
  new Gauge({
    name: "outbox_oldest_job_age_seconds",
    help: "Age of the oldest unfinished DigiCert outbox job of a tenant's target (0 when none)",
    labelNames: ["tenant", "target"],
    registers: [registry],
    async collect() {
      await eachTarget(async (t, target) => {
        if (!target.outbox) return;
        const s = await target.outbox();
        if (!s) return;
        const oldest = s.oldestUnfinished;
        this.set({ tenant: t.tenant, target: target.target }, oldest ? Math.max(0, (Date.now() - Date.parse(oldest)) / 1000) : 0);
      });
    },
  });
  const requests = new Counter({
    name: "scim_requests_total",
    help: "Requests by tenant (SCIM requests only), resource, method and status",
    labelNames: ["tenant", "resource", "method", "status"],
    registers: [registry],
  });
  const latency = new Histogram({
    name: "scim_request_duration_seconds",
    help: "Request latency by tenant (SCIM requests only), resource and method",
    labelNames: ["tenant", "resource", "method"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  // DigiCert: every attempt (retries each count) by route template and status (HTTP status or network, timeout,
  // circuit_open), and its time on the wire; the rate limiter's waits, queue and mode.
  const digicertCalls = new Counter({
    name: "digicert_requests_total",
    help: "DigiCert API call attempts (each retry counts) by tenant, target, platform, method, endpoint (route template) and status (HTTP status, network, timeout or circuit_open)",
    labelNames: ["tenant", "target", "platform", "method", "endpoint", "status"],
    registers: [registry],
  });
  const digicertLatency = new Histogram({
    name: "digicert_request_duration_seconds",
    help: "Time a DigiCert API call attempt took on the wire (rate-limiter wait excluded; calls refused by the open circuit not included)",
    labelNames: ["tenant", "target", "platform", "method", "endpoint"],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [registry],
  });
  const rateWait = new Histogram({
    name: "digicert_ratelimit_wait_seconds",
    help: "Time a DigiCert call of a tenant's target waited for its slot under its API key's rate limit and concurrency",
    labelNames: ["tenant", "target"],
    buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  new Gauge({
    name: "digicert_ratelimit_queue_depth",
    help: "DigiCert calls waiting for a rate-limiter slot, on the budget of a tenant's target (targets with one API key share it)",
    labelNames: ["tenant", "target"],
    registers: [registry],
    collect() {
      for (const t of tenants) for (const target of t.targets) if (target.pacing) this.set({ tenant: t.tenant, target: target.target }, target.pacing().queued ?? 0);
    },
  });
  new Gauge({
    name: "digicert_ratelimit_mode",
    help: "Where a tenant's target's DigiCert calls are paced: 1 for the current mode (local: no Redis; shared: budget shared through Redis; fallback: Redis unreachable, this replica alone at 1/BRIDGE_REPLICAS)",
    labelNames: ["tenant", "target", "mode"],
    registers: [registry],
    collect() {
      for (const t of tenants) {
        for (const target of t.targets) {
          if (!target.pacing) continue;
          const mode = target.pacing().mode;
          for (const m of ["local", "shared", "fallback"] as const) this.set({ tenant: t.tenant, target: target.target, mode: m }, m === mode ? 1 : 0);
        }
      }
    },
  });

  // Users and groups as each tenant's store holds them (every replica reports the shared store).
  new Gauge({
    name: "scim_users",
    help: "SCIM users in a tenant's store by state (active, inactive)",
    labelNames: ["tenant", "state"],
    registers: [registry],
    async collect() {
      await eachTenant(async (t) => {
        const c = await t.users?.();
        if (!c) return;
        this.set({ tenant: t.tenant, state: "active" }, c.active);
        this.set({ tenant: t.tenant, state: "inactive" }, c.inactive);
      });
    },
  });
  new Gauge({
    name: "scim_users_sync",
    help: "SCIM users of a tenant by sync state (synced, pending, failed) on one of its DigiCert targets",
    labelNames: ["tenant", "target", "state"],
    registers: [registry],
    async collect() {
      await eachTarget(async (t, target) => {
        const c = await target.sync?.();
        if (!c) return;
        for (const state of ["synced", "pending", "failed"] as const) this.set({ tenant: t.tenant, target: target.target, state }, c[state] ?? 0);
      });
    },
  });
  new Gauge({
    name: "scim_groups",
    help: "SCIM groups in a tenant's store",
    labelNames: ["tenant"],
    registers: [registry],
    async collect() {
      await eachTenant(async (t) => {
        const n = await t.groups?.();
        if (n !== null && n !== undefined) this.set({ tenant: t.tenant }, n);
      });
    },
  });
  const adoptions = new Counter({
    name: "digicert_adoptions_total",
    help: "DigiCert users made by hand before SSO that the bridge adopted (linked instead of creating a duplicate), by tenant and target",
    labelNames: ["tenant", "target"],
    registers: [registry],
  });
  const backPressure = new Counter({
    name: "scim_backpressure_rejections_total",
    help: "SCIM writes answered 429 because the tenant's outbox toward DigiCert was deeper than OUTBOX_MAX_PENDING",
    labelNames: ["tenant"],
    registers: [registry],
  });
  registerReconcileMetrics(registry, () =>
    tenants.flatMap((t) => t.targets.flatMap((target) => (target.reconcile ? [{ tenant: t.tenant, target: target.target, latest: target.reconcile }] : []))),
  );

  return {
    registry,
    observe(resource, method, status, seconds, tenant) {
      // Unknown paths would otherwise blow up label cardinality.
      const r = /^(Users|Groups|Schemas|ResourceTypes|ServiceProviderConfig|Roles|healthz|readyz|metrics)$/.test(resource.replace(/^\//, ""))
        ? resource.replace(/^\//, "")
        : "other";
      const t = tenant ? { tenant } : {};
      requests.inc({ ...t, resource: r, method, status: String(status) });
      latency.observe({ ...t, resource: r, method }, seconds);
    },
    backPressureRejected(tenant) {
      backPressure.inc(tenant ? { tenant } : {});
    },
    forTarget(tenant, target) {
      const labels = { tenant, target };
      return {
        digicert: {
          call({ platform, method, endpoint, status, seconds }) {
            digicertCalls.inc({ ...labels, platform, method, endpoint, status: String(status) });
            if (status !== "circuit_open") digicertLatency.observe({ ...labels, platform, method, endpoint }, seconds);
          },
          pacing: {
            waited(seconds) {
              rateWait.observe(labels, seconds);
            },
          },
        },
        jobEnded(kind, outcome, seconds) {
          jobs.inc({ ...labels, kind, outcome });
          jobLatency.observe({ ...labels, kind }, seconds);
        },
        adopted() {
          adoptions.inc(labels);
        },
      };
    },
    addTenant(source) {
      const users = source.users ? onScrape(source.users) : undefined;
      tenants.push({
        tenant: source.tenant,
        users,
        groups: source.groups ? onScrape(source.groups) : undefined,
        targets: source.targets.map((target, i) => ({
          target: target.target,
          outbox: target.outbox ? onScrape(target.outbox) : undefined,
          pacing: target.pacing,
          // The primary target's sync state is on the user rows: the users read gives it, no second read.
          sync: target.sync ? onScrape(target.sync) : i === 0 && users ? async () => (await users())?.sync ?? null : undefined,
          reconcile: target.reconcile,
        })),
      });
    },
  };
}
