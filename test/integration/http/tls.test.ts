import https from "node:https";
import path from "node:path";
import { loadConfig } from "../../../src/config";
import { configProblems } from "../../support/config";
import { startSimulator, type Simulator } from "../../../src/simulator";
import { startBridge, type RunningBridge } from "../../../src/main";
import { PassThrough } from "node:stream";
import { createLogger } from "../../../src/log/logger";

// Direct HTTPS (TLS_CERT_FILE/TLS_KEY_FILE): the bridge serves SCIM over TLS with the given certificate.

const TLS_DIR = path.join(__dirname, "../../fixtures/tls");
const CERT = path.join(TLS_DIR, "cert.pem");
const KEY = path.join(TLS_DIR, "key.pem");
const TOKEN = "tls-token-0123456789abcdef";
const API_KEY = "tls-api-key-0123456789";

describe("HTTPS with TLS_CERT_FILE and TLS_KEY_FILE", () => {
  let sim: Simulator;
  let running: RunningBridge;
  const logLines: Record<string, unknown>[] = [];
  beforeAll(async () => {
    sim = await startSimulator({ port: 0, apiKey: API_KEY, certcentral: { containerId: 1 } });
    const config = loadConfig({
      PORT: "0",
      HOST: "127.0.0.1",
      SCIM_BEARER_TOKENS: TOKEN,
      DIGICERT_API_KEY: API_KEY,
      DIGICERT_BASE_URL: sim.certcentralBaseUrl,
      DATABASE_URL: "sqlite::memory:",
      TLS_CERT_FILE: CERT,
      TLS_KEY_FILE: KEY,
    });
    expect(config.publicBaseUrl).toMatch(/^https:\/\/127\.0\.0\.1:0$/);
    const logStream = new PassThrough();
    logStream.on("data", (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) logLines.push(JSON.parse(line));
    });
    running = await startBridge(config, createLogger("info", logStream));
  });
  afterAll(async () => {
    await running?.stop();
    await sim?.close();
  });

  function get(pathname: string): Promise<{ status: number; body: string; cert: string }> {
    const port = (running.server.address() as { port: number }).port;
    return new Promise((resolve, reject) => {
      const req = https.request(
        { host: "127.0.0.1", port, path: pathname, ca: require("node:fs").readFileSync(CERT), headers: { Authorization: `Bearer ${TOKEN}` } },
        (res) => {
          const cert = String((res.socket as import("node:tls").TLSSocket).getPeerCertificate().subject.CN);
          let body = "";
          res.on("data", (d) => (body += d));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body, cert }));
        },
      );
      req.on("error", reject);
      req.end();
    });
  }

  test("the start log line names the version, the commit and Node.js", () => {
    const pkg = require("../../../package.json") as { version: string };
    const started = logLines.find((l) => l.message === "DigiCert SCIM Bridge listening");
    expect(started).toMatchObject({
      version: pkg.version,
      commit: expect.stringMatching(/^([0-9a-f]{7,64}|unknown)$/),
      node: process.versions.node,
      scimBaseUrl: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+\/scim\/v2$/),
    });
  });

  test("SCIM answers over TLS with the configured certificate, which a client trusting it verifies", async () => {
    const res = await get("/scim/v2/ServiceProviderConfig");
    expect(res.status).toBe(200);
    expect(res.cert).toBe("localhost");
    expect(JSON.parse(res.body).schemas).toContain("urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig");
  });

  test("half a TLS configuration, a missing file or a key of another certificate stop the start, naming the variable", () => {
    const base = { SCIM_BEARER_TOKENS: TOKEN, DIGICERT_API_KEY: API_KEY };
    expect(configProblems({ ...base, TLS_CERT_FILE: CERT })).toContain("TLS_KEY_FILE: required with TLS_CERT_FILE (set both to serve HTTPS, or neither)");
    expect(configProblems({ ...base, TLS_CERT_FILE: CERT, TLS_KEY_FILE: "/nonexistent/key.pem" })).toContain("TLS_KEY_FILE: cannot use /nonexistent/key.pem (no such file)");
    expect(configProblems({ ...base, TLS_CERT_FILE: KEY, TLS_KEY_FILE: KEY }).join()).toContain("TLS_CERT_FILE: cannot use");
  });
});
