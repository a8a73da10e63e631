import type { Request, Response } from "express";

export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

const CACHE_MS = 30_000;

/**
 * /readyz runs each check at most every 30 s (DigiCert's rate budget is precious) and answers 503 when any fails.
 * Details say only ok/failed and a safe message, never configuration.
 */
export function readiness(checks: ReadinessCheck[], now: () => number = Date.now) {
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
            entry = { at: now(), ok: false, error: (err as Error).message };
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
