import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface HttpMetrics {
  registry: Registry;
  observe(resource: string, method: string, status: number, seconds: number): void;
  /** An outbox job ended: done, retry (rescheduled) or failed. */
  jobEnded(kind: string, outcome: "done" | "retry" | "failed", seconds: number): void;
}

/** What the outbox gauges read on each scrape. */
export type OutboxGaugeSource = () => Promise<{ pending: number; running: number; failed: number; oldestUnfinished: string | null }>;

/** One registry per app, so tests can build several apps in one process without clashing names. */
export function createMetrics(outbox?: OutboxGaugeSource): HttpMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
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
    let last: Awaited<ReturnType<OutboxGaugeSource>> | null = null;
    const read = async () => {
      last = await outbox().catch(() => last);
      return last;
    };
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
      collect() {
        const oldest = last?.oldestUnfinished;
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
  return {
    registry,
    observe(resource, method, status, seconds) {
      // Unknown paths would otherwise blow up label cardinality.
      const r = /^(Users|Groups|Schemas|ResourceTypes|ServiceProviderConfig|healthz|readyz|metrics)$/.test(resource.replace(/^\//, ""))
        ? resource.replace(/^\//, "")
        : "other";
      requests.inc({ resource: r, method, status: String(status) });
      latency.observe({ resource: r, method }, seconds);
    },
    jobEnded(kind, outcome, seconds) {
      jobs.inc({ kind, outcome });
      jobLatency.observe({ kind }, seconds);
    },
  };
}
