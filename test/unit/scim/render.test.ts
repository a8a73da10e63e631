// The fast outbound rendering (src/scim/render.ts) against SCIMMY's own, on the users the bridge serves and on
// odd shapes: where the fast one answers, it must answer exactly what SCIMMY does; where SCIMMY fails, it must step
// aside (undefined) so SCIMMY gives its error.
import { SCIMMY } from "scimmy-routers";
import { renderOut } from "../../../src/scim/render";
import { userResourceType } from "../../../src/scim/user-resource";
import { groupResourceType } from "../../../src/scim/group-resource";
import { scimFromRow } from "../../../src/scim/user-mapping";
import { DIGICERT_USER_SCHEMA, ENTERPRISE_USER_SCHEMA, USER_SCHEMA } from "../../../src/scim/schemas";
import type { UserRow } from "../../../src/provisioning/records";

type Json = Record<string, unknown>;
const BASE = "https://bridge.example.com/scim/v2/Users";

userResourceType.declare();
groupResourceType.declare();
const User = SCIMMY.Resources.declared("User") as unknown as { schema: typeof SCIMMY.Schemas.User };

function viaScimmy(data: Json): Json | Error {
  try {
    return JSON.parse(JSON.stringify(new SCIMMY.Schemas.User(data as never, "out", BASE)));
  } catch (err) {
    return err as Error;
  }
}

function expectSame(data: Json, mustRender = true): void {
  const reference = viaScimmy(data);
  const fast = renderOut(User.schema, data, BASE);
  if (reference instanceof Error) {
    expect({ data, fast }).toEqual({ data, fast: undefined });
    return;
  }
  if (mustRender) expect(fast).toBeDefined();
  if (fast !== undefined) expect(fast).toEqual(reference);
}

function row(over: Partial<UserRow> = {}): UserRow {
  return {
    id: "u-1",
    userName: "ada@example.com",
    externalId: "ext-1",
    active: true,
    resource: {
      schemas: [USER_SCHEMA],
      userName: "ada@example.com",
      name: { givenName: "Ada", familyName: "Lovelace", formatted: "Ada Lovelace" },
      displayName: "Ada Lovelace",
      emails: [
        { value: "ada@example.com", type: "work", primary: true },
        { value: "ada@home.example", type: "home" },
      ],
      locale: "en-US",
      externalId: "ext-1",
      active: true,
    },
    emails: [],
    digicertId: "5000001",
    adopted: false,
    digicertEnabled: true,
    digicertRoleIds: ["5", "7"],
    digicertDivisionIds: null,
    syncState: "synced",
    syncError: null,
    syncedAt: "2026-01-02T03:04:05.678Z",
    created: "2026-01-01T00:00:00.000Z",
    lastModified: "2026-01-02T00:00:00.001Z",
    version: 3,
    ...over,
  };
}

const groups = [
  { id: "g-1", displayName: "Admins", externalId: null },
  { id: "g-2", displayName: "Everyone", externalId: "x" },
];
const roleName = (id: string) => (id === "5" ? "Standard User" : undefined);

const fanOut = [
  { name: "certcentral", platform: "certcentral" as const },
  { name: "one", platform: "one" as const },
];

describe("fast outbound rendering matches SCIMMY's", () => {
  const cases: [string, UserRow, Parameters<typeof scimFromRow>[2]][] = [
    ["plain user with groups and roles", row(), { groups, roleName }],
    ["no extras (PATCH base shape)", row(), undefined],
    ["no groups", row(), { groups: [], roleName }],
    ["assigned roles", row({ resource: { ...row().resource, roles: [{ value: "9", primary: true }] } }), { groups, roleName, roles: "assigned" }],
    ["pending, with an error, never synced", row({ syncState: "pending", syncError: "DigiCert is unavailable", syncedAt: null, digicertId: null }), { groups, roleName }],
    ["failed, adopted, disabled", row({ syncState: "failed", syncError: "refused", adopted: true, digicertEnabled: false }), { groups, roleName }],
    ["inactive, no externalId", row({ active: false, externalId: null }), { groups, roleName }],
    [
      "enterprise extension with manager",
      row({
        resource: {
          ...row().resource,
          schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
          [ENTERPRISE_USER_SCHEMA]: { employeeNumber: "42", department: "R&D", manager: { value: "u-9", displayName: "Boss" } },
        },
      }),
      { groups, roleName },
    ],
    [
      "enterprise extension with an empty manager",
      row({
        resource: { ...row().resource, schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA], [ENTERPRISE_USER_SCHEMA]: { costCenter: "CC", manager: {} } },
      }),
      { groups, roleName },
    ],
    [
      "empty enterprise extension",
      row({ resource: { ...row().resource, schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA], [ENTERPRISE_USER_SCHEMA]: {} } }),
      { groups, roleName },
    ],
    [
      "DigiCert extension with the IdP's own attributes",
      row({ resource: { ...row().resource, schemas: [USER_SCHEMA, DIGICERT_USER_SCHEMA], [DIGICERT_USER_SCHEMA]: { jobTitle: "Engineer", telephone: "+1 555" } } }),
      { groups, roleName },
    ],
    [
      "many core attributes",
      row({
        resource: {
          ...row().resource,
          nickName: "A",
          title: "Countess",
          userType: "Employee",
          preferredLanguage: "en",
          timezone: "Europe/London",
          profileUrl: "https://example.com/ada",
          phoneNumbers: [{ value: "+44 1", type: "work" }, { value: "+44 2", type: "mobile", primary: true }],
          addresses: [{ streetAddress: "1 Road", locality: "London", country: "GB", type: "work", formatted: "1 Road\nLondon" }],
          ims: [{ value: "ada", type: "xmpp" }],
          photos: [{ value: "https://example.com/a.png", type: "photo" }],
          entitlements: [{ value: "e1" }],
          x509Certificates: [{ value: "MIIB" }],
          name: { givenName: "Ada", middleName: "K", honorificPrefix: "Lady", honorificSuffix: "III" },
        },
      }),
      { groups, roleName },
    ],
    ["empty name and empty lists", row({ resource: { ...row().resource, name: {}, emails: [], phoneNumbers: [], addresses: [{}] } }), { groups, roleName }],
    ["nulls in the resource", row({ resource: { ...row().resource, nickName: null, name: { givenName: "A", familyName: null } } }), { groups, roleName }],
    ["unknown attributes", row({ resource: { ...row().resource, favouriteColour: "blue", name: { givenName: "A", shoeSize: 9 } } }), { groups, roleName }],
    ["a password kept by mistake", row({ resource: { ...row().resource, password: "secret" } }), { groups, roleName }],
    ["dates not in toISOString form", row({ created: "2026-01-01T00:00:00Z", syncedAt: "2026-01-01T01:00:00+01:00" }), { groups, roleName }],
    ["no schemas stored", row({ resource: { userName: "ada@example.com" } }), { groups, roleName }],
    [
      "fan-out: each target's state, one of them failed",
      row({ targets: [{ target: "one", digicertId: "a1b2", syncState: "failed", syncError: "refused", syncedAt: "2026-01-02T03:04:05Z" }] }),
      { groups, roleName, targets: fanOut },
    ],
    ["fan-out: a target with no record of the user yet", row({ targets: [] }), { groups, roleName, targets: fanOut }],
  ];

  test.each(cases)("%s", (_name, r, extras) => {
    expectSame(scimFromRow(r, "certcentral", extras));
    expectSame(scimFromRow(r, "one", extras));
  });

  test("shapes it does not mirror are left to SCIMMY (its answer, or its error)", () => {
    const base = scimFromRow(row(), "certcentral", { groups, roleName });
    const odd: Json[] = [
      { ...base, UserName: "x" },
      { ...base, name: { GivenName: "A" } },
      { ...base, emails: { value: "not-a-list" } },
      { ...base, name: [{ givenName: "A" }] },
      { ...base, emails: [null] },
      { ...base, emails: [{ value: "a@b", type: "Work" }] },
      { ...base, active: "true" },
      { ...base, userName: undefined },
      { ...base, displayName: 42 },
      { ...base, schemas: ["urn:other"] },
      { ...base, [ENTERPRISE_USER_SCHEMA]: { employeeNumber: null } },
      { ...base, [ENTERPRISE_USER_SCHEMA]: "x" },
      { ...base, [`${ENTERPRISE_USER_SCHEMA}:employeeNumber`]: "7" },
      { ...base, meta: { ...(base.meta as Json), created: "not a date" } },
      { ...base, meta: { ...(base.meta as Json), created: "2026-02-30T00:00:00.000Z" } },
      { ...base, meta: { ...(base.meta as Json), created: "2026-13-01T00:00:00.000Z" } },
      { ...base, groups: [{ value: "g", type: "nested" }] },
      { ...base, roles: [{ value: "r", type: "x" }] },
    ];
    for (const data of odd) expectSame(data, false);
  });

  test("groups, with and without members", () => {
    const Group = SCIMMY.Resources.declared("Group") as unknown as { schema: typeof SCIMMY.Schemas.Group };
    const meta = { resourceType: "Group", created: "2026-01-01T00:00:00.000Z", lastModified: "2026-01-01T00:00:00.000Z", version: 'W/"2"' };
    const groupsOf: Json[] = [
      { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], id: "g", displayName: "Admins", meta },
      { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], id: "g", displayName: "Admins", externalId: "x", members: [], meta },
      { id: "g", displayName: "Admins", members: [{ value: "u1", display: "a@b", type: "User" }, { value: "u2", type: "User" }], meta },
      { id: "g", displayName: "Admins", members: [{ value: "u1", type: "user" }], meta },
    ];
    for (const data of groupsOf) {
      const reference = (() => {
        try {
          return JSON.parse(JSON.stringify(new SCIMMY.Schemas.Group(data as never, "out", BASE)));
        } catch (err) {
          return err as Error;
        }
      })();
      const fast = renderOut(Group.schema, data, BASE);
      if (reference instanceof Error) expect(fast).toBeUndefined();
      else expect(fast).toEqual(reference);
    }
  });

  test("random resources: never a different answer", () => {
    let seed = 17;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
    const scalar = () => pick<unknown>(["x", "", "work", "home", true, false, 1, null, undefined, "2026-01-01T00:00:00Z", {}, []]);
    const names = ["userName", "displayName", "title", "active", "nickName", "name", "emails", "phoneNumbers", "groups", "roles", "meta", "externalId", "zzz", "Title"];
    const subs = ["value", "type", "primary", "display", "givenName", "familyName", "$ref", "manager", "Value"];
    const complex = (): Json => Object.fromEntries(subs.filter(() => rnd() < 0.4).map((s) => [s, scalar()]));
    let rendered = 0;
    for (let i = 0; i < 1000; i++) {
      const data: Json = scimFromRow(row(), pick(["certcentral", "one"]), { groups, roleName });
      for (const n of names.filter(() => rnd() < 0.1)) data[n] = pick([scalar(), complex(), [complex(), complex()], [scalar()]]);
      if (rnd() < 0.3) data[ENTERPRISE_USER_SCHEMA] = pick<unknown>([complex(), { manager: complex(), employeeNumber: scalar() }, {}]);
      if (rnd() < 0.2) data[DIGICERT_USER_SCHEMA] = { ...(data[DIGICERT_USER_SCHEMA] as Json), jobTitle: scalar() };
      expectSame(data, false);
      if (renderOut(User.schema, data, BASE)) rendered++;
    }
    // The cases must also exercise the fast path, not only its refusals.
    expect(rendered).toBeGreaterThan(100);
  });
});
