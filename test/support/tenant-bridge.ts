// A bridge of several tenants over one simulator, for the operating tests (metrics, readiness, status page, CLI):
// the environment's tenant "default" (CertCentral) as startHarness builds it, plus tenants given here, each with its
// own SCIM token and one DigiCert target (by default DigiCert ONE on the same simulator). Until TENANTS_FILE is read
// into AppConfig.tenants, the tenants are set on the loaded config directly.
import { createHash } from "node:crypto";
import { PassThrough } from "node:stream";
import request from "supertest";
import { loadConfig, type AppConfig, type TenantConfig } from "../../src/config";
import { tenantsOf } from "../../src/config/tenant-types";
import { createLogger, registerSecret } from "../../src/log/logger";
import type { Platform } from "../../src/digicert/types";
import { startSimulator } from "../../src/simulator";
import type { Simulator } from "../../src/simulator/types";
import type { TenantRuntime } from "../../src/tenant-runtime";
import { buildBridge, type Bridge } from "../../src/wiring";
import { API_KEY, CC_CONTAINER_ID, ONE_ACCOUNT_ID, PUBLIC_BASE_URL, TOKEN } from "./harness";

export interface ExtraTenant {
  id: string;
  /** Its SCIM bearer token. */
  token: string;
  platform?: Platform;
  /** Several targets (fan-out), each named after its platform, the first the primary; instead of `platform`. */
  targets?: Platform[];
  /** Its target's DigiCert API key (default: the simulator's, i.e. accepted). */
  apiKey?: string;
  dryRun?: boolean;
}

export interface TenantBridge {
  sim: Simulator;
  bridge: Bridge;
  config: AppConfig;
  app: Bridge["app"];
  tenant(id: string): TenantRuntime;
  /** A SCIM request of `tenant` at its own mount (/scim/v2 for "default", else /t/{id}/scim/v2). */
  scim(tenant: string, method: "get" | "post" | "patch" | "delete", path: string, body?: unknown): request.Test;
  /** Resolves once the tenant's outbox has no pending or running job. */
  drain(tenant: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** The environment a bridge of these tests reads: the harness's, on `databaseUrl`. */
export function tenantBridgeEnv(sim: Simulator, databaseUrl: string, env: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    PUBLIC_BASE_URL,
    SCIM_BEARER_TOKENS: TOKEN,
    DIGICERT_PLATFORM: "certcentral",
    DIGICERT_API_KEY: API_KEY,
    DIGICERT_BASE_URL: sim.certcentralBaseUrl,
    DIGICERT_CERTCENTRAL_CONTAINER_ID: String(CC_CONTAINER_ID),
    DIGICERT_ONE_ACCOUNT_ID: ONE_ACCOUNT_ID,
    DIGICERT_TIMEOUT_MS: "1500",
    DIGICERT_RATE_LIMIT: "1000/1s",
    DATABASE_URL: databaseUrl,
    OUTBOX_RETRY_BASE_MS: "100",
    OUTBOX_RETRY_MAX_MS: "2000",
    LOG_LEVEL: "debug",
    ...env,
  };
}

/** `config`'s tenants: its own (the environment's "default") and the extra ones on `sim`. */
export function withTenants(config: AppConfig, sim: Simulator, extra: ExtraTenant[], env: Record<string, string | undefined> = {}): AppConfig {
  const own = tenantsOf(config);
  const tenants: TenantConfig[] = [
    ...own,
    ...extra.map((t): TenantConfig => {
      const apiKey = t.apiKey ?? API_KEY;
      // Each target's DigiCert block as the environment would give it for that platform.
      const targetOf = (platform: Platform) => ({
        name: platform,
        digicert: loadConfig({
          ...tenantBridgeEnv(sim, config.databaseUrl, env),
          DIGICERT_PLATFORM: platform,
          DIGICERT_API_KEY: apiKey,
          DIGICERT_BASE_URL: platform === "one" ? sim.oneBaseUrl : sim.certcentralBaseUrl,
        }).digicert,
      });
      return {
        id: t.id,
        credentials: { bearerTokens: [{ name: `${t.id}-token`, sha256: createHash("sha256").update(t.token, "utf8").digest() }], basicUsers: [] },
        dryRun: t.dryRun ?? false,
        targets: (t.targets ?? [t.platform ?? "one"]).map(targetOf),
      };
    }),
  ];
  return Object.assign({}, config, { tenants });
}

export async function startTenantBridge(opts: {
  tenants: ExtraTenant[];
  env?: Record<string, string | undefined>;
  databaseUrl?: string;
  pgSchema?: string;
}): Promise<TenantBridge> {
  const sim = await startSimulator({
    port: 0,
    apiKey: API_KEY,
    certcentral: { containerId: CC_CONTAINER_ID },
    one: { accountId: ONE_ACCOUNT_ID },
  });
  registerSecret(API_KEY);
  registerSecret(TOKEN);
  for (const t of opts.tenants) registerSecret(t.token);
  try {
    const config = withTenants(loadConfig(tenantBridgeEnv(sim, opts.databaseUrl ?? "sqlite::memory:", opts.env)), sim, opts.tenants, opts.env);
    const stream = new PassThrough();
    stream.resume();
    const bridge = await buildBridge(config, createLogger("debug", stream), { pgSchema: opts.pgSchema });
    const tokens = new Map([["default", TOKEN], ...opts.tenants.map((t) => [t.id, t.token] as [string, string])]);
    const tenant = (id: string) => {
      const r = bridge.tenants.get(id);
      if (!r) throw new Error(`no tenant ${id}`);
      return r;
    };
    return {
      sim,
      bridge,
      config,
      app: bridge.app,
      tenant,
      scim(id, method, path, body) {
        const base = id === "default" ? "/scim/v2" : `/t/${id}/scim/v2`;
        const t = request(bridge.app)[method](`${base}${path}`).set("Authorization", `Bearer ${tokens.get(id)}`);
        return body === undefined ? t : t.set("Content-Type", "application/scim+json").send(JSON.stringify(body));
      },
      async drain(id, timeoutMs = 15_000) {
        const r = tenant(id);
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const s = await r.store.outbox.stats();
          if (s.pending + s.running === 0) return;
          if (Date.now() > deadline) throw new Error(`tenant ${id}: outbox not drained after ${timeoutMs} ms: ${JSON.stringify(s)}`);
          r.outbox.kick();
          await new Promise((res) => setTimeout(res, 50));
        }
      },
      async close() {
        await bridge.close();
        await sim.close();
      },
    };
  } catch (err) {
    await sim.close();
    throw err;
  }
}
