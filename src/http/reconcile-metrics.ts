// Reconciliation gauges on the app's registry, read from the newest stored report on each scrape: every replica
// reports the same figures whichever of them (or the CLI) ran the reconciliation.
import { Gauge, type Registry } from "prom-client";
import { DRIFT_KINDS, type ReconcileReportSummary } from "../provisioning/drift";

export type ReconcileReportSource = () => Promise<ReconcileReportSummary | null>;

export function registerReconcileMetrics(registry: Registry, latest: ReconcileReportSource): void {
  // One store read per scrape, shared by both gauges (the registry collects them concurrently).
  let last: ReconcileReportSummary | null = null;
  let inFlight: Promise<ReconcileReportSummary | null> | null = null;
  const read = () =>
    (inFlight ??= latest()
      .then((r) => (last = r))
      .catch(() => last)
      .finally(() => setImmediate(() => (inFlight = null))));
  new Gauge({
    name: "reconcile_drift_users",
    help: "Users found drifted by the last reconciliation, by kind (missing, deactivated_by_hand, reactivated_by_hand, roles_changed, profile_changed, not_provisioned, unmanaged)",
    labelNames: ["kind"],
    registers: [registry],
    async collect() {
      const r = await read();
      if (!r) return;
      for (const kind of DRIFT_KINDS) this.set({ kind }, r.counts[kind] ?? 0);
    },
  });
  new Gauge({
    name: "reconcile_last_run_timestamp_seconds",
    help: "When the last reconciliation finished (Unix time); absent before the first",
    registers: [registry],
    async collect() {
      const r = await read();
      if (r) this.set(Date.parse(r.finishedAt) / 1000);
    },
  });
}
