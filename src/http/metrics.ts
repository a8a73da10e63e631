import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { DigiCertObservers, PacingMode } from "../digicert";
import type { UserStateCounts } from "../provisioning/records";
import { buildInfo } from "../version";

export interface HttpMetrics {
  registry: Registry;
  observe(resource: string, method: string, status: number, seconds: number): void;
  /** An outbox job ended: done, retry (rescheduled) or failed. */
  jobEnded(kind: string, outcome: "done" | "retry" | "failed", seconds: number): void;
  /** Hooks for createDigiCertClient: every DigiCert call attempt and every rate-limiter wait. */
  digicert: DigiCertObservers;
  /** A DigiCert user made by hand was adopted (DigiCertSync's onAdopted). */
  adopted(): void;
  /** A write was answered 429 because the outbox was full (back-pressure). */
  backPressureRejected(): void;
}

/** What the other gauges read on each scrape; all optional. */
export interface MetricSources {
  users?: () => Promise<UserStateCounts>;
  groups?: () => Promise<number>;
  /** The DigiCert client's pacing(): local state, no I/O. */
  pacing?: () => { mode: PacingMode; queued?: number };
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

/** What the outbox gauges read on each scrape. */
export type OutboxGaugeSource = () => Promise<{ pending: number; running: number; failed: number; oldestUnfinished: string | null }>;

/** One registry per app, so tests can build several apps in one process without clashing names. */
export function createMetrics(outbox?: OutboxGaugeSource, sources: MetricSources = {}): HttpMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
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
    help: "DigiCert outbox jobs ended, by kind and outcome (done, retry = rescheduled after a failed try, failed)",
    labelNames: ["kind", "outcome"],
    registers: [registry],
  });
  const jobLatency = new Histogram({
    name: "outbox_job_duration_seconds",
    help: "Time one try of a DigiCert outbox job took, pacing waits included",
    labelNames: ["kind"],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  if (outbox) {
    // Read from the store on scrape, so every replica reports the shared outbox.
    // Both outbox gauges share one read per scrape (prom-client collects them concurrently).
    const read = onScrape(outbox);
    new Gauge({
      name: "outbox_jobs",
      help: "DigiCert outbox jobs by state (pending, running, failed)",
      labelNames: ["state"],
      registers: [registry],
      async collect() {
        const s = await read();
        if (!s) return;
        this.set({ state: "pending" }, s.pending);
        this.set({ state: "running" }, s.running);
        this.set({ state: "failed" }, s.failed);
      },
    });
    new Gauge({
      name: "outbox_oldest_job_age_seconds",
      help: "Age of the oldest unfinished DigiCert outbox job (0 when none)",
      registers: [registry],
      async collect() {
        const oldest = (await read())?.oldestUnfinished;
        this.set(oldest ? Math.max(0, (Date.now() - Date.parse(oldest)) / 1000) : 0);
      },
    });
  }
  const requests = new Counter({
    name: "scim_requests_total",
    help: "SCIM requests by resource, method and status",
    labelNames: ["resource", "method", "status"],
    registers: [registry],
  });
  const latency = new Histogram({
    name: "scim_request_duration_seconds",
    help: "SCIM request latency",
    labelNames: ["resource", "method"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  // DigiCert: every attempt (retries each count) by route template and status (HTTP status or network, timeout,
  // circuit_open), and its time on the wire; the rate limiter's waits, queue and mode.
  const digicertCalls = new Counter({
    name: "digicert_requests_total",
    help: "DigiCert API call attempts (each retry counts) by platform, method, endpoint (route template) and status (HTTP status, network, timeout or circuit_open)",
    labelNames: ["platform", "method", "endpoint", "status"],
    registers: [registry],
  });
  const digicertLatency = new Histogram({
    name: "digicert_request_duration_seconds",
    help: "Time a DigiCert API call attempt took on the wire (rate-limiter wait excluded; calls refused by the open circuit not included)",
    labelNames: ["platform", "method", "endpoint"],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [registry],
  });
  const rateWait = new Histogram({
    name: "digicert_ratelimit_wait_seconds",
    help: "Time a DigiCert call waited for its slot under DIGICERT_RATE_LIMIT and DIGICERT_MAX_CONCURRENT",
    buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const pacing = sources.pacing;
  if (pacing) {
    new Gauge({
      name: "digicert_ratelimit_queue_depth",
      help: "DigiCert calls waiting for their rate-limiter slot",
      registers: [registry],
      collect() {
        this.set(pacing().queued ?? 0);
      },
    });
    new Gauge({
      name: "digicert_ratelimit_mode",
      help: "Where DigiCert calls are paced: 1 for the current mode (local: no Redis; shared: budget shared through Redis; fallback: Redis unreachable, this replica alone at 1/BRIDGE_REPLICAS)",
      labelNames: ["mode"],
      registers: [registry],
      collect() {
        const mode = pacing().mode;
        for (const m of ["local", "shared", "fallback"] as const) this.set({ mode: m }, m === mode ? 1 : 0);
      },
    });
  }

  // Users and groups as the store holds them (every replica reports the shared store).
  if (sources.users) {
    const read = onScrape(sources.users);
    new Gauge({
      name: "scim_users",
      help: "SCIM users in the bridge's store by state (active, inactive)",
      labelNames: ["state"],
      registers: [registry],
      async collect() {
        const c = await read();
        if (!c) return;
        this.set({ state: "active" }, c.active);
        this.set({ state: "inactive" }, c.inactive);
      },
    });
    new Gauge({
      name: "scim_users_sync",
      help: "SCIM users by DigiCert sync state (synced, pending, failed)",
      labelNames: ["state"],
      registers: [registry],
      async collect() {
        const c = await read();
        if (!c) return;
        for (const state of ["synced", "pending", "failed"] as const) this.set({ state }, c.sync[state] ?? 0);
      },
    });
  }
  if (sources.groups) {
    const read = onScrape(sources.groups);
    new Gauge({
      name: "scim_groups",
      help: "SCIM groups in the bridge's store",
      registers: [registry],
      async collect() {
        const n = await read();
        if (n !== null) this.set(n);
      },
    });
  }
  const adoptions = new Counter({
    name: "digicert_adoptions_total",
    help: "DigiCert users made by hand before SSO that the bridge adopted (linked instead of creating a duplicate)",
    registers: [registry],
  });
  const backPressure = new Counter({
    name: "scim_backpressure_rejections_total",
    help: "SCIM writes answered 429 because the outbox toward DigiCert was deeper than OUTBOX_MAX_PENDING",
    registers: [registry],
  });

  return {
    registry,
    observe(resource, method, status, seconds) {
      // Unknown paths would otherwise blow up label cardinality.
      const r = /^(Users|Groups|Schemas|ResourceTypes|ServiceProviderConfig|Roles|healthz|readyz|metrics)$/.test(resource.replace(/^\//, ""))
        ? resource.replace(/^\//, "")
        : "other";
      requests.inc({ resource: r, method, status: String(status) });
      latency.observe({ resource: r, method }, seconds);
    },
    jobEnded(kind, outcome, seconds) {
      jobs.inc({ kind, outcome });
      jobLatency.observe({ kind }, seconds);
    },
    digicert: {
      call({ platform, method, endpoint, status, seconds }) {
        digicertCalls.inc({ platform, method, endpoint, status: String(status) });
        if (status !== "circuit_open") digicertLatency.observe({ platform, method, endpoint }, seconds);
      },
      pacing: {
        waited(seconds) {
          rateWait.observe(seconds);
        },
      },
    },
    adopted() {
      adoptions.inc();
    },
    backPressureRejected() {
      backPressure.inc();
    },
  };
}
