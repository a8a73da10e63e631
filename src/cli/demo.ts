// `npm run demo`: the bridge on SQLite with the bundled DigiCert simulator, for trying it out in one command.
// Not for production: the simulator keeps users in memory and the token changes on every run.
//
// It honours the settings that make sense against a simulator: DIGICERT_PLATFORM, ROLE_MAPPING_FILE, PORT, HOST,
// PUBLIC_BASE_URL, LOG_LEVEL (and DEMO_TOKEN, DEMO_DATABASE_URL), and prints what `digicert-scim roles`, `check` and
// `reconcile` need to run against the same simulator and store.
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { loadConfig } from "../config";
import { createLogger, registerSecret } from "../log/logger";
import { startBridge, startupProblem, type RunningBridge } from "../main";
import type { Platform } from "../digicert/types";
import { startSimulator, type Simulator } from "../simulator";

const DEMO_ONE_ACCOUNT_ID = "0d3e5c1a-5b8e-4f65-9c43-6f1f1d0c0a01";

/** Where the simulator answers as each platform it simulates, and what else the bridge needs to reach it there. */
const SIMULATED: Record<Platform, (sim: Simulator) => { baseUrl: string; env: Record<string, string> }> = {
  certcentral: (sim) => ({ baseUrl: sim.certcentralBaseUrl, env: {} }),
  one: (sim) => ({ baseUrl: sim.oneBaseUrl, env: { DIGICERT_ONE_ACCOUNT_ID: DEMO_ONE_ACCOUNT_ID } }),
};

export interface Demo {
  running: RunningBridge;
  sim: Simulator;
  /** The settings `digicert-scim` needs to reach this demo's simulator and store (what the banner prints). */
  cliEnv: Record<string, string>;
  stop(): Promise<void>;
}

/** A value for a POSIX shell, in single quotes. */
const shellQuote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;

/** Starts the simulator and the bridge from `env`, and writes the banner to `out`. */
export async function startDemo(env: NodeJS.ProcessEnv, out: { write(s: string): unknown }): Promise<Demo> {
  const asked = env.DIGICERT_PLATFORM?.trim() ?? "";
  if (asked && !Object.hasOwn(SIMULATED, asked)) throw new Error(`DIGICERT_PLATFORM: the simulator offers ${Object.keys(SIMULATED).join(" or ")}, not ${asked}`);
  const platform: Platform = asked ? (asked as Platform) : "certcentral";
  const token = env.DEMO_TOKEN || randomBytes(24).toString("base64url");
  const apiKey = randomBytes(16).toString("hex");
  registerSecret(token);
  const sim = await startSimulator({ port: 0, apiKey, one: { accountId: DEMO_ONE_ACCOUNT_ID } });
  try {
    const simulated = SIMULATED[platform](sim);
    // The simulator forgets its users on exit, so the demo store must start empty too.
    const databaseUrl = env.DEMO_DATABASE_URL ?? `sqlite:${join(mkdtempSync(join(tmpdir(), "scim-demo-")), "scim.db")}`;
    const mappingFile = env.ROLE_MAPPING_FILE?.trim() ? resolve(env.ROLE_MAPPING_FILE.trim()) : undefined;
    const cliEnv: Record<string, string> = {
      DIGICERT_PLATFORM: platform,
      DIGICERT_BASE_URL: simulated.baseUrl,
      DIGICERT_API_KEY: apiKey,
      ...simulated.env,
      DATABASE_URL: databaseUrl,
      ...(mappingFile ? { ROLE_MAPPING_FILE: mappingFile } : {}),
    };
    const config = loadConfig({
      PORT: env.PORT?.trim() || "8080",
      HOST: env.HOST?.trim() || "127.0.0.1",
      PUBLIC_BASE_URL: env.PUBLIC_BASE_URL,
      SCIM_BEARER_TOKENS: token,
      ...cliEnv,
      LOG_LEVEL: env.LOG_LEVEL ?? "warn",
      LOG_FORMAT: env.LOG_FORMAT,
    });
    const running = await startBridge(config, createLogger(config.logLevel, undefined, { format: config.logFormat }));
    const scimUrl = `${running.url}/scim/v2`;
    const exports = Object.entries(cliEnv).map(([k, v]) => `${k}=${shellQuote(v)}`);
    out.write(
      [
        "",
        `DigiCert SCIM Bridge demo (${platform}, simulated DigiCert)`,
        "",
        `  SCIM base URL:  ${scimUrl}`,
        `  Header:         Authorization: Bearer ${token}`,
        `  Role mapping:   ${mappingFile ?? "none (ROLE_MAPPING_FILE unset: every user gets the default role)"}`,
        `  Store:          ${databaseUrl}`,
        `  Simulator:      ${simulated.baseUrl}`,
        `  Simulator key:  ${apiKey}`,
        "",
        "Try it:",
        `  curl -s -H 'Authorization: Bearer ${token}' '${scimUrl}/Users?filter=userName%20eq%20%22ada%40example.com%22'`,
        `  curl -s -X POST -H 'Authorization: Bearer ${token}' -H 'Content-Type: application/scim+json' \\`,
        `    -d '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@example.com","name":{"givenName":"Ada","familyName":"Lovelace"},"emails":[{"value":"ada@example.com","primary":true}],"active":true}' \\`,
        `    '${scimUrl}/Users'`,
        "",
        "The command line against this simulator and store (in another terminal, in this directory):",
        `  export ${exports.join(" \\\n    ")}`,
        "  npm run cli -- roles                                   # the simulator's roles and the mapping in force",
        "  npm run cli -- roles check examples/role-mapping.yaml  # check a mapping file, changing nothing",
        "  npm run cli -- check                                   # configuration, database, DigiCert",
        "  npm run cli -- reconcile                               # compare the store with the simulator",
        "",
        "Press Ctrl+C to stop.",
        "",
      ].join("\n"),
    );
    return {
      running,
      sim,
      cliEnv,
      async stop() {
        await running.stop();
        await sim.close();
      },
    };
  } catch (err) {
    await sim.close();
    throw err;
  }
}

if (require.main === module) {
  startDemo(process.env, process.stdout).then(
    (demo) => {
      const stop = () => {
        demo.stop().finally(() => process.exit(0));
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    },
    (err) => {
      process.stderr.write(`demo failed: ${startupProblem(err) ?? (err as Error).message}\n`);
      process.exit(1);
    },
  );
}
