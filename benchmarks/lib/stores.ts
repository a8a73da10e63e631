// Stores for the bridge under test: a SQLite file in a temp dir or a PostgreSQL schema of its own, seeded directly
// through the repositories (SqlUserRepository.insertMany, group inserts), never through HTTP. Each is removed
// by the benchmark's cleanup.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { Client } from "pg";
import Redis from "ioredis";
import { openStore } from "../../src/store";
import type { Store } from "../../src/provisioning/ports";
import type { SqlUserRepository } from "../../src/store/user-repository";
import { limiterId } from "../../src/digicert/pacing";
import type { BenchContext } from "./context";
import { groupRow, membersOf, userId, userRow } from "./dataset";

export type StoreKind = "sqlite" | "postgres";

export interface BenchStore {
  kind: StoreKind;
  /** DATABASE_URL for the bridge process. */
  databaseUrl: string;
  /** Opens the store in this process (migrations run); close it before handing the file to a child on SQLite. */
  open(): Promise<Store>;
}

/** A fresh empty store, dropped (schema) or deleted (temp dir) when the benchmark ends. */
export async function freshStore(ctx: BenchContext, kind: StoreKind, tag: string): Promise<BenchStore> {
  if (kind === "sqlite") {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `scim-bench-${tag}-`));
    ctx.defer(`remove ${dir}`, () => fs.rmSync(dir, { recursive: true, force: true }));
    const databaseUrl = `sqlite:${path.join(dir, "scim.db")}`;
    return { kind, databaseUrl, open: () => openStore(databaseUrl) };
  }
  const schema = `bench_${tag}_${process.pid}_${randomUUID().slice(0, 8)}`.toLowerCase().replace(/[^a-z0-9_]/g, "_");
  const base = ctx.options.services.pgUrl;
  await pgQuery(base, `create schema "${schema}"`);
  ctx.defer(`drop schema ${schema}`, async () => {
    await pgQuery(base, `drop schema if exists "${schema}" cascade`);
  });
  const u = new URL(base);
  u.searchParams.set("options", `-c search_path=${schema}`);
  const databaseUrl = u.toString();
  return { kind, databaseUrl, open: () => openStore(base, { pgSchema: schema }) };
}

export async function pgQuery(url: string, text: string): Promise<unknown[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text)).rows;
  } finally {
    await c.end();
  }
}

/**
 * Seeds `users` linked, synced users and `groups` groups (each user a member of one group) straight into the
 * store. Progress every 10 %.
 */
export async function seedDirectory(ctx: BenchContext, store: Store, users: number, groups: number): Promise<void> {
  const started = Date.now();
  const CHUNK = 5_000;
  let next = 10;
  for (let i = 0; i < users; i += CHUNK) {
    ctx.checkAborted();
    const rows = [];
    for (let j = i; j < Math.min(users, i + CHUNK); j++) rows.push(userRow(j));
    await (store.users as SqlUserRepository).insertMany(rows);
    const pct = Math.floor((100 * Math.min(users, i + CHUNK)) / users);
    if (pct >= next) {
      ctx.log(`seeding users: ${Math.min(users, i + CHUNK).toLocaleString("en-US")} / ${users.toLocaleString("en-US")}`);
      next = pct + 10;
    }
  }
  for (let g = 0; g < groups; g++) {
    ctx.checkAborted();
    await store.groups.insert(groupRow(g), membersOf(g, users, groups).map(userId));
  }
  ctx.log(`seeded ${users.toLocaleString("en-US")} users and ${groups} groups in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** Deletes the Redis keys of the CertCentral rate budget shared under `apiKey` (Bottleneck's `b_<id>_*`; they expire by themselves after a while too). */
export async function dropRedisLimiterKeys(redisUrl: string, apiKey: string): Promise<number> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = "0";
    let dropped = 0;
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `b_${limiterId(`certcentral:${apiKey}`)}*`, "COUNT", 500);
      cursor = next;
      if (keys.length) dropped += await redis.del(...keys);
    } while (cursor !== "0");
    return dropped;
  } finally {
    redis.disconnect();
  }
}
