// Servers under test run in child processes of their own, so the load generator (autocannon, in this process)
// does not share their event loop, and their memory is theirs alone (read from /proc/<pid>/status).
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { BENCH_DIR, ROOT, sleep, type BenchContext } from "./context";
import { BENCH_TOKEN } from "./dataset";
import { summariseProfile } from "./profile";

export interface ServerProcess {
  label: string;
  /** http://127.0.0.1:<port> */
  url: string;
  pid: number;
  proc: ChildProcess;
  /** Resident set size now, in MB (VmRSS), and the peak so far (VmHWM). */
  memory(): { rssMb: number; peakMb: number };
  /** CPU time the process has used so far (user + system), in seconds. */
  cpuSeconds(): number;
  /** The last lines the process wrote (stdout and stderr go to a file). */
  tail(lines?: number): string;
  /** SIGTERM, then SIGKILL after a grace period; resolves once it exited. Idempotent. */
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** utime + stime of /proc/<pid>/stat, in seconds (clock ticks are 1/100 s on Linux). */
export function readCpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export function readMemory(pid: number): { rssMb: number; peakMb: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rssMb: kb("VmRSS") / 1024, peakMb: kb("VmHWM") / 1024 };
}

export interface SpawnSpec {
  label: string;
  args: string[];
  env: Record<string, string>;
  port: number;
  /** GET this path until it answers 200. */
  readyPath: string;
  readyHeaders?: Record<string, string>;
  startTimeoutMs?: number;
  /** Where --cpu-prof writes, when profiling. */
  profileDir?: string;
}

export async function spawnServer(ctx: BenchContext, spec: SpawnSpec): Promise<ServerProcess> {
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), "scim-bench-log-"));
  ctx.defer(`remove ${logDir}`, () => fs.rmSync(logDir, { recursive: true, force: true }));
  const logFile = path.join(logDir, "out.log");
  // Output to a file, not a pipe: reading a pipe would cost this process CPU under load, and a full pipe
  // would stall the child. The bridge logs one JSON line per request at info, as in production.
  const fd = fs.openSync(logFile, "w");
  const proc = spawn(process.execPath, spec.args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...spec.env },
    stdio: ["ignore", fd, fd],
  });
  fs.closeSync(fd);
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${spec.port}`;
  const tail = (lines = 30) => {
    try {
      return fs.readFileSync(logFile, "utf8").split("\n").slice(-lines).join("\n");
    } catch {
      return "";
    }
  };
  let stopping: Promise<void> | null = null;
  const server: ServerProcess = {
    label: spec.label,
    url,
    pid: proc.pid!,
    proc,
    memory: () => readMemory(proc.pid!),
    cpuSeconds: () => readCpuSeconds(proc.pid!),
    tail,
    stop() {
      stopping ??= (async () => {
        if (proc.exitCode === null && proc.signalCode === null) {
          proc.kill("SIGTERM");
          const killer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
          await exited;
          clearTimeout(killer);
        }
        if (spec.profileDir) {
          const files = fs.readdirSync(spec.profileDir).filter((f) => f.endsWith(".cpuprofile"));
          for (const f of files) {
            const summary = summariseProfile(path.join(spec.profileDir, f));
            ctx.profiles.push({ label: spec.label, summary });
            ctx.log(`CPU profile of ${spec.label}: ${path.relative(ROOT, path.join(spec.profileDir, f))}`);
          }
        }
      })();
      return stopping;
    },
  };
  ctx.defer(`stop ${spec.label}`, () => server.stop());
  const deadline = Date.now() + (spec.startTimeoutMs ?? 60_000);
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`${spec.label} exited before it was ready:\n${tail()}`);
    try {
      const res = await fetch(url + spec.readyPath, { headers: spec.readyHeaders, signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${spec.label} not ready within ${(spec.startTimeoutMs ?? 60_000) / 1000} s:\n${tail()}`);
    await sleep(100);
  }
  return server;
}

function profileArgs(ctx: BenchContext, label: string): { args: string[]; dir?: string } {
  if (!ctx.options.profile) return { args: [] };
  const dir = path.join(BENCH_DIR, "profiles", `${ctx.benchmark.id}-${label.replace(/[^A-Za-z0-9_-]+/g, "-")}-${Date.now()}`);
  fs.mkdirSync(dir, { recursive: true });
  return { args: ["--cpu-prof", `--cpu-prof-dir=${dir}`], dir };
}

/**
 * The bridge as production runs it: `node dist/src/main.js` (built by the runner) with configuration from the
 * environment. `env` is added to (and overrides) a CertCentral configuration pointing at `digicertBaseUrl`.
 */
export async function startBridge(
  ctx: BenchContext,
  label: string,
  opts: { databaseUrl: string; digicertBaseUrl: string; apiKey: string; env?: Record<string, string> },
): Promise<ServerProcess> {
  const port = await freePort();
  const prof = profileArgs(ctx, label);
  const server = await spawnServer(ctx, {
    label,
    args: [...prof.args, path.join("dist", "src", "main.js")],
    port,
    profileDir: prof.dir,
    readyPath: "/healthz",
    env: {
      PORT: String(port),
      HOST: "127.0.0.1",
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      SCIM_BEARER_TOKENS: `bench=${BENCH_TOKEN}`,
      DIGICERT_PLATFORM: "certcentral",
      DIGICERT_API_KEY: opts.apiKey,
      DIGICERT_BASE_URL: opts.digicertBaseUrl,
      DIGICERT_CERTCENTRAL_CONTAINER_ID: "1",
      DATABASE_URL: opts.databaseUrl,
      LOG_LEVEL: "info",
      NODE_ENV: "production",
      ...opts.env,
    },
  });
  ctx.log(`${label} started (pid ${server.pid}, ${server.url})`);
  return server;
}

/** The baseline: plain SCIMMY + scimmy-routers with in-memory handlers (benchmarks/servers/baseline.ts). */
export async function startBaseline(
  ctx: BenchContext,
  label: string,
  opts: { users: number; groups: number; bigGroup?: number },
): Promise<ServerProcess> {
  const port = await freePort();
  const prof = profileArgs(ctx, label);
  const server = await spawnServer(ctx, {
    label,
    args: [...prof.args, "-r", "ts-node/register/transpile-only", path.join("benchmarks", "servers", "baseline.ts")],
    port,
    profileDir: prof.dir,
    readyPath: "/scim/v2/ServiceProviderConfig",
    readyHeaders: { authorization: `Bearer ${BENCH_TOKEN}` },
    startTimeoutMs: 120_000,
    env: {
      PORT: String(port),
      BASELINE_USERS: String(opts.users),
      BASELINE_GROUPS: String(opts.groups),
      BASELINE_BIG_GROUP: String(opts.bigGroup ?? 0),
      NODE_ENV: "production",
    },
  });
  ctx.log(`${label} started (pid ${server.pid}, ${server.url})`);
  return server;
}
