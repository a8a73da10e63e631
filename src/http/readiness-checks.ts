// What /readyz checks on a whole bridge, and what it may say about each failure to an unauthenticated caller: no
// hostnames, no configuration, no secret.
import type { ClosableDigiCertClient } from "../digicert";
import { isDigiCertError } from "../digicert/errors";
import { withCallCause } from "../digicert/observer";
import type { OutboxStats } from "../provisioning/records";
import type { ReadinessCheck } from "./health";

export interface BridgeReadinessDeps {
  store: { ping(): Promise<void> };
  outboxStats: () => Promise<OutboxStats>;
  digicert: ClosableDigiCertClient;
  /** DRY_RUN: said on every answer, so nobody mistakes a dry run for the real thing. */
  dryRun: boolean;
  /** OUTBOX_MAX_PENDING (0 = no bound). */
  maxPending: number;
  /** REDIS_URL is set: the DigiCert rate budget is shared through Redis. */
  sharedRateBudget: boolean;
}

/** How long /readyz waits for DigiCert's answer (Kubernetes probes here time out after 5 s). */
export const DIGICERT_CHECK_BUDGET_MS = 1000;

const refusedKey = (err: unknown) => isDigiCertError(err) && (err.kind === "auth" || err.kind === "forbidden");

function describeDigiCertFailure(err: unknown, digicert: ClosableDigiCertClient): string {
  const circuit = digicert.circuit?.();
  if (circuit?.state === "open") return `DigiCert circuit open after repeated failures, until ${circuit.openUntil ?? "the cool-down ends"}`;
  if (refusedKey(err)) return "DigiCert refused the API key or its permissions";
  if (isDigiCertError(err) && err.kind === "rate_limited") return "DigiCert is rate limiting";
  return "DigiCert is unreachable or failing";
}

function digicertCheck(digicert: ClosableDigiCertClient): ReadinessCheck {
  return {
    name: "digicert",
    // DigiCert down is degraded, not unready: writes still go into the outbox and drain when it is back, so a load
    // balancer must keep sending them. A refused API key is unready: nothing the bridge does can land.
    check: async () => {
      if (digicert.circuit?.().state === "open") return { degraded: `${describeDigiCertFailure(null, digicert)}; changes are queued` };
      try {
        await withCallCause({ origin: "readiness check" }, () => digicert.ping());
      } catch (err) {
        if (refusedKey(err)) throw err;
        return { degraded: `${describeDigiCertFailure(err, digicert)}; changes are queued` };
      }
    },
    describe: (err) => describeDigiCertFailure(err, digicert),
    // A DigiCert that answers slowly (up to DIGICERT_TIMEOUT_MS, with retries) must not hold /readyz past a
    // probe's timeout: past this the answer is the last known state, degraded and stale.
    budgetMs: DIGICERT_CHECK_BUDGET_MS,
  };
}

function outboxCheck(stats: () => Promise<OutboxStats>, maxPending: number): ReadinessCheck {
  return {
    name: "outbox",
    cacheMs: 0,
    check: async () => {
      const s = await stats();
      const waiting = s.pending + s.running;
      const age = s.oldestUnfinished ? Math.round((Date.now() - Date.parse(s.oldestUnfinished)) / 1000) : 0;
      const problems = [
        ...(s.failed ? [`${s.failed} failed job${s.failed > 1 ? "s" : ""} (digicert-scim outbox list --status failed)`] : []),
        ...(maxPending > 0 && waiting >= maxPending ? [`${waiting} jobs waiting: writes get 429`] : []),
      ];
      if (problems.length) return { degraded: `${problems.join("; ")}; oldest unfinished ${age} s` };
    },
    describe: () => "the outbox cannot be read",
  };
}

/** Local state, read on every request: a deactivation route DigiCert refused, so deactivation deletes; say so. */
function deactivationCheck(digicert: ClosableDigiCertClient): ReadinessCheck {
  return {
    name: "deactivation",
    cacheMs: 0,
    check: async () => {
      const d = digicert.deactivation?.();
      if (d && d.effective !== d.configured) return { degraded: `ONE_DEACTIVATE=${d.configured}: ${d.detail ?? `the ${d.configured} route is refused`}` };
    },
    describe: () => "the deactivation mode is unknown",
  };
}

/** Local state, read on every request: while Redis is unreachable this replica paces alone at its share. */
function rateLimitCheck(digicert: ClosableDigiCertClient): ReadinessCheck {
  return {
    name: "ratelimit",
    cacheMs: 0,
    check: async () => {
      // Unauthenticated callers see this: no BRIDGE_REPLICAS value (the pacer's warning in the log has it).
      if (digicert.pacing().mode === "fallback") {
        return { degraded: "Redis unreachable: this replica paces DigiCert calls alone at its share of the rate limit" };
      }
    },
    describe: () => "the rate limiter state is unknown",
  };
}

const dryRunCheck: ReadinessCheck = {
  name: "dryrun",
  cacheMs: 0,
  check: async () => ({ degraded: "DRY_RUN: nothing is written to DigiCert; would-be calls are in the audit trail (digicert-scim plan)" }),
  describe: () => "dry-run",
};

export function bridgeReadinessChecks(deps: BridgeReadinessDeps): ReadinessCheck[] {
  const { digicert } = deps;
  // A deactivation that can fall back (ONE_DEACTIVATE=disable) is watched; one that cannot has nothing to report.
  const fallibleDeactivation = (digicert.deactivation?.().configured ?? "delete") !== "delete";
  return [
    { name: "store", check: () => deps.store.ping(), describe: () => "the store does not answer" },
    ...(deps.dryRun ? [dryRunCheck] : []),
    digicertCheck(digicert),
    outboxCheck(deps.outboxStats, deps.maxPending),
    ...(fallibleDeactivation ? [deactivationCheck(digicert)] : []),
    ...(deps.sharedRateBudget ? [rateLimitCheck(digicert)] : []),
  ];
}
