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
}

const CACHE_MS = 30_000;

export type Component = { status: "ok" } | { status: "degraded"; detail: string } | { status: "failed"; error: string };

/** What /readyz answers (and the status page shows): the bridge is ready unless a component failed. */
export interface ReadinessReport {
  status: "ready" | "not ready";
  components: Record<string, Component>;
}

/**
 * Runs the readiness checks, each at most every 30 s (DigiCert's rate budget is precious; a check may ask for
 * less), and reports every component; a degraded component is reported but leaves the bridge ready. Details say
 * only ok/degraded/failed and a safe message; the full error goes to the log. One probe (one cache) serves both
 * /readyz and the status page, so showing the page never costs an extra DigiCert call.
 */
export function readinessProbe(checks: ReadinessCheck[], logger: Logger, now: () => number = Date.now): () => Promise<ReadinessReport> {
  const cache = new Map<string, { at: number; component: Component }>();
  return async () => {
    const components: Record<string, Component> = {};
    await Promise.all(
      checks.map(async (c) => {
        let entry = cache.get(c.name);
        if (!entry || now() - entry.at >= (c.cacheMs ?? CACHE_MS)) {
          let component: Component;
          try {
            const result = await c.check();
            component = result && typeof result.degraded === "string" ? { status: "degraded", detail: result.degraded } : { status: "ok" };
          } catch (err) {
            logger.warn("readiness check failed", { component: c.name, error: (err as Error)?.message });
            component = { status: "failed", error: c.describe(err) };
          }
          entry = { at: now(), component };
          cache.set(c.name, entry);
        }
        components[c.name] = entry.component;
      }),
    );
    // Components in the order the checks are listed, whichever finished first.
    const ordered = Object.fromEntries(checks.filter((c) => c.name in components).map((c) => [c.name, components[c.name]]));
    const ready = Object.values(ordered).every((c) => c.status !== "failed");
    return { status: ready ? "ready" : "not ready", components: ordered };
  };
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
