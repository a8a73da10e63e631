// `digicert-scim reconcile [--fix] [--json]`: compares the bridge's store with DigiCert (listing DigiCert's users
// page by page within the rate budget) and prints the drift; with --fix, queues the outbox jobs that restore the
// state the IdP declared. The running bridge's worker carries them out on its next poll.
//
// Exit status: 0 no drift (DigiCert users the bridge does not manage are listed but are not drift), 1 a problem
// with the configuration, the database, the role mapping or DigiCert, 3 drift found (with --fix: found, and its
// repairs queued).
import type { Command } from "commander";
import { RoleMappingError } from "../config/role-mapping";
import { findPlatform } from "../digicert";
import { redact, silentLogger } from "../log/logger";
import { buildProvisioningCore } from "../wiring";
import { DRIFT_KINDS, hasDrift, type ReconcileProgress, type ReconcileReport } from "../provisioning/reconcile";
import { configOrReport, line, openBridgeStore, tenantTargetConfig, type CliIo, type Output } from "./common";
import { tenantOption } from "./program";
import { printTable } from "./table";

export const RECONCILE_EXIT_DRIFT = 3;

export interface ReconcileCommandOptions {
  json?: boolean;
  fix?: boolean;
  /** --tenant: whose store, against its primary DigiCert target; default "default". */
  tenant?: string;
}

export const RECONCILE_HELP = `
Compares every SCIM user in the bridge's store with DigiCert and reports:
  missing              the bridge links the user to a DigiCert user that no longer exists (deleted by hand)
  deactivated_by_hand  disabled in DigiCert while the IdP says the user has access
  reactivated_by_hand  has access in DigiCert while the bridge had disabled (or demoted) it
  roles_changed        DigiCert roles differ from those the bridge gave (only when ROLE_MAPPING_FILE manages roles)
  profile_changed      username, name, email, job title or phone changed in DigiCert
  not_provisioned      the IdP gives the user access but it has no DigiCert user
  unmanaged            a DigiCert user linked to no SCIM user (reported, never changed)
With --fix, one outbox job per drifted user restores what the IdP declared; the running bridge carries the jobs out
within the DigiCert rate budget (digicert-scim outbox shows them). The report is stored for the status page.
Exit status: 0 no drift, 1 configuration, database or DigiCert problem, 3 drift found.
`;

/** The command for the commander program (src/cli/index.ts registers it). */
export function addReconcileCommand(program: Command, io: CliIo, run: (body: () => Promise<number>) => void): void {
  program
    .command("reconcile")
    .description("compare the store with DigiCert and report drift; --fix restores the IdP's state through the outbox")
    .option("--fix", "record DigiCert's real state and queue the outbox jobs that restore the IdP's")
    .option("--json", "print the report as JSON instead of a table")
    .addHelpText("after", RECONCILE_HELP)
    .action((opts: ReconcileCommandOptions) => run(() => reconcileCommand({ ...opts, tenant: tenantOption(program) }, io.env, io.stdout, io.stderr)));
}

export async function reconcileCommand(
  opts: ReconcileCommandOptions,
  env: NodeJS.ProcessEnv,
  stdout: Output,
  stderr: Output,
): Promise<number> {
  const whole = configOrReport(env, stderr);
  if (!whole) return 1;
  // The tenant's primary target: its DigiCert, its role mapping, its DRY_RUN.
  const config = tenantTargetConfig(whole, opts.tenant);
  if (config.dryRun) {
    line(stderr, "reconcile does not run with DRY_RUN=true: a dry-run bridge links its users to pretend DigiCert ids (dry-run-…), so every one would show as drift");
    return 1;
  }
  const store = await openBridgeStore(whole, stderr, { tenant: opts.tenant });
  if (!store) return 1;
  // The same core the server builds; the CLI queues fixes, the running bridge's worker carries them out.
  const core = buildProvisioningCore(config, silentLogger(), store);
  try {
    try {
      await core.access.load();
    } catch (err) {
      if (!(err instanceof RoleMappingError)) throw err;
      line(stderr, config.roleMappingFile ? `Role mapping ${config.roleMappingFile} is invalid:` : "DIGICERT_DEFAULT_ROLE is invalid:");
      for (const p of err.problems) line(stderr, `  - ${redact(p)}`);
      return 1;
    }
    const report = await core.reconcile({ fix: !!opts.fix, trigger: "cli", onProgress: (p) => void line(stderr, progressLine(p)) });
    if (opts.json) line(stdout, JSON.stringify(report, null, 2));
    else printReport(stdout, report);
    return hasDrift(report) ? RECONCILE_EXIT_DRIFT : 0;
  } catch (err) {
    line(stderr, `digicert-scim reconcile: ${redact((err as Error).message)}`);
    return 1;
  } finally {
    await core.digicert.close();
    await store.close();
  }
}

function progressLine(p: ReconcileProgress): string {
  const of = p.total !== undefined ? `/${p.total}` : "";
  if (p.phase === "digicert") return `reconcile: ${p.done}${of} DigiCert users listed`;
  if (p.phase === "store") return `reconcile: ${p.done}${of} stored users compared`;
  return `reconcile: ${p.done}${of} drifted users fixed`;
}


export function printReport(out: Output, r: ReconcileReport): void {
  const s = r.stats;
  // A stored report may name a platform this build does not know: "account" is the neutral word then.
  const scope = findPlatform(r.platform)?.capabilities.scopeNoun ?? "account";
  line(out, `Reconciliation with DigiCert (${r.platform}), ${r.startedAt} to ${r.finishedAt}${r.id !== undefined ? `, report ${r.id}` : ""}`);
  line(
    out,
    `  DigiCert: ${s.digicertUsers} users listed in ${s.listCalls} ${s.listCalls === 1 ? "call" : "calls"}` +
      (s.outOfScope ? ` (${s.outOfScope} outside the managed ${scope}, not compared)` : "") +
      (s.lookups ? `, ${s.lookups} looked up singly` : ""),
  );
  line(
    out,
    `  store: ${s.storeUsers} SCIM users, ${s.checked} compared` +
      (s.skipped ? `, ${s.skipped} skipped (a DigiCert job for them was pending or finished during the run)` : ""),
  );
  line(out);
  if (!r.entries.length) {
    line(out, "No drift: DigiCert holds what the IdP declared.");
    return;
  }
  const header = ["KIND", "SCIM USER", "DIGICERT ID", "ACTION", "DETAIL"];
  const rows = r.entries.map((e) => [
    e.kind,
    oneLine(e.userName ?? e.digicertUsername ?? "-"),
    oneLine(e.digicertId ?? "-"),
    e.action + (e.jobId !== undefined ? ` (job ${e.jobId})` : ""),
    oneLine(e.detail),
  ]);
  printTable(out, header, rows);
  line(out);
  line(out, `Drift: ${DRIFT_KINDS.map((k) => `${k} ${r.counts[k]}`).join(", ")}`);
  if (r.fix) {
    line(
      out,
      `Fix: ${s.queued} outbox ${s.queued === 1 ? "job" : "jobs"} queued` +
        (s.fixSkipped ? `, ${s.fixSkipped} ${s.fixSkipped === 1 ? "user" : "users"} left alone (changed during the run; run again)` : "") +
        ". The running bridge carries them out (digicert-scim outbox shows them). Unmanaged users are never changed.",
    );
  } else if (hasDrift(r)) {
    line(out, "Run with --fix to restore what the IdP declared (unmanaged DigiCert users are never changed).");
  }
}

/** Control characters would break the table: one line, secrets masked. */
function oneLine(s: string): string {
  return (redact(s) as string).replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
}
