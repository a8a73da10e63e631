// Splitting long id lists so every statement stays well below both dialects' bound-parameter limits.

/** Ids per `IN (…)` list, and rows per multi-row insert of narrow rows. */
export const IN_CHUNK = 500;

export function* chunksOf<T>(items: readonly T[], size: number = IN_CHUNK): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

/** The distinct items, in first-seen order. */
export function distinct<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}
