// Fault injection and rolling-window rate limiting for the simulator.
import type { FailSpec, RateWindowSpec, SimPlatform } from "./types";

interface Armed extends FailSpec {
  remaining: number;
}

export class FaultBook {
  private armed: Armed[] = [];

  add(spec: FailSpec): void {
    this.armed.push({ ...spec, remaining: spec.times ?? 1 });
  }

  clear(): void {
    this.armed = [];
  }

  /** The first armed fault matching this request, consumed once. */
  take(platform: SimPlatform, method: string, path: string): FailSpec | undefined {
    const f = this.armed.find(
      (a) =>
        a.remaining > 0 &&
        (!a.platform || a.platform === platform) &&
        (!a.method || a.method.toUpperCase() === method) &&
        (!a.path || a.path.test(path)),
    );
    if (!f) return undefined;
    f.remaining--;
    if (f.remaining <= 0) this.armed = this.armed.filter((a) => a !== f);
    return f;
  }
}

/** Rolling windows; only admitted requests count (doc §A.9 ASSUMPTION). */
export class RollingLimiter {
  private admitted: number[] = [];

  constructor(private readonly windows: RateWindowSpec[]) {}

  admit(now: number): { ok: true } | { ok: false; retryAfterMs: number } {
    const longest = Math.max(...this.windows.map((w) => w.windowMs));
    this.admitted = this.admitted.filter((t) => now - t < longest);
    for (const w of this.windows) {
      const inWindow = this.admitted.filter((t) => now - t < w.windowMs);
      if (inWindow.length >= w.count) return { ok: false, retryAfterMs: inWindow[0] + w.windowMs - now };
    }
    this.admitted.push(now);
    return { ok: true };
  }

  clear(): void {
    this.admitted = [];
  }
}

/** Largest number of timestamps inside any half-open window [t, t + windowMs). */
export function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; j < sorted.length; j++) {
    while (sorted[j] - sorted[i] >= windowMs) i++;
    best = Math.max(best, j - i + 1);
  }
  return best;
}
