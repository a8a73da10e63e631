// Durations in the environment: "<number><unit>" with unit ms, s, m, h or d, e.g. 6h, 30m, 1.5h.
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds, or throws an Error saying what is wrong. */
export function parseDuration(spec: string, bounds: { minMs: number; maxMs: number }): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/i.exec(spec);
  if (!m) throw new Error(`"${spec}" is not a duration such as 6h, 30m or 90s (units ms, s, m, h, d)`);
  const ms = Math.round(Number(m[1]) * UNIT_MS[m[2].toLowerCase()]);
  if (ms < bounds.minMs || ms > bounds.maxMs) {
    throw new Error(`must be between ${describe(bounds.minMs)} and ${describe(bounds.maxMs)}; got ${spec.trim()}`);
  }
  return ms;
}

function describe(ms: number): string {
  for (const [unit, size] of [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], ["s", 1000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
