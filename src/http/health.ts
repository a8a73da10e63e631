import type { Request, Response } from "express";
import type { Logger } from "../log/logger";

export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
  /** What an unauthenticated caller may see about a failure: no hostnames, no configuration. */
  describe(err: unknown): string;
}

const CACHE_MS = 30_000;

/**
 * /readyz runs each check at most every 30 s (DigiCert's rate budget is precious) and answers 503 when any fails.
 * Details say only ok/failed and a safe message; the full error goes to the log.
 */
export function readiness(checks: ReadinessCheck[], logger: Logger, now: () => number = Date.now) {
  const cache = new Map<string, { at: number; ok: boolean; error?: string }>();
  return async (_req: Request, res: Response): Promise<void> => {
    const components: Record<string, { status: string; error?: string }> = {};
    await Promise.all(
      checks.map(async (c) => {
        let entry = cache.get(c.name);
        if (!entry || now() - entry.at >= CACHE_MS) {
          try {
            await c.check();
            entry = { at: now(), ok: true };
          } catch (err) {
            logger.warn("readiness check failed", { component: c.name, error: (err as Error)?.message });
            entry = { at: now(), ok: false, error: c.describe(err) };
          }
          cache.set(c.name, entry);
        }
        components[c.name] = entry.ok ? { status: "ok" } : { status: "failed", error: entry.error };
      }),
    );
    const ready = Object.values(components).every((c) => c.status === "ok");
    res.status(ready ? 200 : 503).json({ status: ready ? "ready" : "not ready", components });
  };
}

export function liveness(_req: Request, res: Response): void {
  res.json({ status: "ok" });
}
