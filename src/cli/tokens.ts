// `digicert-scim tokens create|list|revoke`: bearer tokens kept in the bridge's store, an alternative to the
// SCIM_BEARER_TOKENS / ADMIN_TOKENS lists. A token is 32 random bytes (base64url), printed once when it is made;
// only its SHA-256 digest is stored. Several tokens may be valid at once, so the IdP's token is rotated by creating
// a new one, putting it in the IdP, then revoking the old one. A running bridge sees a new token at once and a
// revocation within 10 s (STORE_TOKEN_CACHE_MS).
//
// Exit status: 0 done, 1 a problem with the configuration or the database, a name that is taken or unknown,
// 2 a usage error.
import { createHash, randomBytes } from "node:crypto";
import { Option, type Command } from "commander";
import { parseExpiresOption } from "../config/auth-settings";
import { redact, registerSecret } from "../log/logger";
import { TOKEN_SCOPES, type StoredToken, type TokenScope } from "../provisioning/records";
import { TokenNameTakenError } from "../provisioning/ports";
import { configOrReport, line, openBridgeStore, tenantOf, type CliIo, type Output } from "./common";
import { jsonOption, tenantOption, usage } from "./program";
import { DEFAULT_TENANT } from "../store/tenant-scope";
import { printTable } from "./table";

const TOKEN_NAME = /^[A-Za-z0-9._-]{1,64}$/;

export const TOKENS_HELP = `
Tokens opened by scope:
  scim    the SCIM endpoint /scim/v2 (what the IdP uses); logs show token:<name>
  admin   the status page /admin and /metrics; logs show admin:token:<name>
A token opens one tenant's surface only: --tenant ID (default "default", /scim/v2) for /t/ID/scim/v2, or, of scope
admin, /admin?tenant=ID; tokens list and revoke work on that tenant's tokens. Only the default tenant's admin tokens
open /metrics.
Rotation: create a new token, put it in the IdP, check the IdP works (tokens list shows its last use), then revoke
the old one. A running bridge accepts a new token at once; a revoked one stops working within 10 seconds.
`;

export interface TokensCreateOptions {
  name: string;
  expires?: string;
  scope: TokenScope;
  json?: boolean;
  /** --tenant: the one tenant the token opens (its SCIM paths, or its status page); default "default". */
  tenant?: string;
}

/** The commands, for the commander program (src/cli/index.ts registers them). */
export function addTokensCommand(program: Command, io: CliIo, run: (body: () => Promise<number>) => void): void {
  const { env, stdout, stderr } = io;
  const tokens = program
    .command("tokens")
    .description("bearer tokens kept in the store: create (shown once), list, revoke")
    .addHelpText("after", TOKENS_HELP);
  tokens
    .command("create")
    .description("make a token and print it once (only its SHA-256 is stored)")
    .requiredOption("--name <name>", "what logs show (token:<name>): 1-64 of A-Z a-z 0-9 . _ -, unique")
    .option("--expires <when>", "a duration from now (90d, 12h) or an ISO date or date-time (2027-01-01 = 00:00 UTC)")
    .addOption(new Option("--scope <scope>", "what it opens").choices([...TOKEN_SCOPES]).default("scim"))
    .addOption(jsonOption())
    .action((opts: TokensCreateOptions) => run(() => tokensCreateCommand({ ...opts, tenant: tenantOption(program) }, env, stdout, stderr)));
  tokens
    .command("list")
    .description("every stored token: name, scope, status, created, expires, revoked, last used (never a token)")
    .addOption(jsonOption())
    .action((opts: { json?: boolean }) => run(() => tokensListCommand({ ...opts, tenant: tenantOption(program) }, env, stdout, stderr)));
  tokens
    .command("revoke")
    .description("revoke a token by name (a running bridge refuses it within 10 s)")
    .argument("<name>", "the token's name")
    .action((name: string) => run(() => tokensRevokeCommand(name, env, stdout, stderr, tenantOption(program))));
}


export async function tokensCreateCommand(opts: TokensCreateOptions, env: NodeJS.ProcessEnv, stdout: Output, stderr: Output): Promise<number> {
  const name = opts.name.trim();
  if (!TOKEN_NAME.test(name)) usage(`--name must be 1-64 characters of A-Z a-z 0-9 . _ -; got ${JSON.stringify(opts.name)}`);
  let expires: string | null = null;
  if (opts.expires !== undefined) {
    try {
      expires = new Date(parseExpiresOption(opts.expires)).toISOString();
    } catch (err) {
      usage((err as Error).message);
    }
  }
  const config = configOrReport(env, stderr, { storeOnly: true });
  if (!config) return 1;
  registerSecret(config.digicert.apiKey);
  const store = await openBridgeStore(config, stderr, { create: true, tenant: opts.tenant });
  if (!store) return 1;
  const token = randomBytes(32).toString("base64url");
  try {
    const stored = await store.tokens.create({ name, scope: opts.scope, sha256: createHash("sha256").update(token, "utf8").digest("hex"), expires });
    if (opts.json) {
      line(stdout, JSON.stringify({ ...tokenJson(stored), token }, null, 2));
    } else {
      // The token alone on stdout (TOKEN=$(digicert-scim tokens create --name okta) works); the rest on stderr.
      line(stdout, token);
      line(stderr, `Created token "${stored.name}" (scope ${stored.scope}, ${stored.expires ? `expires ${stored.expires}` : "never expires"}).`);
      line(stderr, "It is shown this once and cannot be recovered: put it in the IdP now.");
      const tenant = tenantOf(config, opts.tenant).id;
      if (stored.scope === "scim") {
        const path = tenant === DEFAULT_TENANT ? "/scim/v2" : `/t/${tenant}/scim/v2`;
        line(stderr, `It opens ${path} only (tenant ${tenant}); logs will show it as token:${stored.name}.`);
      } else if (tenant === DEFAULT_TENANT) line(stderr, `It opens /admin and /metrics; logs will show it as admin:token:${stored.name}.`);
      else line(stderr, `It opens tenant ${tenant}'s status page only (/admin?tenant=${tenant}); logs will show it as admin:token:${stored.name}.`);
    }
    return 0;
  } catch (err) {
    if (err instanceof TokenNameTakenError) {
      line(stderr, `digicert-scim: ${err.message}`);
      return 1;
    }
    line(stderr, `digicert-scim: ${redact((err as Error).message)}`);
    return 1;
  } finally {
    await store.close();
  }
}

function statusOf(t: StoredToken, now = Date.now()): "active" | "revoked" | "expired" {
  if (t.revoked !== null) return "revoked";
  if (t.expires !== null && Date.parse(t.expires) <= now) return "expired";
  return "active";
}

function tokenJson(t: StoredToken) {
  return {
    name: t.name,
    scope: t.scope,
    status: statusOf(t),
    created: t.created,
    expires: t.expires,
    revoked: t.revoked,
    lastUsed: t.lastUsed,
  };
}

export async function tokensListCommand(opts: { json?: boolean; tenant?: string }, env: NodeJS.ProcessEnv, stdout: Output, stderr: Output): Promise<number> {
  const config = configOrReport(env, stderr, { storeOnly: true });
  if (!config) return 1;
  const store = await openBridgeStore(config, stderr, { tenant: opts.tenant });
  if (!store) return 1;
  try {
    const tokens = await store.tokens.list();
    if (opts.json) {
      line(stdout, JSON.stringify(tokens.map(tokenJson), null, 2));
      return 0;
    }
    if (!tokens.length) {
      line(stdout, "No tokens in the store (digicert-scim tokens create --name NAME makes one).");
      return 0;
    }
    const header = ["NAME", "SCOPE", "STATUS", "CREATED", "EXPIRES", "REVOKED", "LAST USED"];
    const rows = tokens.map((t) => [t.name, t.scope, statusOf(t), t.created, t.expires ?? "never", t.revoked ?? "-", t.lastUsed ?? "never"]);
    printTable(stdout, header, rows);
    return 0;
  } catch (err) {
    line(stderr, `digicert-scim: ${redact((err as Error).message)}`);
    return 1;
  } finally {
    await store.close();
  }
}

export async function tokensRevokeCommand(name: string, env: NodeJS.ProcessEnv, stdout: Output, stderr: Output, tenant?: string): Promise<number> {
  const config = configOrReport(env, stderr, { storeOnly: true });
  if (!config) return 1;
  const store = await openBridgeStore(config, stderr, { tenant });
  if (!store) return 1;
  try {
    const before = await store.tokens.getByName(name);
    if (!before) {
      line(stderr, `digicert-scim: no token named ${JSON.stringify(name)} (digicert-scim tokens list shows them)`);
      return 1;
    }
    if (before.revoked !== null) {
      line(stdout, `Token "${name}" was already revoked (${before.revoked}).`);
      return 0;
    }
    const after = await store.tokens.revoke(name);
    line(stdout, `Revoked token "${name}" (${after?.revoked}). A running bridge refuses it within 10 seconds.`);
    return 0;
  } catch (err) {
    line(stderr, `digicert-scim: ${redact((err as Error).message)}`);
    return 1;
  } finally {
    await store.close();
  }
}
