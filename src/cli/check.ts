// `digicert-scim check`: is this deployment able to run? Validates the configuration, then reaches the database,
// Redis (when configured) and DigiCert with the API key, and resolves the role mapping against DigiCert's roles.
// Changes nothing anywhere. Output never carries a secret.
import Redis from "ioredis";
import { loadRoleMappingFile, RoleMappingError } from "../config/role-mapping";
import { createDigiCertClient } from "../digicert";
import { isDigiCertError } from "../digicert/errors";
import { redact, registerSecret, silentLogger } from "../log/logger";
import { compileRoleMapping } from "../provisioning/role-policy";
import { probeDatabase } from "../store/probe";
import { configOrReport, line, type Output } from "./common";

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

export async function checkCommand(opts: { json?: boolean }, env: NodeJS.ProcessEnv, stdout: Output, stderr: Output): Promise<number> {
  const config = configOrReport(env, stderr);
  if (!config) return 1;
  registerSecret(config.digicert.apiKey);
  const results: CheckResult[] = [{ name: "configuration", ok: true, detail: `valid (DigiCert platform ${config.digicert.platform})` }];

  const db = await probeDatabase(config.databaseUrl);
  results.push({ name: "database", ok: db.ok, detail: `${db.target}: ${db.detail}` });

  if (config.digicert.redisUrl) {
    registerSecret(safeUrlPassword(config.digicert.redisUrl));
    results.push(await checkRedis(config.digicert.redisUrl));
  }

  const client = createDigiCertClient(config.digicert, silentLogger());
  try {
    let reachable = false;
    try {
      await client.ping();
      reachable = true;
      results.push({ name: "digicert", ok: true, detail: `${config.digicert.baseUrl}: the API key is accepted` });
    } catch (err) {
      results.push({ name: "digicert", ok: false, detail: `${config.digicert.baseUrl}: ${digicertProblem(err)}` });
    }
    if (reachable) results.push(await checkMapping(config, () => client.listRoles()));
  } finally {
    await client.close();
  }

  const safe = results.map((r) => ({ ...r, detail: String(redact(r.detail)) }));
  if (opts.json) line(stdout, JSON.stringify({ ok: safe.every((r) => r.ok), checks: safe }, null, 2));
  else {
    const width = Math.max(...safe.map((r) => r.name.length));
    for (const r of safe) line(stdout, `${r.name.padEnd(width)}  ${r.ok ? "ok    " : "FAILED"}  ${r.detail}`);
  }
  return safe.every((r) => r.ok) ? 0 : 1;
}

function safeUrlPassword(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}

function digicertProblem(err: unknown): string {
  if (isDigiCertError(err) && err.kind === "auth") return "DigiCert refuses the API key (DIGICERT_API_KEY)";
  if (isDigiCertError(err) && err.kind === "forbidden") return "the API key lacks permission to manage users (DIGICERT_API_KEY)";
  return `not reachable: ${(err as Error).message}`;
}

async function checkMapping(
  config: NonNullable<ReturnType<typeof configOrReport>>,
  listRoles: () => Promise<{ id: string; name: string }[]>,
): Promise<CheckResult> {
  const platform = config.digicert.platform;
  const file = config.roleMappingFile;
  try {
    const roles = await listRoles();
    const spec = file ? loadRoleMappingFile(file, platform) : null;
    const compiled = compileRoleMapping(spec, roles, platform, config.digicert.defaultRole);
    const defaults = compiled.default.map((r) => r.name).join(", ");
    return {
      name: "role mapping",
      ok: true,
      detail: file ? `${file}: ${compiled.rules.length} rules resolve; default ${defaults}` : `no mapping file; new users get ${defaults}`,
    };
  } catch (err) {
    if (err instanceof RoleMappingError) {
      return { name: "role mapping", ok: false, detail: `${file ?? "DIGICERT_DEFAULT_ROLE"}: ${err.problems.join("; ")}` };
    }
    return { name: "role mapping", ok: false, detail: `cannot list DigiCert's roles: ${(err as Error).message}` };
  }
}

async function checkRedis(url: string): Promise<CheckResult> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.ping();
    return { name: "redis", ok: true, detail: "reachable: the DigiCert rate budget is shared with the other replicas" };
  } catch (err) {
    return { name: "redis", ok: false, detail: `not reachable (${(err as Error).message}); replicas would pace alone (BRIDGE_REPLICAS)` };
  } finally {
    client.disconnect();
  }
}
