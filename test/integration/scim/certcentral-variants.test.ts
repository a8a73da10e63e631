// The user and group flows against every CertCentral behaviour the docs leave open (../shared/digicert-api.md §D):
// how a taken username is refused, with or without the availability route, errors as an array or an object. A
// deactivated user keeps no access, a reactivated one gets its mapped role back, reconcile on an untouched tenant
// finds no drift, and a hand-made administrator is adopted without a second user and with its roles.
import { hasDrift } from "../../../src/provisioning/reconcile";
import { writeMapping } from "../../support/mapping";
import { CC_CONTAINER_ID, oktaUser, PATCH_OP, startHarness, type Harness } from "../../support/harness";
import type { SimulatorOptions } from "../../../src/simulator";

jest.setTimeout(60_000);

type CcVariant = NonNullable<SimulatorOptions["certcentral"]>;
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const MAPPING = `default: ["Standard User"]
rules:
  - group: "PKI Admins"
    roles: ["Administrator"]
`;
const VARIANTS: CcVariant[] = [
  { duplicate: "409", availability: "supported", errorShape: "array" },
  { duplicate: "400-not-available", availability: "missing", errorShape: "array" },
  { duplicate: "400-in-use", availability: "missing", errorShape: "object" },
  { duplicate: "400-in-use", availability: "supported", errorShape: "object" },
];

describe.each(VARIANTS)("CertCentral: duplicate $duplicate, availability $availability, errors as $errorShape", (variant) => {
  describe.each(["delete", "demote:Limited User"])("CERTCENTRAL_DEACTIVATE=%s", (deactivate) => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness({ platform: "certcentral", simulator: { certcentral: variant }, env: { ROLE_MAPPING_FILE: writeMapping(MAPPING), CERTCENTRAL_DEACTIVATE: deactivate } });
    });
    afterAll(() => h.close());
    const demotes = deactivate.startsWith("demote");
    const named = (userName: string) => h.sim.listUsers("certcentral").filter((u: any) => u.username.toLowerCase() === userName.toLowerCase());

    test("deactivate: no access within one job; reactivate: the mapped role back; reconcile finds no drift", async () => {
      const created = await h.post("/scim/v2/Users", oktaUser());
      expect(created.status).toBe(201);
      const u = created.body;
      const g = await h.post("/scim/v2/Groups", { schemas: [GROUP], displayName: `PKI Admins`, members: [{ value: u.id }] });
      expect([201, 409]).toContain(g.status);
      if (g.status === 409) {
        const admins = (await h.get(`/scim/v2/Groups?filter=${encodeURIComponent('displayName eq "PKI Admins"')}`)).body.Resources[0];
        await h.patch(`/scim/v2/Groups/${admins.id}`, { schemas: [PATCH_OP], Operations: [{ op: "add", path: "members", value: [{ value: u.id }] }] });
      }
      await h.drain();
      const dcId = (await h.bridge.store.users.getById(u.id))!.digicertId!;
      expect(h.sim.ccTruth(dcId)!.role_ids).toEqual([1]);

      h.sim.clearCalls();
      const off = await h.patch(`/scim/v2/Users/${u.id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "active", value: false }] });
      expect(off.status).toBe(200);
      await h.drain();
      const writes = h.sim.calls.filter((c) => c.method !== "GET");
      expect(writes).toHaveLength(1);
      if (demotes) expect(h.sim.ccTruth(dcId)!.role_ids).toEqual([2]);
      else expect(h.sim.ccTruth(dcId)).toBeUndefined();

      const on = await h.patch(`/scim/v2/Users/${u.id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "active", value: true }] });
      expect(on.status).toBe(200);
      await h.drain();
      const back = (await h.bridge.store.users.getById(u.id))!.digicertId!;
      expect(h.sim.ccTruth(back)!.role_ids).toEqual([1]);
      expect(named(u.userName)).toHaveLength(1);

      const report = await h.bridge.reconcile();
      expect(report.entries.filter((e) => e.kind !== "unmanaged")).toEqual([]);
      expect(hasDrift(report)).toBe(false);
    });

    test("adoption of a hand-made administrator: one user, no second create, roles kept without a mapping file", async () => {
      const name = `admin.${Date.now()}.${Math.random().toString(36).slice(2, 8)}@example.com`;
      const seeded = h.sim.seedUser("certcentral", { username: name, email: name, access_roles: [{ id: 1 }], containerId: CC_CONTAINER_ID });
      const plain = await startHarness({ platform: "certcentral", sim: h.sim });
      try {
        const res = await plain.post("/scim/v2/Users", oktaUser(name));
        expect(res.status).toBe(201);
        await plain.drain();
        expect((await plain.bridge.store.users.getById(res.body.id))!.digicertId).toBe(String(seeded.id));
        expect(h.sim.ccTruth(seeded.id)!.role_ids).toEqual([1]);
        expect(named(name)).toHaveLength(1);
      } finally {
        await plain.close();
      }
    });
  });
});
