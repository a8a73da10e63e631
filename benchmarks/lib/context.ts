// What every benchmark module gets from the runner: the run's options, progress output, a time bound and a
// cleanup scope (children, temp dirs, PostgreSQL schemas, Redis keys are all let go of through it).
import path from "node:path";

export const ROOT = path.resolve(__dirname, "../..");
export const BENCH_DIR = path.resolve(__dirname, "..");

/** Everything the benchmarks need from the outside world; all of it on 127.0.0.1. */
export interface Services {
  /** PostgreSQL base URL (trust auth); benchmarks make and drop schemas of their own in it. */
  pgUrl: string;
  redisUrl: string;
}

export interface RunOptions {
  quick: boolean;
  /** Start the bridge processes under `node --cpu-prof` and summarise where their CPU went. */
  profile: boolean;
  services: Services;
}

export interface Target {
  /** ">=" : the figure must be at least `value`; "<": below it; "==": exactly it. */
  op: ">=" | "<" | "<=" | "==";
  value: number;
}

/** One number in the results table. */
export interface Figure {
  /** Stable id for results.json (e.g. "reads.sqlite.getUser.rps"). */
  id: string;
  label: string;
  value: number;
  unit: string;
  /** The same figure of the baseline, measured in this run. */
  baseline?: number;
  /** value / baseline (or baseline / value for latencies, so that > 1 is always "better than the baseline"). */
  ratio?: number;
  target?: Target;
  /** What the target applies to when it is not `value` itself (e.g. the ratio). */
  targetOn?: "value" | "ratio";
  /** Computed by the runner from target. */
  met?: boolean;
  note?: string;
}

export interface BenchmarkResult {
  id: string;
  title: string;
  /** Wall-clock seconds the benchmark took, setup and cleanup included. */
  seconds: number;
  figures: Figure[];
  /** Parameters (store size, connections, durations, limits) so a reader knows what was measured. */
  setup: string[];
  notes: string[];
  /** Set when the benchmark crashed or ran out of time: the run then exits non-zero. */
  error?: string;
  /** `--profile`: the hottest functions and packages of each profiled process. */
  profiles?: { label: string; summary: string }[];
}

export interface Benchmark {
  id: string;
  title: string;
  /** Hard bound on the benchmark's wall-clock time; past it the runner cleans up and records a failure. */
  budgetMs(quick: boolean): number;
  run(ctx: BenchContext): Promise<void>;
}

type Cleanup = { name: string; fn: () => Promise<void> | void };

export class BenchContext {
  readonly figures: Figure[] = [];
  readonly setup: string[] = [];
  readonly notes: string[] = [];
  readonly profiles: { label: string; summary: string }[] = [];
  private readonly cleanups: Cleanup[] = [];
  private readonly started = Date.now();
  /** Set when the runner gives up on the benchmark: long loops should stop early. */
  readonly abort = new AbortController();

  constructor(
    readonly benchmark: Pick<Benchmark, "id" | "title">,
    readonly options: RunOptions,
    /** Values shared between benchmarks of one run (the read benchmark's RSS samples for the memory figure). */
    readonly shared: Map<string, unknown>,
  ) {}

  get quick(): boolean {
    return this.options.quick;
  }

  /** Progress line on stderr, prefixed with the benchmark and the seconds since it started. */
  log(message: string): void {
    const t = ((Date.now() - this.started) / 1000).toFixed(1).padStart(6);
    process.stderr.write(`[${this.benchmark.id} ${t}s] ${message}\n`);
  }

  figure(f: Figure): void {
    this.figures.push(f);
    const base = f.baseline !== undefined ? ` (baseline ${fmt(f.baseline)}${f.ratio !== undefined ? `, ratio ${f.ratio.toFixed(2)}` : ""})` : "";
    this.log(`${f.label}: ${fmt(f.value)} ${f.unit}${base}`);
  }

  /** Registers a cleanup; they run last-in first-out when the benchmark ends, however it ends. */
  defer(name: string, fn: () => Promise<void> | void): void {
    this.cleanups.push({ name, fn });
  }

  /** Throws when the runner has given up on this benchmark (time bound). */
  checkAborted(): void {
    if (this.abort.signal.aborted) throw new Error("aborted: time bound reached");
  }

  async cleanup(): Promise<string[]> {
    const problems: string[] = [];
    while (this.cleanups.length) {
      const c = this.cleanups.pop()!;
      try {
        await withTimeout(Promise.resolve().then(c.fn), 30_000, `cleanup ${c.name}`);
      } catch (err) {
        problems.push(`${c.name}: ${(err as Error).message}`);
      }
    }
    return problems;
  }
}

export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return n.toLocaleString("en-US");
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString("en-US");
  if (Math.abs(n) >= 10) return n.toFixed(1);
  // Fractions are read against targets like 0.95: two digits would round 0.946 up to a pass.
  if (Math.abs(n) < 1) return n.toFixed(3);
  return n.toFixed(2);
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no result within ${Math.round(ms / 1000)} s`)), ms);
    }),
  ]);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
