import { parseRoleMapping, RoleMappingError } from "../../../src/config/role-mapping";
import type { DigiCertRole, Platform } from "../../../src/digicert/types";
import { compileRoleMapping, describeRoleChange, effectiveDivisions, effectiveRoles } from "../../../src/provisioning/role-policy";
import type { GroupRef } from "../../../src/provisioning/records";

const CC: DigiCertRole[] = [
  { id: "1", name: "Administrator" },
  { id: "2", name: "Limited User" },
  { id: "3", name: "Finance Manager" },
  { id: "4", name: "Manager" },
  { id: "5", name: "Standard User" },
];
const ONE: DigiCertRole[] = [
  { id: "AM_ACCOUNT_MANAGER", name: "Account Manager" },
  { id: "AM_USER_MANAGER", name: "User Manager" },
  { id: "AM_ACCOUNT_ADMIN", name: "Account Admin" },
  { id: "AM_DEFAULT_USER", name: "Default User" },
  { id: "AM_READ_ONLY", name: "Read Only" },
];
const available = (p: Platform) => (p === "one" ? ONE : CC);
const fallback = (p: Platform) => (p === "one" ? "Default User" : "Standard User");

function compile(text: string, platform: Platform) {
  return compileRoleMapping(parseRoleMapping(text, platform, "roles.yaml"), available(platform), platform, fallback(platform));
}

function compileProblems(text: string, platform: Platform, roles = available(platform)): string[] {
  try {
    compileRoleMapping(parseRoleMapping(text, platform, "roles.yaml"), roles, platform, fallback(platform));
  } catch (err) {
    expect(err).toBeInstanceOf(RoleMappingError);
    return (err as RoleMappingError).problems;
  }
  throw new Error("expected a RoleMappingError");
}

let n = 0;
const g = (displayName: string, externalId: string | null = null): GroupRef => ({ id: `g${++n}`, displayName, externalId });

describe("compileRoleMapping", () => {
  test("resolves names case-insensitively and ids, keeping DigiCert's spelling", () => {
    const m = compile(
      ["default: [standard user]", "rules:", "  - group: a", "    roles: [ADMINISTRATOR]", "  - group: b", "    roles: [4]", ""].join("\n"),
      "certcentral",
    );
    expect(m.default).toEqual([{ id: "5", name: "Standard User" }]);
    expect(m.rules.map((r) => r.roles)).toEqual([[{ id: "1", name: "Administrator" }], [{ id: "4", name: "Manager" }]]);
    expect(m.multipleRoles).toBe(false);
    expect(m.source).toBe("roles.yaml");
    expect(m.unmapped).toBe("default");
  });

  test("ONE ids, names, and ids typed in lower case", () => {
    const m = compile(["rules:", "  - group: a", "    roles: [AM_USER_MANAGER, account admin, am_read_only]", ""].join("\n"), "one");
    expect(m.rules[0].roles.map((r) => r.id)).toEqual(["AM_USER_MANAGER", "AM_ACCOUNT_ADMIN", "AM_READ_ONLY"]);
    expect(m.multipleRoles).toBe(true);
  });

  test("an id wins over a name", () => {
    const roles = [
      { id: "7", name: "Auditor" },
      { id: "8", name: "7" },
    ];
    const m = compileRoleMapping(parseRoleMapping("rules:\n  - group: a\n    roles: [7]\n", "one", "r"), roles, "one", "Auditor");
    expect(m.rules[0].roles).toEqual([{ id: "7", name: "Auditor" }]);
  });

  test("the same role twice in a list counts once", () => {
    const m = compile("rules:\n  - group: a\n    roles: [Manager, 4, manager]\n", "certcentral");
    expect(m.rules[0].roles).toEqual([{ id: "4", name: "Manager" }]);
  });

  test("unknown roles name the rule or the default, the role, and what DigiCert offers", () => {
    const text = ['default: ["Viewer"]', "rules:", "  - group: DigiCert Admins", "    roles: [Administrator]", "  - group: Ops", "    roles: [Superuser]", ""].join("\n");
    const offers =
      "DigiCert offers: Administrator (1), Limited User (2), Finance Manager (3), Manager (4), Standard User (5)";
    expect(compileProblems(text, "certcentral")).toEqual([
      `roles.yaml: default: "Viewer" is not a DigiCert role; ${offers}`,
      `roles.yaml: rule 2 (group "Ops", line 5): "Superuser" is not a DigiCert role; ${offers}`,
    ]);
  });

  test("an empty role list from DigiCert says so", () => {
    expect(compileProblems("rules:\n  - group: a\n    roles: [x]\n", "one", [])).toEqual([
      'DIGICERT_DEFAULT_ROLE: "Default User" is not a DigiCert role; DigiCert offers: none',
      'roles.yaml: rule 1 (group "a", line 2): "x" is not a DigiCert role; DigiCert offers: none',
    ]);
  });

  test("CertCentral rules and defaults may name one role only", () => {
    const text = ["default: [Standard User, Limited User]", "rules:", "  - pattern: ^PKI-", "    roles: [Manager, Administrator]", ""].join("\n");
    expect(compileProblems(text, "certcentral")).toEqual([
      "roles.yaml: default: lists 2 roles (Standard User, Limited User), but CertCentral users hold one role; keep one",
      'roles.yaml: rule 1 (pattern "^PKI-", line 3): lists 2 roles (Manager, Administrator), but CertCentral users hold one role; keep one',
    ]);
    // The same lists are fine on ONE.
    const one = "default: [Default User, Read Only]\nrules:\n  - group: a\n    roles: [User Manager, Account Admin]\n";
    expect(compile(one, "one").default).toHaveLength(2);
  });

  test("rules that list only the other platform are left out", () => {
    const text = ["rules:", "  - group: a", "    roles:", "      one: [Read Only]", "  - group: b", "    roles: [Manager]", ""].join("\n");
    expect(compile(text, "certcentral").rules.map((r) => r.spec.index)).toEqual([2]);
    expect(compileProblems(text, "one")).toEqual([
      expect.stringContaining('rule 2 (group "b", line 5): "Manager" is not a DigiCert role'),
    ]);
  });

  test("no mapping file: the fallback default role, no rules", () => {
    const m = compileRoleMapping(null, CC, "certcentral", "standard user");
    expect(m).toEqual({ source: "(no role mapping file)", default: [{ id: "5", name: "Standard User" }], unmapped: "default", rules: [], multipleRoles: false, forbidden: [] });
    expect(() => compileRoleMapping(null, CC, "certcentral", "Nobody")).toThrow(/DIGICERT_DEFAULT_ROLE: "Nobody" is not a DigiCert role/);
  });

  test("a file without default uses the fallback", () => {
    const m = compile("unmapped: deactivate\nrules: []\n", "one");
    expect(m.default).toEqual([{ id: "AM_DEFAULT_USER", name: "Default User" }]);
    expect(m.unmapped).toBe("deactivate");
  });
});

describe("effectiveRoles", () => {
  const ONE_MAP = [
    "default: [Default User]",
    "rules:",
    "  - group: DigiCert Admins", // rule 1
    "    roles: [Account Admin, User Manager]",
    "  - externalId: 00gABC", // rule 2
    "    roles: [Read Only, Account Admin]",
    "  - pattern: ^PKI-", // rule 3
    "    roles: [User Manager, Account Manager]",
    "",
  ].join("\n");
  const CC_MAP = [
    "default: [Standard User]",
    "rules:",
    "  - group: DigiCert Admins",
    "    roles: [Administrator]",
    "  - externalId: 00gABC",
    "    roles: [Finance Manager]",
    "  - pattern: ^PKI-",
    "    roles: [Manager]",
    "",
  ].join("\n");

  test("ONE: union of every matching rule, in rule order, without duplicates", () => {
    const m = compile(ONE_MAP, "one");
    // Groups listed in the "wrong" order: rule order still decides the order of roles.
    const r = effectiveRoles(m, [g("PKI-Web"), g("Finance", "00gABC"), g("digicert admins")]);
    expect(r.entitled).toBe(true);
    expect(r.matchedRules).toEqual([1, 2, 3]);
    expect(r.roles.map((x) => x.id)).toEqual(["AM_ACCOUNT_ADMIN", "AM_USER_MANAGER", "AM_READ_ONLY", "AM_ACCOUNT_MANAGER"]);
  });

  test("CertCentral: the first matching rule in file order wins", () => {
    const m = compile(CC_MAP, "certcentral");
    const r = effectiveRoles(m, [g("PKI-Web"), g("Finance", "00gABC")]);
    expect(r).toEqual({ entitled: true, roles: [{ id: "3", name: "Finance Manager" }], matchedRules: [2, 3] });
    expect(effectiveRoles(m, [g("pki-ops"), g("DIGICERT ADMINS")]).roles).toEqual([{ id: "1", name: "Administrator" }]);
  });

  test("displayName matches case-insensitively but exactly", () => {
    const m = compile(CC_MAP, "certcentral");
    expect(effectiveRoles(m, [g("DigiCert Admins 2")]).matchedRules).toEqual([]);
    expect(effectiveRoles(m, [g(" digicert admins ")]).matchedRules).toEqual([1]);
  });

  test("externalId matches exactly, case included", () => {
    const m = compile(CC_MAP, "certcentral");
    expect(effectiveRoles(m, [g("x", "00gabc")]).matchedRules).toEqual([]);
    expect(effectiveRoles(m, [g("x", "00gABC")]).matchedRules).toEqual([2]);
    expect(effectiveRoles(m, [g("x", null)]).matchedRules).toEqual([]);
  });

  test("patterns test the displayName case-insensitively, unanchored unless anchored", () => {
    const m = compile("rules:\n  - pattern: ops$\n    roles: [Manager]\n  - pattern: '^PKI-'\n    roles: [Administrator]\n", "certcentral");
    expect(effectiveRoles(m, [g("Cloud-OPS")]).matchedRules).toEqual([1]);
    expect(effectiveRoles(m, [g("pki-x")]).matchedRules).toEqual([2]);
    expect(effectiveRoles(m, [g("Team PKI-x")]).matchedRules).toEqual([]);
    // Repeated calls give the same answer (no regex state carried over).
    for (let i = 0; i < 3; i++) expect(effectiveRoles(m, [g("pki-x")]).matchedRules).toEqual([2]);
  });

  test("no rule matched: default roles, or no access with unmapped: deactivate", () => {
    const m = compile(ONE_MAP, "one");
    expect(effectiveRoles(m, [g("Sales")])).toEqual({ entitled: true, roles: [{ id: "AM_DEFAULT_USER", name: "Default User" }], matchedRules: [] });
    const d = compile(ONE_MAP.replace("rules:", "unmapped: deactivate\nrules:"), "one");
    expect(effectiveRoles(d, [g("Sales")])).toEqual({ entitled: false, roles: [], matchedRules: [] });
    expect(effectiveRoles(d, [g("PKI-1")]).entitled).toBe(true);
  });

  test("a user in no groups", () => {
    expect(effectiveRoles(compile(CC_MAP, "certcentral"), [])).toEqual({ entitled: true, roles: [{ id: "5", name: "Standard User" }], matchedRules: [] });
    const d = compile(CC_MAP.replace("rules:", "unmapped: deactivate\nrules:"), "certcentral");
    expect(effectiveRoles(d, []).entitled).toBe(false);
  });

  test("no mapping file: everyone gets the fallback", () => {
    const m = compileRoleMapping(null, ONE, "one", "Default User");
    expect(effectiveRoles(m, [g("DigiCert Admins")])).toEqual({ entitled: true, roles: [{ id: "AM_DEFAULT_USER", name: "Default User" }], matchedRules: [] });
  });

  test("ONE's basic role under either name: Account user (current) or Default User (older)", () => {
    const both = ["Account user", "Default User"] as const;
    expect(compileRoleMapping(null, ONE, "one", both).default).toEqual([{ id: "AM_DEFAULT_USER", name: "Default User" }]);
    const current = ONE.map((r) => (r.id === "AM_DEFAULT_USER" ? { id: "AM_ACCOUNT_USER", name: "Account User" } : r));
    expect(compileRoleMapping(null, current, "one", both).default).toEqual([{ id: "AM_ACCOUNT_USER", name: "Account User" }]);
    const neither = ONE.filter((r) => r.id !== "AM_DEFAULT_USER");
    expect(() => compileRoleMapping(null, neither, "one", both)).toThrow(/DIGICERT_DEFAULT_ROLE \(unset\): DigiCert offers none of "Account user", "Default User"/);
  });

  test("a role name two managers share must be given by id", () => {
    const roles: DigiCertRole[] = [...ONE, { id: "TLM_READ_ONLY", name: "Read Only", application: "trust_lifecycle" }];
    const spec = parseRoleMapping("rules:\n  - group: a\n    roles: [Read Only]\n", "one", "m.yaml");
    expect(() => compileRoleMapping(spec, roles, "one", "Default User")).toThrow(/"Read Only" names 2 roles \(AM_READ_ONLY, TLM_READ_ONLY in trust_lifecycle\); name the role by its id/);
    const byId = parseRoleMapping("rules:\n  - group: a\n    roles: [TLM_READ_ONLY, User Manager]\n", "one", "m.yaml");
    expect(compileRoleMapping(byId, roles, "one", "Default User").rules[0].roles.map((r) => r.id)).toEqual(["TLM_READ_ONLY", "AM_USER_MANAGER"]);
  });

  test("callers can't change the mapping through the result", () => {
    const m = compile(ONE_MAP, "one");
    effectiveRoles(m, []).roles.push({ id: "x", name: "x" });
    expect(m.default).toHaveLength(1);
  });

  test("fast enough for a reload over many users", () => {
    const rules = Array.from({ length: 200 }, (_, i) => `  - group: "Group ${i}"\n    roles: [Read Only]\n  - pattern: "^team-${i}-"\n    roles: [User Manager]`).join("\n");
    const m = compile(`rules:\n${rules}\n`, "one");
    const groups = [g("Group 150"), g("team-7-x"), g("other"), g("more")];
    const start = Date.now();
    for (let i = 0; i < 10000; i++) effectiveRoles(m, groups);
    expect(Date.now() - start).toBeLessThan(5000);
    expect(effectiveRoles(m, groups).matchedRules).toEqual([16, 301]);
  });
});

describe("describeRoleChange", () => {
  const admin = { id: "1", name: "Administrator" };
  const manager = { id: "4", name: "Manager" };

  test("gained and lost, with names where known", () => {
    expect(describeRoleChange(["5", "4"], [admin, manager])).toEqual({ gained: ["Administrator"], lost: ["5"] });
    expect(describeRoleChange(["5"], [admin], CC)).toEqual({ gained: ["Administrator"], lost: ["Standard User"] });
  });

  test("no change, unknown before, and losing everything", () => {
    expect(describeRoleChange(["1"], [admin])).toEqual({ gained: [], lost: [] });
    expect(describeRoleChange(null, [admin, manager])).toEqual({ gained: ["Administrator", "Manager"], lost: [] });
    expect(describeRoleChange(["1", "4"], [], CC)).toEqual({ gained: [], lost: ["Administrator", "Manager"] });
  });
});

describe("CertCentral divisions in rules", () => {
  const DIVISIONS: DigiCertRole[] = [
    { id: "1", name: "Sim Account" },
    { id: "11", name: "EU" },
    { id: "12", name: "US" },
  ];
  const text = `rules:
  - group: "EU PKI"
    roles: [Manager]
    divisions: [EU]
  - group: "US PKI"
    roles: [Standard User]
    divisions: ["12"]
  - group: "Everyone"
    roles: [Standard User]
`;

  test("names and ids resolve; a member's divisions are the union of its matching rules'; none = unrestricted", () => {
    const m = compileRoleMapping(parseRoleMapping(text, "certcentral", "m.yaml"), CC, "certcentral", "Standard User", DIVISIONS);
    expect(m.managesDivisions).toBe(true);
    expect(m.rules[0].divisions).toEqual([{ id: "11", name: "EU" }]);
    expect(effectiveDivisions(m, [g("EU PKI"), g("US PKI")])).toEqual(["11", "12"]);
    expect(effectiveDivisions(m, [g("Everyone")])).toEqual([]);
    // CertCentral's single role still comes from the first matching rule.
    expect(effectiveRoles(m, [g("EU PKI"), g("US PKI")]).roles).toEqual([{ id: "4", name: "Manager" }]);
  });

  test("an unknown division, an unlistable division list and a malformed list are named", () => {
    expect(() => compileRoleMapping(parseRoleMapping(text.replace("[EU]", "[Mars]"), "certcentral", "m.yaml"), CC, "certcentral", "Standard User", DIVISIONS)).toThrow(
      /rule 1 .*: divisions: "Mars" is not a CertCentral division; CertCentral has: Sim Account \(1\), EU \(11\), US \(12\)/,
    );
    expect(() => compileRoleMapping(parseRoleMapping(text, "certcentral", "m.yaml"), CC, "certcentral", "Standard User")).toThrow(/divisions could not be listed/);
    expect(() => parseRoleMapping(text.replace("[EU]", "[]"), "certcentral", "m.yaml")).toThrow(/m\.yaml line 4: rules\[0\]\.divisions: must be a non-empty list of division \(container\) names or ids/);
  });

  test("ONE has no divisions: the same file's divisions are ignored there; no divisions = divisions left alone", () => {
    const one = parseRoleMapping(text.replace(/\[Manager\]|\[Standard User\]/g, "[Read Only]"), "one", "m.yaml");
    expect(one.rules.every((r) => !r.divisions?.length)).toBe(true);
    const m = compileRoleMapping(parseRoleMapping("rules:\n  - group: a\n    roles: [Manager]\n", "certcentral", "m.yaml"), CC, "certcentral", "Standard User");
    expect(effectiveDivisions(m, [g("Sales")])).toBeNull();
  });
});
