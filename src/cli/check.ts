// `digicert-scim check`: is this deployment able to run? Validates the configuration, then reaches the database,
// Redis (when configured) and DigiCert with the API key, and resolves the role mapping against DigiCert's roles.
// Changes nothing anywhere. Output never carries a secret.
import Redis from "ioredis";
import { loadRoleMappingFile, RoleMappingError } from "../config/role-mapping";
import { isDigiCertError } from "../digicert/errors";
import type { DigiCertClient } from "../digicert/types";
import { redact, registerSecret, silentLogger } from "../log/logger";
import { compileRoleMapping } from "../provisioning/role-policy";
import { probeDatabase } from "../store/probe";
import { openDigiCertClient } from "../wiring";
import { configOrReport, line, tenantTargetConfig, type Output } from "./common";

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
  /** Passes, but something the admin should know and check on the tenant (shown as "warn"). */
  warning?: boolean;
}

/** `opts.tenant` (--tenant): DigiCert and the role mapping of that tenant's primary target; default "default". */
export async function checkCommand(opts: { json?: boolean; tenant?: string }, env: NodeJS.ProcessEnv, stdout: Output, stderr: Output): Promise<number> {
  const whole = configOrReport(env, stderr);
  if (!whole) return 1;
  const config = tenantTargetConfig(whole, opts.tenant);
  registerSecret(config.digicert.apiKey);
  const of = opts.tenant && opts.tenant !== "default" ? `tenant ${opts.tenant}, ` : "";
  const results: CheckResult[] = [{ name: "configuration", ok: true, detail: `valid (${of}DigiCert platform ${config.digicert.platform})` }];

  const db = await probeDatabase(config.databaseUrl);
  results.push({ name: "database", ok: db.ok, detail: `${db.target}: ${db.detail}` });

  if (config.digicert.redisUrl) {
    registerSecret(safeUrlPassword(config.digicert.redisUrl));
    results.push(await checkRedis(config.digicert.redisUrl));
  }

  const client = openDigiCertClient(config, silentLogger());
  try {
    let reachable = false;
    try {
      await client.ping();
      reachable = true;
      results.push({ name: "digicert", ok: true, detail: `${config.digicert.baseUrl}: the API key is accepted` });
    } catch (err) {
      results.push({ name: "digicert", ok: false, detail: `${config.digicert.baseUrl}: ${digicertProblem(err)}` });
    }
    if (reachable) {
      results.push(await checkPermissions(client));
      results.push(await checkMapping(config, () => client.listRoles(), client.listDivisions ? () => client.listDivisions!() : undefined));
      if (client.listDivisions) results.push(await checkDivisions(() => client.listDivisions!()));
      results.push(...describeDeactivation(config, client));
    }
  } finally {
    await client.close();
  }

  const safe = results.map((r) => ({ ...r, detail: String(redact(r.detail)) }));
  if (opts.json) line(stdout, JSON.stringify({ ok: safe.every((r) => r.ok), checks: safe }, null, 2));
  else {
    const width = Math.max(...safe.map((r) => r.name.length));
    for (const r of safe) line(stdout, `${r.name.padEnd(width)}  ${!r.ok ? "FAILED" : r.warning ? "warn  " : "ok    "}  ${r.detail}`);
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
  listDivisions?: () => Promise<{ id: string; name: string }[]>,
): Promise<CheckResult> {
  const platform = config.digicert.platform;
  const file = config.roleMappingFile;
  try {
    const roles = await listRoles();
    const spec = file ? loadRoleMappingFile(file, platform) : null;
    const divisions = listDivisions ? await listDivisions().catch(() => undefined) : undefined;
    const compiled = compileRoleMapping(spec, roles, platform, config.digicert.defaultRole, divisions);
    const defaults = compiled.default.map((r) => r.name).join(", ");
    return {
      name: "role mapping",
      ok: true,
      detail: `${file ? `${file}: ${compiled.rules.length} rules resolve; default ${defaults}` : `no mapping file; new users get ${defaults}`}${spec?.default ? "" : foundAs(config.digicert.defaultRole, compiled.default)}`,
    };
  } catch (err) {
    if (err instanceof RoleMappingError) {
      return { name: "role mapping", ok: false, detail: `${file ?? "DIGICERT_DEFAULT_ROLE"}: ${err.problems.join("; ")}` };
    }
    return { name: "role mapping", ok: false, detail: `cannot list DigiCert's roles: ${(err as Error).message}` };
  }
}

/**
 * What the API key may do, found with reads only (§D.10: a key restricted to user management may not list roles).
 * Creating is not tried: check changes nothing. Where the key's own user shows its roles, they are named.
 */
async function checkPermissions(client: DigiCertClient): Promise<CheckResult> {
  const can = async (call: () => Promise<unknown>): Promise<"yes" | "no" | string> => {
    try {
      await call();
      return "yes";
    } catch (err) {
      if (isDigiCertError(err) && (err.kind === "forbidden" || err.kind === "auth")) return "no";
      return `unknown (${(err as Error).message})`;
    }
  };
  const roles = await can(() => client.listRoles());
  const users = await can(async () => {
    for await (const _page of client.listUsers({ pageSize: 1 })) return;
  });
  let create = "not tried (check changes nothing)";
  const me = client.keyUser ? await client.keyUser().catch(() => null) : null;
  if (me?.roleIds?.length) {
    const named = await client.listRoles().then((all) => me.roleIds!.map((id) => all.find((r) => r.id === id)?.name ?? id)).catch(() => me.roleIds!);
    create += `; the key's user holds ${named.join(", ")}`;
  } else if (me) create += "; DigiCert does not show the key's user's roles";
  const ok = roles === "yes" && users === "yes";
  const hint = ok ? "" : " — the bridge needs both (give the key a role that manages users)";
  return { name: "api key", ok, detail: `list roles: ${roles}; list users: ${users}; create users: ${create}${hint}` };
}

/** How SCIM active:false removes access here, and where users are demoted (CertCentral) a note on tenants whose users live in the DigiCert account. */
function describeDeactivation(config: NonNullable<ReturnType<typeof configOrReport>>, client: DigiCertClient): CheckResult[] {
  if (client.capabilities.accessRemoval === "disable") {
    const d = client.deactivation?.();
    const detail =
      d?.configured === "disable"
        ? "ONE_DEACTIVATE=disable: the undocumented disable route is tried at the first deactivation (check does not try it: it changes a user); any refusal falls back to delete for the process, shown in /readyz"
        : "ONE_DEACTIVATE=delete: deactivated users are deleted in DigiCert ONE and created again on reactivation";
    return [{ name: "deactivation", ok: true, detail }];
  }
  const cc = config.digicert.certcentralDeactivation;
  return [
    {
      name: "deactivation",
      ok: true,
      detail: cc.mode === "delete" ? "CERTCENTRAL_DEACTIVATE=delete: deactivated users are deleted and created again on reactivation" : `CERTCENTRAL_DEACTIVATE=demote: deactivated users keep only ${cc.role}`,
    },
    {
      name: "user management",
      ok: true,
      warning: true,
      detail:
        "if this CertCentral account's users are managed in the DigiCert account, DigiCert creates, edits and deletes them there and the Services API's behaviour in such accounts is not public: provision one test user and check it in CertCentral before going live",
    },
  ];
}

/** CertCentral's divisions, which mapping rules may name (`divisions:`). */
async function checkDivisions(list: () => Promise<{ id: string; name: string }[]>): Promise<CheckResult> {
  try {
    const divisions = await list();
    const shown = divisions.map((d) => `${d.name} (${d.id})`).join(", ");
    return { name: "divisions", ok: true, detail: divisions.length ? `a mapping rule may name: ${shown}` : "none listed" };
  } catch (err) {
    return { name: "divisions", ok: true, warning: true, detail: `cannot list CertCentral's divisions (${(err as Error).message}): rules naming divisions would not resolve` };
  }
}

/** With DIGICERT_DEFAULT_ROLE unset, which of the basic role's names DigiCert uses (§D.4: it has had two). */
function foundAs(setting: string | readonly string[], def: { id: string; name: string }[]): string {
  if (typeof setting === "string" || !def.length) return "";
  return ` (DIGICERT_DEFAULT_ROLE unset: found "${def[0].name}" (${def[0].id}), looked for ${setting.map((s) => `"${s}"`).join(" or ")})`;
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
