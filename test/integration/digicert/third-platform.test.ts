// A third DigiCert target, registered by test/support/third-platform.ts and nowhere else, runs the whole bridge:
// config accepts its name and takes its defaults, a role mapping may key roles by it, and SCIM creates,
// deactivations and drift reconcile reach its client through nothing but the registry and its capabilities.
// Imported first: it registers the target before the SCIM layer loads (see there).
import { THIRD_PLATFORM as NAME, THIRD_PLATFORM_TARGET, thirdPlatformClient } from "../../support/third-platform";
import request from "supertest";
import { ConfigError, loadConfig } from "../../../src/config";
import { parseRoleMapping } from "../../../src/config/role-mapping";
import { registerPlatform } from "../../../src/digicert";
import { silentLogger } from "../../../src/log/logger";
import { hasDrift } from "../../../src/provisioning/reconcile";
import { compileRoleMapping } from "../../../src/provisioning/role-policy";
import { buildBridge, type Bridge } from "../../../src/wiring";
import { drainOutbox, oktaUser, PATCH_OP, TOKEN } from "../../support/harness";

const ENV = { SCIM_BEARER_TOKENS: TOKEN, DIGICERT_PLATFORM: NAME, DIGICERT_API_KEY: "acme-key-0123456789", DATABASE_URL: "sqlite::memory:" };

describe("a third platform registered outside the built-in ones", () => {
  test("config accepts its name, takes its defaults, and lists it when refusing an unknown platform", () => {
    const config = loadConfig(ENV);
    expect(config.digicert.platform).toBe(NAME);
    expect(config.digicert.baseUrl).toBe("https://pki.acme.invalid/api");
    expect(config.digicert.defaultRole).toBe("Member");
    let refused: unknown;
    try {
      loadConfig({ ...ENV, DIGICERT_PLATFORM: "azure" });
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as ConfigError).problems).toContain(`DIGICERT_PLATFORM: must be certcentral or one or ${NAME}`);
  });

  test("a name is registered once", () => {
    expect(() => registerPlatform(THIRD_PLATFORM_TARGET)).toThrow(/registered already/);
  });

  test("a role mapping keys roles by its name, and its rules carry no divisions", () => {
    const text = `rules:\n  - group: PKI\n    roles:\n      certcentral: [Manager]\n      ${NAME}: [Administrator]\n    divisions: [EU]\n`;
    const spec = parseRoleMapping(text, NAME, "roles.yaml");
    expect(spec.rules[0].roles).toEqual(["Administrator"]);
    expect(spec.rules[0].divisions).toEqual([]);
    expect(parseRoleMapping(text, "certcentral", "roles.yaml").rules[0].divisions).toEqual(["EU"]);
  });

  test("its users hold one role (its capabilities say so): a rule naming two is refused in its own name", () => {
    const spec = parseRoleMapping(`rules:\n  - group: PKI\n    roles: [Member, Administrator]\n`, NAME, "roles.yaml");
    const roles = [{ id: "r-member", name: "Member" }, { id: "r-admin", name: "Administrator" }];
    expect(() => compileRoleMapping(spec, roles, NAME, "Member")).toThrow(/lists 2 roles \(Member, Administrator\), but Acme PKI users hold one role/);
  });

  describe("the bridge on it", () => {
    let bridge: Bridge;
    const auth = (t: request.Test) => t.set("Authorization", `Bearer ${TOKEN}`).set("Content-Type", "application/scim+json");

    beforeAll(async () => {
      bridge = await buildBridge(loadConfig(ENV), silentLogger());
    });
    afterAll(async () => {
      await bridge?.close();
    });

    test("a SCIM create reaches its client with the default role; deactivation disables; reconcile compares the job title", async () => {
      const userName = "grace.hopper@example.com";
      const created = await auth(request(bridge.app).post("/scim/v2/Users")).send(JSON.stringify(oktaUser(userName, { title: "Rear Admiral" })));
      expect([created.status, created.body.detail]).toEqual([201, undefined]);
      await drainOutbox(bridge);
      const acme = thirdPlatformClient();

      const creates = acme.calls.filter((c) => c.op === "createUser");
      expect(creates).toHaveLength(1);
      expect(creates[0].args[0]).toMatchObject({ username: userName, jobTitle: "Rear Admiral" });
      expect(creates[0].args[1]).toEqual(["r-member"]);
      const row = (await bridge.store.users.getById(created.body.id))!;
      const dc = acme.users.get(row.digicertId!)!;
      expect(dc).toMatchObject({ username: userName, roleIds: ["r-member"], status: "active" });

      expect(hasDrift(await bridge.reconcile())).toBe(false);
      // Changed by hand in the target: a stored job title is drift there (the target's capabilities say so).
      acme.users.set(dc.id, { ...acme.users.get(dc.id)!, jobTitle: "Commodore" });
      const report = await bridge.reconcile();
      expect(report.platform).toBe(NAME);
      expect(report.entries.find((e) => e.kind === "profile_changed")?.fields).toEqual([{ field: "jobTitle", expected: "Rear Admiral", actual: "Commodore" }]);

      const off = await auth(request(bridge.app).patch(`/scim/v2/Users/${created.body.id}`)).send(
        JSON.stringify({ schemas: [PATCH_OP], Operations: [{ op: "replace", value: { active: false } }] }),
      );
      expect(off.status).toBe(200);
      await drainOutbox(bridge);
      expect(acme.calls.filter((c) => c.op === "disableUser").map((c) => c.args[0])).toEqual([dc.id]);
      expect(acme.calls.some((c) => c.op === "deleteUser" || c.op === "setRoles")).toBe(false);
      expect(acme.users.get(dc.id)?.status).toBe("disabled");
    });
  });
});
