// SCIM filter text → the store's neutral trees (UserQuery / GroupQuery), per operator, attribute type and schema.
// test/unit/scim/user-filter.test.ts covers the parser and a first set of translations; this file covers the rest.
import { SCIMMY } from "scimmy-routers";
import { groupQueryFromFilter, userQueryFromFilter } from "../../../src/scim/filter";
import { groupFilterFromExpression } from "../../../src/scim/group-filter";
import { userFilterFromExpression } from "../../../src/scim/user-filter";

const ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const title = { kind: "json", path: ["title"], type: "string", caseExact: false };
const familyName = { kind: "json", path: ["name", "familyName"], type: "string", caseExact: false };

/** The SCIM 400 a translation throws, or a failure when it does not throw. */
function refusal(fn: () => unknown): { status: number; scimType: string; message: string } {
  try {
    fn();
  } catch (e) {
    return e as { status: number; scimType: string; message: string };
  }
  throw new Error("expected the filter to be refused");
}

describe("userFilterFromExpression: operators on resource strings", () => {
  test.each(["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"])("title %s keeps the operator and the value as written", (op) => {
    expect(userFilterFromExpression(`title ${op} "Eng"`)).toEqual({ field: title, op, value: "Eng" });
  });

  test.each(["eq", "co", "gt", "le"])("name.familyName %s reads name.familyName of the resource, case-insensitive", (op) => {
    expect(userFilterFromExpression(`name.familyName ${op} "Lovelace"`)).toEqual({ field: familyName, op, value: "Lovelace" });
  });

  test("pr carries no value", () => {
    expect(userFilterFromExpression("title pr")).toEqual({ field: title, op: "pr" });
  });

  test("a core-URN-qualified path is the same as the bare one", () => {
    expect(userFilterFromExpression('urn:ietf:params:scim:schemas:core:2.0:User:title eq "x"')).toEqual(userFilterFromExpression('title eq "x"'));
    expect(userFilterFromExpression('urn:ietf:params:scim:schemas:core:2.0:User:name.familyName eq "x"')).toEqual({ field: familyName, op: "eq", value: "x" });
  });

  test("eq null and ne null are kept; other operators with null are refused naming the attribute", () => {
    expect(userFilterFromExpression("title eq null")).toEqual({ field: title, op: "eq", value: null });
    expect(userFilterFromExpression("title ne null")).toEqual({ field: title, op: "ne", value: null });
    expect(refusal(() => userFilterFromExpression("title co null")).message).toMatch("'title co null': only eq and ne compare with null");
  });

  test("a number compared with a string attribute is refused", () => {
    expect(refusal(() => userFilterFromExpression("title eq 5")).message).toMatch("'title' is a string: compare it with a quoted value");
  });

  test("a reference attribute (profileUrl) is a string", () => {
    expect(userFilterFromExpression('profileUrl sw "https://"')).toEqual({ field: { kind: "json", path: ["profileUrl"], type: "string", caseExact: false }, op: "sw", value: "https://" });
  });
});

describe("userFilterFromExpression: columns and case-exactness", () => {
  test("userName is its own (case-insensitive) column; the value is passed as written", () => {
    expect(userFilterFromExpression('userName eq "Alice@Example.COM"')).toEqual({ field: { kind: "userName" }, op: "eq", value: "Alice@Example.COM" });
  });

  test.each(["id", "externalId"])("%s is a case-exact column (caseExact in SCIMMY's schema)", (attr) => {
    expect(SCIMMY.Schemas.User.definition.attributes.find((a: { name: string }) => a.name === attr)?.config.caseExact).toBe(true);
    expect(userFilterFromExpression(`${attr.toUpperCase()} co "Ab"`)).toEqual({ field: { kind: attr }, op: "co", value: "Ab" });
  });

  test("a sub-attribute of a simple column attribute is refused", () => {
    expect(refusal(() => userFilterFromExpression('userName.value eq "x"')).message).toMatch("'userName.value': userName has no sub-attributes");
  });
});

describe("userFilterFromExpression: booleans", () => {
  test("active eq true / ne false, bare literals in any case", () => {
    expect(userFilterFromExpression("active eq true")).toEqual({ field: { kind: "active" }, op: "eq", value: true });
    expect(userFilterFromExpression("active ne FALSE")).toEqual({ field: { kind: "active" }, op: "ne", value: false });
    expect(userFilterFromExpression("active pr")).toEqual({ field: { kind: "active" }, op: "pr" });
  });

  test('active eq "true" (a quoted string) is refused: booleans compare with the literal', () => {
    const err = refusal(() => userFilterFromExpression('active eq "true"'));
    expect(err).toMatchObject({ status: 400, scimType: "invalidFilter" });
    expect(err.message).toMatch("'active' is a boolean: compare it with true or false");
  });

  test.each(["gt", "ge", "lt", "le", "sw", "ew"])("active %s true is refused naming the operator rule", (op) => {
    expect(refusal(() => userFilterFromExpression(`active ${op} true`)).message).toMatch("'active' is a boolean: only eq, ne and pr apply");
  });

  test("emails.primary is the email column, a boolean", () => {
    expect(userFilterFromExpression("emails.primary eq true")).toEqual({ anyEmail: { field: { kind: "email", column: "primary" }, op: "eq", value: true } });
    expect(refusal(() => userFilterFromExpression('emails.primary eq "yes"')).message).toMatch("'emails.primary' is a boolean");
  });
});

describe("userFilterFromExpression: meta", () => {
  test.each([
    ["2021-09-23T21:35:41+02:00", "2021-09-23T19:35:41.000Z"],
    ["2021-09-23T12:35:41.5-07:00", "2021-09-23T19:35:41.500Z"],
    ["2021-09-23T19:35:41.123Z", "2021-09-23T19:35:41.123Z"],
    ["2021-09-24T01:05:41+05:30", "2021-09-23T19:35:41.000Z"],
  ])("meta.created gt %s is normalised to UTC %s", (given, stored) => {
    expect(userFilterFromExpression(`meta.created gt "${given}"`)).toEqual({ field: { kind: "created" }, op: "gt", value: stored });
  });

  test("meta.lastModified takes a bare (unquoted) date-time too", () => {
    expect(userFilterFromExpression("meta.lastModified le 2021-09-23T21:35:41+02:00")).toEqual({ field: { kind: "lastModified" }, op: "le", value: "2021-09-23T19:35:41.000Z" });
  });

  test("meta.version: weak ETag, strong-looking ETag and bare digits are the stored counter", () => {
    expect(userFilterFromExpression('meta.version ne "W/\\"7\\""')).toEqual({ field: { kind: "version" }, op: "ne", value: 7 });
    expect(userFilterFromExpression('meta.version eq "\\"7\\""')).toEqual({ field: { kind: "version" }, op: "eq", value: 7 });
    expect(userFilterFromExpression('meta.version eq "7"')).toEqual({ field: { kind: "version" }, op: "eq", value: 7 });
  });

  test("meta.version with an ordering operator or a non-version is refused", () => {
    expect(refusal(() => userFilterFromExpression('meta.version gt "W/\\"3\\""')).message).toMatch(`'meta.version' is compared with eq or ne and a version such as W/"3"`);
    expect(refusal(() => userFilterFromExpression('meta.version eq "abc"')).message).toMatch("'meta.version' is compared with eq or ne");
  });

  test("meta.resourceType is a constant: eq User is everything, eq Group is nothing", () => {
    expect(userFilterFromExpression('meta.resourceType eq "user"')).toEqual({ and: [] });
    expect(userFilterFromExpression('meta.resourceType eq "Group"')).toEqual({ or: [] });
    expect(userFilterFromExpression('meta.resourceType ne "Group"')).toEqual({ and: [] });
    expect(userFilterFromExpression("meta.resourceType pr")).toEqual({ and: [] });
  });

  test("meta.location is not filterable; the message lists what is", () => {
    expect(refusal(() => userFilterFromExpression('meta.location eq "x"')).message).toMatch(
      "'meta.location' is not filterable (meta.created, meta.lastModified, meta.version and meta.resourceType are)",
    );
  });

  test("a date-time compared with a number is refused", () => {
    expect(refusal(() => userFilterFromExpression("meta.created gt 2021")).message).toMatch("'meta.created' is a date-time: compare it with a quoted value");
  });
});

describe("userFilterFromExpression: the enterprise extension", () => {
  test("employeeNumber and department are read under the extension's key of the resource", () => {
    expect(userFilterFromExpression(`${ENT}:employeeNumber eq "42"`)).toEqual({
      field: { kind: "json", path: [ENT, "employeeNumber"], type: "string", caseExact: false },
      op: "eq",
      value: "42",
    });
    expect(userFilterFromExpression(`${ENT}:department pr`)).toEqual({ field: { kind: "json", path: [ENT, "department"], type: "string", caseExact: false }, op: "pr" });
  });

  test("the extension URN and its attribute names match without case", () => {
    expect(userFilterFromExpression(`${ENT.toUpperCase()}:EMPLOYEENUMBER eq "42"`)).toEqual(userFilterFromExpression(`${ENT}:employeeNumber eq "42"`));
  });

  test("manager.displayName is a sub-attribute of the complex manager", () => {
    expect(userFilterFromExpression(`${ENT}:manager.displayName co "Bo"`)).toEqual({
      field: { kind: "json", path: [ENT, "manager", "displayName"], type: "string", caseExact: false },
      op: "co",
      value: "Bo",
    });
  });

  test("an attribute the extension does not define is refused naming it", () => {
    expect(refusal(() => userFilterFromExpression(`${ENT}:nickName eq "x"`)).message).toMatch(`'${ENT}:nickName' is not an attribute of the enterprise extension`);
    expect(refusal(() => userFilterFromExpression(`${ENT}:id eq "x"`)).message).toMatch("is not an attribute of the enterprise extension");
  });

  test("the enterprise extension takes no value filter", () => {
    expect(refusal(() => userFilterFromExpression(`${ENT}:manager[value eq "x"]`)).message).toMatch("only User's multi-valued attributes take value filters");
  });
});

describe("userFilterFromExpression: emails", () => {
  const email = (column: string, op: string, value?: unknown) => ({ field: { kind: "email", column }, op, ...(value === undefined ? {} : { value }) });

  test("emails eq / emails.value / emails.type are tests on one stored email", () => {
    expect(userFilterFromExpression('emails eq "a@x.com"')).toEqual({ anyEmail: email("value", "eq", "a@x.com") });
    expect(userFilterFromExpression('emails.value sw "a"')).toEqual({ anyEmail: email("value", "sw", "a") });
    expect(userFilterFromExpression('emails.type eq "work"')).toEqual({ anyEmail: email("type", "eq", "work") });
    expect(userFilterFromExpression("emails pr")).toEqual({ anyEmail: email("value", "pr") });
  });

  test("emails[primary eq true].value eq … keeps both tests on the same email", () => {
    expect(userFilterFromExpression('emails[primary eq true].value eq "a@x.com"')).toEqual({
      anyEmail: { and: [email("primary", "eq", true), email("value", "eq", "a@x.com")] },
    });
  });

  test("a value path with or and not inside keeps its logic", () => {
    expect(userFilterFromExpression('emails[type eq "work" or not (value ew "@x.com")]')).toEqual({
      anyEmail: { or: [email("type", "eq", "work"), { not: email("value", "ew", "@x.com") }] },
    });
  });

  test("separate emails tests joined by and are separate anyEmail nodes (possibly different emails)", () => {
    expect(userFilterFromExpression('emails.type eq "work" and emails.value ew "@x.com"')).toEqual({
      and: [{ anyEmail: email("type", "eq", "work") }, { anyEmail: email("value", "ew", "@x.com") }],
    });
  });

  test.each([
    ['emails.display eq "x"', "'emails.display': emails can be filtered by value, type and primary"],
    ['emails.nope eq "x"', "'emails.nope': emails has no sub-attribute 'nope'"],
    ['emails[value.x eq "x"]', "inside emails[…] name a sub-attribute of emails alone"],
    ['emails.value[type eq "x"]', "a value filter follows the multi-valued attribute itself"],
    ['emails[type eq "work"].display eq "x"', "'emails[…].display': emails can be filtered by value, type and primary"],
  ])("%s is refused: %s", (text, message) => {
    expect(refusal(() => userFilterFromExpression(text)).message).toMatch(message);
  });
});

describe("userFilterFromExpression: other multi-valued attributes and refusals", () => {
  test("phoneNumbers.value is an element test; primary inside is a boolean", () => {
    expect(userFilterFromExpression('phoneNumbers.value co "555"')).toEqual({
      anyElement: { attr: "phoneNumbers", where: { field: { kind: "jsonItem", sub: "value", type: "string", caseExact: false }, op: "co", value: "555" } },
    });
    expect(userFilterFromExpression('phoneNumbers[primary eq true].value sw "+1"')).toEqual({
      anyElement: {
        attr: "phoneNumbers",
        where: {
          and: [
            { field: { kind: "jsonItem", sub: "primary", type: "boolean", caseExact: false }, op: "eq", value: true },
            { field: { kind: "jsonItem", sub: "value", type: "string", caseExact: false }, op: "sw", value: "+1" },
          ],
        },
      },
    });
  });

  test("x509Certificates.value is binary and caseExact", () => {
    expect(userFilterFromExpression('x509Certificates.value eq "MIIB"')).toMatchObject({ anyElement: { where: { field: { type: "string", caseExact: true } } } });
  });

  test.each([
    ['groups.value eq "g1"', "filter memberships on Groups instead"],
    ['groups[value eq "g1"]', "'groups[…]': filter memberships on Groups instead"],
    ['title[value eq "x"]', "'title[…]': a value filter needs a multi-valued User attribute"],
    ['name[familyName eq "x"]', "a value filter needs a multi-valued User attribute"],
    ['name.nope eq "x"', "'name.nope' needs a sub-attribute of name (formatted, familyName, givenName"],
    ['title.x eq "x"', "'title.x': title has no sub-attributes"],
    ['schemas eq "x"', "'schemas' cannot be filtered"],
    ['Password pr', "'Password' cannot be filtered"],
    ['phoneNumbers[nope eq "x"]', "'phoneNumbers.nope': phoneNumbers has no sub-attribute 'nope'"],
    ['meta eq "x"', "'meta' is not filterable"],
  ])("%s is refused: %s", (text, message) => {
    const err = refusal(() => userFilterFromExpression(text));
    expect(err).toMatchObject({ status: 400, scimType: "invalidFilter" });
    expect(err.message).toMatch(message);
  });

  test("messages start with 'Invalid filter:'", () => {
    expect(refusal(() => userFilterFromExpression('nosuch eq "x"')).message).toBe("Invalid filter: 'nosuch' is not a User attribute");
  });

  test("name pr tests the whole name object", () => {
    expect(userFilterFromExpression("name pr")).toEqual({ field: { kind: "json", path: ["name"], type: "string", caseExact: true }, op: "pr" });
  });
});

describe("userFilterFromExpression: logic", () => {
  const u = (value: string) => ({ field: { kind: "userName" }, op: "eq", value });

  test("not over an or stays one not (De Morgan is the store's job)", () => {
    expect(userFilterFromExpression('not (userName eq "a" or userName eq "b")')).toEqual({ not: { or: [u("a"), u("b")] } });
  });

  test("and binds tighter than or; parentheses override", () => {
    expect(userFilterFromExpression('userName eq "a" or userName eq "b" and userName eq "c"')).toEqual({ or: [u("a"), { and: [u("b"), u("c")] }] });
    expect(userFilterFromExpression('(userName eq "a" or userName eq "b") and userName eq "c"')).toEqual({ and: [{ or: [u("a"), u("b")] }, u("c")] });
  });

  test("a refusal deep inside logic still names the attribute", () => {
    expect(refusal(() => userFilterFromExpression('userName eq "a" and not (active gt true)')).message).toMatch("'active' is a boolean: only eq, ne and pr apply");
  });
});

describe("userQueryFromFilter", () => {
  test("a SCIMMY filter with its text becomes a where tree from the text", () => {
    const f = new SCIMMY.Types.Filter('userName eq "A" and not (title pr)');
    expect(userQueryFromFilter(f)).toEqual({ where: { and: [{ field: { kind: "userName" }, op: "eq", value: "A" }, { not: { field: title, op: "pr" } }] } });
  });

  test("no filter, or blank text with an empty parse, is undefined (all users)", () => {
    expect(userQueryFromFilter(undefined)).toBeUndefined();
    expect(userQueryFromFilter(null)).toBeUndefined();
    expect(userQueryFromFilter(Object.assign([], { expression: "  " }))).toBeUndefined();
  });

  test("a parsed filter without text falls back to the simple eq forms (anyOf)", () => {
    expect(userQueryFromFilter([{ userName: ["eq", "A"], active: ["eq", true] }, { emails: { type: ["eq", "work"], value: ["eq", "a@x.com"] } }])).toEqual({
      anyOf: [
        [
          { attr: "userName", value: "A" },
          { attr: "active", value: true },
        ],
        [{ attr: "email", value: "a@x.com", type: "work" }],
      ],
    });
  });

  test("the fallback refuses other operators naming the operator, attribute and the supported forms", () => {
    const err = refusal(() => userQueryFromFilter([{ title: ["eq", "x"] }]));
    expect(err.message).toMatch("Filtering on 'title' is not supported. Supported: userName eq");
    expect(refusal(() => userQueryFromFilter([{ userName: ["co", "x"] }])).message).toMatch("Operator 'co' is not supported on 'userName'");
    expect(refusal(() => userQueryFromFilter([{ active: ["eq", "true"] }])).message).toMatch("'active' must be compared with true or false");
  });

  test("a text filter error is a SCIM 400 invalidFilter", () => {
    expect(refusal(() => userQueryFromFilter({ expression: "active gt true" }))).toMatchObject({ status: 400, scimType: "invalidFilter" });
  });
});

describe("groupFilterFromExpression", () => {
  const member = (op: string, value?: string) => ({ field: { kind: "memberValue" }, op, ...(value === undefined ? {} : { value }) });

  test.each(["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"])("displayName %s and externalId %s are their columns", (op) => {
    expect(groupFilterFromExpression(`displayName ${op} "Eng"`)).toEqual({ field: { kind: "displayName" }, op, value: "Eng" });
    expect(groupFilterFromExpression(`EXTERNALID ${op} "Eng"`)).toEqual({ field: { kind: "externalId" }, op, value: "Eng" });
  });

  test("members, members.value and members[value …] are all the member id; pr too", () => {
    expect(groupFilterFromExpression('members.value eq "u1"')).toEqual({ anyMember: member("eq", "u1") });
    expect(groupFilterFromExpression('members[value sw "u"]')).toEqual({ anyMember: member("sw", "u") });
    expect(groupFilterFromExpression("members pr")).toEqual({ anyMember: member("pr") });
    expect(groupFilterFromExpression('members[value ne "u1"].value sw "u"')).toEqual({ anyMember: { and: [member("ne", "u1"), member("sw", "u")] } });
  });

  test("the core Group URN (any case) qualifies attributes", () => {
    expect(groupFilterFromExpression('urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq "x"')).toEqual({ field: { kind: "displayName" }, op: "eq", value: "x" });
  });

  test("meta dates are normalised, version from an ETag, resourceType a constant", () => {
    expect(groupFilterFromExpression('meta.lastModified ge "2021-09-23T21:35:41+02:00"')).toEqual({ field: { kind: "lastModified" }, op: "ge", value: "2021-09-23T19:35:41.000Z" });
    expect(groupFilterFromExpression('meta.created lt "2021-09-23T19:35:41Z"')).toEqual({ field: { kind: "created" }, op: "lt", value: "2021-09-23T19:35:41.000Z" });
    expect(groupFilterFromExpression('meta.version eq "W/\\"2\\""')).toEqual({ field: { kind: "version" }, op: "eq", value: 2 });
    expect(groupFilterFromExpression('meta.resourceType eq "Group"')).toEqual({ and: [] });
    expect(groupFilterFromExpression('meta.resourceType eq "User"')).toEqual({ or: [] });
  });

  test.each([
    ['urn:ietf:params:scim:schemas:core:2.0:User:displayName eq "x"', "'urn:ietf:params:scim:schemas:core:2.0:User' is not the Group schema"],
    ['displayName.x eq "x"', "'displayName.x': displayName has no sub-attributes"],
    ['members.type eq "User"', "'members.type': members are filtered by value (the member's id)"],
    ['members[display eq "x"]', "'members.display': members are filtered by value"],
    ['members[value eq "u" and members[value eq "v"]]', "value filters do not nest (inside members[…])"],
    ['members.value[value eq "x"]', "Groups take a value filter on members only"],
    ['meta.location eq "x"', "'meta.location' is not filterable"],
    ['meta.version lt "W/\\"2\\""', "'meta.version' is compared with eq or ne"],
    ["displayName eq true", "'displayName' is a string: compare it with a quoted value"],
    ['meta.created sw "2021"', "'meta.created' is a date-time: use eq, ne, gt, ge, lt or le"],
  ])("%s is refused: %s", (text, message) => {
    const err = refusal(() => groupFilterFromExpression(text));
    expect(err).toMatchObject({ status: 400, scimType: "invalidFilter" });
    expect(err.message).toMatch(message);
  });
});

describe("groupQueryFromFilter", () => {
  test("a SCIMMY filter with text: Entra's membership probe", () => {
    expect(groupQueryFromFilter(new SCIMMY.Types.Filter('id eq "g1" and members[value eq "u1"]'))).toEqual({
      where: { and: [{ field: { kind: "id" }, op: "eq", value: "g1" }, { anyMember: { field: { kind: "memberValue" }, op: "eq", value: "u1" } }] },
    });
  });

  test("without text: the simple forms, members by value", () => {
    expect(groupQueryFromFilter([{ displayName: ["eq", "Eng"], members: { value: ["eq", "u1"] } }])).toEqual({
      anyOf: [
        [
          { attr: "displayName", value: "Eng" },
          { attr: "member", value: "u1" },
        ],
      ],
    });
    expect(refusal(() => groupQueryFromFilter([{ displayName: ["sw", "E"] }])).message).toMatch("Operator 'sw' is not supported on 'displayName'. Supported: displayName eq");
  });
});
