// A bridge started from TENANTS_FILE, as an operator would: the environment's tenant and two of the file's, each
// provisioning into its own DigiCert (simulator). Each tenant's SCIM surface, its Bulk and its locations stay its own.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import request from "supertest";
import { loadConfig } from "../../../src/config";
import { createLogger } from "../../../src/log/logger";
import { startSimulator } from "../../../src/simulator";
import type { Simulator } from "../../../src/simulator/types";
import { buildBridge, type Bridge } from "../../../src/wiring";
import { API_KEY, CC_CONTAINER_ID, ONE_ACCOUNT_ID, PUBLIC_BASE_URL, TOKEN, USER_SCHEMA, oktaUser } from "../../support/harness";

const ACME_TOKEN = "acme-token-0123456789abcdef";
const GLOBEX_TOKEN = "globex-token-0123456789abcdef";
const BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

describe("tenants from TENANTS_FILE", () => {
  let sims: Record<"env" | "acme" | "globex", Simulator>;
  let bridge: Bridge;
  let dir: string;
  const as = (token: string) => ({
    get: (p: string) => request(bridge.app).get(p).set("Authorization", `Bearer ${token}`),
    post: (p: string, body: unknown) =>
      request(bridge.app).post(p).set("Authorization", `Bearer ${token}`).set("Content-Type", "application/scim+json").send(JSON.stringify(body)),
  });

  beforeAll(async () => {
    const sim = () => startSimulator({ port: 0, apiKey: API_KEY, certcentral: { containerId: CC_CONTAINER_ID }, one: { accountId: ONE_ACCOUNT_ID } });
    sims = { env: await sim(), acme: await sim(), globex: await sim() };
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "tenants-"));
    const file = path.join(dir, "tenants.yaml");
    fs.writeFileSync(
      file,
      [
        "tenants:",
        "  acme:",
        `    bearerTokens: "acme=${ACME_TOKEN}"`,
        "    targets:",
        "      cc:",
        "        platform: certcentral",
        `        apiKey: "${API_KEY}"`,
        `        baseUrl: ${sims.acme.certcentralBaseUrl}`,
        `        containerId: "${CC_CONTAINER_ID}"`,
        "  globex:",
        `    bearerTokens: "globex=${GLOBEX_TOKEN}"`,
        "    idp: entra",
        "    targets:",
        "      one:",
        "        platform: one",
        `        apiKey: "${API_KEY}"`,
        `        baseUrl: ${sims.globex.oneBaseUrl}`,
        `        accountId: "${ONE_ACCOUNT_ID}"`,
        "",
      ].join("\n"),
    );
    const config = loadConfig({
      PUBLIC_BASE_URL,
      SCIM_BEARER_TOKENS: TOKEN,
      DIGICERT_PLATFORM: "certcentral",
      DIGICERT_API_KEY: API_KEY,
      DIGICERT_BASE_URL: sims.env.certcentralBaseUrl,
      DIGICERT_CERTCENTRAL_CONTAINER_ID: String(CC_CONTAINER_ID),
      DIGICERT_RATE_LIMIT: "1000/1s",
      DATABASE_URL: "sqlite::memory:",
      TENANTS_FILE: file,
      LOG_LEVEL: "debug",
    });
    bridge = await buildBridge(config, createLogger("debug", new PassThrough()));
  });

  afterAll(async () => {
    await bridge?.close();
    await Promise.all(Object.values(sims ?? {}).map((s) => s.close()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("each tenant's user goes to its own DigiCert, with the same userName in each", async () => {
    const userName = "same.person@example.com";
    for (const [token, prefix] of [[TOKEN, "/scim/v2"], [ACME_TOKEN, "/t/acme/scim/v2"], [GLOBEX_TOKEN, "/t/globex/scim/v2"]] as const) {
      const res = await as(token).post(`${prefix}/Users`, oktaUser(userName));
      expect(res.status).toBe(201);
      expect(res.body.meta.location).toBe(`${PUBLIC_BASE_URL}${prefix}/Users/${res.body.id}`);
      expect(res.headers.location).toBe(res.body.meta.location);
    }
    expect(sims.env.callsTo("certcentral", "POST", /\/user$/)).toHaveLength(1);
    expect(sims.acme.callsTo("certcentral", "POST", /\/user$/)).toHaveLength(1);
    expect(sims.globex.callsTo("one", "POST", /\/user$/)).toHaveLength(1);
    expect(sims.globex.callsTo("certcentral")).toHaveLength(0);
    const listed = await as(ACME_TOKEN).get(`/t/acme/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`);
    expect(listed.body.totalResults).toBe(1);
  });

  test("a credential opens its own tenant only", async () => {
    expect((await as(ACME_TOKEN).get("/t/globex/scim/v2/Users")).status).toBe(401);
    expect((await as(ACME_TOKEN).get("/scim/v2/Users")).status).toBe(401);
    expect((await as(TOKEN).get("/t/acme/scim/v2/Users")).status).toBe(401);
    expect((await as(TOKEN).get("/t/default/scim/v2/Users")).status).toBe(200);
    const unknown = await as(ACME_TOKEN).get("/t/nobody/scim/v2/Users");
    expect(unknown.status).toBe(404);
    expect(unknown.body.schemas).toEqual(["urn:ietf:params:scim:api:messages:2.0:Error"]);
  });

  test("a Bulk request runs its operations in its own tenant", async () => {
    sims.acme.clearCalls();
    sims.env.clearCalls();
    const res = await as(ACME_TOKEN).post("/t/acme/scim/v2/Bulk", {
      schemas: [BULK],
      Operations: [{ method: "POST", path: "/Users", bulkId: "u1", data: { schemas: [USER_SCHEMA], userName: "bulk.acme@example.com", active: true, emails: [{ value: "bulk.acme@example.com", primary: true }], name: { givenName: "B", familyName: "A" } } }],
    });
    expect(res.status).toBe(200);
    expect(res.body.Operations[0].status).toBe("201");
    expect(res.body.Operations[0].location).toMatch(new RegExp(`^${PUBLIC_BASE_URL}/t/acme/scim/v2/Users/`));
    const inAcme = await as(ACME_TOKEN).get(`/t/acme/scim/v2/Users?filter=${encodeURIComponent('userName eq "bulk.acme@example.com"')}`);
    expect(inAcme.body.totalResults).toBe(1);
    const inDefault = await as(TOKEN).get(`/scim/v2/Users?filter=${encodeURIComponent('userName eq "bulk.acme@example.com"')}`);
    expect(inDefault.body.totalResults).toBe(0);
  });

  test("ServiceProviderConfig and the IdP hint are the tenant's", async () => {
    const spc = await as(GLOBEX_TOKEN).get("/t/globex/scim/v2/ServiceProviderConfig");
    expect(spc.status).toBe(200);
    expect(spc.body.authenticationSchemes.map((s: { type: string }) => s.type)).toEqual(["oauthbearertoken"]);
    expect(bridge.tenants.get("globex")?.tenant.idp).toBe("entra");
    expect([...bridge.tenants.keys()].sort()).toEqual(["acme", "default", "globex"]);
  });
});
