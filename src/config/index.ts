import { createHash } from "node:crypto";
import { DEFAULT_BASE_URLS, DEFAULT_ROLES, envSchema } from "./env";
import type { DigiCertClientConfig } from "../digicert";
import { parseRateLimit, type RateWindow } from "../digicert/pacing";

export interface BearerCredential {
  /** Shown in logs instead of the secret. */
  name: string;
  /** SHA-256 of the token; plain tokens from the env are hashed at start so only digests stay in memory. */
  sha256: Buffer;
}

export type CertCentralDeactivation = { mode: "delete" } | { mode: "demote"; role: string };

export interface AppConfig {
  port: number;
  host: string;
  publicBaseUrl: string;
  scim: { bearerTokens: BearerCredential[]; maxResults: number };
  /** The client's own settings (REDIS_URL included, for the shared rate budget) plus provisioning policy. */
  digicert: DigiCertClientConfig & {
    rateLimit: RateWindow[];
    defaultRole: string;
    certcentralDeactivation: CertCentralDeactivation;
  };
  databaseUrl: string;
  /** YAML group → role mapping; validated against DigiCert's roles when the bridge starts. */
  roleMappingFile?: string;
  logLevel: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

function parseTokens(list: string): BearerCredential[] | string {
  const out: BearerCredential[] = [];
  for (const [i, raw] of list.split(",").map((t) => t.trim()).entries()) {
    if (!raw) continue;
    const name = `token-${i + 1}`;
    const hashed = /^sha256:(.*)$/i.exec(raw);
    if (hashed) {
      if (!/^[0-9a-f]{64}$/i.test(hashed[1])) return `token ${i + 1} is sha256: but not 64 hex digits`;
      out.push({ name, sha256: Buffer.from(hashed[1], "hex") });
    } else {
      out.push({ name, sha256: createHash("sha256").update(raw, "utf8").digest() });
    }
  }
  return out;
}

/** Reads and checks the whole configuration; throws ConfigError listing every problem at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = envSchema.safeParse(env);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(problems);
  }
  const e = parsed.data;
  const platform = e.DIGICERT_PLATFORM;

  const tokens = parseTokens(e.SCIM_BEARER_TOKENS!);
  if (typeof tokens === "string") problems.push(`SCIM_BEARER_TOKENS: ${tokens}`);

  let rateLimit: RateWindow[] = parseRateLimit("1000/180s,100/5s");
  if (e.DIGICERT_RATE_LIMIT) {
    try {
      rateLimit = parseRateLimit(e.DIGICERT_RATE_LIMIT);
    } catch (err) {
      problems.push(`DIGICERT_RATE_LIMIT: ${(err as Error).message} (example: 1000/180s,100/5s)`);
    }
  }

  if (platform === "one" && !e.DIGICERT_ONE_ACCOUNT_ID) {
    problems.push("DIGICERT_ONE_ACCOUNT_ID: required when DIGICERT_PLATFORM=one (the account new users join)");
  }

  const databaseUrl = e.DATABASE_URL ?? "sqlite:./data/scim.db";
  if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(databaseUrl)) {
    problems.push("DATABASE_URL: must be sqlite:<file path>, sqlite::memory: or postgres://…");
  }

  // Dry-run is a later capability; refusing it loudly beats silently ignoring it.
  if (e.DRY_RUN) problems.push("DRY_RUN: dry-run is not available in this version; unset it or set false");

  const deact = e.CERTCENTRAL_DEACTIVATE ?? "delete";
  const certcentralDeactivation: CertCentralDeactivation = deact.startsWith("demote:")
    ? { mode: "demote", role: deact.slice("demote:".length).trim() }
    : { mode: "delete" };

  if (problems.length) throw new ConfigError(problems);

  const port = e.PORT ?? 8080;
  const host = e.HOST ?? "0.0.0.0";
  const publicHost = host === "0.0.0.0" || host === "::" ? "localhost" : host;
  return {
    port,
    host,
    publicBaseUrl: (e.PUBLIC_BASE_URL ?? `http://${publicHost}:${port}`).replace(/\/+$/, ""),
    scim: { bearerTokens: tokens as BearerCredential[], maxResults: e.SCIM_MAX_RESULTS ?? 200 },
    digicert: {
      platform,
      apiKey: e.DIGICERT_API_KEY!,
      baseUrl: (e.DIGICERT_BASE_URL ?? DEFAULT_BASE_URLS[platform]).replace(/\/+$/, ""),
      timeoutMs: e.DIGICERT_TIMEOUT_MS ?? 10000,
      certcentralContainerId: e.DIGICERT_CERTCENTRAL_CONTAINER_ID,
      oneAccountId: e.DIGICERT_ONE_ACCOUNT_ID,
      defaultRole: e.DIGICERT_DEFAULT_ROLE ?? DEFAULT_ROLES[platform],
      rateLimit,
      maxConcurrent: e.DIGICERT_MAX_CONCURRENT ?? 4,
      certcentralDeactivation,
      redisUrl: e.REDIS_URL,
    },
    databaseUrl,
    roleMappingFile: e.ROLE_MAPPING_FILE,
    logLevel: e.LOG_LEVEL,
  };
}
