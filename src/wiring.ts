import type { Express } from "express";
import type { AppConfig } from "./config";
import { createDigiCertClient } from "./digicert";
import { isDigiCertError } from "./digicert/errors";
import type { DigiCertClient } from "./digicert/types";
import { createApp } from "./http/app";
import type { Logger } from "./log/logger";
import { RoleResolver } from "./provisioning/role-resolver";
import { UserService } from "./provisioning/user-service";
import { draftFromRow } from "./scim/user-mapping";
import { openStore } from "./store";
import type { Store } from "./store/types";

export interface Bridge {
  app: Express;
  store: Store;
  digicert: DigiCertClient & { close(): Promise<void> };
  users: UserService;
  close(): Promise<void>;
}

/** Builds the whole bridge from a checked config: store (migrated), DigiCert client, services, HTTP app. */
export async function buildBridge(config: AppConfig, logger: Logger, opts: { pgSchema?: string } = {}): Promise<Bridge> {
  const store = await openStore(config.databaseUrl, { logger, pgSchema: opts.pgSchema });
  const digicert = createDigiCertClient(config.digicert, logger);
  const roles = new RoleResolver(digicert);
  const users = new UserService({
    users: store.users,
    digicert,
    roles,
    defaultRole: config.digicert.defaultRole,
    certcentralDeactivation: config.digicert.certcentralDeactivation,
    draftOf: draftFromRow,
    logger,
  });
  const app = createApp({
    config,
    platform: config.digicert.platform,
    users,
    logger,
    readinessChecks: [
      { name: "store", check: () => store.ping(), describe: () => "the store does not answer" },
      {
        name: "digicert",
        check: () => digicert.ping(),
        describe: (err) =>
          isDigiCertError(err) && (err.kind === "auth" || err.kind === "forbidden")
            ? "DigiCert refused the API key or its permissions"
            : isDigiCertError(err) && err.kind === "rate_limited"
              ? "DigiCert is rate limiting"
              : "DigiCert is unreachable or failing",
      },
    ],
  });
  return {
    app,
    store,
    digicert,
    users,
    async close() {
      await digicert.close();
      await store.close();
    },
  };
}
