// The `digicert-scim` command line, parsed by commander. Every command writes to the streams it is given and
// returns its exit status, so tests drive the whole program in-process. Exit status: 0 success, 1 a problem with
// the configuration, the database or DigiCert, 2 a usage error, 3 drift found (reconcile).
import { Command, CommanderError, Option } from "commander";
import { versionText } from "../version";
import type { CliIo } from "./common";

/** A command body: resolves to the exit status. */
type Run = () => Promise<number>;

class UsageProblem extends Error {}

export const ROOT_HELP_AFTER = `
In detail:
  serve                    run the bridge (what npm start does)
  migrate [--json]         bring the database schema up to date
  check [--json]           validate the configuration and reach DigiCert, the database and Redis; changes nothing
  roles [--json]           DigiCert's roles and the role mapping in force
  roles check FILE [--json]
                           check FILE as a role mapping against DigiCert; changes nothing
  outbox [status] [--json] count the DigiCert jobs waiting and failed; age of the oldest waiting one
  outbox list [--status S[,S...]] [--user USER_ID] [--limit N] [--json]
                           list outbox jobs, newest first (default limit 50)
  outbox retry --all | outbox retry JOB_ID...
                           put failed jobs back to pending; the running bridge picks them up
  audit --user U [--since 7d] [--limit N] [--json]
                           one user's history from the audit trail
  plan [--since 24h] [--user U] [--json]
                           what a DRY_RUN bridge would have done in DigiCert
  reconcile [--fix] [--json]
                           compare the store with DigiCert; --fix restores the IdP's state
  tokens create --name NAME [--expires 90d|2027-01-01] [--scope scim|admin] [--json]
                           make a bearer token kept in the store (printed once; only its SHA-256 is stored)
  tokens list [--json]     the stored tokens: name, scope, status, created, expires, revoked, last used
  tokens revoke NAME       revoke a stored token (a running bridge refuses it within 10 s)
  help [command]           this help, or a command's
  --version, -V            the version and the commit it was built from
  --tenant ID              (any command that uses the store or DigiCert) work on tenant ID: its rows only, its
                           primary DigiCert target; default "default", the environment's tenant
  --target NAME            (outbox) the tenant's DigiCert target NAME: a fan-out tenant's other targets have
                           outboxes of their own; default the tenant's primary (first) target

Every command reads the same environment as the server (DIGICERT_PLATFORM, DIGICERT_API_KEY, DATABASE_URL, ...);
migrate, outbox, audit, plan and tokens only use the store and do not need the DigiCert settings. With several
tenants (TENANTS_FILE), --tenant names the one a command works on; an unknown tenant is a usage error.
Exit status: 0 success, 1 invalid configuration or mapping, DigiCert or the database unreachable, or an unknown job
id given to outbox retry, 2 usage error, 3 reconcile found drift.
`;

export interface CommandSet {
  /** Adds commands to the program; `run` records the body of the command that was chosen. */
  (program: Command, io: CliIo, run: (body: Run) => void): void;
}

/**
 * Builds the program with the given command sets. The chosen command's body runs after parsing, so a usage error
 * found by commander or by a command's own checks (UsageProblem) never half-runs a command.
 */
export async function runProgram(argv: string[], io: CliIo, sets: CommandSet[]): Promise<number> {
  const program = new Command("digicert-scim");
  let body: Run | null = null;
  program
    .description("DigiCert SCIM Bridge: run the server and look after it")
    .version(versionText(), "-V, --version", "print the version and the commit it was built from")
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .option("--tenant <id>", 'the tenant a command works on (its store rows, its primary DigiCert target); default "default"')
    .option("--target <name>", "outbox: the tenant's DigiCert target whose jobs it shows and retries (a fan-out tenant's other targets); default its primary")
    .addHelpText("after", ROOT_HELP_AFTER);
  for (const add of sets) add(program, io, (b) => (body = b));
  for (const c of program.commands) inheritBehaviour(c, io);

  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.exitCode === 0) return 0;
      // Commander printed its message (or, with no command, the help); the usage follows, as for any usage error.
      if (err.code !== "commander.help") io.stderr.write(`\n${program.helpInformation()}`);
      return 2;
    }
    if (err instanceof UsageProblem) return usageError(io, program, err.message);
    throw err;
  }
  if (!body) return usageError(io, program, argv.length ? `unknown command: ${argv.join(" ")}` : "no command given");
  try {
    return await (body as Run)();
  } catch (err) {
    if (err instanceof UsageProblem) return usageError(io, program, err.message);
    throw err;
  }
}

/** For a command's own argument checks: reported like commander's, with the usage, exit 2. */
export function usage(message: string): never {
  throw new UsageProblem(message);
}

function usageError(io: CliIo, program: Command, problem: string): number {
  io.stderr.write(`digicert-scim: ${problem}\n\n${program.helpInformation()}`);
  return 2;
}

/** Subcommands do not inherit exitOverride or output settings from their parent: copy them down. */
function inheritBehaviour(c: Command, io: CliIo): void {
  c.exitOverride().configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  for (const sub of c.commands) inheritBehaviour(sub, io);
}

/** `--tenant` (the program's option, given before or after the command), or undefined for the default tenant. */
export function tenantOption(program: Command): string | undefined {
  const t = program.opts<{ tenant?: string }>().tenant;
  return t === undefined ? undefined : t.trim();
}

/** `--target` (the program's option), or undefined for the tenant's primary target. */
export function targetOption(program: Command): string | undefined {
  const t = program.opts<{ target?: string }>().target;
  return t === undefined ? undefined : t.trim();
}

/** `--json` on every command whose output is tabular. */
export const jsonOption = () => new Option("--json", "print JSON instead of a table");
