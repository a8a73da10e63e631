// `digicert-scim outbox …`: look at the DigiCert write jobs the bridge queued, and put failed ones back to run.
// Works on the bridge's database directly (DATABASE_URL); a running bridge's worker picks retried jobs up on
// its next poll, so nothing needs restarting.
import { redact } from "../log/logger";
import type { OutboxJob, OutboxStatus } from "../provisioning/records";
import type { Store } from "../provisioning/ports";
import { jobFailureCode } from "../provisioning/job-failure-codes";
import { configOrReport, line, openBridgeStore, type Output } from "./common";
import { printTable } from "./table";

const STATUSES: readonly OutboxStatus[] = ["pending", "running", "done", "failed", "superseded", "cancelled"];
const DEFAULT_LIMIT = 50;

export type OutboxArgs =
  | { command: "status"; json: boolean }
  | { command: "list"; status?: OutboxStatus[]; userId?: string; limit: number; json: boolean }
  | { command: "retry"; ids: number[] | "all" };

/** Parses what follows `outbox`; `{ usage }` says what is wrong (the caller prints the usage and exits 2). */
export function parseOutboxArgs(args: string[]): OutboxArgs | { usage: string } {
  const [first, ...after] = args;
  // `outbox` and `outbox --json` are `outbox status`.
  const sub = first === undefined || first.startsWith("-") ? "status" : first;
  const rest = sub === first ? after : args;
  try {
    if (sub === "status") {
      const opts = parseOptions(rest, { flags: ["--json"], values: [] });
      if (opts.positional.length) return { usage: `outbox status takes no argument: ${opts.positional.join(" ")}` };
      return { command: "status", json: opts.flags.has("--json") };
    }
    if (sub === "list") return parseList(rest);
    if (sub === "retry") return parseRetry(rest);
  } catch (err) {
    if (err instanceof UsageError) return { usage: err.message };
    throw err;
  }
  return { usage: `unknown outbox command: ${sub} (use status, list or retry)` };
}

function parseList(args: string[]): OutboxArgs {
  const opts = parseOptions(args, { flags: ["--json"], values: ["--status", "--user", "--limit"] });
  if (opts.positional.length) throw new UsageError(`outbox list takes no argument: ${opts.positional.join(" ")}`);
  let status: OutboxStatus[] | undefined;
  const statusArgs = opts.values.get("--status");
  if (statusArgs) {
    const given = statusArgs.flatMap((s) => s.split(",")).map((s) => s.trim().toLowerCase());
    const bad = given.filter((s) => !(STATUSES as readonly string[]).includes(s));
    if (bad.length || !given.length) {
      throw new UsageError(`--status must be one or more of ${STATUSES.join(", ")} (comma-separated); got ${statusArgs.join(",")}`);
    }
    status = [...new Set(given as OutboxStatus[])];
  }
  const userId = last(opts.values.get("--user"));
  if (userId !== undefined && !userId.trim()) throw new UsageError("--user needs a user id");
  const limitArg = last(opts.values.get("--limit"));
  let limit = DEFAULT_LIMIT;
  if (limitArg !== undefined) {
    limit = /^\d{1,9}$/.test(limitArg) ? Number(limitArg) : 0;
    if (limit < 1) throw new UsageError(`--limit must be a whole number of at least 1; got ${limitArg}`);
  }
  return { command: "list", status, userId: userId?.trim(), limit, json: opts.flags.has("--json") };
}

function parseRetry(args: string[]): OutboxArgs {
  const opts = parseOptions(args, { flags: ["--all"], values: [] });
  const all = opts.flags.has("--all");
  if (all && opts.positional.length) throw new UsageError("outbox retry takes either --all or job ids, not both");
  if (all) return { command: "retry", ids: "all" };
  if (!opts.positional.length) throw new UsageError("outbox retry needs --all or the ids of the failed jobs to retry");
  const bad = opts.positional.filter((id) => !/^\d{1,15}$/.test(id) || Number(id) < 1);
  if (bad.length) throw new UsageError(`job ids are positive whole numbers; got ${bad.join(" ")}`);
  return { command: "retry", ids: [...new Set(opts.positional.map(Number))] };
}

class UsageError extends Error {}

interface ParsedOptions {
  flags: Set<string>;
  values: Map<string, string[]>;
  positional: string[];
}

/** `--flag`, `--opt value`, `--opt=value`; `--` ends the options. Anything else starting with "-" is refused. */
function parseOptions(args: string[], known: { flags: string[]; values: string[] }): ParsedOptions {
  const out: ParsedOptions = { flags: new Set(), values: new Map(), positional: [] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      out.positional.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      out.positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (known.flags.includes(name)) {
      if (eq > 0) throw new UsageError(`${name} takes no value`);
      out.flags.add(name);
    } else if (known.values.includes(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
      if (value === undefined) throw new UsageError(`${name} needs a value`);
      out.values.set(name, [...(out.values.get(name) ?? []), value]);
    } else {
      throw new UsageError(`unknown option: ${name}`);
    }
  }
  return out;
}

const last = <T>(xs: T[] | undefined): T | undefined => xs?.[xs.length - 1];

// --- Running ------------------------------------------------------------------------------------------------

/** `tenant` (--tenant): whose outbox, default "default"; `target` (--target): which of its targets', default the primary. */
export async function outboxCommand(args: OutboxArgs, env: NodeJS.ProcessEnv, stdout: Output, stderr: Output, tenant?: string, target?: string): Promise<number> {
  const config = configOrReport(env, stderr, { storeOnly: true });
  if (!config) return 1;
  const store = await openBridgeStore(config, stderr, { tenant, target });
  if (!store) return 1;
  try {
    if (args.command === "status") return await printStatus(store, args.json, stdout);
    if (args.command === "list") return await printList(store, args, stdout);
    return await retry(store, args.ids, stdout, stderr);
  } catch (err) {
    line(stderr, `digicert-scim: ${redact((err as Error).message)}`);
    return 1;
  } finally {
    await store.close();
  }
}



async function printStatus(store: Store, json: boolean, out: Output): Promise<number> {
  const stats = await store.outbox.stats();
  const ageMs = stats.oldestUnfinished ? Math.max(0, Date.now() - Date.parse(stats.oldestUnfinished)) : null;
  if (json) {
    line(out, JSON.stringify({ ...stats, oldestUnfinishedAgeSeconds: ageMs === null ? null : Math.floor(ageMs / 1000) }, null, 2));
    return 0;
  }
  line(out, "DigiCert outbox:");
  line(out, `  pending  ${stats.pending}`);
  line(out, `  running  ${stats.running}`);
  line(out, `  failed   ${stats.failed}`);
  line(
    out,
    stats.oldestUnfinished && ageMs !== null
      ? `  oldest unfinished job: ${formatAge(ageMs)} old (created ${stats.oldestUnfinished})`
      : "  oldest unfinished job: none (nothing waiting)",
  );
  if (stats.failed) {
    line(out);
    line(out, `${stats.failed} failed ${stats.failed === 1 ? "job waits" : "jobs wait"} for an admin:`);
    line(out, "  digicert-scim outbox list --status failed   to see why");
    line(out, "  digicert-scim outbox retry --all            to run them again");
  }
  return 0;
}

async function printList(store: Store, args: Extract<OutboxArgs, { command: "list" }>, out: Output): Promise<number> {
  const jobs = await store.outbox.list({ status: args.status, userId: args.userId, limit: args.limit });
  if (args.json) {
    line(out, JSON.stringify(jobs.map(jobJson), null, 2));
    return 0;
  }
  if (!jobs.length) {
    line(out, "No outbox jobs match.");
    return 0;
  }
  const header = ["ID", "KIND", "STATUS", "ATTEMPTS", "USER ID", "USERNAME", "CREATED", "UPDATED", "ERROR"];
  const rows = jobs.map((j) => [
    String(j.id),
    j.kind,
    j.status,
    String(j.attempts),
    oneLine(j.userId),
    oneLine(j.payload.userName ?? "-"),
    j.created,
    j.updated,
    j.error ? oneLine(`${jobFailureCode(j.error.cause)}: ${j.error.message}`) : "-",
  ]);
  printTable(out, header, rows);
  if (jobs.length === args.limit) line(out, `(the newest ${args.limit}; --limit N shows more)`);
  return 0;
}

/** A job as `list --json` prints it: the payload's snapshot of the user stays internal, its userName is shown. */
function jobJson(j: OutboxJob) {
  return {
    id: j.id,
    kind: j.kind,
    status: j.status,
    attempts: j.attempts,
    userId: j.userId,
    userName: j.payload.userName ?? null,
    error: j.error ? { kind: jobFailureCode(j.error.cause), message: redact(j.error.message) as string } : null,
    created: j.created,
    updated: j.updated,
    finished: j.finished,
    runAfter: j.runAfter,
    leaseOwner: j.leaseOwner,
    leaseUntil: j.leaseUntil,
  };
}

async function retry(store: Store, ids: number[] | "all", out: Output, err: Output): Promise<number> {
  let missing: number[] = [];
  if (ids !== "all") {
    const found = await store.outbox.get(ids);
    const byId = new Map(found.map((j) => [j.id, j]));
    missing = ids.filter((id) => !byId.has(id));
    for (const id of missing) line(err, `Job ${id}: no such job`);
    for (const j of found) if (j.status !== "failed") line(err, `Job ${j.id} is ${j.status}, not failed: left as it is`);
  }
  const n = await store.outbox.retryFailed(ids === "all" ? undefined : ids);
  if (n === 0 && ids === "all") line(out, "No failed jobs to retry.");
  else {
    line(out, `Reset ${n} failed ${n === 1 ? "job" : "jobs"} to pending.`);
    if (n) line(out, `The bridge's worker picks ${n === 1 ? "it" : "them"} up on its next poll.`);
  }
  return missing.length ? 1 : 0;
}

// --- Formatting -----------------------------------------------------------------------------------------------

/** Control characters (a newline in an error message, say) would break the table: one line, secrets masked. */
function oneLine(s: string): string {
  return (redact(s) as string).replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
}

/** "45s", "12m 5s", "3h 20m", "2d 4h". */
export function formatAge(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}
