// `npm run demo`: the bridge on SQLite with the bundled DigiCert simulator, for trying it out in one command.
// Not for production: the simulator keeps users in memory and the token changes on every run.
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import { loadConfig } from "../config";
import { createLogger, registerSecret } from "../log/logger";
import { startBridge } from "../main";
import type { Platform } from "../digicert/types";
import { startSimulator, type Simulator } from "../simulator";

const DEMO_ONE_ACCOUNT_ID = "0d3e5c1a-5b8e-4f65-9c43-6f1f1d0c0a01";

/** Where the simulator answers as each platform it simulates, and what else the bridge needs to reach it there. */
const SIMULATED: Record<Platform, (sim: Simulator) => { baseUrl: string; env: Record<string, string> }> = {
  certcentral: (sim) => ({ baseUrl: sim.certcentralBaseUrl, env: {} }),
  one: (sim) => ({ baseUrl: sim.oneBaseUrl, env: { DIGICERT_ONE_ACCOUNT_ID: DEMO_ONE_ACCOUNT_ID } }),
};

/** PORT=0 asks for any free port; resolve it first so meta.location carries the real one. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function demo(): Promise<void> {
  const asked = process.env.DIGICERT_PLATFORM ?? "";
  const platform: Platform = Object.hasOwn(SIMULATED, asked) ? (asked as Platform) : "certcentral";
  const token = process.env.DEMO_TOKEN || randomBytes(24).toString("base64url");
  const apiKey = randomBytes(16).toString("hex");
  registerSecret(apiKey);
  const sim = await startSimulator({ port: 0, apiKey, one: { accountId: DEMO_ONE_ACCOUNT_ID } });
  const simulated = SIMULATED[platform](sim);
  const port = !process.env.PORT ? "8080" : process.env.PORT === "0" ? String(await freePort()) : process.env.PORT;
  // The simulator forgets its users on exit, so the demo store must start empty too.
  const databaseUrl = process.env.DEMO_DATABASE_URL ?? `sqlite:${join(mkdtempSync(join(tmpdir(), "scim-demo-")), "scim.db")}`;
  const config = loadConfig({
    PORT: port,
    HOST: "127.0.0.1",
    PUBLIC_BASE_URL: process.env.PUBLIC_BASE_URL,
    SCIM_BEARER_TOKENS: token,
    DIGICERT_PLATFORM: platform,
    DIGICERT_API_KEY: apiKey,
    DIGICERT_BASE_URL: simulated.baseUrl,
    ...simulated.env,
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
  });
  const running = await startBridge(config, createLogger(config.logLevel, undefined, { format: config.logFormat }));
  const addr = running.server.address();
  const actualPort = typeof addr === "object" && addr ? addr.port : config.port;
  const base = (process.env.PUBLIC_BASE_URL ?? `http://127.0.0.1:${actualPort}`).replace(/\/+$/, "");
  const scimUrl = `${base}/scim/v2`;
  process.stdout.write(
    [
      "",
      `DigiCert SCIM Bridge demo (${platform}, simulated DigiCert at ${simulated.baseUrl})`,
      "",
      `  SCIM base URL:  ${scimUrl}`,
      `  Header:         Authorization: Bearer ${token}`,
      `  Store:          ${databaseUrl}`,
      "",
      "Try it:",
      `  curl -s -H 'Authorization: Bearer ${token}' '${scimUrl}/Users?filter=userName%20eq%20%22ada%40example.com%22'`,
      `  curl -s -X POST -H 'Authorization: Bearer ${token}' -H 'Content-Type: application/scim+json' \\`,
      `    -d '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@example.com","name":{"givenName":"Ada","familyName":"Lovelace"},"emails":[{"value":"ada@example.com","primary":true}],"active":true}' \\`,
      `    '${scimUrl}/Users'`,
      "",
      "Press Ctrl+C to stop.",
      "",
    ].join("\n"),
  );
  const stop = () => {
    running
      .stop()
      .then(() => sim.close())
      .finally(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

demo().catch((err) => {
  process.stderr.write(`demo failed: ${(err as Error).message}\n`);
  process.exit(1);
});
