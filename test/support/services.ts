// The provisioning services (UserService, GroupService, DigiCertSync, OutboxWorker) built directly, without the
// HTTP app: a fresh in-memory SQLite store and the in-repo DigiCert simulator, wired as src/wiring.ts wires them
// (no audit recorder, no metrics, no dry run). For unit tests that call the services and look at the store and
// at the DigiCert calls the simulator recorded.
import { loadConfig } from "../../src/config";
import { createDigiCertClient, type ClosableDigiCertClient, type Platform } from "../../src/digicert";
import { silentLogger } from "../../src/log/logger";
import { AccessPolicy } from "../../src/provisioning/access-policy";
import { DigiCertSync } from "../../src/provisioning/digicert-sync";
import { GroupService } from "../../src/provisioning/group-service";
import { OutboxWorker } from "../../src/provisioning/outbox-worker";
import { RoleResolver } from "../../src/provisioning/role-resolver";
import { UserService } from "../../src/provisioning/user-service";
import { draftFromScim, draftFromRow } from "../../src/scim/user-mapping";
import { openStore } from "../../src/store";
import type { Store } from "../../src/provisioning/ports";
import type { UserDraft } from "../../src/provisioning/model";
import { API_KEY, CC_CONTAINER_ID, ONE_ACCOUNT_ID, oktaUser } from "./harness";
import { startSimulator } from "../../src/simulator";
import type { Simulator } from "../../src/simulator/types";

export interface Services {
  platform: Platform;
  sim: Simulator;
  store: Store;
  digicert: ClosableDigiCertClient;
  access: AccessPolicy;
  sync: DigiCertSync;
  worker: OutboxWorker;
  users: UserService;
  groups: GroupService;
  /** Resolves once the outbox has no pending or running job. */
  drain(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface ServicesOptions {
  platform: Platform;
  /** Extra environment for loadConfig (ROLE_MAPPING_FILE, SYNC_WAIT_MS, CERTCENTRAL_DEACTIVATE, …). */
  env?: Record<string, string>;
  /** false: build the worker without starting it (jobs stay pending until the test runs them). */
  startWorker?: boolean;
}

export async function startServices(opts: ServicesOptions): Promise<Services> {
  const { platform } = opts;
  const sim = await startSimulator({ port: 0, apiKey: API_KEY, certcentral: { containerId: CC_CONTAINER_ID }, one: { accountId: ONE_ACCOUNT_ID } });
  const config = loadConfig({
    SCIM_BEARER_TOKENS: "services-test-token-0123456789",
    DIGICERT_PLATFORM: platform,
    DIGICERT_API_KEY: API_KEY,
    DIGICERT_BASE_URL: platform === "one" ? sim.oneBaseUrl : sim.certcentralBaseUrl,
    DIGICERT_CERTCENTRAL_CONTAINER_ID: String(CC_CONTAINER_ID),
    DIGICERT_ONE_ACCOUNT_ID: ONE_ACCOUNT_ID,
    DIGICERT_TIMEOUT_MS: "1500",
    DIGICERT_RATE_LIMIT: "1000/1s",
    DATABASE_URL: "sqlite::memory:",
    SYNC_WAIT_MS: "5000",
    ...opts.env,
  });
  const logger = silentLogger();
  const store = await openStore(config.databaseUrl);
  const digicert = createDigiCertClient(config.digicert, logger);
  const roles = new RoleResolver(digicert);
  const access = new AccessPolicy({
    platform,
    roles,
    fallbackDefaultRole: config.digicert.defaultRole,
    mappingFile: config.roleMappingFile,
    ...(digicert.listDivisions ? { listDivisions: () => digicert.listDivisions!() } : {}),
    logger,
  });
  if (config.roleMappingFile) await access.load();
  const sync = new DigiCertSync({
    users: store.users,
    groups: store.groups,
    outbox: store.outbox,
    digicert,
    roles,
    access,
    certcentralDeactivation: config.digicert.certcentralDeactivation,
    draftOf: draftFromRow,
    logger,
  });
  const worker = new OutboxWorker({
    outbox: store.outbox,
    run: (job, signal) => sync.run(job, signal),
    logger,
    concurrency: 2,
    maxAttempts: 3,
    baseBackoffMs: 50,
    maxBackoffMs: 200,
    leaseMs: config.outbox.leaseMs,
    pollMs: 50,
    nominalRatePerSecond: 100,
    queueWaitMs: config.outbox.syncWaitQueueMs,
  });
  const users = new UserService({ store, digicert, access, dispatcher: worker, syncWaitMs: config.outbox.syncWaitMs, draftOf: draftFromRow, logger });
  const groups = new GroupService({ store, userService: users, access, logger });
  if (opts.startWorker !== false) worker.start();
  return {
    platform,
    sim,
    store,
    digicert,
    access,
    sync,
    worker,
    users,
    groups,
    async drain(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const s = await store.outbox.stats();
        if (s.pending + s.running === 0) return;
        if (Date.now() > deadline) throw new Error(`outbox not drained after ${timeoutMs} ms: ${JSON.stringify(s)}`);
        worker.kick();
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async close() {
      await worker.stop(1000);
      access.stopRefresh();
      await digicert.close();
      await store.close();
      await sim.close();
    },
  };
}

/** A provisioning draft of a user as Okta sends it (the SCIM layer's own mapping). */
export function userDraft(userName?: string, extra: Record<string, unknown> = {}): UserDraft {
  return draftFromScim(oktaUser(userName, extra));
}
