// GroupService without HTTP: group membership → DigiCert roles through a role mapping file, on an in-memory SQLite
// store and the CertCentral simulator. Each test looks at the stored members, the users' DigiCert roles and the
// role calls DigiCert received.
import type { GroupDraft, GroupPatchPlan } from "../../../src/provisioning/group-service";
import { ConflictError, InvalidInputError, NotFoundError } from "../../../src/provisioning/errors";
import type { UserRow } from "../../../src/provisioning/records";
import { writeMapping } from "../../support/mapping";
import { startServices, userDraft, type Services } from "../../support/services";

// The simulator's CertCentral roles.
const ADMINISTRATOR = 1;
const MANAGER = 4;
const STANDARD_USER = 5;

const MAPPING = `default: ["Standard User"]
rules:
  - group: "DigiCert Admins"
    roles: ["Administrator"]
  - group: "Managers"
    roles: ["Manager"]
`;

const group = (displayName: string, memberIds: string[]): GroupDraft => ({ displayName, externalId: null, resource: { displayName }, memberIds });
const plan = (p: Partial<GroupPatchPlan>): GroupPatchPlan => ({ add: new Set(), remove: new Set(), replaceWith: null, ...p });

describe("GroupService with a role mapping (CertCentral)", () => {
  let s: Services;
  let ada: UserRow;
  let bob: UserRow;
  /** The roles DigiCert holds for a user, as the simulator has them. */
  const rolesOf = (u: UserRow) => s.sim.ccTruth(u.digicertId!)!.role_ids.slice().sort();
  const roleCalls = () => s.sim.callsTo("certcentral", "PUT", /^\/user\/\d+\/role$/).map((c) => c.path);

  beforeEach(async () => {
    s = await startServices({ platform: "certcentral", env: { ROLE_MAPPING_FILE: writeMapping(MAPPING) } });
    ada = await s.users.create(userDraft("ada@example.com"));
    bob = await s.users.create(userDraft("bob@example.com"));
    s.sim.clearCalls();
  });
  afterEach(async () => s.close());

  test("users outside any group hold the mapping's default role", () => {
    expect(rolesOf(ada)).toEqual([STANDARD_USER]);
    expect(rolesOf(bob)).toEqual([STANDARD_USER]);
  });

  test("create with a member: that member's role changes, the other user's does not", async () => {
    const g = await s.groups.create(group("DigiCert Admins", [ada.id]));
    expect((await s.groups.members(g.id)).map((m) => m.userName)).toEqual(["ada@example.com"]);
    expect(rolesOf(ada)).toEqual([ADMINISTRATOR]);
    expect(rolesOf(bob)).toEqual([STANDARD_USER]);
    expect(roleCalls()).toEqual([`/user/${ada.digicertId}/role`]);
    expect(await s.store.users.getById(ada.id)).toMatchObject({ digicertRoleIds: [String(ADMINISTRATOR)], syncState: "synced" });
  });

  test("PATCH add, Entra's re-sent add of a present member, remove: only real changes reach DigiCert", async () => {
    const g = await s.groups.create(group("DigiCert Admins", [ada.id]));
    s.sim.clearCalls();
    await s.groups.patch(g.id, plan({ add: new Set([ada.id, bob.id]) }));
    expect(rolesOf(bob)).toEqual([ADMINISTRATOR]);
    expect(roleCalls()).toEqual([`/user/${bob.digicertId}/role`]);

    s.sim.clearCalls();
    await s.groups.patch(g.id, plan({ add: new Set([ada.id]) }));
    expect(roleCalls()).toEqual([]);

    await s.groups.patch(g.id, plan({ remove: new Set([ada.id]) }));
    expect(rolesOf(ada)).toEqual([STANDARD_USER]);
    expect(rolesOf(bob)).toEqual([ADMINISTRATOR]);
    expect((await s.groups.members(g.id)).map((m) => m.userName)).toEqual(["bob@example.com"]);
  });

  test("CertCentral gives one role: a member of two mapped groups gets the first matching rule's; leaving that group gives the next", async () => {
    await s.groups.create(group("Managers", [ada.id]));
    expect(rolesOf(ada)).toEqual([MANAGER]);
    const admins = await s.groups.create(group("DigiCert Admins", [ada.id]));
    // Rule order decides, not the order of joining.
    expect(rolesOf(ada)).toEqual([ADMINISTRATOR]);
    await s.groups.patch(admins.id, plan({ remove: new Set([ada.id]) }));
    expect(rolesOf(ada)).toEqual([MANAGER]);
  });

  test("a rename the mapping does not know takes the role away from every member; a full replace of members too", async () => {
    const g = await s.groups.create(group("DigiCert Admins", [ada.id, bob.id]));
    await s.groups.patch(g.id, plan({ displayName: "Former Admins" }));
    expect((await s.groups.get(g.id)).displayName).toBe("Former Admins");
    expect(rolesOf(ada)).toEqual([STANDARD_USER]);
    expect(rolesOf(bob)).toEqual([STANDARD_USER]);

    const m = await s.groups.create(group("Managers", [ada.id]));
    await s.groups.replace(m.id, group("Managers", [bob.id]), undefined, (await s.groups.get(m.id)).version);
    expect(rolesOf(ada)).toEqual([STANDARD_USER]);
    expect(rolesOf(bob)).toEqual([MANAGER]);
  });

  test("delete: the group and its memberships go, former members fall back to the default role", async () => {
    const g = await s.groups.create(group("DigiCert Admins", [ada.id, bob.id]));
    await s.groups.delete(g.id);
    await expect(s.groups.get(g.id)).rejects.toBeInstanceOf(NotFoundError);
    expect(rolesOf(ada)).toEqual([STANDARD_USER]);
    expect(rolesOf(bob)).toEqual([STANDARD_USER]);
    expect(await s.store.groups.groupsOfUsers([ada.id])).toEqual(new Map([[ada.id, []]]));
  });

  test("an unknown member id fails the whole change before anything is stored or sent", async () => {
    const g = await s.groups.create(group("DigiCert Admins", [ada.id]));
    s.sim.clearCalls();
    const err = await s.groups.patch(g.id, plan({ add: new Set([bob.id, "no-such-user"]) })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as Error).message).toContain("no-such-user");
    expect((await s.groups.members(g.id)).map((m) => m.userName)).toEqual(["ada@example.com"]);
    expect(rolesOf(bob)).toEqual([STANDARD_USER]);
    expect(s.sim.calls).toEqual([]);
    await expect(s.groups.create(group("Managers", ["no-such-user"]))).rejects.toBeInstanceOf(InvalidInputError);
    expect(await s.store.groups.count()).toBe(1);
  });

  test("displayName is unique without case: ConflictError", async () => {
    await s.groups.create(group("DigiCert Admins", []));
    await expect(s.groups.create(group("digicert admins", [bob.id]))).rejects.toBeInstanceOf(ConflictError);
    expect(rolesOf(bob)).toEqual([STANDARD_USER]);
  });
});
