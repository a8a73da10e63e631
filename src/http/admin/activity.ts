// What the status page shows of DigiCert traffic, kept in memory by this replica: a ring of the latest DigiCert
// calls with who caused them (the outbox job, its user and the SCIM request that queued it; see
// digicert/observer.ts withCallCause), and a per-minute series of the last hour (calls made, outbox depth) for the
// page's chart. Nothing here is shared between replicas or survives a restart.
import type { DigiCertCallObservation } from "../../digicert/observer";

export const RECENT_CALLS_KEPT = 50;
export const SERIES_MINUTES = 60;
const MINUTE_MS = 60_000;

export interface RecentCallView {
  at: string;
  method: string;
  endpoint: string;
  /** DigiCert's HTTP status, or network / timeout / circuit_open. */
  status: number | string;
  ms: number;
  /** Who caused it; null when nobody said (the role list refresh at start, for instance). */
  cause: { origin: string; requestId: string | null; jobId: number | null; userId: string | null; userName: string | null } | null;
}

export interface MinutePoint {
  /** Start of the minute (ISO). */
  minute: string;
  /** DigiCert calls sent by this replica in that minute (retries included; calls the open circuit refused excluded). */
  calls: number;
  /** The deepest the outbox was seen in that minute (pending + running, all replicas); null when not sampled. */
  outboxDepth: number | null;
}

export interface DigiCertActivityView {
  recentCalls: RecentCallView[];
  /** The last SERIES_MINUTES minutes, oldest first, the current (partial) minute last. */
  series: MinutePoint[];
  /** DIGICERT_RATE_LIMIT as calls per minute (its strictest window, for the whole API key). */
  limitPerMinute: number;
}

/** What the status page reads (DigiCertActivity has it). */
export interface ActivitySource {
  view(): DigiCertActivityView;
  /** Outbox depth seen now (the page's own read counts as a sample). */
  sampleDepth(depth: number): void;
}

interface Bucket {
  calls: number;
  depth: number | null;
}

export class DigiCertActivity implements ActivitySource {
  private readonly ring: RecentCallView[] = [];
  private readonly buckets = new Map<number, Bucket>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly opts: { limitPerMinute: number; capacity?: number; now?: () => number },
  ) {}

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private bucket(at: number): Bucket {
    const key = Math.floor(at / MINUTE_MS) * MINUTE_MS;
    let b = this.buckets.get(key);
    if (!b) {
      b = { calls: 0, depth: null };
      this.buckets.set(key, b);
      const oldest = key - SERIES_MINUTES * MINUTE_MS;
      for (const k of this.buckets.keys()) if (k <= oldest) this.buckets.delete(k);
    }
    return b;
  }

  /** A DigiCert call attempt ended (the client's onCall hook). */
  call(c: DigiCertCallObservation): void {
    const at = this.now();
    if (c.status !== "circuit_open") this.bucket(at).calls++;
    const cause = c.cause
      ? {
          origin: c.cause.origin,
          requestId: c.cause.requestId ?? null,
          jobId: c.cause.jobId ?? null,
          userId: c.cause.userId ?? null,
          userName: c.cause.userName ?? null,
        }
      : null;
    this.ring.push({ at: new Date(at).toISOString(), method: c.method, endpoint: c.endpoint, status: c.status, ms: Math.round(c.seconds * 1000), cause });
    const capacity = this.opts.capacity ?? RECENT_CALLS_KEPT;
    if (this.ring.length > capacity) this.ring.splice(0, this.ring.length - capacity);
  }

  sampleDepth(depth: number): void {
    const b = this.bucket(this.now());
    b.depth = Math.max(b.depth ?? 0, depth);
  }

  /** Samples the outbox depth every `intervalMs` (unref'd); returns the stop function. */
  startSampling(depth: () => Promise<number>, intervalMs = 15_000): () => void {
    const tick = () =>
      void depth().then(
        (d) => this.sampleDepth(d),
        () => undefined,
      );
    tick();
    this.timer = setInterval(tick, intervalMs);
    this.timer.unref();
    return () => {
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
    };
  }

  view(): DigiCertActivityView {
    const current = Math.floor(this.now() / MINUTE_MS) * MINUTE_MS;
    const series: MinutePoint[] = [];
    for (let i = SERIES_MINUTES - 1; i >= 0; i--) {
      const key = current - i * MINUTE_MS;
      const b = this.buckets.get(key);
      series.push({ minute: new Date(key).toISOString(), calls: b?.calls ?? 0, outboxDepth: b?.depth ?? null });
    }
    return { recentCalls: [...this.ring].reverse(), series, limitPerMinute: Math.floor(this.opts.limitPerMinute) };
  }
}
