// Reconciliation gauges on the app's registry, read from the newest stored report of each tenant's target on each
// scrape: every replica reports the same figures whichever of them (or the CLI) ran the reconciliation.
import { Gauge, type Registry } from "prom-client";
import { DRIFT_KINDS, type ReconcileReportSummary } from "../provisioning/drift";

export type ReconcileReportSource = () => Promise<ReconcileReportSummary | null>;

/** One target's stored reports, with the labels its series carry. */
export interface LabelledReconcileSource {
  tenant: string;
  target: string;
  latest: ReconcileReportSource;
}

/** One store read per scrape, shared by both gauges (the registry collects them concurrently). */
function sharedRead(latest: ReconcileReportSource): () => Promise<ReconcileReportSummary | null> {
  let last: ReconcileReportSummary | null = null;
  let inFlight: Promise<ReconcileReportSummary | null> | null = null;
  return () =>
    (inFlight ??= latest()
      .then((r) => (last = r))
      .catch(() => last)
      .finally(() => setImmediate(() => (inFlight = null))));
}

/** `sources` is read on each scrape (the tenants are added after the registry is built). */
export function registerReconcileMetrics(registry: Registry, sources: () => LabelledReconcileSource[]): void {
  const readers = new Map<ReconcileReportSource, () => Promise<ReconcileReportSummary | null>>();
  const reports = () =>
    Promise.all(
      sources().map(async (s) => {
        let read = readers.get(s.latest);
        if (!read) readers.set(s.latest, (read = sharedRead(s.latest)));
        return { labels: { tenant: s.tenant, target: s.target }, report: await read() };
      }),
    );
  new Gauge({
    name: "reconcile_drift_users",
    help: "Users of a tenant's target found drifted by its last reconciliation, by kind (missing, deactivated_by_hand, reactivated_by_hand, roles_changed, profile_changed, not_provisioned, unmanaged)",
    labelNames: ["tenant", "target", "kind"],
    registers: [registry],
    async collect() {
      for (const { labels, report } of await reports()) {
        if (!report) continue;
        for (const kind of DRIFT_KINDS) this.set({ ...labels, kind }, report.counts[kind] ?? 0);
      }
    },
  });
  new Gauge({
    name: "reconcile_last_run_timestamp_seconds",
    help: "When the last reconciliation of a tenant's target finished (Unix time); absent before the first",
    labelNames: ["tenant", "target"],
    registers: [registry],
    async collect() {
      for (const { labels, report } of await reports()) if (report) this.set(labels, Date.parse(report.finishedAt) / 1000);
    },
  });
}
