// Entry point of the DigiCert layer: builds the platform client with its HTTP caller and pacer.
import type { Logger } from "../log/logger";
import { DigiCertHttp } from "./http";
import { acquirePacer, type PacingMode, RateWindow } from "./pacing";
import type { CircuitSnapshot } from "./circuit";
import type { DigiCertObservers } from "./observer";
import { platformTarget } from "./registry";
import type { DigiCertClient, PlatformName } from "./types";

export * from "./types";
export * from "./errors";
export { capabilitiesOf, displayNameOf, findPlatform, platformNames, platformTarget, registerPlatform, type PlatformTarget } from "./registry";
export { parseRateLimit, DEFAULT_WINDOWS } from "./pacing";
export type { RateWindow, PacingMode } from "./pacing";
export type { CircuitSnapshot, CircuitState } from "./circuit";
export type { DigiCertCallObservation, DigiCertCallObserver, DigiCertCallStatus, DigiCertObservers, PacingObserver } from "./observer";
export { routeTemplate } from "./observer";
export { DEFAULT_CIRCUIT_COOLDOWN_MS, DEFAULT_CIRCUIT_THRESHOLD } from "./circuit";
export { DEFAULT_MAX_RETRIES, DEFAULT_RETRY_BUDGET_MS } from "./retry";

export interface DigiCertClientConfig {
  platform: PlatformName;
  apiKey: string;
  baseUrl: string;
  timeoutMs: number;
  certcentralContainerId?: string;
  /** CERTCENTRAL_SAML_SSO_ONLY: new CertCentral users get is_saml_sso_only (sign-in through the IdP only). */
  certcentralSamlSsoOnly?: boolean;
  oneAccountId?: string;
  /** ONE_DEACTIVATE: delete (default) or try the disable route first, falling back to delete when refused. */
  oneDeactivation?: "delete" | "disable";
  /** DIGICERT_ONE_APPLICATIONS: application codes whose roles are listed; unset = every role GET /role returns. */
  oneApplications?: string[];
  rateLimit?: RateWindow[];
  maxConcurrent?: number;
  redisUrl?: string;
  /**
   * BRIDGE_REPLICAS: replicas sharing the API key. With redisUrl, while Redis is unreachable this replica paces
   * alone at 1/replicas of every window; unset = no fallback (calls wait for Redis, bounded).
   */
  replicas?: number;
  /** Retries of one idempotent call (GET, PUT, DELETE; POST never); default 3. */
  maxRetries?: number;
  /** Most time one call spends waiting between attempts (backoff, Retry-After); default 8000 ms. */
  retryBudgetMs?: number;
  /** Consecutive "unavailable" calls that open the circuit; default 5 (0 = never). */
  circuitThreshold?: number;
  /** How long an open circuit fails calls fast; default 30000 ms. */
  circuitCooldownMs?: number;
  /** Backoff tuning, not read from the environment (tests shorten it): first full-jitter step, default 250 ms. */
  retryBaseDelayMs?: number;
  /** Shortest wait after a 429 without Retry-After, default 5000 ms (doc §A.9); not read from the environment. */
  rateLimitBackoffMs?: number;
}

export type ClosableDigiCertClient = DigiCertClient & {
  close(): Promise<void>;
  circuit(): CircuitSnapshot;
  /** Where calls are paced now, and how many wait for their slot. */
  pacing(): { mode: PacingMode; replicas?: number; queued: number };
};

/**
 * The client of `cfg.platform`'s registry target. `observers` report calls and pacing waits (metrics); the
 * DigiCert layer does not know who listens.
 */
export function createDigiCertClient(cfg: DigiCertClientConfig, logger: Logger, observers: DigiCertObservers = {}): ClosableDigiCertClient {
  const target = platformTarget(cfg.platform);
  // One budget per API key in this process, whichever tenants' targets use it (and per key across replicas: Redis).
  const pacer = acquirePacer({
    windows: cfg.rateLimit,
    maxConcurrent: cfg.maxConcurrent,
    redisUrl: cfg.redisUrl,
    replicas: cfg.replicas,
    keyId: `${cfg.platform}:${cfg.apiKey}`,
    logger,
    observer: observers.pacing,
  });
  const http = new DigiCertHttp({
    platform: cfg.platform,
    displayName: target.displayName,
    baseUrl: cfg.baseUrl,
    authHeader: target.transport.authHeader,
    apiKey: cfg.apiKey,
    timeoutMs: cfg.timeoutMs,
    logger,
    classify: target.transport.classify,
    pacer,
    maxRetries: cfg.maxRetries,
    retryBudgetMs: cfg.retryBudgetMs,
    circuitThreshold: cfg.circuitThreshold,
    circuitCooldownMs: cfg.circuitCooldownMs,
    retryBaseDelayMs: cfg.retryBaseDelayMs,
    rateLimitBackoffMs: cfg.rateLimitBackoffMs,
    onCall: observers.call,
  });
  const client: DigiCertClient = target.createClient(http, cfg, logger);
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      await pacer.stop();
      http.close();
    })());
  // Bind every method so the returned object can be destructured or spread like a plain client.
  return {
    platform: client.platform,
    capabilities: client.capabilities,
    validate: (i) => client.validate(i),
    createUser: (i, r, o) => client.createUser(i, r, o),
    getUser: (id) => client.getUser(id),
    findUserByUsername: (u) => client.findUserByUsername(u),
    listUsers: (o) => client.listUsers(o),
    updateUser: (id, i, r) => client.updateUser(id, i, r),
    setRoles: (id, r, scope) => client.setRoles(id, r, scope),
    deactivation: () => client.deactivation?.() ?? { configured: "delete", effective: "delete" },
    disableUser: (id) => client.disableUser(id),
    enableUser: (id) => client.enableUser(id),
    deleteUser: (id) => client.deleteUser(id),
    listRoles: () => client.listRoles(),
    ping: () => client.ping(),
    ...(client.listDivisions ? { listDivisions: () => client.listDivisions!() } : {}),
    ...(client.setDivisions ? { setDivisions: (id: string, ids: string[]) => client.setDivisions!(id, ids) } : {}),
    keyUser: () => (client.keyUser ? client.keyUser() : Promise.resolve(null)),
    circuit: () => http.circuit(),
    pacing: () =>
      pacer.replicas !== undefined
        ? { mode: pacer.mode(), replicas: pacer.replicas, queued: pacer.queued() }
        : { mode: pacer.mode(), queued: pacer.queued() },
    close,
  };
}
