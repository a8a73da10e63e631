import type { Request, Response } from "express";
import type { Logger } from "../log/logger";

/** What a check found when it did not throw: nothing (ok), or a reduced mode the bridge stays ready in. */
export type CheckResult = void | { degraded: string };

export interface ReadinessCheck {
  name: string;
  /**
   * Throws when the component is not ready. May resolve to `{ degraded }` when it works in a reduced mode: the
   * bridge stays ready (200) and the component says so; the message is shown as is (no hostnames, no configuration).
   */
  check(): Promise<CheckResult>;
  /** What an unauthenticated caller may see about a failure: no hostnames, no configuration. */
  describe(err: unknown): string;
  /** How long a result is reused, default 30 s; 0 for checks that only read local state (run on every request). */
  cacheMs?: number;
  /**
   * How long a probe waits for this check (default: until it ends). Past it the probe answers from the last known
   * state, marked `stale` and at best `degraded`, and the check goes on in the background: its result is kept for
   * the next probe. For checks that call out (DigiCert), so /readyz answers within a load balancer's timeout.
   */
  budgetMs?: number;
}

const CACHE_MS = 30_000;

/** `stale`: the check did not answer within its budget; this is its last known state (see ReadinessCheck.budgetMs). */
export type Component =
  | { status: "ok" }
  | { status: "degraded"; detail: string; stale?: true }
  | { status: "failed"; error: string; stale?: true };

/** What /readyz answers (and the status page shows): the bridge is ready unless a component failed. */
export interface ReadinessReport {
  status: "ready" | "not ready";
  components: Record<string, Component>;
}

/**
 * Runs the readiness checks, each at most every 30 s (DigiCert's rate budget is precious; a check may ask for
 * less), and reports every component; a degraded component is reported but leaves the bridge ready. A check with a
 * budget that runs past it is reported from its last known state, `stale`, and finishes in the background. Details say
 * only ok/degraded/failed and a safe message; the full error goes to the log. One probe (one cache) serves both
 * /readyz and the status page, so showing the page never costs an extra DigiCert call.
 */
export function readinessProbe(checks: ReadinessCheck[], logger: Logger, now: () => number = Date.now): () => Promise<ReadinessReport> {
  const cache = new Map<string, { at: number; component: Component }>();
  // One run of a check at a time, whatever the number of probes waiting on it (DigiCert's budget is precious).
  const running = new Map<string, Promise<Component>>();

  const runCheck = async (c: ReadinessCheck): Promise<Component> => {
    try {
      const result = await c.check();
      return result && typeof result.degraded === "string" ? { status: "degraded", detail: result.degraded } : { status: "ok" };
    } catch (err) {
      logger.warn("readiness check failed", { component: c.name, error: (err as Error)?.message });
      return { status: "failed", error: c.describe(err) };
    }
  };

  const refresh = (c: ReadinessCheck): Promise<Component> => {
    let run = running.get(c.name);
    if (!run) {
      run = runCheck(c).then((component) => {
        cache.set(c.name, { at: now(), component });
        running.delete(c.name);
        return component;
      });
      running.set(c.name, run);
    }
    return run;
  };

  /** What a check that ran past its budget is reported as: its last known state, never better than degraded. */
  const overdue = (c: ReadinessCheck, last: { at: number; component: Component } | undefined): Component => {
    const slow = `no answer within ${formatMs(c.budgetMs!)}`;
    if (!last) return { status: "degraded", detail: `${slow}; not checked yet`, stale: true };
    const age = `${Math.round((now() - last.at) / 1000)} s ago`;
    const known = last.component;
    if (known.status === "failed") return { ...known, stale: true };
    const was = known.status === "ok" ? "ok" : known.detail;
    return { status: "degraded", detail: `${slow}; last known (${age}): ${was}`, stale: true };
  };

  return async () => {
    const components: Record<string, Component> = {};
    await Promise.all(
      checks.map(async (c) => {
        const entry = cache.get(c.name);
        if (entry && now() - entry.at < (c.cacheMs ?? CACHE_MS)) {
          components[c.name] = entry.component;
          return;
        }
        const run = refresh(c);
        const component = c.budgetMs === undefined ? await run : await within(run, c.budgetMs);
        components[c.name] = component ?? overdue(c, entry);
      }),
    );
    // Components in the order the checks are listed, whichever finished first.
    const ordered = Object.fromEntries(checks.filter((c) => c.name in components).map((c) => [c.name, components[c.name]]));
    const ready = Object.values(ordered).every((c) => c.status !== "failed");
    return { status: ready ? "ready" : "not ready", components: ordered };
  };
}

/** `p`'s value, or undefined once `ms` have passed (`p` goes on). */
async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** /readyz: 503 when any component failed, else 200. */
export function serveReadiness(probe: () => Promise<ReadinessReport>) {
  return async (_req: Request, res: Response): Promise<void> => {
    const report = await probe();
    res.status(report.status === "ready" ? 200 : 503).json(report);
  };
}

export function readiness(checks: ReadinessCheck[], logger: Logger, now: () => number = Date.now) {
  return serveReadiness(readinessProbe(checks, logger, now));
}

export function liveness(_req: Request, res: Response): void {
  res.json({ status: "ok" });
}
