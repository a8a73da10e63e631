#!/usr/bin/env node
// `digicert-scim`: admin commands next to the server. Each command takes its env and output streams so tests
// drive it in-process; only the bottom of this file touches the real process.
import type { AppConfig } from "../config";
import { loadRoleMappingFile, RoleMappingError, type RoleMappingSpec, type RuleMatch } from "../config/role-mapping";
import { createDigiCertClient, type DigiCertRole } from "../digicert";
import { redact, registerSecret, silentLogger } from "../log/logger";
import { compileRoleMapping, type CompiledRoleMapping, type ResolvedRole } from "../provisioning/role-policy";
import { configOrReport, line, type CliIo, type Output } from "./common";
import { outboxCommand, parseOutboxArgs } from "./outbox";

export type { CliIo, Output } from "./common";

const USAGE = `Usage: digicert-scim <command>

Commands:
  roles              List DigiCert's roles and show the role mapping in force (ROLE_MAPPING_FILE)
  roles check FILE   Check FILE as a role mapping against DigiCert's roles; changes nothing
  outbox [status] [--json]
                     Count the DigiCert jobs waiting (pending, running) and failed; age of the oldest waiting one
  outbox list [--status S[,S...]] [--user USER_ID] [--limit N] [--json]
                     List outbox jobs, newest first (default limit 50). S: pending, running, done, failed,
                     superseded, cancelled
  outbox retry --all | outbox retry JOB_ID...
                     Put failed jobs back to pending with a fresh attempt count; the running bridge's worker
                     picks them up on its next poll
  help               Show this help

Reads the same environment as the server (DIGICERT_PLATFORM, DIGICERT_API_KEY, DIGICERT_BASE_URL, DATABASE_URL, ...).
Exit status: 0 success, 1 invalid configuration or mapping, DigiCert or the database unreachable, or an unknown
job id given to outbox retry, 2 usage error.
`;

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [cmd, sub, ...rest] = argv;
  if (cmd === "help" || cmd === "--help" || cmd === "-h") {
    io.stdout.write(USAGE);
    return 0;
  }
  if (cmd === "roles" && sub === undefined) return rolesCommand(io.env, io.stdout, io.stderr);
  if (cmd === "roles" && sub === "check" && rest.length === 1) return rolesCheckCommand(rest[0], io.env, io.stdout, io.stderr);
  if (cmd === "outbox") {
    const parsed = parseOutboxArgs(argv.slice(1));
    if ("usage" in parsed) return usageError(io.stderr, parsed.usage);
    return outboxCommand(parsed, io.env, io.stdout, io.stderr);
  }
  return usageError(io.stderr, cmd === undefined ? "no command given" : `unknown command: ${argv.join(" ")}`);
}

function usageError(stderr: Output, problem: string): number {
  stderr.write(`digicert-scim: ${problem}\n\n${USAGE}`);
  return 2;
}

/** `roles`: DigiCert's roles, then the mapping from ROLE_MAPPING_FILE (or the default role when there is none). */
export async function rolesCommand(env: NodeJS.ProcessEnv, stdout: Output, stderr: Output): Promise<number> {
  const config = configOrReport(env, stderr);
  if (!config) return 1;
  const platform = config.digicert.platform;
  const available = await fetchRoles(config, stderr);
  if (!available) return 1;

  line(stdout, `DigiCert roles (${platform}):`);
  printRoleTable(stdout, available);
  line(stdout);

  const file = config.roleMappingFile;
  try {
    const spec = file ? loadRoleMappingFile(file, platform) : null;
    const compiled = compileRoleMapping(spec, available, platform, config.digicert.defaultRole);
    printMapping(stdout, spec, compiled);
    return 0;
  } catch (err) {
    if (!(err instanceof RoleMappingError)) throw err;
    reportProblems(stderr, file ? `Role mapping ${file} is invalid:` : "DIGICERT_DEFAULT_ROLE is invalid:", err.problems);
    return 1;
  }
}

/** `roles check FILE`: parses FILE first (no DigiCert call needed to find its mistakes), then resolves its roles. */
export async function rolesCheckCommand(file: string, env: NodeJS.ProcessEnv, stdout: Output, stderr: Output): Promise<number> {
  // FILE replaces the configured mapping here: a broken ROLE_MAPPING_FILE must not block checking its fix.
  const config = configOrReport({ ...env, ROLE_MAPPING_FILE: undefined }, stderr);
  if (!config) return 1;
  const platform = config.digicert.platform;
  let spec: RoleMappingSpec;
  try {
    spec = loadRoleMappingFile(file, platform);
  } catch (err) {
    if (!(err instanceof RoleMappingError)) throw err;
    reportProblems(stderr, `${file} is invalid:`, err.problems);
    return 1;
  }
  const available = await fetchRoles(config, stderr);
  if (!available) return 1;
  let compiled: CompiledRoleMapping;
  try {
    compiled = compileRoleMapping(spec, available, platform, config.digicert.defaultRole);
  } catch (err) {
    if (!(err instanceof RoleMappingError)) throw err;
    reportProblems(stderr, `${file} is invalid:`, err.problems);
    return 1;
  }
  const n = spec.rules.length;
  const skipped = n - compiled.rules.length;
  const note = skipped ? ` (${skipped} ${skipped === 1 ? "lists" : "list"} no ${platform} roles and ${skipped === 1 ? "is" : "are"} skipped)` : "";
  line(stdout, `OK: ${n} ${n === 1 ? "rule" : "rules"}${note}`);
  return 0;
}

async function fetchRoles(config: AppConfig, stderr: Output): Promise<DigiCertRole[] | null> {
  // Any message that echoes the key (a proxy error page, say) is masked before it reaches the terminal.
  registerSecret(config.digicert.apiKey);
  const client = createDigiCertClient(config.digicert, silentLogger());
  try {
    return await client.listRoles();
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

function printMapping(out: Output, spec: RoleMappingSpec | null, compiled: CompiledRoleMapping): void {
  const platform = compiled.multipleRoles ? "one" : "certcentral";
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
      : "  a user gets the role of the first rule their groups match (CertCentral users hold one role)",
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
  runCli(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr }).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`digicert-scim: ${redact((err as Error).message)}\n`);
      process.exitCode = 1;
    },
  );
}
