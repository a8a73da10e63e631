import type { RequestListener, Server } from "node:http";
import { ConfigError, loadConfig, resolveFileSecrets, StartupError, tenantApiKeys, type AppConfig } from "./config";
import { RoleMappingError } from "./config/role-mapping";
import { processEnvWithFile } from "./config/env-file";
import { isDigiCertError } from "./digicert/errors";
import { secretsInEnv } from "./config/credential-syntax";
import { createLogger, redact, registerSecret, type Logger } from "./log/logger";
import { createHttpServer, DEFAULT_LIMITS } from "./http/server";
import { buildInfo } from "./version";
import { buildBridge, type Bridge } from "./wiring";

export interface RunningBridge {
  bridge: Bridge;
  server: Server;
  url: string;
  stop(): Promise<void>;
}

/** Registers every secret of the environment with the log redactor before anything can log. */
export function registerSecretsFromEnv(env: NodeJS.ProcessEnv): void {
  for (const secret of secretsInEnv(env)) registerSecret(secret);
}

export async function startBridge(config: AppConfig, logger: Logger): Promise<RunningBridge> {
  // PORT=0 without PUBLIC_BASE_URL: the URLs the bridge writes (Location, meta.location) need the port the system
  // picks, so the server listens first (answering 503 until the bridge is built) and the bridge gets the real URL.
  const portChosenBySystem = config.port === 0 && /:0$/.test(config.publicBaseUrl);
  let handler: RequestListener = (_req, res) => {
    res.writeHead(503, { "Retry-After": "1" }).end();
  };
  const listen = () =>
    new Promise<Server>((resolve, reject) => {
      const dispatch: RequestListener = (req, res) => handler(req, res);
      const s = createHttpServer(dispatch, DEFAULT_LIMITS, config.tls);
      s.once("error", (err: NodeJS.ErrnoException) => reject(listenProblem(err, config)));
      s.listen(config.port, config.host, () => resolve(s));
    });
  let server: Server;
  let bridge: Bridge;
  if (portChosenBySystem) {
    server = await listen();
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : config.port;
    config = { ...config, port, publicBaseUrl: config.publicBaseUrl.replace(/:0$/, `:${port}`) };
    try {
      bridge = await buildBridge(config, logger);
    } catch (err) {
      await new Promise<void>((r) => server.close(() => r()));
      throw err;
    }
  } else {
    // The port is bound only once the bridge is built: a failed start never takes it.
    bridge = await buildBridge(config, logger);
    try {
      server = await listen();
    } catch (err) {
      await bridge.close();
      throw err;
    }
  }
  handler = bridge.app;
  const listening = server;
  const url = config.publicBaseUrl;
  const { version, commit, node } = buildInfo();
  logger.info("DigiCert SCIM Bridge listening", {
    version,
    commit,
    node,
    scimBaseUrl: `${url}/scim/v2`,
    platform: config.digicert.platform,
    store: bridge.store.dialect,
  });
  return {
    bridge,
    server: listening,
    url,
    async stop() {
      const closed = new Promise<void>((r) => listening.close(() => r()));
      // Idle keep-alive connections would otherwise hold close() open until the client drops them.
      listening.closeIdleConnections();
      await closed;
      await bridge.close();
    },
  };
}

/** Why the server could not listen, as a start-up problem naming PORT or HOST. */
function listenProblem(err: NodeJS.ErrnoException, config: AppConfig): Error {
  const where = `${config.host}:${config.port}`;
  if (err.code === "EADDRINUSE") return new StartupError([`PORT: ${where} is in use by another process; choose another PORT`], { cause: err });
  if (err.code === "EACCES") return new StartupError([`PORT: no permission to listen on ${where} (ports below 1024 need privileges)`], { cause: err });
  if (err.code === "EADDRNOTAVAIL" || err.code === "ENOTFOUND") return new StartupError([`HOST: ${config.host} is not an address of this machine`], { cause: err });
  return new StartupError([`PORT: cannot listen on ${where}: ${err.message}`], { cause: err });
}

/**
 * A start-up failure as the lines an admin reads, in the format of configuration errors: each problem names the
 * variable (DATABASE_URL, ROLE_MAPPING_FILE, SCIM_BEARER_TOKENS, PORT...). Null for a failure that is a bug.
 */
export function startupProblem(err: unknown): string | null {
  if (err instanceof ConfigError) return err.message;
  if (err instanceof RoleMappingError) return new StartupError(err.problems.map((p) => `ROLE_MAPPING_FILE: ${p}`)).message;
  if (isDigiCertError(err)) {
    const refused = err.kind === "auth" || err.kind === "forbidden";
    return new StartupError([refused ? `DIGICERT_API_KEY: DigiCert refuses the API key or its permissions (${err.message})` : `DIGICERT_BASE_URL: DigiCert failed: ${err.message}`]).message;
  }
  return null;
}

export interface StartIo {
  stderr: { write(s: string): unknown };
  /** Where the log goes (stdout by default). */
  logStream?: NodeJS.WritableStream;
}

/**
 * Loads the configuration from `env` and starts the bridge; null after writing to stderr why it could not (the
 * caller exits 1): a configuration error, or a start-up failure in the same format.
 */
export async function startFromEnv(env: NodeJS.ProcessEnv, io: StartIo): Promise<{ running: RunningBridge; logger: Logger } | null> {
  // Secrets given as NAME_FILE are masked too (a bad file is reported by loadConfig below).
  registerSecretsFromEnv(resolveFileSecrets(env).env);
  let config: AppConfig;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr.write(`${err.message}\nSee README.md, section Configuration.\n`);
      return null;
    }
    throw err;
  }
  // The tenants' API keys from TENANTS_FILE (apiKey, apiKeyFile, apiKeyEnv) are not in the environment: mask them too.
  for (const key of tenantApiKeys(config.tenants)) registerSecret(key);
  const logger = createLogger(config.logLevel, io.logStream, { format: config.logFormat });
  try {
    return { running: await startBridge(config, logger), logger };
  } catch (err) {
    logger.error("bridge failed to start", { error: (err as Error).message });
    const problem = startupProblem(err);
    io.stderr.write(problem ? `${redact(problem)}\nSee README.md, section Configuration.\n` : `Cannot start the bridge: ${redact((err as Error).message)}\n`);
    return null;
  }
}

/**
 * Runs the server until SIGTERM/SIGINT (then exits 0 after draining) with config from `env`; exits 1 on a bad
 * configuration or a failed start. `npm start` and `digicert-scim serve` both land here.
 */
export async function serve(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const started = await startFromEnv(env, { stderr: process.stderr });
  if (!started) process.exit(1);
  const { running, logger } = started;
  // SIGHUP re-reads ROLE_MAPPING_FILE and applies it to every user; a bad file keeps the mapping in force.
  process.on("SIGHUP", () => {
    running.bridge.reloadRoleMapping().catch((err) =>
      logger.error("role mapping reload failed; keeping the mapping in force", { error: (err as Error).message }),
    );
  });
  const shutdown = (signal: string) => {
    logger.info("shutting down", { signal });
    running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
    // Requests in flight may wait SYNC_WAIT_MS for their job, then running jobs get 5 s: well inside Kubernetes'
    // default 30 s grace period. Past this something hangs; jobs left running are taken over after their lease.
    setTimeout(() => process.exit(1), 25_000).unref();
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
}

if (require.main === module) {
  // ENV_FILE (default ./.env when present) fills in what the environment leaves unset.
  const env = processEnvWithFile(process.stderr);
  if (!env) process.exit(1);
  void serve(env);
}
