// 6. Replicas: creates per second through one and two bridge processes sharing PostgreSQL, Redis (the DigiCert rate
// budget) and DigiCert, with DigiCert unthrottled: what scaling out buys on this machine.
import { fmt, type Benchmark, type BenchContext } from "./lib/context";
import { oktaUserBody } from "./lib/dataset";
import { startDigiCert } from "./lib/digicert";
import { describeStatuses, runLoad, type LoadResult } from "./lib/load";
import { startBridge, type ServerProcess } from "./lib/processes";
import { dropRedisLimiterKeys, freshStore } from "./lib/stores";

const CONNECTIONS = 20;

interface Outcome {
  perSec: number;
  p50: number;
  p95: number;
  statuses: Record<string, number>;
  cpuMs: number[];
}

async function measure(ctx: BenchContext, count: number, warmSec: number, durSec: number): Promise<Outcome> {
  const dc = await startDigiCert(ctx);
  ctx.defer("drop the Redis rate-limiter keys", async () => {
    const n = await dropRedisLimiterKeys(ctx.options.services.redisUrl, dc.apiKey);
    ctx.log(`dropped ${n} Redis keys`);
  });
  const store = await freshStore(ctx, "postgres", `replicas${count}`);
  const env = {
    DIGICERT_RATE_LIMIT: "100000/1s",
    DIGICERT_MAX_CONCURRENT: "16",
    REDIS_URL: ctx.options.services.redisUrl,
    BRIDGE_REPLICAS: String(count),
  };
  // One at a time: the first migrates the empty schema.
  const replicas: ServerProcess[] = [];
  for (let i = 0; i < count; i++) {
    replicas.push(await startBridge(ctx, `replica ${i + 1} of ${count}`, { databaseUrl: store.databaseUrl, digicertBaseUrl: dc.baseUrl, apiKey: dc.apiKey, env }));
  }
  const runId = Date.now();
  let n = 0;
  const load = (durationSec: number) =>
    Promise.all(
      replicas.map((r) =>
        runLoad(ctx, {
          url: r.url,
          method: "POST",
          next: () => {
            const i = n++;
            return { path: "/scim/v2/Users", body: oktaUserBody(`replica${i}.${runId}@bench.example.com`, i) };
          },
          connections: CONNECTIONS / count,
          durationSec,
          server: r,
        }),
      ),
    );
  await load(warmSec);
  const results: LoadResult[] = await load(durSec);
  const statuses: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  const bad = Object.keys(statuses).filter((k) => k !== "201");
  if (bad.length) throw new Error(`creates through ${count} replicas: ${describeStatuses(statuses)}\n${replicas[0].tail(20)}`);
  // Latency percentiles over both replicas' answers, weighted by their counts: recomputed from per-run summaries
  // would be wrong, so take the slower replica's (the honest bound).
  const perSec = results.reduce((a, r) => a + r.okPerSec, 0);
  const outcome = {
    perSec,
    p50: Math.max(...results.map((r) => r.p50)),
    p95: Math.max(...results.map((r) => r.p95)),
    statuses,
    cpuMs: results.map((r) => r.cpuMsPerRequest ?? NaN),
  };
  ctx.log(`${count} replica(s): ${fmt(perSec)} creates/s, p50 ${fmt(outcome.p50)} ms, p95 ${fmt(outcome.p95)} ms, CPU per create ${outcome.cpuMs.map(fmt).join(" / ")} ms`);
  await Promise.all(replicas.map((r) => r.stop()));
  return outcome;
}

export const replicas: Benchmark = {
  id: "replicas",
  title: "6. Replicas (PostgreSQL + Redis, DigiCert unthrottled)",
  budgetMs: (quick) => (quick ? 40_000 : 180_000),
  async run(ctx) {
    const warmSec = ctx.quick ? 1 : 3;
    const durSec = ctx.quick ? 3 : 20;
    ctx.setup.push(
      `autocannon, ${CONNECTIONS} connections in all (split evenly over the replicas, as a load balancer would), closed loop, ${warmSec} s warm-up then ${durSec} s of Okta-shaped POST /Users`,
      "each replica `node dist/src/main.js` on one PostgreSQL schema with REDIS_URL (shared DigiCert budget) and BRIDGE_REPLICAS set; DIGICERT_RATE_LIMIT=100000/1s, so DigiCert never holds a create back; each create is answered after DigiCert has the user (SYNC_WAIT_MS)",
      "everything (replicas, PostgreSQL, Redis, simulator, load generator) shares this machine's 2 cores: the figure shows what a second process buys here, not on a machine with a core per replica",
    );
    const one = await measure(ctx, 1, warmSec, durSec);
    ctx.checkAborted();
    const two = await measure(ctx, 2, warmSec, durSec);
    ctx.figure({
      id: "replicas.one.createsPerSec",
      label: "creates per second, 1 replica",
      value: one.perSec,
      unit: "req/s",
      note: `p50 ${fmt(one.p50)} ms, p95 ${fmt(one.p95)} ms; CPU per create ${one.cpuMs.map(fmt).join(" / ")} ms`,
    });
    ctx.figure({
      id: "replicas.two.createsPerSec",
      label: "creates per second, 2 replicas",
      value: two.perSec,
      unit: "req/s",
      baseline: one.perSec,
      ratio: two.perSec / one.perSec,
      note: `baseline = 1 replica; p50 ${fmt(two.p50)} ms, p95 ${fmt(two.p95)} ms (slower replica); CPU per create ${two.cpuMs.map(fmt).join(" / ")} ms`,
    });
  },
};
