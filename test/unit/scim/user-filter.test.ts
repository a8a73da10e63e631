// The bridge's own RFC 7644 filter parser and its translation to the store's filter trees (Users and Groups).
import { FilterSyntaxError, parseFilter } from "../../../src/scim/filter-parser";
import { groupFilterFromExpression } from "../../../src/scim/group-filter";
import { userFilterFromExpression } from "../../../src/scim/user-filter";

describe("parseFilter", () => {
  test("precedence: and binds tighter than or; parentheses and not are kept as written", () => {
    expect(parseFilter('a eq "1" or b eq "2" and c eq "3"')).toEqual({
      kind: "or",
      left: { kind: "compare", path: { attr: "a" }, op: "eq", value: "1" },
      right: { kind: "and", left: { kind: "compare", path: { attr: "b" }, op: "eq", value: "2" }, right: { kind: "compare", path: { attr: "c" }, op: "eq", value: "3" } },
    });
    // SCIMMY turns this into "not a or not b"; De Morgan says "not a and not b": the tree keeps the not whole.
    expect(parseFilter('not (a eq "1" or b eq "2")')).toMatchObject({ kind: "not", expr: { kind: "or" } });
  });

  test("values: JSON strings with escapes, numbers, booleans, null; operators and keywords in any case", () => {
    expect(parseFilter('title EQ "say \\"hi\\""')).toMatchObject({ op: "eq", value: 'say "hi"' });
    expect(parseFilter("x gt 5.5")).toMatchObject({ op: "gt", value: 5.5 });
    expect(parseFilter("active Eq TRUE")).toMatchObject({ op: "eq", value: true });
    expect(parseFilter("title ne null")).toMatchObject({ op: "ne", value: null });
    expect(parseFilter("title pr")).toEqual({ kind: "present", path: { attr: "title" } });
  });

  test("paths: URN-qualified, sub-attributes, value paths and the trailing .sub extension", () => {
    expect(parseFilter('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "42"')).toMatchObject({
      path: { urn: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", attr: "employeeNumber" },
    });
    expect(parseFilter('emails[type eq "work" and value co "@x.com"]')).toMatchObject({ kind: "valuePath", path: { attr: "emails" }, filter: { kind: "and" } });
    expect(parseFilter('emails[type eq "work"].value eq "a@x.com"')).toMatchObject({ kind: "valuePath", then: { sub: "value", test: { op: "eq", value: "a@x.com" } } });
  });

  test.each([
    ['userName eq "a', /unterminated string/],
    ["userName eq", /needs a value/],
    ["userName like 'a'", /not a filter operator/],
    ['userName eq "a" and', /ends where an expression was expected/],
    ['(userName eq "a"', /expected '\)'/],
    ['a.b.c eq "x"', /not an attribute path/],
  ])("%s is a syntax error", (text, message) => {
    expect(() => parseFilter(text)).toThrow(FilterSyntaxError);
    expect(() => parseFilter(text)).toThrow(message);
  });

  test("a bare word is the string it spells (as Microsoft's reference server and its test collection take it)", () => {
    expect(parseFilter("name.FamilyName eq Employee and (emails.Value co example.com or emails.Value co example.org)")).toMatchObject({
      kind: "and",
      left: { kind: "compare", op: "eq", value: "Employee" },
      right: { kind: "or", left: { value: "example.com" }, right: { value: "example.org" } },
    });
    expect(parseFilter("meta.Created gt 2015-10-10T14:38:21.8617979-07:00")).toMatchObject({ op: "gt", value: "2015-10-10T14:38:21.8617979-07:00" });
    expect(parseFilter("active eq TRUE")).toMatchObject({ value: true });
    expect(parseFilter("x eq 12")).toMatchObject({ value: 12 });
  });

  test("bounded: too deep or too long is refused, not recursed into", () => {
    expect(() => parseFilter(`${"(".repeat(40)}a eq "1"${")".repeat(40)}`)).toThrow(/nests deeper than 32/);
    expect(() => parseFilter(`a eq "${"x".repeat(5000)}"`)).toThrow(/longer than 4096/);
  });
});

describe("userFilterFromExpression", () => {
  test("attribute names without case; indexed columns; dates normalised to the stored ISO form", () => {
    expect(userFilterFromExpression('USERNAME sw "Ad"')).toEqual({ field: { kind: "userName" }, op: "sw", value: "Ad" });
    expect(userFilterFromExpression('meta.LASTMODIFIED ge "2021-09-23T19:35:41Z"')).toEqual({ field: { kind: "lastModified" }, op: "ge", value: "2021-09-23T19:35:41.000Z" });
    expect(userFilterFromExpression('meta.version eq "W/\\"3\\""')).toEqual({ field: { kind: "version" }, op: "eq", value: 3 });
  });

  test("resource attributes carry their type and caseExact from the schema", () => {
    expect(userFilterFromExpression('name.FamilyName co "lov"')).toEqual({ field: { kind: "json", path: ["name", "familyName"], type: "string", caseExact: false }, op: "co", value: "lov" });
    expect(userFilterFromExpression('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager eq "m1"')).toEqual({
      field: { kind: "json", path: ["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "manager", "value"], type: "string", caseExact: false },
      op: "eq",
      value: "m1",
    });
    expect(userFilterFromExpression('phoneNumbers[type eq "mobile"]')).toEqual({
      anyElement: { attr: "phoneNumbers", where: { field: { kind: "jsonItem", sub: "type", type: "string", caseExact: false }, op: "eq", value: "mobile" } },
    });
  });

  test("emails go through the stored emails; a value path keeps its conditions on one email", () => {
    expect(userFilterFromExpression('emails[type eq "work" and value ew "@x.com"]')).toEqual({
      anyEmail: { and: [{ field: { kind: "email", column: "type" }, op: "eq", value: "work" }, { field: { kind: "email", column: "value" }, op: "ew", value: "@x.com" }] },
    });
    expect(userFilterFromExpression('emails co "@x.com"')).toEqual({ anyEmail: { field: { kind: "email", column: "value" }, op: "co", value: "@x.com" } });
  });

  test.each([
    ['nosuch eq "x"', /'nosuch' is not a User attribute/],
    ["active co true", /only eq, ne and pr apply/],
    ['active eq "yes"', /compare it with true or false/],
    ['meta.created co "2021"', /use eq, ne, gt, ge, lt or le/],
    ['meta.created gt "soon"', /not an ISO 8601 date-time/],
    ['name eq "x"', /needs a sub-attribute of name/],
    ['password eq "x"', /cannot be filtered/],
    ['urn:example:other:thing eq "x"', /not a schema whose attributes can be filtered/],
    ['emails[display eq "x"]', /emails can be filtered by value, type and primary/],
    ['emails[type eq "work" and emails[value eq "x"]]', /./],
  ])("%s is 400 invalidFilter", (text, message) => {
    let err: any;
    try {
      userFilterFromExpression(text);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ status: 400, scimType: "invalidFilter" });
    expect(err.message).toMatch(message);
  });
});

describe("groupFilterFromExpression", () => {
  test("displayName without case, members by value, Entra's probe, not", () => {
    expect(groupFilterFromExpression('displayName sw "Dig"')).toEqual({ field: { kind: "displayName" }, op: "sw", value: "Dig" });
    expect(groupFilterFromExpression('id eq "g1" and members[value eq "u1"]')).toEqual({
      and: [{ field: { kind: "id" }, op: "eq", value: "g1" }, { anyMember: { field: { kind: "memberValue" }, op: "eq", value: "u1" } }],
    });
    expect(groupFilterFromExpression('not (members eq "u1")')).toEqual({ not: { anyMember: { field: { kind: "memberValue" }, op: "eq", value: "u1" } } });
  });

  test.each([
    ['members.display eq "x"', /members are filtered by value/],
    ['title eq "x"', /not a Group attribute that can be filtered/],
    ['meta.lastModified gt "later"', /not an ISO 8601 date-time/],
    ['emails[value eq "x"]', /value filter on members only/],
  ])("%s is 400 invalidFilter", (text, message) => {
    expect(() => groupFilterFromExpression(text)).toThrow(message);
  });
});
