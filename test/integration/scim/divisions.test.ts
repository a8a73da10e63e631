// CertCentral divisions from the role mapping: a rule's `divisions` restricts its members (container_id_assignments
// on create, PUT /user/{id}/container-assignments after), kept in step like roles when memberships change.
import { hasDrift } from "../../../src/provisioning/reconcile";
import { writeMapping } from "../../support/mapping";
import { oktaUser, PATCH_OP, startHarness, type Harness } from "../../support/harness";

const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const MAPPING = `rules:
  - group: "EU PKI"
    roles: [Manager]
    divisions: [EU]
  - group: "US PKI"
    roles: [Standard User]
    divisions: ["12"]
`;

describe("CertCentral divisions named by the role mapping", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      platform: "certcentral",
      simulator: { certcentral: { divisions: [{ id: 11, name: "EU" }, { id: 12, name: "US" }] } },
      env: { ROLE_MAPPING_FILE: writeMapping(MAPPING) },
    });
  });
  afterAll(() => h.close());

  const dcIdOf = async (id: string) => (await h.bridge.store.users.getById(id))!.digicertId!;

  test("a member of a division group is created restricted to it; joining and leaving groups moves it; none = unrestricted", async () => {
    const u = (await h.post("/scim/v2/Users", oktaUser())).body;
    await h.drain();
    const dcId = await dcIdOf(u.id);
    // In no group: created without any restriction (the field is omitted, as public clients do).
    expect(h.sim.callsTo("certcentral", "POST", /^\/user$/).at(-1)!.body).not.toHaveProperty("container_id_assignments");
    expect(h.sim.ccTruth(dcId)!.division_ids).toEqual([]);

    const eu = (await h.post("/scim/v2/Groups", { schemas: [GROUP], displayName: "EU PKI", members: [{ value: u.id }] })).body;
    await h.drain();
    expect(h.sim.ccTruth(dcId)).toEqual({ role_ids: [4], division_ids: [11] });
    expect(h.sim.callsTo("certcentral", "PUT", new RegExp(`^/user/${dcId}/container-assignments$`)).at(-1)!.body).toEqual({ container_id_assignments: ["11"] });

    const us = (await h.post("/scim/v2/Groups", { schemas: [GROUP], displayName: "US PKI", members: [{ value: u.id }] })).body;
    await h.drain();
    expect(h.sim.ccTruth(dcId)!.division_ids.sort()).toEqual([11, 12]);

    await h.patch(`/scim/v2/Groups/${eu.id}`, { schemas: [PATCH_OP], Operations: [{ op: "remove", path: `members[value eq "${u.id}"]` }] });
    await h.patch(`/scim/v2/Groups/${us.id}`, { schemas: [PATCH_OP], Operations: [{ op: "remove", path: `members[value eq "${u.id}"]` }] });
    await h.drain();
    expect(h.sim.ccTruth(dcId)).toEqual({ role_ids: [5], division_ids: [] });
    const row = await h.bridge.store.users.getById(u.id);
    expect(row!.digicertDivisionIds).toEqual([]);

    const report = await h.bridge.reconcile();
    expect(hasDrift(report)).toBe(false);
  });

  test("a user re-created after deactivation carries its divisions in the create itself", async () => {
    const eu = (await h.get(`/scim/v2/Groups?filter=${encodeURIComponent('displayName eq "EU PKI"')}`)).body.Resources[0];
    const u = (await h.post("/scim/v2/Users", oktaUser())).body;
    await h.patch(`/scim/v2/Groups/${eu.id}`, { schemas: [PATCH_OP], Operations: [{ op: "add", path: "members", value: [{ value: u.id }] }] });
    await h.drain();
    const dcId = await dcIdOf(u.id);
    expect(h.sim.ccTruth(dcId)!.division_ids).toEqual([11]);
    // Deactivated and back: re-created (CertCentral deletes), restricted again from the start.
    h.sim.clearCalls();
    await h.patch(`/scim/v2/Users/${u.id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "active", value: false }] });
    await h.patch(`/scim/v2/Users/${u.id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "active", value: true }] });
    await h.drain();
    const again = await dcIdOf(u.id);
    expect(again).not.toBe(dcId);
    expect(h.sim.callsTo("certcentral", "POST", /^\/user$/).at(-1)!.body.container_id_assignments).toEqual(["11"]);
    expect(h.sim.callsTo("certcentral", "PUT", /container-assignments$/)).toHaveLength(0);
    expect(h.sim.ccTruth(again)!.division_ids).toEqual([11]);
  });

  test("a mapping that names an unknown division stops the start, naming the rule and CertCentral's divisions", async () => {
    const file = writeMapping(MAPPING.replace("[EU]", "[Mars]"));
    const err = await startHarness({ platform: "certcentral", simulator: { certcentral: { divisions: [{ id: 11, name: "EU" }] } }, env: { ROLE_MAPPING_FILE: file } }).then(
      () => null,
      (e) => e as Error,
    );
    expect(err?.message).toMatch(/"Mars" is not a CertCentral division; CertCentral has: .*EU \(11\)/);
  });
});
