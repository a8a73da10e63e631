// 7. A side-by-side peer: scimgateway (jelhub/scimgateway) with its in-file plugin, plugin-loki (LokiJS persisted
// to a file), holding the same 100,000 users and 1,000 groups as the bridge on SQLite; the reads an IdP sends
// (GET /Users/{id}, GET /Users?filter=userName eq …, a 100-user list page) with autocannon at 20 connections,
// the same request sequence for both. Targets: the bridge serves at least as many requests per second (ratio
// bridge / scimgateway ≥ 1.0) and answers no slower at p95 (ratio scimgateway p95 / bridge p95 ≥ 1.0).
//
// scimgateway is not on the npm registry: it runs only when SCIMGATEWAY_DIR names a copy of its source prepared
// with benchmarks/peers/prepare-scimgateway.sh; otherwise the benchmark records that it was skipped, and no figures.
import os from "node:os";
import { BenchContext, fmt, type Benchmark } from "./lib/context";
import { BENCH_TOKEN, userId } from "./lib/dataset";
import { startDigiCert } from "./lib/digicert";
import type { LoadResult } from "./lib/load";
import { startBridge, type ServerProcess } from "./lib/processes";
import { freshStore, seedDirectory } from "./lib/stores";
import { endpoints, measure, type Endpoint } from "./reads";
import { scimgatewayDir, scimgatewayVersion, startScimgateway } from "./peers/scimgateway";

export const SKIPPED_NOTE = "skipped: SCIMGATEWAY_DIR not set (scimgateway is not on the npm registry)";

const PAGE = 100;

function peerEndpoints(users: number, groups: number): Endpoint[] {
  const reads = endpoints(users, groups).filter((ep) => ep.key === "getUser" || ep.key === "filterUserName");
  const listPage: Endpoint = {
    key: "listPage",
    label: `GET /Users?startIndex=…&count=${PAGE} (a list page)`,
    path: (r) => `/scim/v2/Users?startIndex=${1 + PAGE * Math.floor((r() * users) / PAGE)}&count=${PAGE}`,
  };
  return [...reads, listPage];
}

/**
 * The list page, which scimgateway answers in about a second at 100,000 users (plugin-loki copies every user
 * for every page, and looks up each listed user's groups): 20 connections then wait about 20 s for an answer,
 * so this run is longer, waits up to 120 s per request, and warms up on one connection (an aborted warm-up at
 * 20 connections would leave the peer 20 pages of work that eat into the measured run).
 */
function measurePage(ctx: BenchContext, server: ServerProcess, ep: Endpoint, warmSec: number, durSec: number): Promise<LoadResult> {
  return measure(ctx, server, ep, warmSec, durSec, { warmConnections: 1, timeoutSec: 120 });
}

/** scimgateway serves SCIM at its root (/Users), the bridge under /scim/v2. */
function atRoot(ep: Endpoint): Endpoint {
  return { ...ep, path: (r) => ep.path(r).replace(/^\/scim\/v2/, "") };
}

/** Status, size and attribute names of one answer, for a note saying how the two servers' resources compare. */
async function shape(server: ServerProcess, path: string): Promise<{ status: number; bytes: number; keys: string[] }> {
  const res = await fetch(server.url + path, { headers: { authorization: `Bearer ${BENCH_TOKEN}` } });
  const text = await res.text();
  let keys: string[] = [];
  try {
    keys = Object.keys(JSON.parse(text) as object).sort();
  } catch {
    // not JSON: the status says enough
  }
  return { status: res.status, bytes: Buffer.byteLength(text), keys };
}

export const peer: Benchmark = {
  id: "peer",
  title: "7. Side by side with scimgateway (plugin-loki)",
  budgetMs: (quick) => (quick ? 180_000 : 900_000),
  async run(ctx) {
    const dir = scimgatewayDir();
    if (!dir) {
      ctx.notes.push(SKIPPED_NOTE);
      ctx.log(SKIPPED_NOTE);
      return;
    }
    const users = ctx.quick ? 10_000 : 100_000;
    const groups = ctx.quick ? 100 : 1_000;
    const warmSec = ctx.quick ? 1 : 3;
    const durSec = ctx.quick ? 2 : 10;
    const pageSec = ctx.quick ? 15 : 60;
    const run = (server: ServerProcess, ep: Endpoint) =>
      ep.key === "listPage" ? measurePage(ctx, server, ep, warmSec, pageSec) : measure(ctx, server, ep, warmSec, durSec);
    const eps = peerEndpoints(users, groups);
    const version = scimgatewayVersion(dir);
    ctx.setup.push(
      `${users.toLocaleString("en-US")} users, ${groups.toLocaleString("en-US")} groups of ${users / groups} members, the same directory in both servers (ids, userNames, names, emails, memberships)`,
      `autocannon, 20 connections, ${warmSec} s warm-up then ${durSec} s per endpoint (the list page: ${warmSec} s warm-up on one connection, then ${pageSec} s, up to 120 s per answer); ids, userNames and list pages drawn at random over the whole store (same sequence for both servers)`,
      "bridge: as in the read benchmark, on SQLite (`node dist/src/main.js`, LOG_LEVEL=info, bearer token), seeded directly into its store",
      `scimgateway ${version} with plugin-loki on Node ${process.versions.node}: its TypeScript run under its own tsx (\`node --import tsx\`), one entity persisted to a LokiJS file written beforehand with LokiJS and loaded at start, bearer token, 127.0.0.1, log level error (its info level logs each response body), SCIM at its root (/Users)`,
    );

    // The two servers are measured one after the other: a machine busy with something else during one of them
    // moves the ratios, and the load average says whether it was.
    const load = () => os.loadavg()[0].toFixed(1);
    const loadAtStart = load();

    const sg = await startScimgateway(ctx, `scimgateway ${version} (plugin-loki)`, { dir, users, groups });
    // Before the load: an aborted run leaves scimgateway busy with the list pages still in flight.
    const peerShapes = {
      user: await shape(sg, `/Users/${userId(12)}`),
      page: await shape(sg, `/Users?startIndex=1&count=${PAGE}`),
    };
    const peerRes: Record<string, LoadResult> = {};
    for (const ep of eps) peerRes[ep.key] = await run(sg, atRoot(ep));
    const peerMemory = sg.memory();
    await sg.stop();

    const loadAtBridge = load();
    const store = await freshStore(ctx, "sqlite", "peer");
    const s = await store.open();
    try {
      await seedDirectory(ctx, s, users, groups);
    } finally {
      await s.close();
    }
    const dc = await startDigiCert(ctx);
    const bridge = await startBridge(ctx, "bridge (SQLite)", { databaseUrl: store.databaseUrl, digicertBaseUrl: dc.baseUrl, apiKey: dc.apiKey });
    const bridgeShapes = {
      user: await shape(bridge, `/scim/v2/Users/${userId(12)}`),
      page: await shape(bridge, `/scim/v2/Users?startIndex=1&count=${PAGE}`),
    };
    for (const ep of eps) {
      const res = await run(bridge, ep);
      const p = peerRes[ep.key];
      ctx.figure({
        id: `peer.scimgateway.${ep.key}.rps`,
        label: `${ep.label}: throughput, bridge (SQLite) / scimgateway (plugin-loki)`,
        value: res.okPerSec,
        unit: "req/s",
        baseline: p.okPerSec,
        ratio: res.okPerSec / p.okPerSec,
        target: { op: ">=", value: 1.0 },
        targetOn: "ratio",
        note: `bridge p50/p95/p99 ${fmt(res.p50)}/${fmt(res.p95)}/${fmt(res.p99)} ms, CPU ${fmt(res.cpuMsPerRequest ?? NaN)} ms per request; scimgateway p50/p95/p99 ${fmt(p.p50)}/${fmt(p.p95)}/${fmt(p.p99)} ms, CPU ${fmt(p.cpuMsPerRequest ?? NaN)} ms per request`,
      });
      ctx.figure({
        id: `peer.scimgateway.${ep.key}.p95`,
        label: `${ep.label}: p95 latency, bridge (SQLite) against scimgateway (plugin-loki)`,
        value: res.p95,
        unit: "ms",
        baseline: p.p95,
        ratio: p.p95 / res.p95,
        target: { op: ">=", value: 1.0 },
        targetOn: "ratio",
        note: `ratio scimgateway p95 / bridge p95 (above 1: the bridge answers faster); bridge p50 ${fmt(res.p50)} ms, p99 ${fmt(res.p99)} ms; scimgateway p50 ${fmt(p.p50)} ms, p99 ${fmt(p.p99)} ms`,
      });
    }
    ctx.notes.push(`1-minute load average on ${os.cpus().length} cores: ${loadAtStart} when scimgateway started, ${loadAtBridge} when the bridge started, ${load()} at the end`);
    const bridgeMemory = bridge.memory();
    await bridge.stop();
    ctx.notes.push(
      `RSS after the reads: bridge ${fmt(bridgeMemory.rssMb)} MB (peak ${fmt(bridgeMemory.peakMb)} MB), scimgateway ${fmt(peerMemory.rssMb)} MB (peak ${fmt(peerMemory.peakMb)} MB; LokiJS holds the whole directory in memory)`,
    );
    for (const [what, b, g] of [
      [`GET /Users/{id}`, bridgeShapes.user, peerShapes.user],
      [`a ${PAGE}-user page`, bridgeShapes.page, peerShapes.page],
    ] as const) {
      ctx.notes.push(
        `${what}: the bridge answers ${b.status} with ${fmt(b.bytes)} bytes (${b.keys.join(", ")}), scimgateway ${g.status} with ${fmt(g.bytes)} bytes (${g.keys.join(", ")})`,
      );
    }
  },
};
