// A bridge serving several tenants, each with its own DigiCert simulator and bearer token, built as the harness
// builds one (loadConfig, then buildBridge) with `config.tenants` set: what the tenancy tests drive.
import { PassThrough } from "node:stream";
import request from "supertest";
import type { Express } from "express";
import { loadConfig, type AppConfig, type TenantConfig } from "../../src/config";
import type { Platform } from "../../src/digicert/types";
import { createLogger, registerSecret } from "../../src/log/logger";
import { startSimulator } from "../../src/simulator";
import type { Simulator } from "../../src/simulator/types";
import { buildBridge, type Bridge } from "../../src/wiring";
import { API_KEY, CC_CONTAINER_ID, ONE_ACCOUNT_ID, PUBLIC_BASE_URL } from "./harness";

export interface TenantSpec {
  id: string;
  platform: Platform;
  /** Its one bearer token. */
  token: string;
  /** SCIM_BASIC_USERS of its own (user:sha256:<hex>), besides the token. */
  basicUsers?: string;
  sim: Simulator;
  /** ROLE_MAPPING_FILE of its first target. */
  mapping?: string;
  /** Further DigiCert targets (a fan-out tenant), each with its own simulator. */
  moreTargets?: { name: string; platform: Platform; sim: Simulator; mapping?: string }[];
}

/** The SCIM path a tenant is served at ("default": /scim/v2, or /t/default/scim/v2 with `mount`). */
export const scimBase = (id: string, mount?: "t") => (id === "default" && mount !== "t" ? "/scim/v2" : `/t/${id}/scim/v2`);

export function startTenantSimulator(): Promise<Simulator> {
  return startSimulator({ port: 0, apiKey: API_KEY, certcentral: { containerId: CC_CONTAINER_ID }, one: { accountId: ONE_ACCOUNT_ID } });
}

/** The environment one tenant's DigiCert target would be configured with on its own. */
function envOf(spec: TenantSpec, extra: Record<string, string | undefined>): Record<string, string | undefined> {
  return {
    PUBLIC_BASE_URL,
    SCIM_BEARER_TOKENS: spec.token,
    DIGICERT_PLATFORM: spec.platform,
    DIGICERT_API_KEY: API_KEY,
    DIGICERT_BASE_URL: spec.platform === "one" ? spec.sim.oneBaseUrl : spec.sim.certcentralBaseUrl,
    DIGICERT_CERTCENTRAL_CONTAINER_ID: String(CC_CONTAINER_ID),
    DIGICERT_ONE_ACCOUNT_ID: ONE_ACCOUNT_ID,
    DIGICERT_TIMEOUT_MS: "1500",
    DIGICERT_RATE_LIMIT: "1000/1s",
    DATABASE_URL: "sqlite::memory:",
    OUTBOX_RETRY_BASE_MS: "100",
    OUTBOX_RETRY_MAX_MS: "2000",
    LOG_LEVEL: "debug",
    ROLE_MAPPING_FILE: spec.mapping,
    SCIM_BASIC_USERS: spec.basicUsers,
    ...extra,
  };
}

/** A tenant as TENANTS_FILE will declare it: its credential and its DigiCert target, read through loadConfig. */
export function tenantConfig(spec: TenantSpec, env: Record<string, string | undefined> = {}): TenantConfig {
  registerSecret(spec.token);
  const c = loadConfig(envOf(spec, env));
  const more = (spec.moreTargets ?? []).map((t) => {
    const tc = loadConfig(envOf({ ...spec, platform: t.platform, sim: t.sim, mapping: t.mapping }, env));
    return { name: t.name, digicert: tc.digicert, ...(tc.roleMappingFile ? { roleMappingFile: tc.roleMappingFile } : {}) };
  });
  return {
    id: spec.id,
    credentials: { bearerTokens: c.scim.bearerTokens, basicUsers: c.scim.basicUsers },
    dryRun: false,
    targets: [{ name: spec.platform, digicert: c.digicert, ...(c.roleMappingFile ? { roleMappingFile: c.roleMappingFile } : {}) }, ...more],
  };
}

/** The whole bridge's config: the first tenant's environment (the process settings), with every tenant declared. */
export function bridgeConfig(specs: TenantSpec[], env: Record<string, string | undefined> = {}): AppConfig {
  const config = loadConfig(envOf(specs[0], env));
  (config as AppConfig & { tenants?: TenantConfig[] }).tenants = specs.map((s) => tenantConfig(s, env));
  return config;
}

export interface ScimClient {
  base: string;
  get(path: string): request.Test;
  post(path: string, body: unknown): request.Test;
  put(path: string, body: unknown): request.Test;
  patch(path: string, body: unknown): request.Test;
  del(path: string): request.Test;
}

/** Requests to `base` (a tenant's SCIM path) with `token`; paths are relative to `base`. */
export function scimClient(app: Express, base: string, token: string): ScimClient {
  const auth = (t: request.Test) => t.set("Authorization", `Bearer ${token}`);
  const json = (t: request.Test, body: unknown) => auth(t).set("Content-Type", "application/scim+json").send(JSON.stringify(body));
  return {
    base,
    get: (p) => auth(request(app).get(base + p)),
    post: (p, b) => json(request(app).post(base + p), b),
    put: (p, b) => json(request(app).put(base + p), b),
    patch: (p, b) => json(request(app).patch(base + p), b),
    del: (p) => auth(request(app).delete(base + p)),
  };
}

export interface TenantBridge {
  bridge: Bridge;
  app: Express;
  logs(): string;
  /** The tenant's own client at its own path with its own token. */
  as(id: string): ScimClient;
  /** Resolves once no tenant's outbox has a pending or running job. */
  drain(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startTenantBridge(
  specs: TenantSpec[],
  opts: { env?: Record<string, string | undefined>; pgSchema?: string; fastReads?: boolean } = {},
): Promise<TenantBridge> {
  const config = bridgeConfig(specs, opts.env);
  const stream = new PassThrough();
  let logText = "";
  stream.on("data", (d) => (logText += d.toString()));
  const bridge = await buildBridge(config, createLogger("debug", stream), { pgSchema: opts.pgSchema, fastReads: opts.fastReads });
  return {
    bridge,
    app: bridge.app,
    logs: () => logText,
    as: (id) => scimClient(bridge.app, scimBase(id), specs.find((s) => s.id === id)!.token),
    drain: (timeoutMs) => drainTenants(bridge, timeoutMs),
    close: () => bridge.close(),
  };
}

/**
 * Every tenant's outbox (each of its targets') empty of pending and running jobs, their workers kicked meanwhile.
 * The outbox is in the database: any replica's bridge sees every replica's jobs.
 */
export async function drainTenants(bridge: Bridge, timeoutMs = 15_000, only?: string[]): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let busy: Record<string, unknown> | null = null;
    for (const [id, t] of bridge.tenants) {
      if (only && !only.includes(id)) continue;
      for (const target of t.targets) {
        const s = await target.store.outbox.stats();
        if (s.pending + s.running > 0) {
          busy = { tenant: id, target: target.name, ...s };
          target.worker.kick();
        }
      }
    }
    if (!busy) return;
    if (Date.now() > deadline) throw new Error(`outbox not drained after ${timeoutMs} ms: ${JSON.stringify(busy)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
