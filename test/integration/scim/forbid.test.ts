import request from "supertest";
import { writeMapping } from "../../support/mapping";
import { oktaUser, startHarness, PATCH_OP, TOKEN, type Harness } from "../../support/harness";
import { buildBridge } from "../../../src/wiring";
import { loadConfig } from "../../../src/config";
import { silentLogger } from "../../../src/log/logger";

// `forbid` in the role mapping: roles the bridge never grants through SCIM, whoever asks (a rule of the same
// file, a direct assignment by the IdP, an Okta entitlement). The defence against a SCIM token holder giving
// themselves a DigiCert administrator role.

const ROLES = {
  certcentral: { admin: "1", adminName: "Administrator", second: "3", secondName: "Finance Manager", defaultName: "Standard User" },
  one: { admin: "AM_ACCOUNT_ADMIN", adminName: "Account Admin", second: "AM_USER_MANAGER", secondName: "User Manager", defaultName: "Default User" },
} as const;

describe.each(["certcentral", "one"] as const)("forbid on %s", (platform) => {
  const r = ROLES[platform];
  let h: Harness;
  beforeAll(async () => {
    const file = writeMapping(`default: ["${r.defaultName}"]
forbid: ["${r.adminName}"]
rules:
  - group: "Second Line"
    roles: ["${r.secondName}"]
`);
    h = await startHarness({ platform, env: { ROLE_MAPPING_FILE: file } });
  });
  afterAll(async () => h.close());

  test("a direct assignment of a forbidden role is 400 naming it; nothing is stored or sent", async () => {
    const body = oktaUser(undefined, { roles: [{ value: r.admin }] });
    h.sim.clearCalls();
    const res = await h.post("/scim/v2/Users", body);
    expect(res.status).toBe(400);
    expect(res.body.detail).toContain(`${r.adminName} (${r.admin}) may not be granted through SCIM`);
    expect(await h.bridge.store.users.getByUserName(body.userName as string)).toBeNull();
    expect(h.sim.calls.filter((c) => c.method !== "GET")).toHaveLength(0);

    const ok = await h.post("/scim/v2/Users", oktaUser());
    const patched = await h.patch(`/scim/v2/Users/${ok.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: "add", path: "roles", value: [{ value: r.admin }] }] });
    expect(patched.status).toBe(400);
    await h.drain();
    const row = await h.bridge.store.users.getById(ok.body.id);
    expect(row!.digicertRoleIds).not.toContain(r.admin);
  });

  test("the Role catalogue does not offer a forbidden role", async () => {
    const res = await request(h.app).get("/scim/v2/Roles").set("Authorization", `Bearer ${TOKEN}`);
    expect(res.status).toBe(200);
    const ids = res.body.Resources.map((x: any) => x.id);
    expect(ids).not.toContain(r.admin);
    expect(ids).toContain(r.second);
  });
});

describe("forbid guards the mapping file itself", () => {
  test("a rule or default that grants a forbidden role stops the start, naming the rule", async () => {
    const platform = "certcentral";
    const r = ROLES[platform];
    const file = writeMapping(`default: ["${r.defaultName}"]
forbid: ["${r.adminName}"]
rules:
  - group: "DigiCert Admins"
    roles: ["${r.adminName}"]
`);
    const h = await startHarness({ platform });
    try {
      const config = loadConfig({
        SCIM_BEARER_TOKENS: TOKEN,
        DIGICERT_API_KEY: h.sim.apiKey,
        DIGICERT_BASE_URL: h.sim.certcentralBaseUrl,
        DATABASE_URL: "sqlite::memory:",
        ROLE_MAPPING_FILE: file,
      });
      await expect(buildBridge(config, silentLogger())).rejects.toThrow(/rule 1 .*grants Administrator \(1\), which forbid says the bridge must never grant/);
    } finally {
      await h.close();
    }
  });
});
