// The PATCH normaliser on its own: what Okta and Entra send (notes/idp.md) → RFC 7644 PatchOp that SCIMMY reads.
// Through HTTP these cases are covered by the SCIM integration tests; here a failure names the rewrite that broke.
import { SCIMMY } from "scimmy-routers";
import { canonicalPath, normaliseUserBody, normaliseUserPatch, PATCH_OP_URN, patchEnvelope } from "../../../src/scim/patch-normaliser";

const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const msg = (...Operations: unknown[]) => ({ schemas: [PATCH_OP_URN], Operations });

/** The SCIM error a call throws (a SCIMMY.Types.Error: status, scimType, message). */
function errorOf(fn: () => unknown): any {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected an error");
}

describe("normaliseUserPatch: the envelope", () => {
  test("empty Operations (the MS validator) is null: no change", () => {
    expect(normaliseUserPatch(msg())).toBeNull();
    expect(normaliseUserPatch({ Operations: [] })).toBeNull();
  });

  test("Entra's body without schemas gets the PatchOp URN; other envelope keys are kept", () => {
    const out = normaliseUserPatch({ Operations: [{ op: "replace", path: "active", value: false }] });
    expect(out).toEqual({ schemas: [PATCH_OP_URN], Operations: [{ op: "replace", path: "active", value: false }] });
    // A wrong schemas value is left for SCIMMY to refuse, not silently replaced.
    expect(patchEnvelope({ schemas: ["urn:other"], Operations: [] }).schemas).toEqual(["urn:other"]);
  });

  test.each([
    [null, /must be an object/],
    [[], /must be an object/],
    ["x", /must be an object/],
    [{ schemas: [PATCH_OP_URN] }, /need an 'Operations' array/],
    [{ Operations: { op: "replace" } }, /need an 'Operations' array/],
  ])("%j is 400 invalidSyntax", (body, message) => {
    const err = errorOf(() => normaliseUserPatch(body));
    expect(err).toBeInstanceOf(SCIMMY.Types.Error);
    expect(err).toMatchObject({ status: 400, scimType: "invalidSyntax" });
    expect(err.message).toMatch(message);
  });

  test("the caller's body and stored user are not modified", () => {
    const body = { Operations: [{ op: "Replace", path: 'emails[type eq "work"].value', value: "a@x.com" }] };
    const current = { userName: "a", emails: [{ type: "home", value: "h@x.com" }] };
    const copyBody = structuredClone(body);
    const copyCurrent = structuredClone(current);
    normaliseUserPatch(body, current);
    expect(body).toEqual(copyBody);
    expect(current).toEqual(copyCurrent);
  });
});

describe("normaliseUserPatch: each operation", () => {
  test("Entra's capitalised ops become lower case", () => {
    const out = normaliseUserPatch(msg({ op: "Replace", path: "displayName", value: "A" }, { op: "ADD", path: "title", value: "T" }, { op: "Remove", path: "nickName" }));
    expect(out!.Operations).toEqual([
      { op: "replace", path: "displayName", value: "A" },
      { op: "add", path: "title", value: "T" },
      { op: "remove", path: "nickName" },
    ]);
  });

  test("an unknown op, a non-object operation and a non-string path are refused, naming the operation", () => {
    expect(errorOf(() => normaliseUserPatch(msg({ op: "add", path: "title", value: "x" }, { op: "Move", path: "title" })))).toMatchObject({
      status: 400,
      scimType: "invalidSyntax",
      message: expect.stringMatching(/^operation 2: unsupported op 'Move'/),
    });
    expect(errorOf(() => normaliseUserPatch(msg("replace")))).toMatchObject({ scimType: "invalidSyntax", message: "operation 1 is not an object" });
    expect(errorOf(() => normaliseUserPatch(msg({ path: "title", value: "x" })))).toMatchObject({ scimType: "invalidSyntax", message: expect.stringContaining("unsupported op 'undefined'") });
    expect(errorOf(() => normaliseUserPatch(msg({ op: "replace", path: 7, value: "x" })))).toMatchObject({ scimType: "invalidPath", message: "operation 1: path must be a string" });
  });

  test('Entra\'s disable and enable: "False"/"True" on a boolean path become booleans, in any case', () => {
    const ops = (value: unknown) => normaliseUserPatch(msg({ op: "Replace", path: "active", value }))!.Operations;
    expect(ops("False")).toEqual([{ op: "replace", path: "active", value: false }]);
    expect(ops("True")).toEqual([{ op: "replace", path: "active", value: true }]);
    expect(ops("TRUE")).toEqual([{ op: "replace", path: "active", value: true }]);
    expect(ops(false)).toEqual([{ op: "replace", path: "active", value: false }]);
    // Not a boolean spelling: left for SCIMMY to refuse rather than guessed.
    expect(ops("no")).toEqual([{ op: "replace", path: "active", value: "no" }]);
  });

  test("a string that only looks like a boolean on a string attribute stays a string", () => {
    expect(normaliseUserPatch(msg({ op: "replace", path: "title", value: "False" }))!.Operations).toEqual([{ op: "replace", path: "title", value: "False" }]);
  });

  test("string booleans inside multi-valued entries (primary) become booleans", () => {
    const out = normaliseUserPatch(msg({ op: "add", path: "emails", value: [{ value: "a@x.com", type: "work", primary: "True" }] }));
    expect(out!.Operations).toEqual([{ op: "add", path: "emails", value: [{ value: "a@x.com", type: "work", primary: true }] }]);
  });

  test("paths are spelled as the schema spells them (SCIMMY matches case-sensitively; RFC 7644 says case does not matter)", () => {
    const out = normaliseUserPatch(msg({ op: "replace", path: "NAME.GIVENNAME", value: "A" }, { op: "replace", path: "Active", value: "False" }));
    expect(out!.Operations).toEqual([
      { op: "replace", path: "name.givenName", value: "A" },
      // Canonical first, then typed: "Active" is recognised as the boolean it is.
      { op: "replace", path: "active", value: false },
    ]);
  });

  test("Entra's bare manager id becomes {value}, under any spelling of the enterprise URN", () => {
    const out = normaliseUserPatch(
      msg(
        { op: "Add", path: `${ENTERPRISE}:manager`, value: "m-1" },
        { op: "replace", path: `${ENTERPRISE.toLowerCase()}:Manager`, value: "m-2" },
        { op: "replace", path: `${ENTERPRISE}:manager`, value: { value: "m-3" } },
        { op: "replace", path: `${ENTERPRISE}:department`, value: "Sales" },
      ),
    );
    expect(out!.Operations).toEqual([
      { op: "add", path: `${ENTERPRISE}:manager`, value: { value: "m-1" } },
      { op: "replace", path: `${ENTERPRISE}:manager`, value: { value: "m-2" } },
      { op: "replace", path: `${ENTERPRISE}:manager`, value: { value: "m-3" } },
      { op: "replace", path: `${ENTERPRISE}:department`, value: "Sales" },
    ]);
  });
});

describe('normaliseUserPatch: typed entries (emails[type eq "work"].value)', () => {
  const WORK = 'emails[type eq "work"].value';

  test("no work email yet: the replace becomes an add of a new work entry (SCIMMY would answer noTarget)", () => {
    const current = { userName: "a", emails: [{ type: "home", value: "h@x.com" }] };
    expect(normaliseUserPatch(msg({ op: "Replace", path: WORK, value: "w@x.com" }), current)!.Operations).toEqual([
      { op: "add", path: "emails", value: [{ type: "work", value: "w@x.com" }] },
    ]);
    // Without a stored user (or without emails at all) the same.
    expect(normaliseUserPatch(msg({ op: "add", path: WORK, value: "w@x.com" }))!.Operations).toEqual([{ op: "add", path: "emails", value: [{ type: "work", value: "w@x.com" }] }]);
  });

  test("a work email exists (type compared without case): SCIMMY updates it in place, the filter spelled as stored", () => {
    const current = { emails: [{ type: "Work", value: "old@x.com", primary: true }] };
    // replace → add: the same for a singular sub-attribute, without SCIMMY's remove-then-add (see the paths tests).
    expect(normaliseUserPatch(msg({ op: "replace", path: WORK, value: "new@x.com" }), current)!.Operations).toEqual([
      { op: "add", path: 'emails[type eq "Work"].value', value: "new@x.com" },
    ]);
  });

  test("the path is canonicalised first: EMAILS[TYPE EQ \"work\"].VALUE is recognised", () => {
    expect(normaliseUserPatch(msg({ op: "replace", path: 'EMAILS[TYPE EQ "work"].VALUE', value: "w@x.com" }), { emails: [] })!.Operations).toEqual([
      { op: "add", path: "emails", value: [{ type: "work", value: "w@x.com" }] },
    ]);
  });

  test("a later operation of the same message sees the entry an earlier one created", () => {
    const out = normaliseUserPatch(msg({ op: "replace", path: WORK, value: "w@x.com" }, { op: "replace", path: 'emails[type eq "work"].display', value: "Work" }), { emails: [] });
    expect(out!.Operations).toEqual([
      { op: "add", path: "emails", value: [{ type: "work", value: "w@x.com" }] },
      { op: "add", path: 'emails[type eq "work"].display', value: "Work" },
    ]);
  });

  test("phone numbers and addresses too; without a sub-attribute the value's keys make the entry", () => {
    const out = normaliseUserPatch(
      msg({ op: "replace", path: 'phoneNumbers[type eq "mobile"].value', value: "+1 555" }, { op: "add", path: 'addresses[type eq "work"]', value: { locality: "Lehi", country: "US" } }),
      {},
    );
    expect(out!.Operations).toEqual([
      { op: "add", path: "phoneNumbers", value: [{ type: "mobile", value: "+1 555" }] },
      { op: "add", path: "addresses", value: [{ type: "work", locality: "Lehi", country: "US" }] },
    ]);
  });

  test("a remove of a typed entry is not rewritten (there is nothing to create)", () => {
    expect(normaliseUserPatch(msg({ op: "remove", path: WORK }), { emails: [] })!.Operations).toEqual([{ op: "remove", path: WORK }]);
  });

  test("SCIMMY applies the rewritten message: the user gains a work email and keeps the home one", async () => {
    const current = { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: "a@x.com", active: true, emails: [{ type: "home", value: "h@x.com" }] };
    const normalised = normaliseUserPatch(
      { Operations: [{ op: "Replace", path: WORK, value: "w@x.com" }, { op: "Replace", path: "active", value: "False" }, { op: "Replace", value: { "name.givenName": "Ann" } }] },
      current,
    );
    const patched: any = await new SCIMMY.Messages.PatchOp(normalised as never).apply(new SCIMMY.Schemas.User(current));
    expect(patched.active).toBe(false);
    expect(patched.name.givenName).toBe("Ann");
    expect(patched.emails.map((e: any) => [e.type, e.value])).toEqual([
      ["home", "h@x.com"],
      ["work", "w@x.com"],
    ]);
  });
});

describe("normaliseUserPatch: an operation without path", () => {
  test("Entra's dotted and mis-cased keys, string booleans and a bare manager in one value", () => {
    const out = normaliseUserPatch(
      msg({
        op: "Replace",
        value: { "name.GivenName": "Ann", Active: "False", displayName: "Ann B", [`${ENTERPRISE}:manager`]: "m-9", [`${ENTERPRISE}:department`]: "Ops" },
      }),
    );
    expect(out!.Operations).toEqual([
      {
        op: "replace",
        value: { "name.givenName": "Ann", active: false, displayName: "Ann B", [`${ENTERPRISE}:manager`]: { value: "m-9" }, [`${ENTERPRISE}:department`]: "Ops" },
      },
    ]);
  });

  test("Okta's deactivation: replace with value {active: false}; a blank path counts as none", () => {
    expect(normaliseUserPatch(msg({ op: "replace", value: { active: false } }))!.Operations).toEqual([{ op: "replace", value: { active: false } }]);
    expect(normaliseUserPatch(msg({ op: "replace", path: "  ", value: { active: "True" } }))!.Operations).toEqual([{ op: "replace", value: { active: true } }]);
  });

  test("a key with a filter is passed through as written", () => {
    const key = 'emails[type eq "work"].value';
    expect(normaliseUserPatch(msg({ op: "add", value: { [key]: "w@x.com" } }))!.Operations).toEqual([{ op: "add", value: { [key]: "w@x.com" } }]);
  });

  test("remove without path is noTarget; a value that is not an object is invalidValue", () => {
    expect(errorOf(() => normaliseUserPatch(msg({ op: "Remove" })))).toMatchObject({ status: 400, scimType: "noTarget", message: "operation 1: remove needs a path" });
    for (const value of [undefined, null, "x", ["a"], 3]) {
      expect(errorOf(() => normaliseUserPatch(msg({ op: "replace", path: "title", value: "ok" }, { op: "replace", value })))).toMatchObject({
        status: 400,
        scimType: "invalidValue",
        message: "operation 2: an operation without path needs an object value",
      });
    }
  });
});

describe("normaliseUserBody (POST and PUT bodies)", () => {
  test('Entra\'s "active": "True" and primary "False" become booleans; other strings stay', () => {
    expect(normaliseUserBody({ userName: "a", active: "True", title: "True", emails: [{ value: "a@x.com", primary: "False" }] })).toEqual({
      userName: "a",
      active: true,
      title: "True",
      emails: [{ value: "a@x.com", primary: false }],
    });
  });

  test("the enterprise extension's bare manager becomes {value}, whatever the key's case; an object is left alone", () => {
    expect(normaliseUserBody({ [ENTERPRISE]: { Manager: "m-1", department: "Ops" } })).toEqual({ [ENTERPRISE]: { Manager: { value: "m-1" }, department: "Ops" } });
    expect(normaliseUserBody({ [ENTERPRISE.toLowerCase()]: { manager: { value: "m-2", displayName: "Boss" } } })).toEqual({
      [ENTERPRISE.toLowerCase()]: { manager: { value: "m-2", displayName: "Boss" } },
    });
    expect(normaliseUserBody({ [`${ENTERPRISE}:manager`]: "m-3" })).toEqual({ [`${ENTERPRISE}:manager`]: { value: "m-3" } });
  });

  test("the input is not modified; anything but an object is returned as it is", () => {
    const body = { active: "False", [ENTERPRISE]: { manager: "m" } };
    const copy = structuredClone(body);
    normaliseUserBody(body);
    expect(body).toEqual(copy);
    for (const v of [null, undefined, "x", 1, [{ active: "True" }]]) expect(normaliseUserBody(v)).toBe(v);
  });
});

describe("canonicalPath", () => {
  test.each([
    ["username", "userName"],
    ["name.familyname", "name.familyName"],
    ['Emails[Type Eq "Work"].Value', 'emails[type eq "Work"].value'],
    // The core URN prefix is dropped: SCIMMY 1.3.5 answers noTarget for a fully qualified core path.
    ["urn:ietf:params:scim:schemas:core:2.0:user:USERNAME", "userName"],
    ["urn:ietf:params:scim:schemas:core:2.0:User:name.familyName", "name.familyName"],
    // Entra's older forms of the enterprise manager: a dot after the URN, or no URN at all.
    [`${ENTERPRISE}.manager`, `${ENTERPRISE}:manager`],
    ["Manager", `${ENTERPRISE}:manager`],
    [`${ENTERPRISE.toUpperCase()}:EMPLOYEENUMBER`, `${ENTERPRISE}:employeeNumber`],
    // Unknown names and shapes are returned unchanged (SCIMMY then names the problem).
    ["noSuchAttr", "noSuchAttr"],
    ["a.b.c", "a.b.c"],
  ])("%s → %s", (path, expected) => {
    expect(canonicalPath(path)).toBe(expected);
  });
});

describe("RFC 7643/7644 write semantics (issue 21)", () => {
  const ops = (...o: unknown[]) => normaliseUserPatch(msg(...o), { emails: [{ type: "work", value: "a@x.com", primary: true }] })?.Operations;

  test("replace with value null is a remove; an add of null changes nothing; a no-path null key is a remove", () => {
    expect(ops({ op: "Replace", path: "title", value: null }, { op: "replace", path: "phoneNumbers", value: null })).toEqual([
      { op: "remove", path: "title" },
      { op: "remove", path: "phoneNumbers" },
    ]);
    expect(ops({ op: "add", path: "title", value: null })).toBeUndefined();
    expect(ops({ op: "replace", value: { title: null, nickName: "n", "name.middleName": null } })).toEqual([
      { op: "remove", path: "title" },
      { op: "remove", path: "name.middleName" },
      { op: "replace", value: { nickName: "n" } },
    ]);
  });

  test("remove active (or replace active null) is 400 mutability saying to replace active false", () => {
    for (const op of [{ op: "remove", path: "Active" }, { op: "replace", path: "active", value: null }, { op: "replace", value: { active: null } }]) {
      const err = errorOf(() => ops(op));
      expect(err).toMatchObject({ status: 400, scimType: "mutability" });
      expect(err.message).toMatch(/replace active false/);
    }
  });

  test("replace of a complex attribute without `value` merges (add); manager is replaced whole", () => {
    expect(ops({ op: "replace", path: "name", value: { familyName: "B" } })).toEqual([{ op: "add", path: "name", value: { familyName: "B" } }]);
    expect(ops({ op: "replace", path: `${ENTERPRISE}:manager`, value: { value: "m" } })).toEqual([{ op: "replace", path: `${ENTERPRISE}:manager`, value: { value: "m" } }]);
  });

  test("replace on a filtered sub-attribute becomes an add (SCIMMY's remove-then-add loses the filter's match)", () => {
    expect(ops({ op: "replace", path: 'emails[value eq "a@x.com"].value', value: "b@x.com" })).toEqual([{ op: "add", path: 'emails[value eq "a@x.com"].value', value: "b@x.com" }]);
    // A boolean sub-attribute gets Entra's string boolean coerced.
    expect(ops({ op: "replace", path: 'emails[type eq "work"].primary', value: "False" })).toEqual([{ op: "add", path: 'emails[type eq "work"].primary', value: false }]);
  });

  test("Entra's manager forms: bare path, dotted URN, array of one, manager.value; two managers are refused", () => {
    expect(ops({ op: "Add", path: "manager", value: [{ value: "m1" }] })).toEqual([{ op: "add", path: `${ENTERPRISE}:manager`, value: { value: "m1" } }]);
    expect(ops({ op: "Replace", path: `${ENTERPRISE}.manager`, value: "m2" })).toEqual([{ op: "replace", path: `${ENTERPRISE}:manager`, value: { value: "m2" } }]);
    expect(ops({ op: "Replace", path: `${ENTERPRISE}:manager.value`, value: "m3" })).toEqual([{ op: "replace", path: `${ENTERPRISE}:manager`, value: { value: "m3" } }]);
    expect(ops({ op: "Replace", path: "manager", value: [] })).toEqual([{ op: "remove", path: `${ENTERPRISE}:manager` }]);
    expect(errorOf(() => ops({ op: "add", path: "manager", value: [{ value: "a" }, { value: "b" }] })).message).toMatch(/\{"value": "<manager id>"\}/);
  });

  test("an emails[value eq …] filter gets the stored spelling of the address (emails are not case-exact)", () => {
    expect(ops({ op: "remove", path: 'EMAILS[VALUE EQ "A@X.COM"]' })).toEqual([{ op: "remove", path: 'emails[value eq "a@x.com"]' }]);
    expect(ops({ op: "replace", path: 'emails[value eq "A@x.com"].type', value: "home" })).toEqual([{ op: "add", path: 'emails[value eq "a@x.com"].type', value: "home" }]);
    // No such address: left as written (SCIMMY answers noTarget).
    expect(ops({ op: "replace", path: 'emails[value eq "z@x.com"].value', value: "y@x.com" })).toEqual([{ op: "add", path: 'emails[value eq "z@x.com"].value', value: "y@x.com" }]);
  });

  test("entries added get nulls left out and their type in the case SCIMMY accepts", () => {
    expect(ops({ op: "add", path: "emails", value: [{ value: "b@x.com", type: "WORK", display: null }, null] })).toEqual([{ op: "add", path: "emails", value: [{ value: "b@x.com", type: "work" }] }]);
  });

  test("POST/PUT bodies: every null is left out (attributes, sub-attributes, entries, the extension's)", () => {
    expect(
      normaliseUserBody({ userName: "a", phoneNumbers: null, title: null, name: { givenName: "A", middleName: null }, emails: [null, { value: "a@x.com", type: "Home" }], [ENTERPRISE]: { manager: null, department: "D" } }),
    ).toEqual({ userName: "a", name: { givenName: "A" }, emails: [{ value: "a@x.com", type: "home" }], [ENTERPRISE]: { department: "D" } });
  });
});
