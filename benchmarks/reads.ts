// 1. SCIM edge, reads: GET /Users/{id}, GET /Users?filter=userName eq …, a page of 100 users (GET /Users?startIndex=…
// &count=100, an IdP's import), GET /Groups/{id}?excludedAttributes=members,
// and (bridge only, against its own userName read) the filters an IdP or HR system syncs by: emails.value eq and
// an HR delta sync `meta.lastModified ge … and active eq true`
// against a store of 100,000 users and 1,000 groups (SQLite and PostgreSQL), autocannon with 20 connections,
// side by side with a plain SCIMMY + scimmy-routers server holding the same resources in memory. The bridge's RSS
// after the load is kept for the memory benchmark.
import { BenchContext, fmt, type Benchmark } from "./lib/context";
import { BENCH_TOKEN, groupId, rng, userId, userName } from "./lib/dataset";
import { startDigiCert } from "./lib/digicert";
import { describeStatuses, runLoad, type LoadResult } from "./lib/load";
import { startBaseline, startBridge, type ServerProcess } from "./lib/processes";
import { freshStore, pgQuery, seedDirectory, type StoreKind } from "./lib/stores";

export interface MemorySample {
  store: StoreKind;
  users: number;
  groups: number;
  /** Right after start, before any request. */
  idleMb: number;
  /** After the read load. */
  afterMb: number;
  peakMb: number;
}

const CONNECTIONS = 20;
/** Users per page of the list benchmark, as Okta's import asks for them. */
const PAGE = 100;

export interface Endpoint {
  key: string;
  label: string;
  path(r: () => number): string;
  /** Throughput against the baseline's, per store (issue 17: reads at least as fast as a plain SCIMMY server). */
  ratio?: Record<StoreKind, number>;
  /** p95 latency at CONNECTIONS connections, ms. */
  p95?: number;
  /** Answers take tens of milliseconds (the baseline's page of 100): run at least this long, warm-up included, s. */
  minSec?: number;
}

const USER_READ = { ratio: { sqlite: 1.0, postgres: 0.9 }, p95: 20 };

export function endpoints(users: number, groups: number): Endpoint[] {
  return [
    { key: "getUser", label: "GET /Users/{id}", path: (r) => `/scim/v2/Users/${userId(Math.floor(r() * users))}`, ...USER_READ },
    {
      key: "filterUserName",
      label: "GET /Users?filter=userName eq …",
      path: (r) => `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${userName(Math.floor(r() * users))}"`)}`,
      ...USER_READ,
    },
    {
      // An IdP's import (Okta reads pages of 100): past the first page, anywhere in the store.
      key: "listPage",
      label: "GET /Users?startIndex=…&count=100",
      path: (r) => `/scim/v2/Users?startIndex=${PAGE + 1 + Math.floor(r() * (users - 2 * PAGE))}&count=${PAGE}`,
      // A page is a hundred reads' worth of resources, and 20 pages at once (~8 ms of CPU each on 2 shared cores)
      // queue behind each other: its latency bound is its own. An import reads its pages one after another.
      ratio: USER_READ.ratio,
      p95: 500,
      minSec: 6,
    },
    {
      key: "getGroup",
      label: "GET /Groups/{id}?excludedAttributes=members",
      path: (r) => `/scim/v2/Groups/${groupId(Math.floor(r() * groups))}?excludedAttributes=members`,
    },
  ];
}

/**
 * Filters only the bridge serves (the baseline answers `userName eq` alone), judged against the bridge's own
 * `userName eq` read: each must stay within 1.5× of it (throughput ratio ≥ 0.67).
 */
function filterEndpoints(users: number, since: string): Endpoint[] {
  return [
    {
      key: "filterEmail",
      label: "GET /Users?filter=emails.value eq …",
      path: (r) => `/scim/v2/Users?filter=${encodeURIComponent(`emails.value eq "${userName(Math.floor(r() * users))}"`)}`,
    },
    {
      key: "filterDelta",
      label: "GET /Users?filter=meta.lastModified ge … and active eq true (a delta sync)",
      path: () => `/scim/v2/Users?filter=${encodeURIComponent(`meta.lastModified ge "${since}" and active eq true`)}&startIndex=1&count=100`,
    },
  ];
}

/**
 * Changes one user through the bridge, so that a delta sync from the returned instant finds exactly it. Seeding
 * stamps users a millisecond apart (the store's monotonic clock), ahead of the wall clock: the newest user is the
 * one changed, and the delta starts just after its old stamp.
 */
async function changeOneUser(server: ServerProcess, users: number): Promise<string> {
  const auth = { authorization: `Bearer ${BENCH_TOKEN}` };
  const newest = await fetch(`${server.url}/scim/v2/Users/${userId(users - 1)}`, { headers: auth });
  const since = new Date(Date.parse(((await newest.json()) as { meta: { lastModified: string } }).meta.lastModified) + 1).toISOString();
  const res = await fetch(`${server.url}/scim/v2/Users/${userId(users - 1)}`, {
    method: "PATCH",
    headers: { ...auth, "content-type": "application/scim+json" },
    body: JSON.stringify({ schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "replace", path: "title", value: "Changed" }] }),
  });
  if (res.status !== 200) throw new Error(`PATCH for the delta sync answered ${res.status}: ${await res.text()}`);
  const delta = await fetch(`${server.url}/scim/v2/Users?filter=${encodeURIComponent(`meta.lastModified ge "${since}" and active eq true`)}&count=0`, { headers: auth });
  const total = ((await delta.json()) as { totalResults?: number }).totalResults;
  if (total !== 1) throw new Error(`the delta sync from ${since} found ${total} users, not the 1 changed`);
  return since;
}

/**
 * The same request must get the same resource from both servers (timestamps and host aside); `part` picks what is
 * compared (a list's Resources: the baseline cannot count a paged list).
 */
async function sameResource(ctx: BenchContext, a: ServerProcess, b: ServerProcess, path: string, part: (body: any) => unknown = (x) => x): Promise<void> {
  const get = async (s: ServerProcess) => {
    const res = await fetch(s.url + path, { headers: { authorization: `Bearer ${BENCH_TOKEN}` } });
    const text = await res.text();
    const body = text.replace(/"(created|lastModified|lastSyncedAt)":"[^"]*"/g, '"$1":"…"').replace(/http:\/\/127\.0\.0\.1:\d+/g, "");
    return { status: res.status, body: res.status === 200 ? JSON.stringify(part(JSON.parse(body))) : body };
  };
  const [x, y] = [await get(a), await get(b)];
  const norm = (s: string) => JSON.stringify(sortKeys(JSON.parse(s)));
  if (x.status !== 200 || y.status !== 200) throw new Error(`${path}: ${a.label} answered ${x.status}, ${b.label} ${y.status}`);
  if (norm(x.body) !== norm(y.body)) {
    const diff = differences(JSON.parse(y.body), JSON.parse(x.body)).slice(0, 5).join("; ");
    ctx.notes.push(`${path}: the baseline's answer differs from the bridge's (bridge vs baseline): ${diff}`);
    ctx.log(`WARNING: the baseline's resource differs from the bridge's for ${path}: ${diff}`);
  }
}

function differences(a: unknown, b: unknown, at = ""): string[] {
  if (JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b))) return [];
  if (a && b && typeof a === "object" && typeof b === "object" && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) => differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], at ? `${at}.${k}` : k));
  }
  return [`${at || "(root)"}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`];
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object") return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  return v;
}

/** How a slow server is measured: warm-up connections (1: an aborted warm-up leaves no backlog), longest answer. */
export interface MeasureOptions {
  warmConnections?: number;
  timeoutSec?: number;
}

export async function measure(
  ctx: BenchContext,
  server: ServerProcess,
  ep: Endpoint,
  warmSec: number,
  durSec: number,
  opts: MeasureOptions = {},
): Promise<LoadResult> {
  ctx.checkAborted();
  const warm = rng(7);
  if (ep.minSec) {
    warmSec = Math.max(warmSec, ep.minSec / 3);
    durSec = Math.max(durSec, ep.minSec);
  }
  const { timeoutSec } = opts;
  await runLoad(ctx, { url: server.url, next: () => ({ path: ep.path(warm) }), connections: opts.warmConnections ?? CONNECTIONS, durationSec: warmSec, timeoutSec });
  const r = rng(42);
  const res = await runLoad(ctx, { url: server.url, next: () => ({ path: ep.path(r) }), connections: CONNECTIONS, durationSec: durSec, timeoutSec, server });
  ctx.log(
    `${server.label} ${ep.label}: ${fmt(res.okPerSec)} req/s, p50 ${fmt(res.p50)} ms, p95 ${fmt(res.p95)} ms, p99 ${fmt(res.p99)} ms, ` +
      `${fmt(res.cpuMsPerRequest ?? NaN)} ms CPU per request (${describeStatuses(res.statuses)})`,
  );
  if (res.okPerSec === 0 || Object.keys(res.statuses).some((s) => s !== "200")) {
    throw new Error(`${server.label} ${ep.label}: answers other than 200: ${describeStatuses(res.statuses)}; errors ${res.errors}\n${server.tail(10)}`);
  }
  return res;
}

export const reads: Benchmark = {
  id: "reads",
  title: "1. SCIM edge, reads",
  budgetMs: (quick) => (quick ? 75_000 : 900_000),
  async run(ctx) {
    const users = ctx.quick ? 10_000 : 100_000;
    const groups = ctx.quick ? 100 : 1_000;
    const warmSec = ctx.quick ? 1 : 3;
    const durSec = ctx.quick ? 2 : 10;
    const eps = endpoints(users, groups);
    ctx.setup.push(
      `${users.toLocaleString("en-US")} users, ${groups.toLocaleString("en-US")} groups of ${users / groups} members (each user in one group), seeded directly into the store`,
      `autocannon, ${CONNECTIONS} connections, ${warmSec} s warm-up then ${durSec} s per endpoint; ids and userNames drawn at random over the whole store (same sequence for every server)`,
      "bridge: `node dist/src/main.js` in a child process, LOG_LEVEL=info (one JSON log line per request, as in production), NODE_ENV=production, bearer token auth; the load generator runs in the parent process on the same 2 cores",
      "baseline: SCIMMY + scimmy-routers on Express 4 in a child process, in-memory Map handlers returning the same resources (checked equal before the run), no logging; for the list page its handler returns just that page of users (its totalResults is then the page's length: SCIMMY cannot report a total for a paged list)",
    );

    const base = await startBaseline(ctx, "baseline (SCIMMY, in memory)", { users, groups });
    const baseline: Record<string, LoadResult> = {};
    for (const ep of eps) baseline[ep.key] = await measure(ctx, base, ep, warmSec, durSec);

    const memory: MemorySample[] = [];
    for (const kind of ["sqlite", "postgres"] as StoreKind[]) {
      ctx.checkAborted();
      const storeName = kind === "sqlite" ? "SQLite" : "PostgreSQL";
      const store = await freshStore(ctx, kind, `reads_${kind}`);
      const s = await store.open();
      try {
        await seedDirectory(ctx, s, users, groups);
      } finally {
        await s.close();
      }
      // A production database has planner statistics (autovacuum); a freshly seeded one has none yet.
      if (kind === "postgres") await pgQuery(ctx.options.services.pgUrl, "analyze");
      const dc = await startDigiCert(ctx);
      const bridge = await startBridge(ctx, `bridge (${storeName})`, { databaseUrl: store.databaseUrl, digicertBaseUrl: dc.baseUrl, apiKey: dc.apiKey });
      const idle = bridge.memory();
      await sameResource(ctx, base, bridge, `/scim/v2/Users/${userId(12)}`);
      await sameResource(ctx, base, bridge, `/scim/v2/Groups/${groupId(3)}?excludedAttributes=members`);
      await sameResource(ctx, base, bridge, `/scim/v2/Users?startIndex=${3 * PAGE + 1}&count=${PAGE}`, (list) => list.Resources);
      let ownUserName: LoadResult | undefined;
      for (const ep of eps) {
        const res = await measure(ctx, bridge, ep, warmSec, durSec);
        if (ep.key === "filterUserName") ownUserName = res;
        const b = baseline[ep.key];
        const ratio = res.okPerSec / b.okPerSec;
        ctx.figure({
          id: `reads.${kind}.${ep.key}.rps`,
          label: `${ep.label}, ${storeName}: throughput`,
          value: res.okPerSec,
          unit: "req/s",
          baseline: b.okPerSec,
          ratio,
          target: { op: ">=", value: ep.ratio?.[kind] ?? 0.8 },
          targetOn: "ratio",
          note: `server CPU per request ${fmt(res.cpuMsPerRequest ?? NaN)} ms (baseline ${fmt(b.cpuMsPerRequest ?? NaN)} ms); baseline p50/p95/p99 ${fmt(b.p50)}/${fmt(b.p95)}/${fmt(b.p99)} ms`,
        });
        ctx.figure({
          id: `reads.${kind}.${ep.key}.p95`,
          label: `${ep.label}, ${storeName}: p95 latency`,
          value: res.p95,
          unit: "ms",
          baseline: b.p95,
          ratio: b.p95 / res.p95,
          target: { op: "<", value: ep.p95 ?? 50 },
          note: `p50 ${fmt(res.p50)} ms, p99 ${fmt(res.p99)} ms`,
        });
      }
      const since = await changeOneUser(bridge, users);
      for (const ep of filterEndpoints(users, since)) {
        const res = await measure(ctx, bridge, ep, warmSec, durSec);
        const own = ownUserName!;
        ctx.figure({
          id: `reads.${kind}.${ep.key}.rps`,
          label: `${ep.label}, ${storeName}: throughput against the bridge's userName eq read`,
          value: res.okPerSec,
          unit: "req/s",
          baseline: own.okPerSec,
          ratio: res.okPerSec / own.okPerSec,
          target: { op: ">=", value: 0.67 },
          targetOn: "ratio",
          note: `p50/p95/p99 ${fmt(res.p50)}/${fmt(res.p95)}/${fmt(res.p99)} ms; server CPU per request ${fmt(res.cpuMsPerRequest ?? NaN)} ms (userName eq ${fmt(own.cpuMsPerRequest ?? NaN)} ms)`,
        });
      }
      const after = bridge.memory();
      memory.push({ store: kind, users, groups, idleMb: idle.rssMb, afterMb: after.rssMb, peakMb: after.peakMb });
      ctx.log(`${bridge.label} RSS: ${fmt(idle.rssMb)} MB idle, ${fmt(after.rssMb)} MB after the reads (peak ${fmt(after.peakMb)} MB)`);
      await bridge.stop();
    }
    ctx.shared.set("reads.memory", memory);
    await base.stop();
  },
};
