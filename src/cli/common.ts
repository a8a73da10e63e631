// What every `digicert-scim` command shares: its output streams and how it reports a configuration it cannot use.
import fs from "node:fs";
import { ConfigError, loadConfig, tenantApiKeys, type AppConfig, type TenantConfig } from "../config";
import { tenantsOf } from "../config/tenant-types";
import { configForTarget } from "../tenant-runtime";
import { DEFAULT_TENANT, PRIMARY_TARGET } from "../store/tenant-scope";
import { usage } from "./program";
import { redact, registerSecret, silentLogger } from "../log/logger";
import { openStore, parseDatabaseUrl } from "../store";
import type { Store } from "../provisioning/ports";
import { describeTarget } from "../store/database-url";

export interface Output {
  write(chunk: string): unknown;
}

export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout: Output;
  stderr: Output;
}

export const line = (out: Output, s = "") => out.write(`${s}\n`);

/**
 * Output piped into `head` or a pager that stops reading: the next write fails with EPIPE. That ends the command
 * quietly (with the status it has so far) instead of an unhandled 'error' event and its stack trace.
 */
export function quietOnBrokenPipe(stream: NodeJS.EventEmitter, exit: () => void): void {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") exit();
    else throw err;
  });
}

/**
 * The configuration, or null after printing why there is none (the caller exits 1). `storeOnly`: for commands that
 * only use the store, which do not need DIGICERT_API_KEY nor the platform's settings.
 */
export function configOrReport(env: NodeJS.ProcessEnv, stderr: Output, opts: { storeOnly?: boolean } = {}): AppConfig | null {
  try {
    const config = loadConfig(env, opts);
    // The tenants' API keys from TENANTS_FILE are not in the environment the redactor learnt from: mask them too.
    for (const key of tenantApiKeys(config.tenants)) registerSecret(key);
    return config;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    line(stderr, err.message);
    return null;
  }
}

/**
 * The tenant a command works on (`--tenant`, "default" when not given), or a usage error (exit 2) naming the tenants
 * this configuration has.
 */
export function tenantOf(config: AppConfig, id: string | undefined): TenantConfig {
  const wanted = id ?? DEFAULT_TENANT;
  const tenants = tenantsOf(config);
  const tenant = tenants.find((t) => t.id === wanted);
  if (!tenant) usage(`--tenant: this configuration has no tenant ${JSON.stringify(wanted)}; its tenants: ${tenants.map((t) => t.id).join(", ")}`);
  return tenant;
}

/**
 * What a command that reaches DigiCert works with for `--tenant`: its primary target's view of the configuration
 * (the target's DigiCert block and role mapping, the tenant's DRY_RUN), as the server's runtime of that tenant sees it.
 */
export function tenantTargetConfig(config: AppConfig, id: string | undefined): AppConfig {
  const tenant = tenantOf(config, id);
  return configForTarget(config, tenant, tenant.targets[0]);
}

/**
 * Opens the bridge's database for a command (migrating it, as the server would). Without `create`, a SQLite file
 * that does not exist is reported rather than created empty: a relative DATABASE_URL read from the wrong directory
 * must not look like an empty bridge. The API key and the database password are masked in whatever is printed.
 */
export async function openBridgeStore(config: AppConfig, stderr: Output, opts: { create?: boolean; tenant?: string; target?: string } = {}): Promise<Store | null> {
  // The tenant and target are checked first: an unknown one is a usage error, whatever the database.
  const scoped = opts.tenant !== undefined || opts.target !== undefined;
  const tenant = scoped ? tenantOf(config, opts.tenant) : undefined;
  const target = tenant && opts.target !== undefined ? storeTargetOf(tenant, opts.target) : PRIMARY_TARGET;
  const store = await openWholeStore(config, stderr, opts);
  return store && tenant ? scopedClosing(store, tenant.id, target) : store;
}

/** The store's name of `tenant`'s target `name` (its primary is stored as ""), or a usage error naming its targets. */
function storeTargetOf(tenant: TenantConfig, name: string): string {
  const at = tenant.targets.findIndex((t) => t.name === name);
  if (at < 0) usage(`--target: tenant ${tenant.id} has no target ${JSON.stringify(name)}; its targets: ${tenant.targets.map((t) => t.name).join(", ")}`);
  return at === 0 ? PRIMARY_TARGET : name;
}

/**
 * `store` confined to `tenant` (its rows only, its inserts its own), whose close() closes the database: a command
 * holds the one store it works on.
 */
function scopedClosing(store: Store, tenant: string, target: string): Store {
  const scoped = store.scoped(tenant, target);
  return new Proxy(scoped, {
    get: (target, key, receiver) => (key === "close" ? () => store.close() : Reflect.get(target, key, receiver)),
  });
}

async function openWholeStore(config: AppConfig, stderr: Output, opts: { create?: boolean }): Promise<Store | null> {
  registerSecret(config.digicert.apiKey);
  let where = "DATABASE_URL";
  try {
    const target = parseDatabaseUrl(config.databaseUrl);
    if (target.dialect === "postgres") registerDatabasePassword(target.connectionString);
    where = describeTarget(target);
    if (!opts.create && target.dialect === "sqlite" && target.filename !== ":memory:" && !fs.existsSync(target.filename)) {
      line(stderr, `No database at ${where}. Is DATABASE_URL the one the bridge uses? (A relative path is read from the current directory.)`);
      return null;
    }
    return await openStore(config.databaseUrl, { logger: silentLogger() });
  } catch (err) {
    line(stderr, `Cannot open the database at ${where}: ${redact((err as Error).message)}`);
    return null;
  }
}

function registerDatabasePassword(connectionString: string): void {
  const password = new URL(connectionString).password;
  registerSecret(password);
  try {
    registerSecret(decodeURIComponent(password));
  } catch {
    // not percent-encoded: the raw form is the one that could show up
  }
}
