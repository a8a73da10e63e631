// SCIM filter → store filter tree (src/scim/user-filter.ts, group-filter.ts) → SQL (src/store/user-query.ts,
// group-query.ts), on an in-memory SQLite store without HTTP: which rows each filter returns. The translation's
// trees are tested in test/unit/scim/user-filter.test.ts; a failure here that is not there is in the SQL.
import { groupFilterFromExpression } from "../../../src/scim/group-filter";
import { userFilterFromExpression } from "../../../src/scim/user-filter";
import { openStore } from "../../../src/store";
import type { NewUserRow } from "../../../src/provisioning/records";
import type { Store } from "../../../src/provisioning/ports";

const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

function user(id: string, userName: string, opts: { active?: boolean; externalId?: string | null; emails?: { value: string; type: string | null; primary?: boolean }[]; resource?: Record<string, unknown> }): NewUserRow {
  const emails = (opts.emails ?? []).map((e) => ({ value: e.value, type: e.type, primary: e.primary ?? false }));
  return {
    id,
    userName,
    externalId: opts.externalId ?? null,
    active: opts.active ?? true,
    resource: { userName, emails, ...opts.resource },
    emails,
    digicertId: null,
    adopted: false,
  };
}

let store: Store;

beforeAll(async () => {
  store = await openStore("sqlite::memory:");
  await store.users.insert(
    user("u1", "Ada@Example.com", {
      externalId: "E1",
      emails: [{ value: "ada@x.com", type: "work", primary: true }],
      resource: { title: "Boss", name: { givenName: "Ada", familyName: "Lovelace" }, phoneNumbers: [{ type: "mobile", value: "+1" }], [ENTERPRISE]: { manager: { value: "m1" } } },
    }),
  );
  await store.users.insert(
    user("u2", "bob@example.com", {
      externalId: "e1",
      // A work address elsewhere and an @x.com address that is not work: no single email is both.
      emails: [
        { value: "bob@y.com", type: "work" },
        { value: "bob@x.com", type: "home" },
      ],
      resource: { title: "Clerk", name: { givenName: "Bob", familyName: "Grove" } },
    }),
  );
  await store.users.insert(user("u3", "carol@example.com", { active: false, resource: { name: { familyName: "Shore" } } }));
  await store.users.insert(user("u4", "adam@example.com", { emails: [{ value: "adam@x.com", type: "Work" }], resource: { phoneNumbers: [{ type: "work", value: "+2" }] } }));

  await store.groups.insert({ id: "g1", displayName: "DigiCert Admins", externalId: "G-1", resource: { displayName: "DigiCert Admins" } }, ["u1", "u2"]);
  await store.groups.insert({ id: "g2", displayName: "Sales", externalId: null, resource: { displayName: "Sales" } }, ["u2"]);
  await store.groups.insert({ id: "g3", displayName: "Empty", externalId: null, resource: { displayName: "Empty" } }, []);
});
afterAll(async () => store.close());

async function users(filter: string): Promise<string[]> {
  const { rows, total } = await store.users.list({ where: userFilterFromExpression(filter) }, { offset: 0, limit: 100 });
  expect(total).toBe(rows.length);
  return rows.map((r) => r.id).sort();
}

async function groups(filter: string): Promise<string[]> {
  const { rows } = await store.groups.list({ where: groupFilterFromExpression(filter) }, { offset: 0, limit: 100 });
  return rows.map((r) => r.id).sort();
}

describe("User filters against SQLite", () => {
  test.each([
    ['userName eq "ada@example.com"', ["u1"]],
    ['USERNAME sw "AD"', ["u1", "u4"]],
    ['userName ew "@EXAMPLE.COM"', ["u1", "u2", "u3", "u4"]],
    ['externalId eq "E1"', ["u1"]],
    ["active eq false", ["u3"]],
    ["active ne false", ["u1", "u2", "u4"]],
    ['title eq "boss"', ["u1"]],
    ['name.familyName co "ove"', ["u1", "u2"]],
    ["title pr", ["u1", "u2"]],
    ['meta.created gt "2000-01-01T00:00:00Z"', ["u1", "u2", "u3", "u4"]],
    ['meta.created lt "2000-01-01T00:00:00Z"', []],
    [`${ENTERPRISE}:manager eq "m1"`, ["u1"]],
    ['id eq "u3"', ["u3"]],
  ])("%s", async (filter, expected) => {
    expect(await users(filter)).toEqual(expected);
  });

  test("not over an or stays a not over the whole or (De Morgan), and users without the attribute count as not matching it", async () => {
    // Neither Boss nor inactive: u2 (Clerk) and u4 (no title at all).
    expect(await users('not (title eq "Boss" or active eq false)')).toEqual(["u2", "u4"]);
    // What `not a or not b` would have given: everyone.
    expect(await users('not (title eq "Boss") or not (active eq false)')).toEqual(["u1", "u2", "u3", "u4"]);
    expect(await users("not (title pr)")).toEqual(["u3", "u4"]);
  });

  test("and binds tighter than or; parentheses change it", async () => {
    expect(await users('userName sw "carol" or title eq "Boss" and active eq false')).toEqual(["u3"]);
    expect(await users('(userName sw "carol" or title eq "Boss") and active eq true')).toEqual(["u1"]);
  });

  test("a value path holds its conditions on one email; outside one, each may hold on a different email", async () => {
    expect(await users('emails[type eq "work" and value ew "@x.com"]')).toEqual(["u1", "u4"]);
    expect(await users('emails.type eq "work" and emails.value ew "@x.com"')).toEqual(["u1", "u2", "u4"]);
    expect(await users('emails[type eq "work"].value co "bob"')).toEqual(["u2"]);
    expect(await users('emails co "@X.COM"')).toEqual(["u1", "u2", "u4"]);
  });

  test("other multi-valued attributes by element", async () => {
    expect(await users('phoneNumbers[type eq "mobile"]')).toEqual(["u1"]);
    expect(await users('phoneNumbers[type eq "work" or value eq "+1"]')).toEqual(["u1", "u4"]);
    expect(await users("not (phoneNumbers pr)")).toEqual(["u2", "u3"]);
  });

  test("values are bound, never SQL: quotes and wildcards are plain characters", async () => {
    expect(await users(`userName eq "x' or '1'='1"`)).toEqual([]);
    expect(await users('userName co "%"')).toEqual([]);
    expect(await users('userName sw "_da"')).toEqual([]);
  });

  test("a page counts every match and returns its window", async () => {
    const page = await store.users.list({ where: userFilterFromExpression('userName ew "example.com"') }, { offset: 1, limit: 2 });
    expect(page.total).toBe(4);
    expect(page.rows).toHaveLength(2);
  });
});

describe("Group filters against SQLite", () => {
  test.each([
    ['displayName eq "digicert admins"', ["g1"]],
    ['displayName sw "Dig"', ["g1"]],
    ['externalId eq "G-1"', ["g1"]],
    ['externalId eq "g-1"', []],
    ['members[value eq "u2"]', ["g1", "g2"]],
    ['members eq "u1"', ["g1"]],
    ['not (members eq "u1")', ["g2", "g3"]],
    ["members pr", ["g1", "g2"]],
    ["not (members pr)", ["g3"]],
    ['members[value eq "u1"] and members[value eq "u2"]', ["g1"]],
    ['displayName eq "Sales" or members.value eq "u1"', ["g1", "g2"]],
  ])("%s", async (filter, expected) => {
    expect(await groups(filter)).toEqual(expected);
  });
});
