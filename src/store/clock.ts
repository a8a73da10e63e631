// Timestamps for created/lastModified. A process-wide monotonic clock: two writes within the same millisecond
// still get distinct, increasing values, and a wall clock stepping back never makes lastModified go back.

let last = 0;

/** ISO-8601 with milliseconds, strictly later than every earlier call and than `notBefore` when given. */
export function nextTimestamp(notBefore?: string): string {
  let t = Date.now();
  if (t <= last) t = last + 1;
  if (notBefore !== undefined) {
    const floor = Date.parse(notBefore);
    if (Number.isFinite(floor) && t <= floor) t = floor + 1;
  }
  last = t;
  return new Date(t).toISOString();
}
