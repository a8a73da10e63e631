// Back-pressure's verdict: whether the outbox toward DigiCert can take another write now.

/** What the outbox worker reports about its queue (OutboxWorker.stats). */
export interface QueueDepth {
  pending: number;
  running: number;
  /** Jobs finished per second lately. */
  drainPerSecond: number;
}

/** Refusal of a write: how deep the queue is and how long the client should wait. */
export interface WriteRefusal {
  pending: number;
  retryAfterSeconds: number;
}

/** The longest Retry-After: the estimate is rough, and an IdP told to wait too long stalls when the outbox drains quickly. */
const MAX_RETRY_AFTER_S = 60;

/**
 * Refuses writes while the outbox holds `maxPending` unfinished jobs or more (0 = never); Retry-After is the time
 * to drain back under the bound at the current rate.
 */
export function outboxAdmission(depth: () => Promise<QueueDepth>, maxPending: number): () => Promise<WriteRefusal | null> {
  return async () => {
    if (maxPending <= 0) return null;
    const stats = await depth();
    const pending = stats.pending + stats.running;
    if (pending < maxPending) return null;
    const seconds = Math.ceil((pending - maxPending + 1) / Math.max(0.01, stats.drainPerSecond));
    return { pending, retryAfterSeconds: Math.min(MAX_RETRY_AFTER_S, Math.max(1, seconds)) };
  };
}
