import fs from "node:fs";
import tlsModule from "node:tls";
import { z } from "zod";
import { envSchema } from "./env";
import { platformTarget } from "../digicert/registry";
import type { DigiCertClientConfig } from "../digicert";
import { parseRateLimit, type RateWindow } from "../digicert/pacing";
import { parseDuration } from "./duration";
import { DEFAULT_MAX_RETRIES, DEFAULT_RETRY_BUDGET_MS } from "../digicert/retry";
import { DEFAULT_CIRCUIT_COOLDOWN_MS, DEFAULT_CIRCUIT_THRESHOLD } from "../digicert/circuit";
import {
  parseAuthFailureLimit,
  parseTrustProxy,
  type AuthFailureLimit,
  type TrustProxy,
} from "./auth-settings";
import { entriesOf } from "./credential-syntax";
import {
  duplicates,
  HASH_HINT,
  HASHED,
  parseBasicUsers,
  parseTokens,
  sha256,
  type BasicCredential,
  type BearerCredential,
} from "./credentials";
import { envDefaultTenant, resolveTenants, type TenantConfig } from "./tenants";

export type { BasicCredential, BearerCredential } from "./credentials";
export type { TenantConfig, TenantTarget } from "./tenants";
export { DEFAULT_TENANT_ID, IDENTITY_PROVIDERS, TARGET_NAME_PATTERN, TENANT_ID_PATTERN, tenantApiKeys } from "./tenants";

/** An OAuth 2.0 client of OAUTH_CLIENTS: several secret digests may be active at once (rotation). */
export interface OAuthClient {
  clientId: string;
  idSha256: Buffer;
  secretSha256: Buffer[];
}

export interface OAuthConfig {
  clients: OAuthClient[];
  /** HMAC key of the HS256 access tokens; the same on every replica. */
  signingKey: string;
  tokenTtlSeconds: number;
}

/** The status page's own credentials (ADMIN_TOKENS, ADMIN_BASIC_USERS), never valid on /scim/v2 and vice versa. */
export interface AdminConfig {
  tokens: BearerCredential[];
  basicUsers: BasicCredential[];
}

export type CertCentralDeactivation = { mode: "delete" } | { mode: "demote"; role: string };
/** ONE_DEACTIVATE: how SCIM active:false removes DigiCert ONE access. */
export type OneDeactivation = "delete" | "disable";

export interface OutboxConfig {
  /** SYNC_WAIT_MS: how long a SCIM write waits for its DigiCert job before answering with it pending. */
  syncWaitMs: number;
  /** SYNC_WAIT_QUEUE_MS: how long a write may wait behind other jobs before it is answered pending at once. */
  syncWaitQueueMs: number;
  /** OUTBOX_MAX_PENDING: unfinished jobs above which new writes get 429 (0 = never). */
  maxPending: number;
  concurrency: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  leaseMs: number;
}

export interface AppConfig {
  port: number;
  /** TLS_CERT_FILE/TLS_KEY_FILE: serve HTTPS directly (PEM contents, read and checked at start). */
  tls?: { cert: string; key: string };
  host: string;
  publicBaseUrl: string;
  scim: {
    bearerTokens: BearerCredential[];
    basicUsers: BasicCredential[];
    /** Set when OAUTH_CLIENTS is: POST /oauth/token issues access tokens the SCIM endpoint accepts. */
    oauth?: OAuthConfig;
    maxResults: number;
    /** SCIM_MAX_BODY_BYTES: larger request bodies get 413. */
    maxBodyBytes: number;
    /** SCIM Bulk (POST /Bulk): BULK_MAX_OPERATIONS (0 = Bulk off) and BULK_MAX_PAYLOAD_BYTES. */
    bulk: { maxOperations: number; maxPayloadBytes: number };
  };
  /** Set when ADMIN_TOKENS or ADMIN_BASIC_USERS is: the read-only status page at /admin (404 otherwise). */
  admin?: AdminConfig;
  /** AUTH_FAILURE_LIMIT: failed authentications per client address before it gets 429; null = no limit. */
  authFailureLimit: AuthFailureLimit | null;
  /** TRUST_PROXY: Express's "trust proxy" (which X-Forwarded-For hops give the client address); unset = none. */
  trustProxy?: TrustProxy;
  /**
   * The client's own settings (REDIS_URL included, for the shared rate budget) plus provisioning policy, from the
   * environment. With TENANTS_FILE and no DIGICERT_API_KEY the environment defines no tenant: apiKey is then "" and the
   * block is only what the file's targets inherit (see `tenants`).
   */
  digicert: DigiCertClientConfig & {
    rateLimit: RateWindow[];
    /** BRIDGE_REPLICAS: the share of the budget each replica takes alone while Redis is unreachable is 1/replicas. */
    replicas: number;
    maxRetries: number;
    retryBudgetMs: number;
    circuitThreshold: number;
    circuitCooldownMs: number;
    /** DIGICERT_DEFAULT_ROLE; unset, the platform's basic role under any of its names (the first DigiCert offers). */
    defaultRole: string | readonly string[];
    certcentralDeactivation: CertCentralDeactivation;
  };
  /** The outbox toward DigiCert: how long requests wait for their job, back-pressure, the worker's retries. */
  outbox: OutboxConfig;
  databaseUrl: string;
  /** YAML group → role mapping; validated against DigiCert's roles when the bridge starts. */
  roleMappingFile?: string;
  /** RECONCILE_INTERVAL: the server compares the store with DigiCert this often (report only); unset = never. */
  reconcile: { intervalMs?: number };
  /** METRICS_TOKEN: set = GET /metrics needs one of these bearer tokens (never a SCIM credential); unset = open. */
  metricsTokens?: BearerCredential[];
  /** DRY_RUN: DigiCert is read but never written; each would-be write is recorded in the audit trail. */
  dryRun: boolean;
  /**
   * The tenants, each opened by its own SCIM credentials, each with one or more DigiCert targets. Without TENANTS_FILE
   * exactly one, "default", made of the settings above (scim credentials, dryRun, digicert, roleMappingFile). With it,
   * that tenant first when the environment configures DigiCert (DIGICERT_API_KEY set), then the file's in file order.
   * Always at least one, except for a storeOnly load with TENANTS_FILE that declares none. Their API keys must be
   * registered with the log redactor (tenantApiKeys, registerSecret).
   */
  tenants: TenantConfig[];
  /** AUDIT_RETENTION_DAYS: entries older than this are purged hourly; 0 = kept forever. */
  audit: { retentionDays: number };
  logLevel: string;
  /** LOG_FORMAT: JSON lines (default) or the pretty terminal format. */
  logFormat: "json" | "pretty";
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/**
 * A start-up failure past the configuration's own checks (the database, DigiCert, the credentials, the port), reported
 * like a ConfigError: one line per problem, naming the variable to look at.
 */
export class StartupError extends ConfigError {
  constructor(problems: string[], options?: { cause?: unknown }) {
    super(problems);
    this.message = `Cannot start the bridge:\n${problems.map((p) => `  - ${p}`).join("\n")}`;
    this.name = "StartupError";
    if (options?.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}

/** OAUTH_CLIENTS: client_id:sha256:<hex>[|sha256:<hex>…], secrets hashed only. */
function parseOAuthClients(list: string | undefined): { clients: OAuthClient[]; problems: string[] } {
  const clients: OAuthClient[] = [];
  const problems: string[] = [];
  for (const { n, raw } of entriesOf(list)) {
    const colon = raw.indexOf(":");
    if (colon < 0) {
      problems.push(`entry ${n} must be client_id:sha256:<64 hex digits of the secret's SHA-256>[|sha256:<hex>…]; ${HASH_HINT.replace("password", "secret")}`);
      continue;
    }
    const clientId = raw.slice(0, colon).trim();
    if (!/^[^\s:|\x00-\x1f\x7f]{1,128}$/.test(clientId)) {
      problems.push(`entry ${n}: the client_id must be 1-128 characters without spaces, ":" or "|"`);
      continue;
    }
    const secrets = raw.slice(colon + 1).split("|").map((s) => s.trim());
    const digests: Buffer[] = [];
    for (const [j, secret] of secrets.entries()) {
      const hashed = HASHED.exec(secret);
      if (hashed) {
        digests.push(Buffer.from(hashed[1], "hex"));
        continue;
      }
      problems.push(
        /^sha256:/i.test(secret)
          ? `client "${clientId}", secret ${j + 1}: sha256: must be followed by the 64 hex digits of the secret's SHA-256`
          : `client "${clientId}", secret ${j + 1}: plain secrets are refused; give sha256:<64 hex digits of the secret's SHA-256> instead (${HASH_HINT.replace("password", "secret")})`,
      );
    }
    if (digests.length === secrets.length) clients.push({ clientId, idSha256: sha256(clientId), secretSha256: digests });
  }
  problems.push(...duplicates(clients.map((c) => c.clientId), "client_id"));
  return { clients, problems };
}


/**
 * The status page must have credentials of its own: an admin token that is also a SCIM token, or an admin Basic
 * user with the username and password of a SCIM one, is refused (named, never quoted).
 */
function sharedAdminCredentials(
  adminTokens: BearerCredential[],
  adminUsers: BasicCredential[],
  scimTokens: BearerCredential[],
  scimUsers: BasicCredential[],
): string[] {
  const problems: string[] = [];
  for (const t of adminTokens) {
    if (scimTokens.some((s) => s.sha256.equals(t.sha256))) {
      problems.push(`ADMIN_TOKENS: token "${t.name}" is also in SCIM_BEARER_TOKENS; give the status page a token of its own`);
    }
  }
  for (const u of adminUsers) {
    if (scimUsers.some((s) => s.username === u.username && s.passwordSha256.equals(u.passwordSha256))) {
      problems.push(`ADMIN_BASIC_USERS: user "${u.username}" has the same password in SCIM_BASIC_USERS; give the status page credentials of its own`);
    }
  }
  return problems;
}

/**
 * The server refuses to start without a way for the IdP to authenticate. Tokens may also live in the store
 * (`digicert-scim tokens create`), so the check is made at start (src/http/store-tokens.ts), not here.
 */
export const NO_AUTH_PROBLEM =
  "SCIM_BEARER_TOKENS: required: configure at least one of SCIM_BEARER_TOKENS (bearer tokens), SCIM_BASIC_USERS " +
  "(HTTP Basic users) or OAUTH_CLIENTS (OAuth 2.0 client credentials), or create a token in the store with " +
  "digicert-scim tokens create --name NAME";

/** Reads and checks the whole configuration; throws ConfigError listing every problem at once. */
export { resolveFileSecrets } from "./file-secrets";

/** Both TLS files or neither; each must hold PEM, and the key must match the certificate. */
function readTls(certFile: string | undefined, keyFile: string | undefined, problems: string[]): { cert: string; key: string } | undefined {
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) {
    problems.push(`${certFile ? "TLS_KEY_FILE" : "TLS_CERT_FILE"}: required with ${certFile ? "TLS_CERT_FILE" : "TLS_KEY_FILE"} (set both to serve HTTPS, or neither)`);
    return undefined;
  }
  const read = (name: string, file: string, marker: RegExp): string | undefined => {
    try {
      const text = fs.readFileSync(file, "utf8");
      if (!marker.test(text)) throw new Error("no PEM block of the expected kind");
      return text;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      problems.push(`${name}: cannot use ${file} (${e.code === "ENOENT" ? "no such file" : e.message})`);
      return undefined;
    }
  };
  const cert = read("TLS_CERT_FILE", certFile, /-----BEGIN CERTIFICATE-----/);
  const key = read("TLS_KEY_FILE", keyFile, /-----BEGIN [A-Z ]*PRIVATE KEY-----/);
  if (!cert || !key) return undefined;
  try {
    tlsModule.createSecureContext({ cert, key });
  } catch (err) {
    problems.push(`TLS_KEY_FILE: the key does not fit TLS_CERT_FILE (${(err as Error).message})`);
    return undefined;
  }
  return { cert, key };
}
import { resolveFileSecrets } from "./file-secrets";

export interface LoadOptions {
  /**
   * For the CLI commands that only use the store (migrate, outbox, audit, plan, tokens): DIGICERT_API_KEY and the
   * platform's required settings may be missing (config.digicert.apiKey is then ""); everything set is still checked.
   */
  storeOnly?: boolean;
}

const storeOnlySchema = envSchema.extend({ DIGICERT_API_KEY: z.string().optional().transform((s) => s?.trim() || undefined) });

export function loadConfig(rawEnv: NodeJS.ProcessEnv = process.env, opts: LoadOptions = {}): AppConfig {
  const fromFiles = resolveFileSecrets(rawEnv);
  if (fromFiles.problems.length) throw new ConfigError(fromFiles.problems);
  const env = fromFiles.env;
  // With TENANTS_FILE the tenants may all come from the file: DIGICERT_API_KEY (the environment's tenant) is optional.
  const keyOptional = opts.storeOnly || (!!env.TENANTS_FILE?.trim() && !env.DIGICERT_API_KEY?.trim());
  const parsed = (keyOptional ? storeOnlySchema : envSchema).safeParse(env);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(problems);
  }
  const e = parsed.data;
  const platform = e.DIGICERT_PLATFORM;
  // The environment defines the tenant "default" unless TENANTS_FILE is set and DIGICERT_API_KEY is not.
  const envTenant = !e.TENANTS_FILE || !!e.DIGICERT_API_KEY;

  let authFailureLimit: AuthFailureLimit | null = null;
  try {
    authFailureLimit = parseAuthFailureLimit(e.AUTH_FAILURE_LIMIT);
  } catch (err) {
    problems.push(`AUTH_FAILURE_LIMIT: ${(err as Error).message}`);
  }
  let trustProxy: TrustProxy | undefined;
  try {
    trustProxy = parseTrustProxy(e.TRUST_PROXY);
  } catch (err) {
    problems.push(`TRUST_PROXY: ${(err as Error).message}`);
  }
  const { tokens, problems: tokenProblems } = parseTokens(e.SCIM_BEARER_TOKENS);
  for (const p of tokenProblems) problems.push(`SCIM_BEARER_TOKENS: ${p}`);
  const { users: basicUsers, problems: basicProblems } = parseBasicUsers(e.SCIM_BASIC_USERS);
  for (const p of basicProblems) problems.push(`SCIM_BASIC_USERS: ${p}`);
  const { clients, problems: clientProblems } = parseOAuthClients(e.OAUTH_CLIENTS);
  for (const p of clientProblems) problems.push(`OAUTH_CLIENTS: ${p}`);
  if (e.OAUTH_CLIENTS && !e.OAUTH_SIGNING_KEY) {
    problems.push(
      "OAUTH_SIGNING_KEY: required when OAUTH_CLIENTS is set: at least 32 random characters, the same on every replica " +
        "(for example the output of: openssl rand -base64 48)",
    );
  } else if (e.OAUTH_SIGNING_KEY && e.OAUTH_SIGNING_KEY.length < 32) {
    problems.push("OAUTH_SIGNING_KEY: must be at least 32 characters (for example the output of: openssl rand -base64 48)");
  }
  const oauth: OAuthConfig | undefined = e.OAUTH_CLIENTS
    ? { clients, signingKey: e.OAUTH_SIGNING_KEY!, tokenTtlSeconds: e.OAUTH_TOKEN_TTL_SECONDS ?? 3600 }
    : undefined;

  const { tokens: adminTokens, problems: adminTokenProblems } = parseTokens(e.ADMIN_TOKENS);
  for (const p of adminTokenProblems) problems.push(`ADMIN_TOKENS: ${p}`);
  const { users: adminUsers, problems: adminUserProblems } = parseBasicUsers(e.ADMIN_BASIC_USERS);
  for (const p of adminUserProblems) problems.push(`ADMIN_BASIC_USERS: ${p}`);
  problems.push(...sharedAdminCredentials(adminTokens, adminUsers, tokens, basicUsers));
  const admin: AdminConfig | undefined = adminTokens.length || adminUsers.length ? { tokens: adminTokens, basicUsers: adminUsers } : undefined;

  const { tokens: metricsTokens, problems: metricsTokenProblems } = parseTokens(e.METRICS_TOKEN);
  for (const p of metricsTokenProblems) problems.push(`METRICS_TOKEN: ${p}`);
  for (const t of metricsTokens) {
    if (tokens.some((s) => s.sha256.equals(t.sha256))) {
      problems.push(`METRICS_TOKEN: token "${t.name}" is also in SCIM_BEARER_TOKENS; give /metrics a token of its own`);
    }
  }

  let rateLimit: RateWindow[] = parseRateLimit("1000/180s,100/5s");
  if (e.DIGICERT_RATE_LIMIT) {
    try {
      rateLimit = parseRateLimit(e.DIGICERT_RATE_LIMIT);
    } catch (err) {
      problems.push(`DIGICERT_RATE_LIMIT: ${(err as Error).message} (example: 1000/180s,100/5s)`);
    }
  }

  const target = platformTarget(platform);
  for (const { env, why } of opts.storeOnly || !envTenant ? [] : (target.requiredSettings ?? [])) {
    if (!(e as Record<string, unknown>)[env]) problems.push(`${env}: required when DIGICERT_PLATFORM=${platform} (${why})`);
  }

  const databaseUrl = e.DATABASE_URL ?? "sqlite:./data/scim.db";
  if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(databaseUrl)) {
    problems.push("DATABASE_URL: must be sqlite:<file path>, sqlite::memory: or postgres://…");
  }


  const deact = e.CERTCENTRAL_DEACTIVATE ?? "delete";
  const certcentralDeactivation: CertCentralDeactivation = deact.startsWith("demote:")
    ? { mode: "demote", role: deact.slice("demote:".length).trim() }
    : { mode: "delete" };

  const retryBaseMs = e.OUTBOX_RETRY_BASE_MS ?? 1000;
  const retryMaxMs = e.OUTBOX_RETRY_MAX_MS ?? 300_000;
  if (retryMaxMs < retryBaseMs) problems.push("OUTBOX_RETRY_MAX_MS: must not be smaller than OUTBOX_RETRY_BASE_MS");

  let reconcileIntervalMs: number | undefined;
  if (e.RECONCILE_INTERVAL) {
    try {
      reconcileIntervalMs = parseDuration(e.RECONCILE_INTERVAL, { minMs: 1000, maxMs: 30 * 86_400_000 });
    } catch (err) {
      problems.push(`RECONCILE_INTERVAL: ${(err as Error).message}`);
    }
  }

  const tls = readTls(e.TLS_CERT_FILE, e.TLS_KEY_FILE, problems);

  const digicert: AppConfig["digicert"] = {
    platform,
    apiKey: e.DIGICERT_API_KEY ?? "",
    baseUrl: (e.DIGICERT_BASE_URL ?? target.defaultBaseUrl).replace(/\/+$/, ""),
    timeoutMs: e.DIGICERT_TIMEOUT_MS ?? 10000,
    certcentralContainerId: e.DIGICERT_CERTCENTRAL_CONTAINER_ID,
    oneAccountId: e.DIGICERT_ONE_ACCOUNT_ID,
    defaultRole: e.DIGICERT_DEFAULT_ROLE ?? target.defaultRole,
    rateLimit,
    maxConcurrent: e.DIGICERT_MAX_CONCURRENT ?? 4,
    maxRetries: e.DIGICERT_MAX_RETRIES ?? DEFAULT_MAX_RETRIES,
    retryBudgetMs: e.DIGICERT_RETRY_BUDGET_MS ?? DEFAULT_RETRY_BUDGET_MS,
    circuitThreshold: e.DIGICERT_CIRCUIT_THRESHOLD ?? DEFAULT_CIRCUIT_THRESHOLD,
    circuitCooldownMs: e.DIGICERT_CIRCUIT_COOLDOWN_MS ?? DEFAULT_CIRCUIT_COOLDOWN_MS,
    certcentralDeactivation,
    oneDeactivation: e.ONE_DEACTIVATE,
    ...(e.DIGICERT_ONE_APPLICATIONS ? { oneApplications: e.DIGICERT_ONE_APPLICATIONS.split(",").map((a) => a.trim()) } : {}),
    certcentralSamlSsoOnly: e.CERTCENTRAL_SAML_SSO_ONLY,
    redisUrl: e.REDIS_URL,
    replicas: e.BRIDGE_REPLICAS ?? 1,
  };

  if (!envTenant) {
    // Without DIGICERT_API_KEY there is no tenant for the environment's SCIM credentials to open.
    for (const [name, value] of [["SCIM_BEARER_TOKENS", e.SCIM_BEARER_TOKENS], ["SCIM_BASIC_USERS", e.SCIM_BASIC_USERS], ["OAUTH_CLIENTS", e.OAUTH_CLIENTS]]) {
      if (value) {
        problems.push(
          `${name}: its credentials belong to the default tenant, which needs DIGICERT_API_KEY (unset, TENANTS_FILE alone defines the tenants): ` +
            "set DIGICERT_API_KEY and the platform's settings, or declare the tenant in TENANTS_FILE",
        );
      }
    }
  }
  const tenants = resolveTenants({
    file: e.TENANTS_FILE,
    env,
    ...(envTenant ? { envTenant: envDefaultTenant({ scim: { bearerTokens: tokens, basicUsers }, dryRun: e.DRY_RUN, digicert, roleMappingFile: e.ROLE_MAPPING_FILE }) } : {}),
    digicert,
    dryRun: e.DRY_RUN,
    storeOnly: !!opts.storeOnly,
    adminTokens,
    adminUsers,
    metricsTokens,
  });
  problems.push(...tenants.problems);

  if (problems.length) throw new ConfigError(problems);

  const port = e.PORT ?? 8080;
  const host = e.HOST ?? "0.0.0.0";
  const publicHost = host === "0.0.0.0" || host === "::" ? "localhost" : host;
  return {
    port,
    host,
    publicBaseUrl: (e.PUBLIC_BASE_URL ?? `${tls ? "https" : "http"}://${publicHost}:${port}`).replace(/\/+$/, ""),
    ...(tls ? { tls } : {}),
    scim: { bearerTokens: tokens, basicUsers, oauth, maxResults: e.SCIM_MAX_RESULTS ?? 200, maxBodyBytes: e.SCIM_MAX_BODY_BYTES ?? 1024 * 1024,
      bulk: { maxOperations: e.BULK_MAX_OPERATIONS ?? 1000, maxPayloadBytes: e.BULK_MAX_PAYLOAD_BYTES ?? 1024 * 1024 } },
    admin,
    authFailureLimit,
    ...(trustProxy !== undefined ? { trustProxy } : {}),
    digicert,
    outbox: {
      syncWaitMs: e.SYNC_WAIT_MS ?? 5000,
      syncWaitQueueMs: e.SYNC_WAIT_QUEUE_MS ?? 1000,
      maxPending: e.OUTBOX_MAX_PENDING ?? 1000,
      concurrency: e.OUTBOX_CONCURRENCY ?? 8,
      maxAttempts: e.OUTBOX_MAX_ATTEMPTS ?? 10,
      retryBaseMs,
      retryMaxMs,
      leaseMs: e.OUTBOX_LEASE_MS ?? 60_000,
    },
    databaseUrl,
    roleMappingFile: e.ROLE_MAPPING_FILE,
    reconcile: reconcileIntervalMs === undefined ? {} : { intervalMs: reconcileIntervalMs },
    metricsTokens: metricsTokens.length ? metricsTokens : undefined,
    dryRun: e.DRY_RUN,
    tenants: tenants.tenants,
    audit: { retentionDays: e.AUDIT_RETENTION_DAYS ?? 90 },
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
  };
}
