// scimgateway (jelhub/scimgateway) with its in-file plugin, plugin-loki, as a side-by-side peer of the bridge.
//
// scimgateway is not on the npm registry: SCIMGATEWAY_DIR names a copy of its source whose dependencies were
// installed by benchmarks/peers/prepare-scimgateway.sh. It is ESM TypeScript written for Bun or Node ≥ 22.6;
// on Node 20 it runs under its own dependency tsx, loaded in-process (`node --import tsx/loader.mjs`, so the
// measured process is the server itself, not a tsx wrapper), with its tsconfig's `paths` resolving the
// plugin's `import … from 'scimgateway'`.
//
// Each run works on a temporary copy (scimgateway rewrites its config file, encrypting the token, and keeps its
// LokiJS database and logs beside it): lib/ and the config are copied, node_modules is linked, and the LokiJS
// database file (config/loki.db) is written beforehand with LokiJS itself, so 100,000 users load at start
// instead of being POSTed one by one.
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { BenchContext } from "../lib/context";
import { BENCH_TOKEN, groupId, groupName, membersOf, oktaUserBody, userId, userName } from "../lib/dataset";
import { freePort, spawnServer, type ServerProcess } from "../lib/processes";

/** What a prepared copy must hold (prepare-scimgateway.sh installs the dependencies). */
const REQUIRED = ["lib/scimgateway.ts", "lib/plugin-loki.ts", "tsconfig.json", "package.json", "node_modules/tsx/dist/loader.mjs", "node_modules/lokijs/package.json"];

/** The prepared scimgateway copy named by SCIMGATEWAY_DIR, checked; undefined when the variable is not set. */
export function scimgatewayDir(): string | undefined {
  const dir = process.env.SCIMGATEWAY_DIR;
  if (!dir) return undefined;
  const abs = path.resolve(dir);
  const missing = REQUIRED.filter((f) => !fs.existsSync(path.join(abs, f)));
  if (missing.length) {
    throw new Error(`SCIMGATEWAY_DIR=${dir} is not a prepared scimgateway copy (missing ${missing.join(", ")}); run benchmarks/peers/prepare-scimgateway.sh <scimgateway source dir>`);
  }
  return abs;
}

export function scimgatewayVersion(dir: string): string {
  return (JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { version?: string }).version ?? "unknown";
}

/** User i as plugin-loki holds it after Okta's create (the same body the bridge's store is seeded from), under the bridge's id. */
function lokiUser(i: number): Record<string, unknown> {
  const { schemas: _schemas, ...body } = oktaUserBody(userName(i), i);
  return { ...body, id: userId(i) };
}

function lokiGroup(g: number, users: number, groups: number): Record<string, unknown> {
  return {
    id: groupId(g),
    displayName: groupName(g),
    externalId: `gext-${g}`,
    members: membersOf(g, users, groups).map((i) => ({ value: userId(i), display: `Given${i} Family${i}` })),
  };
}

interface LokiCollection {
  insert(docs: Record<string, unknown>[]): unknown;
}
interface LokiDb {
  addCollection(name: string, options: { unique: string[] }): LokiCollection;
  saveDatabase(cb: (err?: Error | null) => void): void;
  close(cb?: () => void): void;
}
type LokiCtor = (new (file: string, options: Record<string, unknown>) => LokiDb) & { LokiFsAdapter: new () => unknown };

/** Writes plugin-loki's database file: the collections and unique keys plugin-loki would create itself. */
async function writeLokiDb(ctx: BenchContext, dir: string, file: string, users: number, groups: number): Promise<void> {
  const started = Date.now();
  const Loki = createRequire(path.join(dir, "package.json"))("lokijs") as LokiCtor;
  const db = new Loki(file, { env: "NA", adapter: new Loki.LokiFsAdapter() });
  const u = db.addCollection("users", { unique: ["id", "userName"] });
  const CHUNK = 10_000;
  for (let i = 0; i < users; i += CHUNK) {
    ctx.checkAborted();
    const docs = [];
    for (let j = i; j < Math.min(users, i + CHUNK); j++) docs.push(lokiUser(j));
    u.insert(docs);
  }
  const gs = db.addCollection("groups", { unique: ["displayName"] });
  const docs = [];
  for (let g = 0; g < groups; g++) docs.push(lokiGroup(g, users, groups));
  if (docs.length) gs.insert(docs);
  await new Promise<void>((resolve, reject) => db.saveDatabase((err) => (err ? reject(err) : resolve())));
  db.close();
  const mb = fs.statSync(file).size / 1024 ** 2;
  ctx.log(`wrote scimgateway's LokiJS file: ${users.toLocaleString("en-US")} users, ${groups} groups, ${mb.toFixed(0)} MB in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** plugin-loki's configuration: one entity, persisted to config/loki.db, bearer token, 127.0.0.1 only, no request log. */
function pluginConfig(port: number): Record<string, unknown> {
  return {
    scimgateway: {
      port,
      // Binds `localhost` (127.0.0.1 here) instead of every interface.
      localhostonly: true,
      scim: { version: "2.0", skipTypeConvert: false, skipMetaLocation: false, groupMemberOfUser: false, usePutSoftSync: false },
      // Its info level logs every request with its response body; errors only, so the peer pays no logging.
      log: { loglevel: { file: "error", console: "error" } },
      auth: { basic: [], bearerToken: [{ token: BENCH_TOKEN, readOnly: false, baseEntities: [] }], bearerJwt: [], bearerOAuth: [], passThrough: { enabled: false } },
      certificate: {},
      ipAllowList: [],
      stream: { subscriber: { enabled: false }, publisher: { enabled: false } },
    },
    endpoint: { entity: { undefined: { dbname: "loki.db", persistence: true } } },
  };
}

/**
 * Starts scimgateway + plugin-loki from a temporary copy of `dir` holding `users` users and `groups` groups
 * (the bridge's directory: same ids, userNames, names, emails, memberships). Resolves once user 0 is served,
 * that is once the LokiJS file is loaded.
 */
export async function startScimgateway(ctx: BenchContext, label: string, opts: { dir: string; users: number; groups: number }): Promise<ServerProcess> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "scim-bench-scimgateway-"));
  ctx.defer(`remove ${work}`, () => fs.rmSync(work, { recursive: true, force: true }));
  fs.cpSync(path.join(opts.dir, "lib"), path.join(work, "lib"), { recursive: true });
  for (const f of ["package.json", "tsconfig.json"]) fs.copyFileSync(path.join(opts.dir, f), path.join(work, f));
  fs.symlinkSync(path.join(opts.dir, "node_modules"), path.join(work, "node_modules"), "dir");
  fs.mkdirSync(path.join(work, "config"));
  const port = await freePort();
  fs.writeFileSync(path.join(work, "config", "plugin-loki.json"), JSON.stringify(pluginConfig(port), null, 2));
  await writeLokiDb(ctx, opts.dir, path.join(work, "config", "loki.db"), opts.users, opts.groups);
  const server = await spawnServer(ctx, {
    label,
    // The plugin is the entry point (index.ts only imports it); scimgateway names its config after that file.
    args: ["--import", pathToFileURL(path.join(work, "node_modules", "tsx", "dist", "loader.mjs")).href, path.join(work, "lib", "plugin-loki.ts")],
    port,
    readyPath: `/Users/${userId(0)}`,
    readyHeaders: { authorization: `Bearer ${BENCH_TOKEN}` },
    startTimeoutMs: 180_000,
    env: { TSX_TSCONFIG_PATH: path.join(work, "tsconfig.json"), NODE_ENV: "production" },
  });
  ctx.log(`${label} started (pid ${server.pid}, ${server.url})`);
  return server;
}
