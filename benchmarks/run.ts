// `npm run bench [-- --quick] [-- --only reads,memory] [-- --profile]`
//
// Builds the bridge (dist/), checks PostgreSQL and Redis on 127.0.0.1, runs each benchmark with a hard time bound
// and its own cleanup, and writes RESULTS.md and results.json: into benchmarks/ for a full run of every
// benchmark (the committed figures), into benchmarks/out/ otherwise. Exits 1 when a benchmark crashed or ran out
// of time, never because a figure missed its target (figures vary between machines).
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Redis from "ioredis";
import { BENCH_DIR, BenchContext, ROOT, withTimeout, type Benchmark, type BenchmarkResult, type RunOptions } from "./lib/context";
import { renderMarkdown, judge, type Machine, type RunReport } from "./lib/report";
import { pgQuery } from "./lib/stores";
import { reads } from "./reads";
import { memory } from "./memory";
import { writes } from "./writes";
import { pacing } from "./pacing";
import { largeGroups } from "./large-groups";
import { replicas } from "./replicas";
import { peer } from "./peer";

const ALL: Benchmark[] = [reads, memory, writes, pacing, largeGroups, replicas, peer];

function parseArgs(argv: string[]): { quick: boolean; profile: boolean; only: string[] | null; build: boolean } {
  let quick = false;
  let profile = false;
  let build = true;
  let only: string[] | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--quick") quick = true;
    else if (a === "--profile") profile = true;
    else if (a === "--no-build") build = false;
    else if (a === "--only" || a.startsWith("--only=")) only = (a.includes("=") ? a.split("=")[1] : argv[++i] ?? "").split(",").filter(Boolean);
    else if (a === "--help" || a === "-h") {
      process.stdout.write(
        "npm run bench [-- --quick] [--only <ids>] [--profile] [--no-build]\n" +
          `  benchmarks: ${ALL.map((b) => b.id).join(", ")}\n` +
          "  --quick     short run (CI); results go to benchmarks/out/\n" +
          "  --only      comma-separated benchmark ids; results go to benchmarks/out/\n" +
          "  --profile   bridge processes run under node --cpu-prof (benchmarks/profiles/), summarised in the results\n",
      );
      process.exit(0);
    } else {
      process.stderr.write(`unknown argument ${a} (see --help)\n`);
      process.exit(2);
    }
  }
  if (only) {
    const unknown = only.filter((id) => !ALL.some((b) => b.id === id));
    if (unknown.length) {
      process.stderr.write(`unknown benchmark ${unknown.join(", ")}; known: ${ALL.map((b) => b.id).join(", ")}\n`);
      process.exit(2);
    }
  }
  return { quick, profile, only, build };
}

/** Benchmarks talk to this machine only. */
function localUrl(name: string, value: string): string {
  const host = new URL(value).hostname;
  if (!["127.0.0.1", "localhost", "::1", "[::1]"].includes(host)) {
    throw new Error(`${name} must point at this machine (127.0.0.1), not ${host}`);
  }
  return value;
}

async function machineInfo(quick: boolean, services: RunOptions["services"]): Promise<Machine> {
  const pg = (await pgQuery(services.pgUrl, "show server_version")) as { server_version: string }[];
  const redis = new Redis(services.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  const info = await redis.info("server");
  redis.disconnect();
  let commit = "unknown";
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src", "package.json"], { cwd: ROOT, encoding: "utf8" }).trim();
    if (dirty) commit += " (with uncommitted changes under src/)";
  } catch {
    // not a git checkout
  }
  return {
    date: new Date().toISOString(),
    mode: quick ? "quick" : "full",
    cpu: os.cpus()[0]?.model?.trim() ?? "unknown",
    cores: os.cpus().length,
    memoryGb: Math.round(os.totalmem() / 1024 ** 3),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.versions.node,
    postgres: pg[0]?.server_version ?? "unknown",
    redis: /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? "unknown",
    commit,
  };
}

async function runOne(b: Benchmark, options: RunOptions, shared: Map<string, unknown>): Promise<BenchmarkResult> {
  const ctx = new BenchContext(b, options, shared);
  const started = Date.now();
  const budget = b.budgetMs(options.quick);
  ctx.log(`starting (time bound ${Math.round(budget / 1000)} s)`);
  let error: string | undefined;
  const running = b.run(ctx);
  try {
    await withTimeout(running, budget, b.id);
  } catch (err) {
    error = (err as Error)?.stack ?? String(err);
    ctx.abort.abort();
    // Give the benchmark a moment to notice and stop its loops before its processes go away under it.
    await withTimeout(running.catch(() => undefined), 15_000, `${b.id} stopping`).catch(() => undefined);
  }
  const problems = await ctx.cleanup();
  if (problems.length) ctx.log(`cleanup problems: ${problems.join("; ")}`);
  const seconds = (Date.now() - started) / 1000;
  ctx.log(error ? `FAILED after ${seconds.toFixed(0)} s: ${error.split("\n")[0]}` : `done in ${seconds.toFixed(0)} s`);
  return {
    id: b.id,
    title: b.title,
    seconds,
    figures: ctx.figures.map(judge),
    setup: ctx.setup,
    notes: [...ctx.notes, ...problems.map((p) => `cleanup problem: ${p}`)],
    profiles: ctx.profiles,
    ...(error ? { error } : {}),
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const services = {
    pgUrl: localUrl("BENCH_DATABASE_URL", process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test"),
    redisUrl: localUrl("BENCH_REDIS_URL", process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379"),
  };
  const options: RunOptions = { quick: args.quick, profile: args.profile, services };
  const started = Date.now();
  if (args.build) {
    process.stderr.write("[bench] building the bridge (npm run build)\n");
    const build = spawnSync("npm", ["run", "build", "--silent"], { cwd: ROOT, stdio: "inherit" });
    if (build.status !== 0) throw new Error("npm run build failed");
  }
  const machine = await machineInfo(args.quick, services);
  process.stderr.write(`[bench] ${machine.mode} run on ${machine.cpu}, ${machine.cores} cores; PostgreSQL ${machine.postgres}, Redis ${machine.redis}\n`);
  const selected = args.only ? ALL.filter((b) => args.only!.includes(b.id)) : ALL;
  // The memory figure is measured by the read benchmark.
  if (selected.includes(memory) && !selected.includes(reads)) selected.unshift(reads);
  const shared = new Map<string, unknown>();
  const results: BenchmarkResult[] = [];
  let interrupted = false;
  process.once("SIGINT", () => {
    interrupted = true;
    process.stderr.write("[bench] interrupted: finishing the current benchmark's cleanup\n");
  });
  for (const b of ALL.filter((x) => selected.includes(x))) {
    if (interrupted) break;
    results.push(await runOne(b, options, shared));
  }
  const report: RunReport = { machine, seconds: (Date.now() - started) / 1000, benchmarks: results };
  const committed = !args.quick && !args.only && !args.profile;
  const outDir = committed ? BENCH_DIR : path.join(BENCH_DIR, "out");
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, "results.json"), JSON.stringify(report, null, 2) + "\n");
  fs.writeFileSync(path.join(outDir, "RESULTS.md"), renderMarkdown(report));
  const failed = results.filter((r) => r.error);
  const figures = results.flatMap((r) => r.figures.filter((f) => f.target));
  process.stderr.write(
    `[bench] ${results.length} benchmarks in ${report.seconds.toFixed(0)} s; ${figures.filter((f) => f.met).length} of ${figures.length} figures meet their target; ` +
      `results in ${path.relative(ROOT, outDir) || "."}/RESULTS.md\n`,
  );
  if (failed.length || interrupted) {
    process.stderr.write(`[bench] FAILED: ${failed.map((f) => f.id).join(", ") || "interrupted"}\n`);
    process.exit(1);
  }
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`[bench] ${(err as Error)?.stack ?? err}\n`);
  process.exit(1);
});
