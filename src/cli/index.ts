#!/usr/bin/env node
// `digicert-scim`: admin commands next to the server. Each command takes its env and output streams so tests
// drive it in-process; only the bottom of this file touches the real process.
import type { Command } from "commander";
import type { AppConfig } from "../config";
import { processEnvWithFile } from "../config/env-file";
import { loadRoleMappingFile, RoleMappingError, type RoleMappingSpec, type RuleMatch } from "../config/role-mapping";
import { displayNameOf, type DigiCertRole, type PlatformName } from "../digicert";
import { openDigiCertClient } from "../wiring";
import { redact, silentLogger } from "../log/logger";
import { compileRoleMapping, type CompiledRoleMapping, type ResolvedRole } from "../provisioning/role-policy";
import { checkCommand } from "./check";
import { configOrReport, line, quietOnBrokenPipe, tenantTargetConfig, type CliIo, type Output } from "./common";
import { migrateCommand } from "./migrate";
import { outboxCommand, parseOutboxArgs } from "./outbox";
import { jsonOption, runProgram, targetOption, tenantOption, usage, type CommandSet } from "./program";
import { auditCommand, type AuditOptions } from "./audit";
import { planCommand, type PlanOptions } from "./plan";
import { addReconcileCommand } from "./reconcile";
import { addTokensCommand } from "./tokens";

export type { CliIo, Output } from "./common";

const OUTBOX_HELP = `
Commands:
  outbox [status] [--json]       count the DigiCert jobs waiting (pending, running) and failed; age of the oldest
  outbox list [--status S[,S...]] [--user USER_ID] [--limit N] [--json]
                                 list jobs, newest first (default limit 50); S: pending, running, done, failed,
                                 superseded, cancelled
  outbox retry --all | JOB_ID... put failed jobs back to pending with a fresh attempt count; the running bridge's
                                 worker picks them up on its next poll
`;

/** serve, migrate, check, roles, outbox. */
const coreCommands: CommandSet = (program: Command, io: CliIo, run) => {
  const { env, stdout, stderr } = io;
  program
    .command("serve")
    .description("run the bridge with the configuration from the environment (what npm start does)")
    .action(() =>
      run(async () => {
        // Imported here: the server's modules are heavy and no other command needs them.
        const { serve } = await import("../main");
        await serve(env);
        return new Promise<number>(() => undefined); // runs until a signal ends the process
      }),
    );
  program
    .command("migrate")
    .description("bring the database schema up to date (the server also does it at start)")
    .addOption(jsonOption())
    .action((opts: { json?: boolean }) => run(() => migrateCommand(opts, env, stdout, stderr)));
  program
    .command("check")
    .description("validate the configuration and reach the database, Redis and DigiCert; changes nothing")
    .addOption(jsonOption())
    .action((opts: { json?: boolean }) => run(() => checkCommand({ ...opts, tenant: tenantOption(program) }, env, stdout, stderr)));
  program
    .command("roles")
    .description("list DigiCert's roles and the role mapping in force; `roles check FILE` checks a mapping file")
    .argument("[check]", "check a mapping file instead")
    .argument("[FILE]", "the role mapping file to check")
    .addOption(jsonOption())
    .action((sub: string | undefined, file: string | undefined, opts: { json?: boolean }) =>
      run(async () => {
        const tenant = tenantOption(program);
        if (sub === undefined) return rolesCommand(env, stdout, stderr, { ...opts, tenant });
        if (sub !== "check") usage(`unknown roles command: ${sub} (use roles, or roles check FILE)`);
        if (!file) usage("roles check needs the FILE to check");
        return rolesCheckCommand(file, env, stdout, stderr, { ...opts, tenant });
      }),
    );
  program
    .command("outbox")
    .description("look at the DigiCert jobs the bridge queued, and retry failed ones")
    .usage("[status|list|retry] [options]")
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument("[args...]")
    .addHelpText("after", OUTBOX_HELP)
    .action((args: string[], _opts: unknown, cmd: Command) =>
      run(async () => {
        if (args.includes("--help") || args.includes("-h")) {
          stdout.write(cmd.helpInformation());
          stdout.write(OUTBOX_HELP);
          return 0;
        }
        const parsed = parseOutboxArgs(args);
        if ("usage" in parsed) usage(parsed.usage);
        return outboxCommand(parsed, env, stdout, stderr, tenantOption(program), targetOption(program));
      }),
    );
};

/** audit, plan (the audit trail and dry-run) and reconcile. */
const operateCommands: CommandSet = (program: Command, io: CliIo, run) => {
  const { env, stdout, stderr } = io;
  const positive = (name: string) => (v: string) => {
    if (!/^\d{1,9}$/.test(v) || Number(v) < 1) usage(`${name} must be a whole number of at least 1; got ${v}`);
    return Number(v);
  };
  program
    .command("audit")
    .description("one user's history: every SCIM change or refusal, and the DigiCert calls it caused")
    .requiredOption("--user <userName|id>", "the user (a userName, any case, or a SCIM id; deleted users too)")
    .option("--since <when>", "an ISO date or a duration back from now (24h, 7d)")
    .option("--limit <n>", "the newest N entries (default 200)", positive("--limit"))
    .addOption(jsonOption())
    .action((opts: AuditOptions) => run(() => auditCommand({ ...opts, tenant: tenantOption(program) }, env, stdout, stderr)));
  program
    .command("plan")
    .description("what a DRY_RUN bridge would have asked DigiCert to do, grouped by user")
    .option("--since <when>", "an ISO date or a duration back from now (24h, 7d)")
    .option("--user <userName|id>", "only this user")
    .addOption(jsonOption())
    .action((opts: PlanOptions) => run(() => planCommand({ ...opts, tenant: tenantOption(program) }, env, stdout, stderr)));
  addReconcileCommand(program, io, run);
};

const commandSets: CommandSet[] = [coreCommands, operateCommands, addTokensCommand];

/** Lets other modules add commands (audit, plan, reconcile) before `runCli` is called. */
export function addCommands(set: CommandSet): void {
  commandSets.push(set);
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  // `help` alone prints the program's help; `help CMD` is commander's own.
  return runProgram(argv, io, commandSets);
}

/** `roles`: DigiCert's roles, then the mapping from ROLE_MAPPING_FILE (or the default role when there is none). */
export async function rolesCommand(env: NodeJS.ProcessEnv, stdout: Output, stderr: Output, opts: { json?: boolean; tenant?: string } = {}): Promise<number> {
  const whole = configOrReport(env, stderr);
  if (!whole) return 1;
  // --tenant: that tenant's primary target (its DigiCert, its mapping file).
  const config = tenantTargetConfig(whole, opts.tenant);
  const platform = config.digicert.platform;
  const catalogue = await fetchRoles(config, stderr);
  if (!catalogue) return 1;
  const { roles: available, divisions } = catalogue;

  if (!opts.json) {
    // Printed first: DigiCert's roles help fix a mapping file that turns out to be invalid below.
    line(stdout, `DigiCert roles (${platform}):`);
    printRoleTable(stdout, available);
    line(stdout);
  }
  const file = config.roleMappingFile;
  try {
    const spec = file ? loadRoleMappingFile(file, platform) : null;
    const compiled = compileRoleMapping(spec, available, platform, config.digicert.defaultRole, divisions);
    if (opts.json) {
      line(stdout, JSON.stringify({ platform, roles: available, mapping: mappingJson(compiled) }, null, 2));
      return 0;
    }
    printMapping(stdout, spec, compiled, platform);
    return 0;
  } catch (err) {
    if (!(err instanceof RoleMappingError)) throw err;
    reportProblems(stderr, file ? `Role mapping ${file} is invalid:` : "DIGICERT_DEFAULT_ROLE is invalid:", err.problems);
    return 1;
  }
}

function mappingJson(compiled: CompiledRoleMapping) {
  return {
    source: compiled.source,
    default: compiled.default,
    unmapped: compiled.unmapped,
    forbidden: compiled.forbidden,
    rules: compiled.rules.map((r) => ({ rule: r.spec.index, line: r.spec.line, match: r.spec.match, roles: r.roles, ...(r.divisions ? { divisions: r.divisions } : {}) })),
  };
}

/**
 * `roles check FILE`: parses FILE first (no DigiCert call needed to find its mistakes), then resolves its roles.
 * With --json the verdict on the file, valid or not, is JSON on stdout (`ok`, and `problems` or the mapping).
 */
export async function rolesCheckCommand(
  file: string,
  env: NodeJS.ProcessEnv,
  stdout: Output,
  stderr: Output,
  opts: { json?: boolean; tenant?: string } = {},
): Promise<number> {
  // FILE replaces the configured mapping here: a broken ROLE_MAPPING_FILE must not block checking its fix.
  const whole = configOrReport({ ...env, ROLE_MAPPING_FILE: undefined }, stderr);
  if (!whole) return 1;
  // Checked against --tenant's primary target's DigiCert.
  const config = tenantTargetConfig(whole, opts.tenant);
  const platform = config.digicert.platform;
  const invalid = (problems: string[]): number => {
    if (opts.json) line(stdout, JSON.stringify({ ok: false, file, platform, problems: problems.map((p) => String(redact(p))) }, null, 2));
    else reportProblems(stderr, `${file} is invalid:`, problems);
    return 1;
  };
  let spec: RoleMappingSpec;
  try {
    spec = loadRoleMappingFile(file, platform);
  } catch (err) {
    if (!(err instanceof RoleMappingError)) throw err;
    return invalid(err.problems);
  }
  const catalogue = await fetchRoles(config, stderr);
  if (!catalogue) return 1;
  const { roles: available, divisions } = catalogue;
  let compiled: CompiledRoleMapping;
  try {
    compiled = compileRoleMapping(spec, available, platform, config.digicert.defaultRole, divisions);
  } catch (err) {
    if (!(err instanceof RoleMappingError)) throw err;
    return invalid(err.problems);
  }
  const n = spec.rules.length;
  const skipped = n - compiled.rules.length;
  if (opts.json) {
    line(stdout, JSON.stringify({ ok: true, file, platform, rules: n, skipped, mapping: mappingJson(compiled) }, null, 2));
    return 0;
  }
  const note = skipped ? ` (${skipped} ${skipped === 1 ? "lists" : "list"} no ${platform} roles and ${skipped === 1 ? "is" : "are"} skipped)` : "";
  line(stdout, `OK: ${n} ${n === 1 ? "rule" : "rules"}${note}`);
  return 0;
}

/** DigiCert's roles, and on CertCentral its divisions (undefined when they cannot be listed: only rules naming some need them). */
async function fetchRoles(config: AppConfig, stderr: Output): Promise<{ roles: DigiCertRole[]; divisions?: DigiCertRole[] } | null> {
  const client = openDigiCertClient(config, silentLogger());
  try {
    const roles = await client.listRoles();
    const divisions = client.listDivisions ? await client.listDivisions().catch(() => undefined) : undefined;
    return divisions ? { roles, divisions } : { roles };
  } catch (err) {
    line(stderr, `Cannot list DigiCert roles at ${config.digicert.baseUrl}: ${redact((err as Error).message)}`);
    return null;
  } finally {
    await client.close();
  }
}

function reportProblems(stderr: Output, heading: string, problems: string[]): void {
  line(stderr, heading);
  for (const p of problems) line(stderr, `  - ${redact(p)}`);
}

function printRoleTable(out: Output, roles: DigiCertRole[]): void {
  const width = Math.max(2, ...roles.map((r) => r.id.length));
  line(out, `${"ID".padEnd(width)}  NAME`);
  for (const r of roles) line(out, `${r.id.padEnd(width)}  ${r.name}`);
  if (!roles.length) line(out, "(DigiCert offers no roles)");
}

const roleList = (roles: ResolvedRole[]) => roles.map((r) => `${r.name} (${r.id})`).join(", ");

function matchText(m: RuleMatch): string {
  if (m.kind === "displayName") return `group ${JSON.stringify(m.value)}`;
  if (m.kind === "externalId") return `externalId ${JSON.stringify(m.value)}`;
  return `pattern /${m.source}/i`;
}

function printMapping(out: Output, spec: RoleMappingSpec | null, compiled: CompiledRoleMapping, platform: PlatformName): void {
  if (!spec) {
    line(out, "Role mapping: none (ROLE_MAPPING_FILE is not set)");
    line(out, `  every user gets DIGICERT_DEFAULT_ROLE: ${roleList(compiled.default)}`);
    return;
  }
  line(out, `Role mapping: ${compiled.source}`);
  line(
    out,
    compiled.multipleRoles
      ? "  a user gets the roles of every rule their groups match, combined"
      : `  a user gets the role of the first rule their groups match (${displayNameOf(platform)} users hold one role)`,
  );
  const rows = spec.rules.map((rule) => {
    const hit = compiled.rules.find((r) => r.spec.index === rule.index);
    return {
      left: `rule ${rule.index} (line ${rule.line})  ${matchText(rule.match)}`,
      right: hit ? roleList(hit.roles) : `skipped: lists no ${platform} roles`,
    };
  });
  rows.push({ left: spec.default ? "default" : "default (DIGICERT_DEFAULT_ROLE)", right: roleList(compiled.default) });
  rows.push({
    left: "users in no mapped group",
    right: compiled.unmapped === "deactivate" ? "no DigiCert access (unmapped: deactivate)" : "the default roles",
  });
  const width = Math.max(...rows.map((r) => r.left.length));
  for (const r of rows) line(out, `  ${r.left.padEnd(width)}  -> ${r.right}`);
}

if (require.main === module) {
  quietOnBrokenPipe(process.stdout, () => process.exit(process.exitCode ?? 0));
  // ENV_FILE (default ./.env when present) fills in what the environment leaves unset, as for the server.
  const env = processEnvWithFile(process.stderr);
  if (!env) process.exit(1);
  runCli(process.argv.slice(2), { env, stdout: process.stdout, stderr: process.stderr }).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`digicert-scim: ${redact((err as Error).message)}\n`);
      process.exitCode = 1;
    },
  );
}
