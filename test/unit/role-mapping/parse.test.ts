import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadRoleMappingFile, parseRoleMapping, RoleMappingError } from "../../../src/config/role-mapping";

const MINIMAL = readFileSync(join(__dirname, "../../../examples/role-mapping.minimal.yaml"), "utf8");

function problems(text: string, platform: "certcentral" | "one" = "certcentral"): string[] {
  try {
    parseRoleMapping(text, platform, "roles.yaml");
  } catch (err) {
    expect(err).toBeInstanceOf(RoleMappingError);
    return (err as RoleMappingError).problems;
  }
  throw new Error("expected a RoleMappingError");
}

describe("parseRoleMapping: valid files", () => {
  test("the minimal form parses for CertCentral", () => {
    const spec = parseRoleMapping(MINIMAL, "certcentral", "roles.yaml");
    expect(spec.source).toBe("roles.yaml");
    expect(spec.default).toEqual(["Standard User"]);
    expect(spec.unmapped).toBe("default");
    expect(spec.rules.map((r) => ({ index: r.index, line: r.line, roles: r.roles }))).toEqual([
      { index: 1, line: 4, roles: ["Administrator"] },
      { index: 2, line: 6, roles: ["Manager"] },
      { index: 3, line: 8, roles: ["Manager"] },
    ]);
    expect(spec.rules[0].match).toEqual({ kind: "displayName", value: "DigiCert Admins" });
    expect(spec.rules[1].match).toEqual({ kind: "externalId", value: "00g1abcd" });
    const m = spec.rules[2].match;
    expect(m.kind).toBe("pattern");
    if (m.kind !== "pattern") throw new Error("unreachable");
    expect(m.source).toBe("^PKI-.*");
    expect(m.regex.test("pki-web")).toBe(true);
    expect(spec.rules[0].describe).toBe('rule 1 (group "DigiCert Admins", line 4)');
    expect(spec.rules[1].describe).toBe('rule 2 (externalId "00g1abcd", line 6)');
    expect(spec.rules[2].describe).toBe('rule 3 (pattern "^PKI-.*", line 8)');
  });

  test("per-platform roles pick the platform's list", () => {
    const spec = parseRoleMapping(MINIMAL, "one", "roles.yaml");
    expect(spec.rules[2].roles).toEqual(["AM_USER_MANAGER", "Account Admin"]);
    // Plain lists apply to both platforms.
    expect(spec.rules[0].roles).toEqual(["Administrator"]);
  });

  test("a rule that lists only the other platform has no roles here", () => {
    const text = `rules:\n  - group: Auditors\n    roles:\n      one: ["Read Only"]\n`;
    expect(parseRoleMapping(text, "certcentral", "r").rules[0].roles).toEqual([]);
    expect(parseRoleMapping(text, "one", "r").rules[0].roles).toEqual(["Read Only"]);
  });

  test("optional keys: no default is null, unmapped defaults to default, empty rule list allowed", () => {
    const spec = parseRoleMapping("rules: []\n", "certcentral", "r");
    expect(spec).toEqual({ source: "r", default: null, unmapped: "default", rules: [], forbid: [] });
    expect(parseRoleMapping("default:\nrules: []\n", "one", "r").default).toBeNull();
  });

  test("forbid: one list or per platform, like default", () => {
    expect(parseRoleMapping('forbid: ["Administrator", 1]\nrules: []\n', "certcentral", "r").forbid).toEqual(["Administrator", "1"]);
    expect(parseRoleMapping('forbid:\n  one: ["Account Admin"]\nrules: []\n', "certcentral", "r").forbid).toEqual([]);
    expect(() => parseRoleMapping("forbid: yes\nrules: []\n", "one", "r")).toThrow(/forbid/);
  });

  test("per-platform default; a default leaving this platform out means DIGICERT_DEFAULT_ROLE", () => {
    const text = `default:\n  one: ["Default User"]\nunmapped: deactivate\nrules: []\n`;
    expect(parseRoleMapping(text, "one", "r")).toMatchObject({ default: ["Default User"], unmapped: "deactivate" });
    expect(parseRoleMapping(text, "certcentral", "r").default).toBeNull();
  });

  test("numbers are ids and keep their text; externalIds that look like numbers keep leading zeros", () => {
    const spec = parseRoleMapping(`rules:\n  - externalId: 00123\n    roles: [4, "5"]\n`, "certcentral", "r");
    expect(spec.rules[0].match).toEqual({ kind: "externalId", value: "00123" });
    expect(spec.rules[0].roles).toEqual(["4", "5"]);
  });

  test("group names are matched as given; externalId stays case-exact", () => {
    const spec = parseRoleMapping(`rules:\n  - group: "  PKI Team "\n    roles: [a]\n  - externalId: AbC\n    roles: [a]\n`, "one", "r");
    expect(spec.rules[0].match).toEqual({ kind: "displayName", value: "PKI Team" });
    expect(spec.rules[1].match).toEqual({ kind: "externalId", value: "AbC" });
  });

  test("YAML anchors and aliases reuse role lists", () => {
    const text = `rules:\n  - group: a\n    roles: &admin [Administrator]\n  - group: b\n    roles: *admin\n`;
    expect(parseRoleMapping(text, "certcentral", "r").rules[1].roles).toEqual(["Administrator"]);
  });

  test("the commented example parses for both platforms", () => {
    const path = join(__dirname, "../../../examples/role-mapping.yaml");
    expect(loadRoleMappingFile(path, "certcentral").rules.length).toBeGreaterThan(3);
    expect(loadRoleMappingFile(path, "one").rules.length).toBeGreaterThan(3);
  });
});

describe("parseRoleMapping: problems name the file, the line and the field", () => {
  test("empty roles list on the minimal form's line 7", () => {
    const text = MINIMAL.replace('roles: ["Manager"]\n', "roles: []\n");
    expect(problems(text)).toEqual([
      "roles.yaml line 7: rules[1].roles: must be a non-empty list of role names or ids (got an empty list)",
    ]);
  });

  test("roles missing, a string, null, or an empty object", () => {
    const text = [
      "rules:",
      "  - group: a", // 2
      "  - group: b", // 3
      "    roles: Administrator", // 4
      "  - group: c", // 5
      "    roles:", // 6
      "  - group: d", // 7
      "    roles: {}", // 8
      "",
    ].join("\n");
    expect(problems(text)).toEqual([
      "roles.yaml line 2: rules[0].roles: required: the DigiCert roles this group gives",
      'roles.yaml line 4: rules[1].roles: must be a non-empty list of role names or ids, or an object with certcentral and/or one lists (got "Administrator")',
      "roles.yaml line 6: rules[2].roles: must be a non-empty list of role names or ids, or an object with certcentral and/or one lists (got nothing)",
      "roles.yaml line 8: rules[3].roles: must be a non-empty list of role names or ids, or an object with certcentral and/or one lists (got an empty object)",
    ]);
  });

  test("bad role entries name their position", () => {
    const text = ["rules:", "  - group: a", "    roles:", "      - Manager", "      - 1.5", "      - true", "      - [x]", ""].join("\n");
    expect(problems(text)).toEqual([
      "roles.yaml line 5: rules[0].roles[1]: must be a role name or a whole-number id (got 1.5)",
      "roles.yaml line 6: rules[0].roles[2]: must be a role name or id (got true)",
      "roles.yaml line 7: rules[0].roles[3]: must be a role name or id (got a list)",
    ]);
  });

  test("per-platform lists are checked even for the other platform", () => {
    const text = ["rules:", "  - group: a", "    roles:", "      certcentral: []", "      one: [ok]", ""].join("\n");
    expect(problems(text, "one")).toEqual([
      "roles.yaml line 4: rules[0].roles.certcentral: must be a non-empty list of role names or ids (got an empty list)",
    ]);
  });

  test("match keys: none, two at once, empty value", () => {
    const text = [
      "rules:",
      "  - roles: [a]", // 2
      "  - group: a", // 3
      "    pattern: b", // 4
      "    roles: [a]",
      '  - externalId: ""', // 6
      "    roles: [a]",
      "",
    ].join("\n");
    expect(problems(text)).toEqual([
      "roles.yaml line 2: rules[0]: needs one of group, externalId or pattern",
      "roles.yaml line 4: rules[1]: has group and pattern; give exactly one of group, externalId or pattern",
      'roles.yaml line 6: rules[2].externalId: must be a group externalId (got "")',
    ]);
  });

  test("unknown keys are errors, with a suggestion for typos", () => {
    const text = ["defualt: [x]", "rules:", "  - grup: Admins", "    roles: [a]", "    role: [b]", "  - group: x", "    roles:", "      oen: [a]", ""].join("\n");
    expect(problems(text)).toEqual([
      "roles.yaml line 1: defualt: unknown key (did you mean default?); expected default, unmapped, rules, forbid",
      "roles.yaml line 3: rules[0].grup: unknown key (did you mean group?); expected group, externalId, pattern, roles, divisions",
      "roles.yaml line 5: rules[0].role: unknown key (did you mean roles?); expected group, externalId, pattern, roles, divisions",
      "roles.yaml line 8: rules[1].roles.oen: unknown key (did you mean one?); expected certcentral, one",
    ]);
  });

  test("an invalid regular expression", () => {
    const text = ["rules:", "  - pattern: '^PKI-(['", "    roles: [a]", ""].join("\n");
    const [p, ...more] = problems(text);
    expect(more).toEqual([]);
    expect(p).toMatch(/^roles\.yaml line 2: rules\[0\]\.pattern: invalid regular expression: .+/);
  });

  test("top-level problems: default, unmapped, rules", () => {
    const text = ["default: []", "unmapped: delete", "rules: {}", ""].join("\n");
    expect(problems(text)).toEqual([
      "roles.yaml line 1: default: must be a non-empty list of role names or ids (got an empty list); to give users in no mapped group no access, use unmapped: deactivate",
      'roles.yaml line 2: unmapped: must be default or deactivate (got "delete")',
      "roles.yaml line 3: rules: must be a list of rules (got an empty object)",
    ]);
  });

  test("rules is required; a rule must be an object", () => {
    expect(problems("default: [a]\n")).toEqual([
      "roles.yaml line 1: rules: required: a list of rules (may be empty: everyone then gets the default roles)",
    ]);
    expect(problems("rules:\n  - DigiCert Admins\n")).toEqual([
      'roles.yaml line 2: rules[0]: must be an object with one of group, externalId or pattern, and roles (got "DigiCert Admins")',
    ]);
  });

  test("an empty file or a non-object document", () => {
    expect(problems("")).toEqual([
      "roles.yaml line 1: (top level): must be an object with rules (and optionally default, unmapped), got an empty file",
    ]);
    expect(problems("# only a comment\n- a\n")[0]).toMatch(/^roles\.yaml line 2: \(top level\): must be an object/);
  });

  test("all problems are reported at once, in file order", () => {
    const text = ["rules:", "  - grup: a", "    roles: [a]", "  - group: b", "    roles: []", "unmapped: never", ""].join("\n");
    const ps = problems(text);
    expect(ps.map((p) => /line (\d+)/.exec(p)![1])).toEqual(["2", "5", "6"]);
  });

  test("YAML syntax errors carry line and column, and nothing else is reported", () => {
    const text = ["rules:", "  - group: a", '    roles: ["x"', "  - group: b", ""].join("\n");
    const ps = problems(text);
    expect(ps.length).toBeGreaterThan(0);
    for (const p of ps) expect(p).toMatch(/^roles\.yaml line \d+, column \d+: YAML syntax error: /);
    expect(problems("rules: []\nrules: []\n")).toEqual([
      expect.stringMatching(/^roles\.yaml line 2, column 1: YAML syntax error: Map keys must be unique/),
    ]);
  });

  test("tabs for indentation are a syntax error with its line", () => {
    expect(problems("rules:\n\t- group: a\n")[0]).toMatch(/^roles\.yaml line 2, column \d+: YAML syntax error/);
  });
});

describe("loadRoleMappingFile", () => {
  const dir = mkdtempSync(join(tmpdir(), "role-mapping-"));

  test("reads a file and uses its path as the source", () => {
    const path = join(dir, "ok.yaml");
    writeFileSync(path, "\uFEFFrules:\n  - group: a\n    roles: [b]\n");
    const spec = loadRoleMappingFile(path, "one");
    expect(spec.source).toBe(path);
    expect(spec.rules[0].describe).toBe('rule 1 (group "a", line 2)');
  });

  test("problems name the path", () => {
    const path = join(dir, "bad.yaml");
    writeFileSync(path, "rules:\n  - group: a\n    roles: []\n");
    expect(() => loadRoleMappingFile(path, "one")).toThrow(`${path} line 3: rules[0].roles`);
  });

  test("a missing file is a RoleMappingError naming the path", () => {
    const path = join(dir, "nope.yaml");
    let err: unknown;
    try {
      loadRoleMappingFile(path, "certcentral");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RoleMappingError);
    expect((err as RoleMappingError).problems).toEqual([`${path}: cannot read the role mapping file: file not found`]);
  });

  test("a directory is refused", () => {
    expect(() => loadRoleMappingFile(dir, "certcentral")).toThrow(`${dir}: cannot read the role mapping file: is a directory, not a file`);
  });
});
