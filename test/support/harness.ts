import { PassThrough } from "node:stream";
import request from "supertest";
import type { Express } from "express";
import { loadConfig } from "../../src/config";
import { createLogger, registerSecret } from "../../src/log/logger";
import type { Platform } from "../../src/digicert/types";
import { buildBridge, type Bridge } from "../../src/wiring";
import { startSimulator } from "../../src/simulator";
import type { Simulator } from "../../src/simulator/types";

export const TOKEN = "test-token-0123456789abcdef";
export const SECOND_TOKEN = "second-token-abcdef0123456789";
export const API_KEY = "sim-key-9f8e7d6c5b4a";
export const ONE_ACCOUNT_ID = "6a1f0c2e-8d3b-4c7a-9e5f-0123456789ab";
export const CC_CONTAINER_ID = 1;
export const PUBLIC_BASE_URL = "https://scim.example.test";
export const USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User";
export const DC_EXT = "urn:ietf:params:scim:schemas:extension:digicert:2.0:User";
export const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

export interface Harness {
  platform: Platform;
  sim: Simulator;
  bridge: Bridge;
  app: Express;
  /** Everything the bridge logged, as one string (for secret-leak checks). */
  logs(): string;
  get(path: string): request.Test;
  post(path: string, body: unknown): request.Test;
  put(path: string, body: unknown): request.Test;
  patch(path: string, body: unknown): request.Test;
  del(path: string): request.Test;
  /** Resolves once the outbox has no pending or running job (throws after timeoutMs). */
  drain(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  platform: Platform;
  env?: Record<string, string | undefined>;
  simulator?: Parameters<typeof startSimulator>[0];
  databaseUrl?: string;
  pgSchema?: string;
  /** Use this running simulator (left open on close) instead of starting one: a second bridge on the same DigiCert. */
  sim?: Simulator;
  /** false: every SCIM read through SCIMMY (buildBridge's fastReads). */
  fastReads?: boolean;
}

/** The real app over real HTTP (supertest) against the in-repo DigiCert simulator and a fresh store. */
export async function startHarness(opts: HarnessOptions): Promise<Harness> {
  const ownSim = !opts.sim;
  const sim = opts.sim ?? await startSimulator({
    port: 0,
    apiKey: API_KEY,
    ...opts.simulator,
    certcentral: { containerId: CC_CONTAINER_ID, ...opts.simulator?.certcentral },
    one: { accountId: ONE_ACCOUNT_ID, ...opts.simulator?.one },
  });
  registerSecret(API_KEY);
  registerSecret(TOKEN);
  const config = loadConfigOrClose(ownSim ? sim : null, {
    PUBLIC_BASE_URL,
    SCIM_BEARER_TOKENS: `${TOKEN},${SECOND_TOKEN}`,
    DIGICERT_PLATFORM: opts.platform,
    DIGICERT_API_KEY: API_KEY,
    DIGICERT_BASE_URL: opts.platform === "one" ? sim.oneBaseUrl : sim.certcentralBaseUrl,
    DIGICERT_CERTCENTRAL_CONTAINER_ID: String(CC_CONTAINER_ID),
    DIGICERT_ONE_ACCOUNT_ID: ONE_ACCOUNT_ID,
    DIGICERT_TIMEOUT_MS: "1500",
    // Tests measure the bridge, not DigiCert's budget: pace loosely unless a test sets its own limit.
    DIGICERT_RATE_LIMIT: "1000/1s",
    DATABASE_URL: opts.databaseUrl ?? "sqlite::memory:",
    // Outbox retries in tenths of seconds rather than seconds, so recovery tests run quickly.
    OUTBOX_RETRY_BASE_MS: "100",
    OUTBOX_RETRY_MAX_MS: "2000",
    LOG_LEVEL: "debug",
    ...opts.env,
  });
  const stream = new PassThrough();
  let logText = "";
  stream.on("data", (d) => (logText += d.toString()));
  const bridge = await buildBridge(config, createLogger("debug", stream), { pgSchema: opts.pgSchema, fastReads: opts.fastReads }).catch(async (err) => {
    if (ownSim) await sim.close();
    throw err;
  });
  const app = bridge.app;
  const auth = (t: request.Test) => t.set("Authorization", `Bearer ${TOKEN}`);
  const json = (t: request.Test, body: unknown) => auth(t).set("Content-Type", "application/scim+json").send(JSON.stringify(body));
  return {
    platform: opts.platform,
    sim,
    bridge,
    app,
    logs: () => logText,
    get: (p) => auth(request(app).get(p)),
    post: (p, b) => json(request(app).post(p), b),
    put: (p, b) => json(request(app).put(p), b),
    patch: (p, b) => json(request(app).patch(p), b),
    del: (p) => auth(request(app).delete(p)),
    drain: (timeoutMs = 15_000) => drainOutbox(bridge, timeoutMs),
    async close() {
      await bridge.close();
      if (ownSim) await sim.close();
    },
  };
}

/** The simulator refuses the next create (POST /user) with DigiCert's own 400 wording for an email domain. */
export function refuseNextCreate(sim: Simulator, platform: Platform): void {
  sim.failNext({
    platform,
    method: "POST",
    path: /^\/user$/,
    status: 400,
    body:
      platform === "certcentral"
        ? { errors: [{ code: "invalid_param|email", message: "Email domain is not allowed." }] }
        : { errors: [{ code: "invalid_request", message: "Email domain is not allowed." }] },
  });
}

export async function drainOutbox(bridge: Bridge, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await bridge.store.outbox.stats();
    if (s.pending + s.running === 0) return;
    if (Date.now() > deadline) throw new Error(`outbox not drained after ${timeoutMs} ms: ${JSON.stringify(s)}`);
    bridge.outbox.kick();
    await new Promise((r) => setTimeout(r, 50));
  }
}

function loadConfigOrClose(sim: Simulator | null, env: Record<string, string | undefined>) {
  try {
    return loadConfig(env);
  } catch (err) {
    void sim?.close();
    throw err;
  }
}

let seq = 0;
/** A complete user as Okta sends it on create. */
export function oktaUser(userName?: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const u = userName ?? `user${++seq}.${Date.now()}@example.com`;
  return {
    schemas: [USER_SCHEMA],
    userName: u,
    name: { givenName: "Ada", familyName: "Lovelace" },
    emails: [{ primary: true, value: u, type: "work" }],
    displayName: "Ada Lovelace",
    locale: "en-US",
    externalId: `okta-${seq}`,
    groups: [],
    password: "S3cret-passw0rd!",
    active: true,
    ...extra,
  };
}
