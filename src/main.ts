import type { Server } from "node:http";
import { ConfigError, loadConfig, resolveFileSecrets, type AppConfig } from "./config";
import { RoleMappingError } from "./config/role-mapping";
import { secretsInEnv } from "./config/credential-syntax";
import { createLogger, registerSecret, type Logger } from "./log/logger";
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
  const bridge = await buildBridge(config, logger);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = createHttpServer(bridge.app, DEFAULT_LIMITS, config.tls);
    s.listen(config.port, config.host, () => resolve(s));
    s.once("error", reject);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const url = config.publicBaseUrl.replace(/:0$/, `:${port}`);
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
    server,
    url,
    async stop() {
      const closed = new Promise<void>((r) => server.close(() => r()));
      // Idle keep-alive connections would otherwise hold close() open until the client drops them.
      server.closeIdleConnections();
      await closed;
      await bridge.close();
    },
  };
}

/**
 * Runs the server until SIGTERM/SIGINT (then exits 0 after draining) with config from `env`; exits 1 on a bad
 * configuration or a failed start. `npm start` and `digicert-scim serve` both land here.
 */
export async function serve(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  // Secrets given as NAME_FILE are masked too (a bad file is reported by loadConfig below).
  registerSecretsFromEnv(resolveFileSecrets(env).env);
  let config: AppConfig;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\nSee README.md, section Configuration.\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel, undefined, { format: config.logFormat });
  let running: RunningBridge;
  try {
    running = await startBridge(config, logger);
  } catch (err) {
    logger.error("bridge failed to start", { error: (err as Error).message });
    if (err instanceof RoleMappingError) process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
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

if (require.main === module) void serve();
