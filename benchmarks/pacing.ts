// 3. Bulk import pacing: 10,000 user creates from an IdP against the DigiCert simulator enforcing CertCentral's
// published limits compressed ten times in time (100 per 5 s and 1,000 per 3 min become 100 per 0.5 s and 1,000
// per 18 s: the same shape). Reports how much of DigiCert's rate the bridge uses, whether DigiCert ever had to
// answer 429, whether every user was created exactly once, and the total time against the least the limits allow.
import { fmt, sleep, type Benchmark } from "./lib/context";
import { BENCH_TOKEN, oktaUserBody } from "./lib/dataset";
import { startDigiCert } from "./lib/digicert";
import { startBridge } from "./lib/processes";
import { freshStore } from "./lib/stores";
import type { RateWindowSpec } from "../src/simulator/types";
import { planBucket } from "../src/digicert/pacing";

const COMPRESSION = 10;
const LIMITS: RateWindowSpec[] = [
  { count: 100, windowMs: 5_000 / COMPRESSION },
  { count: 1000, windowMs: 180_000 / COMPRESSION },
];
/** Okta's default: up to 25 requests in flight per app (the flood test's concurrency). */
const CONCURRENCY = 25;

/**
 * The least time `calls` calls can take under every rolling window (no more than `count` in any `windowMs`):
 * call k may go no earlier than call k-count plus windowMs. Time from the first call to the last, ms.
 */
export function theoreticalMinimumMs(calls: number, windows: RateWindowSpec[]): number {
  const t: number[] = [];
  for (let k = 0; k < calls; k++) {
    let at = 0;
    for (const w of windows) if (k >= w.count) at = Math.max(at, t[k - w.count] + w.windowMs);
    t.push(at);
  }
  return calls ? t[calls - 1] : 0;
}

/** Calls per second the tightest window allows in the long run. */
export function sustainedRate(windows: RateWindowSpec[]): number {
  return Math.min(...windows.map((w) => w.count / (w.windowMs / 1000)));
}

/** Gaps between consecutive calls (ms stamps, sorted): stalls (over three times the spacing) and the time they took beyond it, the narrowest gap. */
export function spacingGaps(times: number[], intervalMs: number): { stalls: number; stallMs: number; minMs: number } {
  let stalls = 0;
  let stallMs = 0;
  let minMs = Infinity;
  for (let i = 1; i < times.length; i++) {
    const gap = times[i] - times[i - 1];
    minMs = Math.min(minMs, gap);
    if (gap > 3 * intervalMs) {
      stalls++;
      stallMs += gap - intervalMs;
    }
  }
  return { stalls, stallMs, minMs: Number.isFinite(minMs) ? minMs : 0 };
}

export const pacing: Benchmark = {
  id: "pacing",
  title: "3. Bulk import pacing",
  budgetMs: (quick) => (quick ? 45_000 : 480_000),
  async run(ctx) {
    const users = ctx.quick ? 500 : 10_000;
    const rateLimit = LIMITS.map((w) => `${w.count}/${w.windowMs}ms`).join(",");
    const limitPerSec = sustainedRate(LIMITS);
    ctx.setup.push(
      `${users.toLocaleString("en-US")} Okta-shaped POST /Users from ${CONCURRENCY} concurrent clients that honour the bridge's 429 Retry-After (as Okta and Entra do)`,
      `DigiCert simulator enforcing ${LIMITS.map((w) => `${w.count} per ${w.windowMs / 1000} s`).join(" and ")} (CertCentral's published 100 per 5 s and 1,000 per 3 min, compressed ${COMPRESSION}× in time; sustained at most ${fmt(limitPerSec)} calls/s); the bridge is told the same (DIGICERT_RATE_LIMIT=${rateLimit})`,
      "bridge defaults otherwise (SYNC_WAIT_MS 5000, OUTBOX_MAX_PENDING 1000, OUTBOX_CONCURRENCY 8, DIGICERT_MAX_CONCURRENT 4), SQLite store",
      "rate = DigiCert calls (all of them) from the first to the last, per second, divided by the sustained limit; theoretical minimum = the earliest the last of that many calls can be made under both windows, bursts included",
    );
    const dc = await startDigiCert(ctx, LIMITS);
    const store = await freshStore(ctx, "sqlite", "pacing");
    const bridge = await startBridge(ctx, "bridge", {
      databaseUrl: store.databaseUrl,
      digicertBaseUrl: dc.baseUrl,
      apiKey: dc.apiKey,
      env: { DIGICERT_RATE_LIMIT: rateLimit, DIGICERT_TIMEOUT_MS: "10000" },
    });
    const runId = Date.now();
    const bodies = Array.from({ length: users }, (_, i) => oktaUserBody(`import${i}.${runId}@bench.example.com`, i));
    const statuses: Record<string, number> = {};
    let backPressured = 0;
    let next = 0;
    let done = 0;
    let acceptedSec = NaN;
    const started = Date.now();
    const progress = setInterval(() => {
      const posts = dc.sim.callsTo("certcentral", "POST", /^\/user$/).length;
      ctx.log(`${done} creates answered (${backPressured} times 429 from the bridge), ${posts} users created in DigiCert, DigiCert 429s ${dc.sim.rateLimitedCount("certcentral")}`);
    }, ctx.quick ? 5_000 : 15_000);
    try {
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < bodies.length) {
            ctx.checkAborted();
            const body = bodies[next++];
            for (;;) {
              const res = await fetch(`${bridge.url}/scim/v2/Users`, {
                method: "POST",
                headers: { authorization: `Bearer ${BENCH_TOKEN}`, "content-type": "application/scim+json" },
                body: JSON.stringify(body),
              });
              await res.arrayBuffer();
              if (res.status !== 429) {
                statuses[res.status] = (statuses[res.status] ?? 0) + 1;
                done++;
                break;
              }
              backPressured++;
              await sleep(Number(res.headers.get("retry-after") ?? 1) * 1000);
            }
          }
        }),
      );
      acceptedSec = (Date.now() - started) / 1000;
      ctx.log(`all ${users} creates answered in ${fmt(acceptedSec)} s; waiting for DigiCert to have them all`);
      // Drained: every user is in DigiCert and no call came for a second.
      for (;;) {
        ctx.checkAborted();
        const posts = dc.sim.callsTo("certcentral", "POST", /^\/user$/).length;
        const last = dc.sim.calls[dc.sim.calls.length - 1]?.at ?? 0;
        if (posts >= users && Date.now() - last > 1000) break;
        await sleep(250);
      }
    } finally {
      clearInterval(progress);
    }
    const calls = dc.sim.calls.filter((c) => c.at >= started);
    const first = calls[0].at;
    const last = calls[calls.length - 1].at;
    const rate = (calls.length - 1) / ((last - first) / 1000);
    const fraction = rate / limitPerSec;
    const totalSec = (last - started) / 1000;
    const minSec = theoreticalMinimumMs(calls.length, LIMITS) / 1000;
    const rejected = dc.sim.rateLimitedCount("certcentral");
    // The bridge's own plan: one call start every intervalMs (every window stretched by its jitter allowance, to the microsecond).
    const plan = planBucket(LIMITS);
    const planned = 1000 / plan.intervalMs;
    const peaks = LIMITS.map((w) => `${dc.sim.observedRate("certcentral", w.windowMs)} of ${w.count} per ${w.windowMs / 1000} s`);
    const names = new Map<string, number>();
    for (const u of dc.sim.listUsers("certcentral")) names.set(String(u.username).toLowerCase(), (names.get(String(u.username).toLowerCase()) ?? 0) + 1);
    const once = bodies.filter((b) => names.get((b.userName as string).toLowerCase()) === 1).length;
    const twice = bodies.filter((b) => (names.get((b.userName as string).toLowerCase()) ?? 0) > 1).length;
    const non201 = Object.entries(statuses).filter(([k]) => k !== "201");
    const gaps = spacingGaps(calls.map((c) => c.at), plan.intervalMs);
    await bridge.stop();

    ctx.figure({
      id: "pacing.rateFraction",
      label: "DigiCert request rate, fraction of the limit",
      value: fraction,
      unit: "",
      target: { op: ">=", value: 0.97 },
      note:
        `${calls.length} calls in ${fmt((last - first) / 1000)} s = ${fmt(rate)}/s against ${fmt(limitPerSec)}/s sustained; peak ${peaks.join(", ")}; ` +
        `the bridge spaces calls ${fmt(plan.intervalMs)} ms apart (${fmt(planned)}/s, ${fmt(planned / limitPerSec)} of the limit) and achieved ${fmt(rate / planned)} of that; ` +
        `${gaps.stalls} gaps over three times the spacing (${fmt(gaps.stallMs / 1000)} s beyond it in all); narrowest gap ${gaps.minMs} ms`,
    });
    ctx.figure({ id: "pacing.digicert429", label: "429s from DigiCert", value: rejected, unit: "", target: { op: "==", value: 0 } });
    ctx.figure({
      id: "pacing.createdOnce",
      label: "users created exactly once",
      value: once,
      unit: `of ${users.toLocaleString("en-US")}`,
      target: { op: "==", value: users },
      note: `${twice} created more than once; SCIM answers ${Object.entries(statuses).map(([k, v]) => `${k}: ${v}`).join(", ")}; ${backPressured} back-pressure 429s from the bridge (retried after Retry-After)`,
    });
    ctx.figure({
      id: "pacing.totalSeconds",
      label: "total time, first request to last DigiCert call",
      value: totalSec,
      unit: "s",
      baseline: minSec,
      ratio: minSec / totalSec,
      note: `theoretical minimum for ${calls.length} calls under both windows: ${fmt(minSec)} s (baseline column); at the sustained limit alone ${fmt(calls.length / limitPerSec)} s; the last SCIM create was answered after ${fmt(acceptedSec)} s`,
    });
    if (non201.length) throw new Error(`creates answered other than 201: ${non201.map(([k, v]) => `${k}: ${v}`).join(", ")}\n${bridge.tail(20)}`);
  },
};
