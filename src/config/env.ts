import { z } from "zod";
import { findPlatform, platformNames } from "../digicert/registry";

// Every environment variable the bridge reads, with its default and check. Errors name the variable so an
// admin can fix the deployment without reading code. Keep README and .env.example in step with this file.

// `docker run --env-file` and compose's ${VAR:-} pass empty strings for unset variables.
const emptyAsUnset = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : typeof v === "string" ? v.trim() : v);

const optionalString = z
  .string()
  .transform((s) => s.trim())
  .optional()
  .transform((s) => (s ? s : undefined));

const bool = (name: string) =>
  optionalString.transform((s, ctx) => {
    if (s === undefined) return false;
    if (/^(1|true|yes|on)$/i.test(s)) return true;
    if (/^(0|false|no|off)$/i.test(s)) return false;
    ctx.addIssue({ code: "custom", message: `${name} must be true or false` });
    return z.NEVER;
  });

const int = (min: number, max: number) =>
  optionalString.transform((s, ctx) => {
    if (s === undefined) return undefined;
    if (!/^\d+$/.test(s) || Number(s) < min || Number(s) > max) {
      ctx.addIssue({ code: "custom", message: `must be a whole number between ${min} and ${max}` });
      return z.NEVER;
    }
    return Number(s);
  });

const url = optionalString.refine((s) => s === undefined || /^https?:\/\/[^\s]+$/i.test(s), {
  message: "must be an http(s) URL",
});

export const envSchema = z.object({
  PORT: int(0, 65535),
  HOST: optionalString,
  TLS_CERT_FILE: optionalString,
  TLS_KEY_FILE: optionalString,
  PUBLIC_BASE_URL: url,
  // At least one of SCIM_BEARER_TOKENS, SCIM_BASIC_USERS and OAUTH_CLIENTS is required: checked in loadConfig,
  // which also parses the entries (their messages must never echo a secret).
  SCIM_BEARER_TOKENS: optionalString,
  SCIM_BASIC_USERS: optionalString,
  OAUTH_CLIENTS: optionalString,
  OAUTH_SIGNING_KEY: optionalString,
  OAUTH_TOKEN_TTL_SECONDS: int(60, 86400),
  SCIM_MAX_RESULTS: int(1, 1000),
  SCIM_MAX_BODY_BYTES: int(1024, 50 * 1024 * 1024),
  BULK_MAX_OPERATIONS: int(0, 10000),
  BULK_MAX_PAYLOAD_BYTES: int(1024, 50 * 1024 * 1024),
  // The status page (/admin) has credentials of its own, never the SCIM ones; neither set = no /admin (404).
  // Parsed in loadConfig like SCIM_BEARER_TOKENS and SCIM_BASIC_USERS.
  ADMIN_TOKENS: optionalString,
  ADMIN_BASIC_USERS: optionalString,
  // Failed authentications per client address before 429 (count/window, default 20/60s; 0 or off = no limit),
  // and which X-Forwarded-For hops to trust for that address; both parsed in loadConfig (src/config/auth-settings.ts).
  AUTH_FAILURE_LIMIT: optionalString,
  TRUST_PROXY: optionalString,
  DIGICERT_PLATFORM: z.preprocess(
    emptyAsUnset,
    // The registry's names (src/digicert/registry.ts), asked when the environment is read.
    z
      .string()
      .refine((name) => findPlatform(name) !== undefined, { error: () => `must be ${platformNames().join(" or ")}` })
      .optional()
      .default("certcentral"),
  ),
  DIGICERT_API_KEY: optionalString.refine((s) => s !== undefined, { message: "required: the DigiCert API key" }),
  DIGICERT_BASE_URL: url,
  DIGICERT_CERTCENTRAL_CONTAINER_ID: optionalString.refine((s) => s === undefined || /^\d+$/.test(s), {
    message: "must be a numeric CertCentral container id",
  }),
  DIGICERT_ONE_ACCOUNT_ID: optionalString,
  DIGICERT_DEFAULT_ROLE: optionalString,
  DIGICERT_RATE_LIMIT: optionalString,
  DIGICERT_MAX_CONCURRENT: int(1, 64),
  DIGICERT_TIMEOUT_MS: int(100, 600000),
  DIGICERT_MAX_RETRIES: int(0, 10),
  DIGICERT_RETRY_BUDGET_MS: int(0, 120000),
  DIGICERT_CIRCUIT_THRESHOLD: int(0, 1000),
  DIGICERT_CIRCUIT_COOLDOWN_MS: int(1000, 3600000),
  CERTCENTRAL_DEACTIVATE: optionalString.refine((s) => s === undefined || /^(delete|demote:.+)$/.test(s), {
    message: "must be delete or demote:<role name or id>",
  }),
  // How SCIM active:false removes access on DigiCert ONE: delete the user (DigiCert's own automation guide does),
  // or try the undocumented disable route first (any refusal of it falls back to delete).
  ONE_DEACTIVATE: z.preprocess(
    emptyAsUnset,
    z.enum(["delete", "disable"], { message: "must be delete or disable" }).optional().default("delete"),
  ),
  // DigiCert ONE application (manager) codes whose roles the bridge lists and may grant; unset = every role.
  DIGICERT_ONE_APPLICATIONS: optionalString.refine((s) => s === undefined || /^[A-Za-z0-9_-]+(\s*,\s*[A-Za-z0-9_-]+)*$/.test(s), {
    message: "must be a comma-separated list of application codes, e.g. account_manager,trust_lifecycle",
  }),
  // CertCentral: create users with is_saml_sso_only (they sign in through the IdP only).
  CERTCENTRAL_SAML_SSO_ONLY: bool("CERTCENTRAL_SAML_SSO_ONLY"),
  SYNC_WAIT_MS: int(0, 60000),
  SYNC_WAIT_QUEUE_MS: int(0, 60000),
  OUTBOX_MAX_PENDING: int(0, 10000000),
  OUTBOX_CONCURRENCY: int(1, 64),
  OUTBOX_MAX_ATTEMPTS: int(1, 1000),
  OUTBOX_RETRY_BASE_MS: int(10, 600000),
  OUTBOX_RETRY_MAX_MS: int(10, 86400000),
  OUTBOX_LEASE_MS: int(1000, 3600000),
  DATABASE_URL: optionalString,
  REDIS_URL: optionalString.refine((s) => s === undefined || /^rediss?:\/\//.test(s), {
    message: "must be a redis:// or rediss:// URL",
  }),
  BRIDGE_REPLICAS: int(1, 100),
  ROLE_MAPPING_FILE: optionalString,
  // Several tenants and DigiCert targets from one bridge: a YAML file, read and checked in loadConfig
  // (src/config/tenants.ts, docs/tenants.md). Unset = the environment's one tenant.
  TENANTS_FILE: optionalString,
  // Scheduled report-only reconciliation: a duration such as 6h or 30m; parsed in loadConfig. Unset = off.
  RECONCILE_INTERVAL: optionalString,
  // Bearer token(s) for GET /metrics, parsed in loadConfig like SCIM_BEARER_TOKENS; unset = /metrics is open.
  METRICS_TOKEN: optionalString,
  DRY_RUN: bool("DRY_RUN"),
  // Days the audit trail keeps an entry (0 = forever).
  AUDIT_RETENTION_DAYS: int(0, 36500),
  LOG_LEVEL: z.preprocess(
    emptyAsUnset,
    z
      .enum(["error", "warn", "info", "http", "verbose", "debug", "silly"], {
        message: "must be one of error, warn, info, http, verbose, debug, silly",
      })
      .optional()
      .default("info"),
  ),
  // json (one JSON object a line, for collectors) or pretty (time level message key=value…, for a terminal).
  LOG_FORMAT: z.preprocess(
    emptyAsUnset,
    z.enum(["json", "pretty"], { message: "must be json or pretty" }).optional().default("json"),
  ),
});

export type RawEnv = z.infer<typeof envSchema>;
