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

/**
 * Where a component belongs: the bridge as a whole and the default tenant's primary target keep the bare names
 * (`digicert`, `outbox`…, as before tenants), every other target's are `<name>:<tenant>/<target>` and another tenant's
 * own `<name>:<tenant>`. Tenant ids and target names are the operator's own words from TENANTS_FILE, never a host.
 */
export interface CheckScope {
  tenant: string;
  /** Absent for what is the tenant's as a whole (dryrun). */
  target?: string;
}

export const DEFAULT_TENANT_ID = "default";

export function componentName(base: string, scope?: CheckScope): string {
  return scope ? `${base}:${scope.tenant}${scope.target !== undefined ? `/${scope.target}` : ""}` : base;
}

/** The tenant a component is about (null: the whole bridge, e.g. `store`), from its name (componentName). */
export function componentTenant(name: string): string | null {
  const m = /^[^:]+:([^/]+)(?:\/.*)?$/.exec(name);
  if (m) return m[1];
  return name === "store" ? null : DEFAULT_TENANT_ID;
}

function digicertCheck(digicert: ClosableDigiCertClient, scope?: CheckScope): ReadinessCheck {
  return {
    name: componentName("digicert", scope),
    // DigiCert down is degraded, not unready: writes still go into the outbox and drain when it is back, so a load
    // balancer must keep sending them. A refused API key of the default tenant's primary target is unready: nothing
    // the bridge does for it can land. Any other target's is degraded only: one tenant's bad key must not take every
    // tenant's SCIM surface out of the load balancer.
    check: async () => {
      if (digicert.circuit?.().state === "open") return { degraded: `${describeDigiCertFailure(null, digicert)}; changes are queued` };
      try {
        await withCallCause({ origin: scope ? `readiness check (${scope.tenant}/${scope.target})` : "readiness check" }, () => digicert.ping());
      } catch (err) {
        if (refusedKey(err) && !scope) throw err;
        if (refusedKey(err)) return { degraded: `${describeDigiCertFailure(err, digicert)}: this target's changes wait in its outbox until the key is fixed; the other tenants are not affected` };
        return { degraded: `${describeDigiCertFailure(err, digicert)}; changes are queued` };
      }
    },
    describe: (err) => describeDigiCertFailure(err, digicert),
    // A DigiCert that answers slowly (up to DIGICERT_TIMEOUT_MS, with retries) must not hold /readyz past a
    // probe's timeout: past this the answer is the last known state, degraded and stale.
    budgetMs: DIGICERT_CHECK_BUDGET_MS,
  };
}

function outboxCheck(stats: () => Promise<OutboxStats>, maxPending: number, scope?: CheckScope): ReadinessCheck {
  return {
    name: componentName("outbox", scope),
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
function deactivationCheck(digicert: ClosableDigiCertClient, scope?: CheckScope): ReadinessCheck {
  return {
    name: componentName("deactivation", scope),
    cacheMs: 0,
    check: async () => {
      const d = digicert.deactivation?.();
      if (d && d.effective !== d.configured) return { degraded: `ONE_DEACTIVATE=${d.configured}: ${d.detail ?? `the ${d.configured} route is refused`}` };
    },
    describe: () => "the deactivation mode is unknown",
  };
}

/** Local state, read on every request: while Redis is unreachable this replica paces alone at its share. */
function rateLimitCheck(digicert: ClosableDigiCertClient, scope?: CheckScope): ReadinessCheck {
  return {
    name: componentName("ratelimit", scope),
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

function dryRunCheck(scope?: CheckScope): ReadinessCheck {
  return {
    name: componentName("dryrun", scope),
    cacheMs: 0,
    check: async () => ({ degraded: "DRY_RUN: nothing is written to DigiCert; would-be calls are in the audit trail (digicert-scim plan)" }),
    describe: () => "dry-run",
  };
}

export const storeCheck = (store: { ping(): Promise<void> }): ReadinessCheck => ({
  name: "store",
  check: () => store.ping(),
  describe: () => "the store does not answer",
});

/** One DigiCert target's checks: its client, its outbox, its deactivation mode and where its calls are paced. */
export function targetReadinessChecks(deps: Omit<BridgeReadinessDeps, "store" | "dryRun">, scope?: CheckScope): ReadinessCheck[] {
  const { digicert } = deps;
  // A deactivation that can fall back (ONE_DEACTIVATE=disable) is watched; one that cannot has nothing to report.
  const fallibleDeactivation = (digicert.deactivation?.().configured ?? "delete") !== "delete";
  return [
    digicertCheck(digicert, scope),
    outboxCheck(deps.outboxStats, deps.maxPending, scope),
    ...(fallibleDeactivation ? [deactivationCheck(digicert, scope)] : []),
    ...(deps.sharedRateBudget ? [rateLimitCheck(digicert, scope)] : []),
  ];
}

/** A tenant's DRY_RUN, said on every answer; `scope` for any tenant but the default one. */
export function tenantDryRunCheck(scope?: CheckScope): ReadinessCheck {
  return dryRunCheck(scope);
}

/** The store and the default tenant's primary target (the names /readyz has always had). */
export function bridgeReadinessChecks(deps: BridgeReadinessDeps): ReadinessCheck[] {
  const [digicert, ...rest] = targetReadinessChecks(deps);
  return [storeCheck(deps.store), ...(deps.dryRun ? [dryRunCheck()] : []), digicert, ...rest];
}
