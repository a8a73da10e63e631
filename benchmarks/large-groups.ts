// 4. Large groups: a one-member PATCH (add, then remove), a rename and GET ?excludedAttributes=members on a group of
// 10,000 members, one request at a time, on SQLite and PostgreSQL. Baseline: the same requests through SCIMMY's
// generic read-apply-write (plain SCIMMY + scimmy-routers, the group in memory). Also: the one-member PATCH when a
// role mapping names the group, so the request waits for the member's DigiCert role change.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fmt, type Benchmark, type BenchContext } from "./lib/context";
import { BENCH_TOKEN, groupId, PATCH_OP, userId, userRow } from "./lib/dataset";
import { seedDigiCertUsers, startDigiCert } from "./lib/digicert";
import { summarise } from "./lib/load";
import { startBaseline, startBridge, type ServerProcess } from "./lib/processes";
import { freshStore, type StoreKind } from "./lib/stores";
import type { SqlUserRepository } from "../src/store/user-repository";

const SIZE = 10_000;
/** The group's id in the bridge's store and in the baseline (benchmarks/servers/baseline.ts BIG_GROUP_INDEX). */
const BIG_GROUP = groupId(1_000_000);
/** A linked user who is not a member: the one added and removed. */
const NEWCOMER = SIZE;

interface Op {
  key: string;
  label: string;
  method: "GET" | "PATCH";
  /** The i-th request of this kind. */
  request(i: number): { path: string; body?: unknown };
  expect: number[];
}

const ops: Op[] = [
  {
    key: "patchMember",
    label: "PATCH one member (add, then remove)",
    method: "PATCH",
    // Entra's add with a value array, Okta's remove with a filter: the two forms the IdPs send.
    request: (i) => ({
      path: `/scim/v2/Groups/${BIG_GROUP}`,
      body:
        i % 2 === 0
          ? { schemas: [PATCH_OP], Operations: [{ op: "add", path: "members", value: [{ value: userId(NEWCOMER) }] }] }
          : { schemas: [PATCH_OP], Operations: [{ op: "remove", path: `members[value eq "${userId(NEWCOMER)}"]` }] },
    }),
    expect: [200, 204],
  },
  {
    key: "rename",
    label: "PATCH rename (replace displayName)",
    method: "PATCH",
    request: (i) => ({
      path: `/scim/v2/Groups/${BIG_GROUP}`,
      body: { schemas: [PATCH_OP], Operations: [{ op: "replace", value: { id: BIG_GROUP, displayName: i % 2 === 0 ? "Everyone B" : "Everyone A" } }] },
    }),
    expect: [200, 204],
  },
  {
    key: "getWithoutMembers",
    label: "GET ?excludedAttributes=members",
    method: "GET",
    request: () => ({ path: `/scim/v2/Groups/${BIG_GROUP}?excludedAttributes=members` }),
    expect: [200],
  },
];

/** Sends the requests one after the other; latency of each, ms. */
async function series(ctx: BenchContext, server: ServerProcess, op: Op, count: number, warm: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < warm + count; i++) {
    ctx.checkAborted();
    const { path: p, body } = op.request(i);
    const t0 = performance.now();
    const res = await fetch(server.url + p, {
      method: op.method,
      headers: { authorization: `Bearer ${BENCH_TOKEN}`, ...(body ? { "content-type": "application/scim+json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    const ms = performance.now() - t0;
    if (!op.expect.includes(res.status)) throw new Error(`${server.label} ${op.label}: ${res.status} ${text.slice(0, 300)}\n${server.tail(10)}`);
    if (i >= warm) out.push(ms);
  }
  return out;
}

async function seedBigGroup(ctx: BenchContext, kind: StoreKind): Promise<string> {
  const store = await freshStore(ctx, kind, `biggroup_${kind}`);
  const s = await store.open();
  try {
    await (s.users as SqlUserRepository).insertMany(Array.from({ length: SIZE + 1 }, (_, i) => userRow(i)));
    await s.groups.insert(
      { id: BIG_GROUP, displayName: "Everyone A", externalId: null, resource: { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: "Everyone A" } },
      Array.from({ length: SIZE }, (_, i) => userId(i)),
    );
  } finally {
    await s.close();
  }
  ctx.log(`seeded a ${SIZE.toLocaleString("en-US")}-member group (${kind})`);
  return store.databaseUrl;
}

export const largeGroups: Benchmark = {
  id: "large-groups",
  title: "4. Large groups",
  budgetMs: (quick) => (quick ? 45_000 : 300_000),
  async run(ctx) {
    const n = ctx.quick ? { bridge: 20, baseline: 2, get: 20, mapped: 10, warm: 2 } : { bridge: 200, baseline: 12, get: 200, mapped: 100, warm: 5 };
    ctx.setup.push(
      `a group of ${SIZE.toLocaleString("en-US")} members (seeded into the store); requests sent one at a time over one keep-alive connection, latency measured by the client`,
      `bridge: ${n.bridge} member PATCHes (alternately Entra's add with a value array and Okta's remove members[value eq …]), ${n.bridge} renames, ${n.get} GETs; no role mapping (groups stored only), so the figures are the SCIM edge and the store`,
      `baseline: the same requests to plain SCIMMY + scimmy-routers holding the group in memory (read-apply-write: egress of the whole group, apply, ingress of the whole group, the whole group in the answer): ${n.baseline} PATCHes of each kind, ${n.get} GETs`,
      `with a role mapping: ${n.mapped} member PATCHes to a bridge whose ROLE_MAPPING_FILE maps the group to a role, so each PATCH queues the member's DigiCert role change and waits for it (SYNC_WAIT_MS), DigiCert unthrottled`,
    );

    const base = await startBaseline(ctx, "baseline (SCIMMY read-apply-write)", { users: 0, groups: 0, bigGroup: SIZE });
    const baseline: Record<string, number[]> = {};
    for (const op of ops) {
      baseline[op.key] = await series(ctx, base, op, op.method === "GET" ? n.get : n.baseline, 1);
      const s = summarise(baseline[op.key]);
      ctx.log(`baseline ${op.label}: p50 ${fmt(s.p50)} ms, p95 ${fmt(s.p95)} ms`);
    }
    await base.stop();

    for (const kind of ["sqlite", "postgres"] as StoreKind[]) {
      const storeName = kind === "sqlite" ? "SQLite" : "PostgreSQL";
      const databaseUrl = await seedBigGroup(ctx, kind);
      const dc = await startDigiCert(ctx);
      const bridge = await startBridge(ctx, `bridge (${storeName})`, { databaseUrl, digicertBaseUrl: dc.baseUrl, apiKey: dc.apiKey });
      for (const op of ops) {
        const lat = await series(ctx, bridge, op, op.method === "GET" ? n.get : n.bridge, n.warm);
        const s = summarise(lat);
        const b = summarise(baseline[op.key]);
        ctx.figure({
          id: `largeGroups.${kind}.${op.key}.p50`,
          label: `${op.label}, ${storeName}: p50`,
          value: s.p50,
          unit: "ms",
          baseline: b.p50,
          ratio: b.p50 / s.p50,
          ...(op.key === "patchMember" ? { target: { op: "<" as const, value: 20 } } : {}),
          note: `p95 ${fmt(s.p95)} ms, p99 ${fmt(s.p99)} ms (baseline p95 ${fmt(b.p95)} ms); ${lat.length} requests`,
        });
      }
      await bridge.stop();
    }

    // The same member PATCH when the group grants a role: the member's roles change at DigiCert each time.
    const databaseUrl = await seedBigGroup(ctx, "sqlite");
    const dc = await startDigiCert(ctx);
    seedDigiCertUsers(dc.sim, SIZE + 1);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scim-bench-mapping-"));
    ctx.defer(`remove ${dir}`, () => fs.rmSync(dir, { recursive: true, force: true }));
    const mapping = path.join(dir, "roles.yaml");
    fs.writeFileSync(mapping, `default: ["Standard User"]\nrules:\n  - pattern: "^Everyone"\n    roles: ["Manager"]\n`);
    const bridge = await startBridge(ctx, "bridge (SQLite, role mapping)", {
      databaseUrl,
      digicertBaseUrl: dc.baseUrl,
      apiKey: dc.apiKey,
      env: { ROLE_MAPPING_FILE: mapping, DIGICERT_RATE_LIMIT: "100000/1s", DIGICERT_MAX_CONCURRENT: "16" },
    });
    dc.sim.clearCalls();
    const lat = await series(ctx, bridge, ops[0], n.mapped, n.warm);
    const roleCalls = dc.sim.calls.filter((c) => c.method !== "GET").length;
    const s = summarise(lat);
    ctx.figure({
      id: "largeGroups.sqlite.patchMemberMapped.p50",
      label: "PATCH one member with a role mapping (waits for DigiCert), SQLite: p50",
      value: s.p50,
      unit: "ms",
      note: `p95 ${fmt(s.p95)} ms, p99 ${fmt(s.p99)} ms; ${roleCalls} DigiCert write calls for ${lat.length + n.warm} PATCHes`,
    });
    await bridge.stop();
  },
};
