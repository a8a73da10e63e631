// 2. SCIM edge, writes: creates and PATCHes accepted per second with the outbox on, while DigiCert holds the bridge
// to CertCentral's published limits (1,000 per 3 min, 100 per 5 s: about 5.6 calls per second). An IdP sends
// 25 requests per second (Entra's gallery requirement per tenant) over 20 connections; each kind runs on a fresh
// bridge, store and DigiCert, so one does not inherit the other's queue. Before the load, one write on the idle
// bridge must still be answered with DigiCert's result (the adaptive wait must not give that up).
import { fmt, type Benchmark, type BenchContext } from "./lib/context";
import { BENCH_TOKEN, oktaUserBody, PATCH_OP, userId } from "./lib/dataset";
import { seedDigiCertUsers, startDigiCert } from "./lib/digicert";
import { describeStatuses, runLoad, type LoadResult } from "./lib/load";
import { startBridge } from "./lib/processes";
import { freshStore, seedDirectory } from "./lib/stores";

const CONNECTIONS = 20;
/** Entra's gallery requirement per tenant. */
const REQUIRED_RATE = 25;
/** Offered a fifth above the requirement, so the figure shows whether the bridge keeps up, not what was offered. */
const OFFERED_RATE = 30;
/** CertCentral's published limits, in real time. */
const LIMITS = [
  { count: 1000, windowMs: 180_000 },
  { count: 100, windowMs: 5_000 },
];

interface Phase {
  key: "creates" | "patches";
  label: string;
  method: "POST" | "PATCH";
  next(n: number): { path: string; body: unknown };
}

interface Setting {
  key: string;
  label: string;
  env: Record<string, string>;
}

/** The defaults: SYNC_WAIT_MS 5000 and SYNC_WAIT_QUEUE_MS 1000 (a write waits only behind a queue that drains soon). */
const SETTINGS: Setting[] = [{ key: "default", label: "defaults", env: {} }];
/** p95 the IdP may see while the outbox absorbs its burst. */
const P95_TARGET_MS = 500;
const DC_EXT = "urn:ietf:params:scim:schemas:extension:digicert:2.0:User";

/** One write on the idle bridge: its answer and how long it took. */
async function idleWrite(url: string, phase: Phase, n: number): Promise<{ ms: number; status: number; syncState: string }> {
  const { path, body } = phase.next(n);
  const started = performance.now();
  const res = await fetch(`${url}${path}`, {
    method: phase.method,
    headers: { Authorization: `Bearer ${BENCH_TOKEN}`, "Content-Type": "application/scim+json" },
    body: JSON.stringify(body),
  });
  const answer = (await res.json().catch(() => ({}))) as Record<string, { syncState?: string } | undefined>;
  return { ms: performance.now() - started, status: res.status, syncState: answer[DC_EXT]?.syncState ?? "(none)" };
}

async function runPhase(
  ctx: BenchContext,
  setting: Setting,
  phase: Phase,
  seeded: number,
  durSec: number,
): Promise<{ res: LoadResult; digicertCalls: number; dc429: number; idle: { ms: number; status: number; syncState: string } }> {
  const store = await freshStore(ctx, "sqlite", `writes_${setting.key}_${phase.key}`);
  const s = await store.open();
  try {
    await seedDirectory(ctx, s, seeded, 0);
  } finally {
    await s.close();
  }
  const dc = await startDigiCert(ctx, LIMITS);
  seedDigiCertUsers(dc.sim, seeded);
  const bridge = await startBridge(ctx, `bridge (${phase.key}, ${setting.label})`, {
    databaseUrl: store.databaseUrl,
    digicertBaseUrl: dc.baseUrl,
    apiKey: dc.apiKey,
    env: setting.env,
  });
  let n = 0;
  const idle = await idleWrite(bridge.url, phase, n++);
  ctx.log(`${phase.label}, ${setting.label}, idle bridge: ${idle.status} ${idle.syncState} in ${fmt(idle.ms)} ms`);
  dc.sim.clearCalls();
  const res = await runLoad(ctx, {
    url: bridge.url,
    method: phase.method,
    next: () => phase.next(n++),
    connections: CONNECTIONS,
    overallRate: OFFERED_RATE,
    durationSec: durSec,
    server: bridge,
  });
  const digicertCalls = dc.sim.calls.length;
  ctx.log(
    `${phase.label}, ${setting.label}: ${fmt(res.okPerSec)} accepted/s of ${OFFERED_RATE} offered; p50 ${fmt(res.p50)} ms, p95 ${fmt(res.p95)} ms, p99 ${fmt(res.p99)} ms; ` +
      `${describeStatuses(res.statuses)}; DigiCert calls ${digicertCalls}`,
  );
  const unexpected = Object.keys(res.statuses).filter((k) => !["200", "201", "204", "429"].includes(k));
  if (unexpected.length) throw new Error(`${phase.label}: unexpected answers ${describeStatuses(res.statuses)}\n${bridge.tail(20)}`);
  await bridge.stop();
  return { res, digicertCalls, dc429: dc.sim.rateLimitedCount("certcentral"), idle };
}

export const writes: Benchmark = {
  id: "writes",
  title: "2. SCIM edge, writes (DigiCert throttled)",
  budgetMs: (quick) => (quick ? 50_000 : 300_000),
  async run(ctx) {
    const durSec = ctx.quick ? 4 : 30;
    const seeded = ctx.quick ? 500 : 3_000;
    ctx.setup.push(
      `autocannon, ${CONNECTIONS} connections offering ${OFFERED_RATE} requests/s (a fifth above Entra's per-tenant requirement of ${REQUIRED_RATE}/s) for ${durSec} s per kind; a request still unanswered when the next is due delays it (closed loop per connection)`,
      "DigiCert simulator enforcing CertCentral's published limits in real time (1,000 per 180 s and 100 per 5 s, all must hold; 429 beyond); the bridge paces at its default DIGICERT_RATE_LIMIT (the same limits)",
      `bridge defaults (SYNC_WAIT_MS 5000, SYNC_WAIT_QUEUE_MS 1000, OUTBOX_MAX_PENDING 1000, OUTBOX_CONCURRENCY 8); SQLite store with ${seeded.toLocaleString("en-US")} linked users (the PATCH targets); a fresh bridge, store and simulator per kind`,
      "before the load, one write of the kind on the idle bridge: it must be answered with DigiCert's result (syncState synced), not pending",
      `what the outbox absorbs: at ${REQUIRED_RATE}/s against DigiCert's 5.6/s it fills by about 19 jobs a second, so OUTBOX_MAX_PENDING 1000 holds ${REQUIRED_RATE}/s for about 50 s (${OFFERED_RATE}/s for about 40 s); past that the bridge answers 429 with Retry-After and the IdP is paced at DigiCert's rate (the run is ${durSec} s)`,
      "creates: Okta-shaped POST /Users, a new userName each; PATCHes: replace name.givenName of a different linked user each (a change DigiCert holds, so each queues a DigiCert update)",
    );
    const phases: Phase[] = [
      {
        key: "creates",
        label: "POST /Users",
        method: "POST",
        next: (n) => ({ path: "/scim/v2/Users", body: oktaUserBody(`write${n}.${Date.now()}@bench.example.com`, n) }),
      },
      {
        key: "patches",
        label: "PATCH /Users/{id}",
        method: "PATCH",
        next: (n) => ({
          path: `/scim/v2/Users/${userId(n % seeded)}`,
          body: { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "name.givenName", value: `Renamed${n}` }] },
        }),
      },
    ];
    for (const setting of SETTINGS) {
    for (const phase of phases) {
      ctx.checkAborted();
      const { res, digicertCalls, dc429, idle } = await runPhase(ctx, setting, phase, seeded, durSec);
      ctx.figure({
        id: `writes.${setting.key}.${phase.key}.idleSynced`,
        label: `${phase.label}, ${setting.label}: one write on an idle bridge answered with DigiCert's result`,
        value: idle.syncState === "synced" && idle.status < 300 ? 1 : 0,
        unit: "",
        target: { op: "==", value: 1 },
        note: `${idle.status}, syncState ${idle.syncState}, in ${fmt(idle.ms)} ms (DigiCert paced at CertCentral's limits)`,
      });
      const accepted = Object.entries(res.statuses).filter(([k]) => k.startsWith("2")).reduce((a, [, v]) => a + v, 0);
      ctx.figure({
        id: `writes.${setting.key}.${phase.key}.acceptedPerSec`,
        label: `${phase.label}, ${setting.label}: accepted per second`,
        value: res.okPerSec,
        unit: "req/s",
        target: { op: ">=", value: REQUIRED_RATE },
        note:
          `${accepted} accepted in ${fmt(res.seconds)} s (${describeStatuses(res.statuses)}); p50 ${fmt(res.p50)} ms, p95 ${fmt(res.p95)} ms, p99 ${fmt(res.p99)} ms; ` +
          `${digicertCalls} DigiCert calls meanwhile (${fmt(digicertCalls / res.seconds)}/s), ${dc429} answered 429 by DigiCert; ` +
          `server CPU ${fmt(res.cpuMsPerRequest ?? NaN)} ms per request`,
      });
      ctx.figure({
        id: `writes.${setting.key}.${phase.key}.p95`,
        label: `${phase.label}, ${setting.label}: p95 latency under the burst`,
        value: res.p95,
        unit: "ms",
        target: { op: "<", value: P95_TARGET_MS },
        note: `p50 ${fmt(res.p50)} ms, p99 ${fmt(res.p99)} ms`,
      });
    }
    }
  },
};
