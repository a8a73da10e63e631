// `--tenant` against a running bridge of two tenants on one SQLite file: a token made with `tokens create --tenant
// acme` opens acme's SCIM paths and nothing else; `reconcile --tenant acme` compares acme's users with acme's own
// DigiCert target (ONE) and stores its report in acme's scope; `check --tenant acme` reaches that target. The CLI
// reads acme from a TENANTS_FILE saying what the bridge was built with.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import request from "supertest";
import { runCli } from "../../../src/cli";
import { API_KEY, ONE_ACCOUNT_ID, oktaUser } from "../../support/harness";
import { startTenantBridge, tenantBridgeEnv, type TenantBridge } from "../../support/tenant-bridge";

jest.setTimeout(60_000);

const ACME_TOKEN = "acme-scim-token-for-cli-0123456789";

describe("digicert-scim --tenant with a running bridge", () => {
  let t: TenantBridge;
  let env: NodeJS.ProcessEnv;
  const run = async (argv: string[]) => {
    let out = "";
    let err = "";
    const code = await runCli(argv, { env, stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
    expect(out + err).not.toContain(API_KEY);
    return { code, out, err };
  };

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "cli-tenant-bridge-"));
    const databaseUrl = `sqlite:${join(dir, "bridge.db")}`;
    t = await startTenantBridge({ tenants: [{ id: "acme", token: ACME_TOKEN }], databaseUrl, env: { SYNC_WAIT_MS: "0" } });
    // The CLI reads the same configuration: the environment's tenant, and acme on the simulator's ONE.
    const tenantsFile = join(dir, "tenants.yaml");
    writeFileSync(
      tenantsFile,
      `tenants:
  acme:
    bearerTokens: "acme=${ACME_TOKEN}"
    targets:
      one:
        platform: one
        apiKeyEnv: ACME_DIGICERT_API_KEY
        accountId: "${ONE_ACCOUNT_ID}"
        baseUrl: ${t.sim.oneBaseUrl}
`,
    );
    env = { ...tenantBridgeEnv(t.sim, databaseUrl), TENANTS_FILE: tenantsFile, ACME_DIGICERT_API_KEY: API_KEY } as NodeJS.ProcessEnv;
    for (let i = 0; i < 2; i++) await t.scim("default", "post", "/Users", oktaUser()).expect(201);
    await t.scim("acme", "post", "/Users", oktaUser("grace@acme.example")).expect(201);
    await t.drain("default");
    await t.drain("acme");
  });
  afterAll(async () => t?.close());

  test("tokens create --tenant acme: the token opens /t/acme/scim/v2 only", async () => {
    const made = await run(["tokens", "create", "--name", "acme-okta", "--tenant", "acme"]);
    expect(made.code).toBe(0);
    const token = made.out.trim();
    const get = (path: string) => request(t.app).get(path).set("Authorization", `Bearer ${token}`);
    const acme = await get("/t/acme/scim/v2/Users");
    expect(acme.status).toBe(200);
    expect(acme.body.Resources.map((u: { userName: string }) => u.userName)).toEqual(["grace@acme.example"]);
    expect((await get("/scim/v2/Users")).status).toBe(401);
    expect((await get("/t/default/scim/v2/Users")).status).toBe(401);
  });

  test("reconcile --tenant acme: acme's users against acme's target, report kept in acme's scope", async () => {
    const before = t.sim.callsTo("certcentral").length;
    const r = await run(["reconcile", "--json", "--tenant", "acme"]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.platform).toBe("one");
    expect(report.stats.storeUsers).toBe(1);
    // acme's user is in step; the simulator's own admin user is DigiCert's, not the bridge's.
    expect(report.entries.map((e: { kind: string }) => e.kind)).toEqual(["unmanaged"]);
    // Not a single call to the default tenant's CertCentral.
    expect(t.sim.callsTo("certcentral").length).toBe(before);
    expect((await t.tenant("acme").store.reconcile.latest())?.id).toBe(report.id);
    expect(await t.tenant("default").store.reconcile.latest()).toBeNull();
    // The default tenant's own run, without the option, compares its 2 users with CertCentral.
    const dflt = JSON.parse((await run(["reconcile", "--json"])).out);
    expect(dflt).toMatchObject({ platform: "certcentral", stats: { storeUsers: 2 } });
  });

  test("check --tenant acme reaches acme's target", async () => {
    const r = await run(["check", "--json", "--tenant", "acme"]);
    expect(r.code).toBe(0);
    const checks = JSON.parse(r.out).checks as { name: string; detail: string }[];
    expect(checks.find((c) => c.name === "configuration")?.detail).toBe("valid (tenant acme, DigiCert platform one)");
    expect(checks.find((c) => c.name === "digicert")?.detail).toBe(`${t.sim.oneBaseUrl}: the API key is accepted`);
  });
});
