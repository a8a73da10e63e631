// The filter trees' SQL (src/store/user-query.ts, group-query.ts) on a real store, without HTTP: exactly which ids
// each SCIM filter returns, on SQLite always and on PostgreSQL when TEST_DATABASE_URL is set (own schema per run).
import { openStore } from "../../../src/store";
import type { GroupQuery, UserQuery, UserSort } from "../../../src/provisioning/queries";
import type { NewUserRow } from "../../../src/provisioning/records";
import type { Store } from "../../../src/provisioning/ports";
import { groupFilterFromExpression } from "../../../src/scim/group-filter";
import { userFilterFromExpression, userSortFromConstraints } from "../../../src/scim/user-filter";
import { dropSchema, PG_URL, uniqueSchema } from "../../support/databases";

const ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

if (!PG_URL) console.warn("PostgreSQL variant of the filter SQL tests skipped: TEST_DATABASE_URL not set");

/** `iso` (UTC, as stored) written in another offset: the same instant, other text. */
function inOffset(iso: string, hours: number): string {
  const shifted = new Date(Date.parse(iso) + hours * 3600_000).toISOString().slice(0, -1);
  const sign = hours < 0 ? "-" : "+";
  return `${shifted}${sign}${String(Math.abs(hours)).padStart(2, "0")}:00`;
}

interface Seed {
  id: string;
  userName: string;
  externalId?: string;
  active?: boolean;
  /** undefined: no title key; null: "title": null in the resource. */
  title?: string | null;
  familyName?: string;
  emails?: { value: string; type?: string | null; primary?: boolean }[];
  ent?: Record<string, string>;
  phoneNumbers?: { value: string; type?: string; primary?: boolean }[];
}

// Inserted in this order (created increases); u03 and u07 are updated afterwards (lastModified, version 2).
const SEEDS: Seed[] = [
  { id: "u01", userName: "Alice@Example.com", externalId: "EXT-A", title: "Engineer", familyName: "Lovelace", emails: [{ value: "alice@x.com", type: "work", primary: true }, { value: "alice@home.org", type: "home" }], ent: { employeeNumber: "100", department: "R&D" }, phoneNumbers: [{ value: "+1 555 0100", type: "work", primary: true }] },
  { id: "u02", userName: "bob", externalId: "ext-a", active: false, title: "engineering MANAGER", familyName: "Builder", emails: [{ value: "Bob@Y.com", type: "Work", primary: true }], ent: { employeeNumber: "200", department: "Sales" }, phoneNumbers: [{ value: "+44 20 7946 0000", type: "Mobile" }] },
  { id: "u03", userName: "CAROL", title: "50% off", emails: [{ value: "carol@x.com", type: "home", primary: true }, { value: "carol@work.net", type: "work" }], ent: { employeeNumber: "300" } },
  { id: "u04", userName: "dave", title: "a_b", emails: [{ value: "dave@x.com", type: "work" }], ent: { department: "r&d" } },
  { id: "u05", userName: "eve", active: false, title: "back\\slash" },
  { id: "u06", userName: "frank", title: "", emails: [{ value: "frank@x.co", type: null }] },
  { id: "u07", userName: "grace", title: null },
  { id: "u08", userName: "heidi", externalId: "EXT-B" },
  { id: "u09", userName: "ivan", active: false, title: "500 axb" },
  { id: "u10", userName: "Zoë", title: "Ärger" },
  { id: "u11", userName: "rocket", title: "🚀 Launch 🚀" },
];
const ALL = SEEDS.map((s) => s.id);
const except = (...ids: string[]) => ALL.filter((id) => !ids.includes(id));

function rowOf(s: Seed): NewUserRow {
  const resource: Record<string, unknown> = { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: s.userName, active: s.active ?? true };
  if (s.title !== undefined) resource.title = s.title;
  if (s.familyName) resource.name = { familyName: s.familyName };
  if (s.emails) resource.emails = s.emails;
  if (s.ent) resource[ENT] = s.ent;
  if (s.phoneNumbers) resource.phoneNumbers = s.phoneNumbers;
  return {
    id: s.id,
    userName: s.userName,
    externalId: s.externalId ?? null,
    active: s.active ?? true,
    resource,
    emails: s.emails ?? [],
    digicertId: null,
    adopted: false,
  };
}

type Variant = [label: string, dialect: "sqlite" | "postgres", open: () => Promise<Store>];
const variants: Variant[] = [["SQLite :memory:", "sqlite", () => openStore("sqlite::memory:")]];
const schemas: string[] = [];
const pgUrl = PG_URL;
if (pgUrl) {
  variants.push([
    "PostgreSQL",
    "postgres",
    () => {
      const pgSchema = uniqueSchema("scim_filter_sql");
      schemas.push(pgSchema);
      return openStore(pgUrl, { pgSchema });
    },
  ]);
}

afterAll(async () => {
  for (const s of schemas) await dropSchema(s);
});

describe.each(variants)("filter SQL on %s", (_label, dialect, open) => {
  let store: Store;
  const stamps = new Map<string, { created: string; lastModified: string }>();

  beforeAll(async () => {
    store = await open();
    for (const s of SEEDS) await store.users.insert(rowOf(s));
    for (const id of ["u03", "u07"]) {
      const u = (await store.users.getById(id))!;
      await store.users.update(id, { resource: { ...u.resource, nickName: "touched" } });
    }
    for (const id of ALL) {
      const u = (await store.users.getById(id))!;
      stamps.set(id, { created: u.created, lastModified: u.lastModified });
    }
    await store.groups.insert({ id: "g1", displayName: "Engineering", externalId: "G-ENG", resource: { displayName: "Engineering" } }, ["u01", "u02", "u04"]);
    await store.groups.insert({ id: "g2", displayName: "Eng_Ops", externalId: null, resource: { displayName: "Eng_Ops" } }, ["u04"]);
    await store.groups.insert({ id: "g3", displayName: "Sales 100%", externalId: "g-eng", resource: { displayName: "Sales 100%" } }, ["u02"]);
    await store.groups.insert({ id: "g4", displayName: "Empty", externalId: null, resource: { displayName: "Empty" } }, []);
    await store.groups.addMembers("g3", ["u05"]); // version 2, the latest lastModified
  });

  afterAll(async () => {
    await store?.close();
  });

  const created = (id: string) => stamps.get(id)!.created;
  const lastModified = (id: string) => stamps.get(id)!.lastModified;

  async function users(filter: string | UserQuery, sort?: UserSort): Promise<string[]> {
    const query: UserQuery = typeof filter === "string" ? { where: userFilterFromExpression(filter) } : filter;
    const { rows, total } = await store.users.list(query, { offset: 0, limit: 100 }, sort);
    expect(total).toBe(rows.length);
    const ids = rows.map((r) => r.id);
    return sort ? ids : ids.sort();
  }
  async function groups(filter: string | GroupQuery): Promise<string[]> {
    const query: GroupQuery = typeof filter === "string" ? { where: groupFilterFromExpression(filter) } : filter;
    return (await store.groups.list(query, { offset: 0, limit: 100 })).rows.map((r) => r.id).sort();
  }

  test("the seed has distinct created and lastModified stamps in the intended order", () => {
    const byCreated = [...ALL].sort((a, b) => created(a).localeCompare(created(b)));
    expect(byCreated).toEqual(ALL);
    const byModified = [...ALL].sort((a, b) => lastModified(a).localeCompare(lastModified(b)));
    expect(byModified).toEqual([...except("u03", "u07"), "u03", "u07"]);
    expect(new Set(byModified.map(lastModified)).size).toBe(ALL.length);
  });

  describe("every operator on a resource string (title), case-insensitive", () => {
    test.each([
      ['title eq "ENGINEER"', ["u01"]],
      ['title ne "engineer"', except("u01")],
      ['title co "GINEER"', ["u01", "u02"]],
      ['title sw "Engineer"', ["u01", "u02"]],
      ['title ew "manager"', ["u02"]],
      ['title gt "b"', ["u01", "u02", "u05", "u10", "u11"]],
      ['title ge "engineer"', ["u01", "u02", "u10", "u11"]],
      ['title lt "a_b"', ["u03", "u06", "u09"]],
      ['title le "a_b"', ["u03", "u04", "u06", "u09"]],
    ])("%s", async (filter, expected) => {
      expect(await users(filter)).toEqual(expected);
    });

    test("name.familyName (a sub-attribute of the resource) compares without case", async () => {
      expect(await users('name.familyName eq "LOVELACE"')).toEqual(["u01"]);
      expect(await users('name.familyName sw "b"')).toEqual(["u02"]);
      expect(await users("name.familyName pr")).toEqual(["u01", "u02"]);
    });
  });

  describe("operators on columns", () => {
    test.each([
      ['userName eq "alice@EXAMPLE.com"', ["u01"]],
      ['userName ne "BOB"', except("u02")],
      ['userName co "AROL"', ["u03"]],
      ['userName sw "Ali"', ["u01"]],
      ['userName ew ".COM"', ["u01"]],
      ['userName gt "Rocket"', ["u10"]],
      ['userName ge "rocket"', ["u10", "u11"]],
      ['userName lt "BOB"', ["u01"]],
      ['userName le "BOB"', ["u01", "u02"]],
      ['userName eq "ZOË"', ["u10"]],
    ])("userName is case-insensitive: %s", async (filter, expected) => {
      expect(await users(filter)).toEqual(expected);
    });

    test.each([
      ['externalId eq "EXT-A"', ["u01"]],
      ['externalId eq "ext-a"', ["u02"]],
      ['externalId co "EXT"', ["u01", "u08"]],
      ['externalId sw "ext"', ["u02"]],
      ['externalId ne "EXT-A"', except("u01")],
      ['externalId gt "EXT-A"', ["u02", "u08"]],
      ["externalId pr", ["u01", "u02", "u08"]],
    ])("externalId is case-exact: %s", async (filter, expected) => {
      expect(await users(filter)).toEqual(expected);
    });

    test("id is case-exact", async () => {
      expect(await users('id eq "u05"')).toEqual(["u05"]);
      expect(await users('id eq "U05"')).toEqual([]);
      expect(await users('id sw "u1"')).toEqual(["u10", "u11"]);
      expect(await users('id le "u02"')).toEqual(["u01", "u02"]);
    });

    test("active: eq, ne, not and pr", async () => {
      expect(await users("active eq false")).toEqual(["u02", "u05", "u09"]);
      expect(await users("active ne false")).toEqual(except("u02", "u05", "u09"));
      expect(await users("not (active eq true)")).toEqual(["u02", "u05", "u09"]);
      expect(await users("active pr")).toEqual(ALL);
    });
  });

  describe("LIKE metacharacters match literally", () => {
    test.each([
      ['title co "0%"', ["u03"]],
      ['title sw "50%"', ["u03"]],
      ['title ew "% off"', ["u03"]],
      ['title co "a_b"', ["u04"]],
      ['title ew "_b"', ["u04"]],
      ['title sw "_"', []],
      ['title co "k\\\\s"', ["u05"]],
      ['title ew "\\\\slash"', ["u05"]],
      ['title co "%"', ["u03"]],
    ])("%s", async (filter, expected) => {
      expect(await users(filter)).toEqual(expected);
    });

    test("in group displayNames too", async () => {
      expect(await groups('displayName co "_"')).toEqual(["g2"]);
      expect(await groups('displayName ew "0%"')).toEqual(["g3"]);
      expect(await groups('displayName sw "eng_"')).toEqual(["g2"]);
    });
  });

  describe("presence and NULL-safe negation", () => {
    test("pr is false for an absent key, a JSON null and an empty string", async () => {
      expect(await users("title pr")).toEqual(except("u06", "u07", "u08"));
      expect(await users("not (title pr)")).toEqual(["u06", "u07", "u08"]);
    });

    test("eq null matches an absent key and a JSON null, not an empty string; ne null the rest", async () => {
      expect(await users("title eq null")).toEqual(["u07", "u08"]);
      expect(await users("title ne null")).toEqual(except("u07", "u08"));
    });

    test('users without a title match title ne "x" and not (title eq "x")', async () => {
      expect(await users('title ne "engineer"')).toEqual(expect.arrayContaining(["u06", "u07", "u08"]));
      expect(await users('not (title eq "engineer")')).toEqual(except("u01"));
    });

    test("not of a range includes the users the range cannot apply to", async () => {
      expect(await users('not (title gt "b")')).toEqual(except("u01", "u02", "u05", "u10", "u11"));
    });

    test("not (a or b) is not a and not b (De Morgan), NULLs included", async () => {
      expect(await users('not (title eq "a_b" or externalId eq "EXT-A")')).toEqual(except("u01", "u04"));
    });

    test("not (emails pr) is the users without a stored email", async () => {
      expect(await users("emails pr")).toEqual(["u01", "u02", "u03", "u04", "u06"]);
      expect(await users("not (emails pr)")).toEqual(["u05", "u07", "u08", "u09", "u10", "u11"]);
    });
  });

  describe("enterprise extension attributes in the stored resource", () => {
    test.each([
      [`${ENT}:employeeNumber eq "200"`, ["u02"]],
      [`${ENT}:employeeNumber gt "150"`, ["u02", "u03"]],
      [`${ENT}:department eq "R&D"`, ["u01", "u04"]],
      [`${ENT}:department pr`, ["u01", "u02", "u04"]],
      [`not (${ENT}:department eq "sales")`, except("u02")],
      [`${ENT}:department ne "sales"`, except("u02")],
    ])("%s", async (filter, expected) => {
      expect(await users(filter)).toEqual(expected);
    });
  });

  describe("emails", () => {
    test("a value path keeps both conditions on one email", async () => {
      expect(await users('emails[type eq "work" and value ew "@x.com"]')).toEqual(["u01", "u04"]);
    });

    test("separate emails tests may be satisfied by different emails", async () => {
      expect(await users('emails.type eq "work" and emails.value ew "@x.com"')).toEqual(["u01", "u03", "u04"]);
    });

    test("emails[primary eq true].value: only the primary email's value counts", async () => {
      expect(await users('emails[primary eq true].value ew "@x.com"')).toEqual(["u01", "u03"]);
      expect(await users('emails[primary eq true].value eq "BOB@y.COM"')).toEqual(["u02"]);
      expect(await users('emails[primary eq true].value eq "dave@x.com"')).toEqual([]);
    });

    test("email value and type compare without case", async () => {
      expect(await users('emails eq "bob@y.com"')).toEqual(["u02"]);
      expect(await users('emails[type eq "WORK"]')).toEqual(["u01", "u02", "u03", "u04"]);
    });

    test("an email without a type is found by not (type pr)", async () => {
      expect(await users("emails[not (type pr)]")).toEqual(["u06"]);
    });
  });

  describe("other multi-valued attributes (elements of the stored resource)", () => {
    test.each([
      ["phoneNumbers[primary eq true]", ["u01"]],
      ["phoneNumbers[primary ne true]", ["u02"]],
      ['phoneNumbers[type eq "MOBILE"]', ["u02"]],
      ['phoneNumbers.value sw "+44"', ["u02"]],
      ['phoneNumbers[type eq "work" and value co "555"]', ["u01"]],
      ['phoneNumbers[type eq "mobile" and value co "555"]', []],
      ["phoneNumbers pr", ["u01", "u02"]],
      ["not (phoneNumbers pr)", except("u01", "u02")],
    ])("%s", async (filter, expected) => {
      expect(await users(filter)).toEqual(expected);
    });
  });

  describe("meta", () => {
    test("meta.lastModified ge an instant written with a +02:00 offset", async () => {
      const since = inOffset(lastModified("u09"), 2);
      expect(since).toMatch(/\+02:00$/);
      expect(await users(`meta.lastModified ge "${since}"`)).toEqual(["u03", "u07", "u09", "u10", "u11"]);
      expect(await users(`meta.lastModified gt "${since}"`)).toEqual(["u03", "u07", "u10", "u11"]);
    });

    test("meta.created eq an instant written with a -05:00 offset is that one user", async () => {
      expect(await users(`meta.created eq "${inOffset(created("u05"), -5)}"`)).toEqual(["u05"]);
      expect(await users(`meta.created ne "${inOffset(created("u05"), -5)}"`)).toEqual(except("u05"));
    });

    test("created before an instant but modified after it: the updated users", async () => {
      const t = inOffset(created("u04"), 2);
      expect(await users(`meta.created lt "${t}" and meta.lastModified gt "${t}"`)).toEqual(["u03"]);
    });

    // Stamps hold milliseconds; a value finer than that (Microsoft's test collection sends 7 fractional digits) lies
    // between two stamps: the user created at ….345Z is before ….3459Z and never equal to it.
    test("meta.created lt an instant with sub-millisecond digits includes the user created in that millisecond", async () => {
      const finer = created("u05").replace("Z", "9Z");
      expect(await users(`meta.created lt "${finer}"`)).toEqual(["u01", "u02", "u03", "u04", "u05"]);
    });
    test("meta.created eq an instant with sub-millisecond digits matches no stored (millisecond) stamp", async () => {
      const finer = created("u05").replace("Z", "9Z");
      expect(await users(`meta.created eq "${finer}"`)).toEqual([]);
    });

    test("meta.version counts updates", async () => {
      expect(await users('meta.version eq "W/\\"2\\""')).toEqual(["u03", "u07"]);
      expect(await users('meta.version ne "W/\\"1\\""')).toEqual(["u03", "u07"]);
    });
  });

  describe("and/or precedence", () => {
    test("and binds tighter than or", async () => {
      expect(await users('userName eq "bob" or userName eq "carol" and active eq false')).toEqual(["u02"]);
      expect(await users('userName eq "carol" and active eq false or userName eq "bob"')).toEqual(["u02"]);
    });

    test("parentheses group an or before an and", async () => {
      expect(await users('(userName eq "bob" or userName eq "carol") and active eq true')).toEqual(["u03"]);
    });

    test("meta.resourceType is a constant inside logic", async () => {
      expect(await users('meta.resourceType eq "Group" or id eq "u01"')).toEqual(["u01"]);
      expect(await users('meta.resourceType eq "User" and id eq "u01"')).toEqual(["u01"]);
      expect(await users('meta.resourceType eq "User"')).toEqual(ALL);
      expect(await users('meta.resourceType eq "Group"')).toEqual([]);
    });
  });

  describe("hand-built trees", () => {
    test("a where tree built by hand: case-exact json title, or with not", async () => {
      const q: UserQuery = {
        where: {
          or: [
            { field: { kind: "json", path: ["title"], type: "string", caseExact: true }, op: "eq", value: "engineer" },
            { and: [{ field: { kind: "id" }, op: "sw", value: "u0" }, { not: { field: { kind: "json", path: ["title"], type: "string", caseExact: false }, op: "pr" } }] },
          ],
        },
      };
      // caseExact: "Engineer" (u01) is not "engineer"; the and-branch is u06, u07, u08.
      expect(await users(q)).toEqual(["u06", "u07", "u08"]);
    });

    test("the simple anyOf form: (a AND b) OR c, emails by value and type", async () => {
      expect(await users({ anyOf: [[{ attr: "active", value: false }, { attr: "userName", value: "EVE" }], [{ attr: "email", value: "ALICE@x.com", type: "WORK" }]] })).toEqual(["u01", "u05"]);
      expect(await users({ anyOf: [] })).toEqual([]);
      expect(await users({ anyOf: [[]] })).toEqual(ALL);
    });

    test("empty and / empty or are true / false", async () => {
      expect(await users({ where: { and: [] } })).toEqual(ALL);
      expect(await users({ where: { or: [] } })).toEqual([]);
      expect(await users({ where: { not: { or: [] } } })).toEqual(ALL);
    });
  });

  describe("paging and sorting", () => {
    test("startIndex/count: offset and limit over creation order; total counts every match", async () => {
      const page = await store.users.list(undefined, { offset: 2, limit: 3 });
      expect(page.total).toBe(ALL.length);
      expect(page.rows.map((r) => r.id)).toEqual(["u03", "u04", "u05"]);
      const filtered = await store.users.list({ where: userFilterFromExpression("title pr") }, { offset: 1, limit: 2 });
      expect(filtered.total).toBe(8);
      expect(filtered.rows.map((r) => r.id)).toEqual(["u02", "u03"]);
    });

    test("count 0 returns the total only; an offset past the end returns no rows", async () => {
      expect(await store.users.list({ where: userFilterFromExpression("active eq false") }, { offset: 0, limit: 0 })).toEqual({ total: 3, rows: [] });
      expect(await store.users.list({ where: userFilterFromExpression("active eq false") }, { offset: 3, limit: 10 })).toEqual({ total: 3, rows: [] });
    });

    test("listViews pages and totals equal list()'s at every startIndex and count, past the end and short pages too", async () => {
      // listViews reads the page first and counts only when the page cannot tell the total (a full page, or an empty
      // one past the first): every combination must give list()'s answer, which always counts.
      const filters = ["active eq false", "title pr", 'emails.value eq "bob@y.com"', 'emails.type eq "work"', 'userName eq "nobody"'];
      const sort = userSortFromConstraints({ sortBy: "title", sortOrder: "descending" })!;
      for (const f of filters) {
        for (const s of [undefined, sort]) {
          for (const offset of [0, 1, 2, 3, 7, 8, 9, 20]) {
            for (const limit of [0, 1, 2, 3, 8, 100]) {
              const query: UserQuery = { where: userFilterFromExpression(f) };
              const expected = await store.users.list(query, { offset, limit }, s);
              const viewed = await store.users.listViews(query, { offset, limit }, s, false);
              expect({ f, offset, limit, total: viewed.total, ids: viewed.rows.map((v) => v.row.id) }).toEqual({ f, offset, limit, total: expected.total, ids: expected.rows.map((r) => r.id) });
            }
          }
        }
      }
      // A page past the end still reports every match; a short page's total is the rows before it plus its own.
      expect(await store.users.listViews({ where: userFilterFromExpression("title pr") }, { offset: 8, limit: 5 }, undefined, false)).toEqual({ total: 8, rows: [] });
      const last = await store.users.listViews({ where: userFilterFromExpression("title pr") }, { offset: 6, limit: 5 }, undefined, false);
      expect({ total: last.total, ids: last.rows.map((v) => v.row.id) }).toEqual({ total: 8, ids: ["u10", "u11"] });
    });

    test("sort by title ascending: without case, missing values last, ties by id", async () => {
      const sort = userSortFromConstraints({ sortBy: "title" })!;
      const order = await users({ where: { and: [] } }, sort);
      expect(order.slice(0, 7)).toEqual(["u06", "u03", "u09", "u04", "u05", "u01", "u02"]);
      expect(order.slice(7, 9).sort()).toEqual(["u10", "u11"]);
      expect(order.slice(9)).toEqual(["u07", "u08"]);
    });

    test("sort by title descending: missing values still last, ties by id descending", async () => {
      const order = await users({ where: { and: [] } }, userSortFromConstraints({ sortBy: "title", sortOrder: "descending" })!);
      expect(order.slice(2, 9)).toEqual(["u02", "u01", "u05", "u04", "u09", "u03", "u06"]);
      expect(order.slice(9)).toEqual(["u08", "u07"]);
    });

    test("sort by an enterprise attribute with ties: ties by id, missing last, and paged", async () => {
      const sort = userSortFromConstraints({ sortBy: `${ENT}:department` })!;
      expect(await users({ where: { and: [] } }, sort)).toEqual(["u01", "u04", "u02", "u03", "u05", "u06", "u07", "u08", "u09", "u10", "u11"]);
      const desc = userSortFromConstraints({ sortBy: `${ENT}:department`, sortOrder: "descending" })!;
      expect(await users({ where: { and: [] } }, desc)).toEqual(["u02", "u04", "u01", "u11", "u10", "u09", "u08", "u07", "u06", "u05", "u03"]);
      const page = await store.users.list({ where: userFilterFromExpression("not (active eq false)") }, { offset: 1, limit: 3 }, sort);
      expect(page.total).toBe(8);
      expect(page.rows.map((r) => r.id)).toEqual(["u04", "u03", "u06"]);
    });

    test("sort by userName ignores case", async () => {
      expect(await users('userName sw "a" or userName sw "b" or userName sw "c"', userSortFromConstraints({ sortBy: "userName", sortOrder: "descending" })!)).toEqual(["u03", "u02", "u01"]);
    });

    test("groups sort by displayName without case, ties and missing externalIds last", async () => {
      const byName = await store.groups.list(undefined, { offset: 0, limit: 10 }, { by: "displayName", descending: false });
      expect(byName.rows.map((g) => g.id)).toEqual(["g4", "g2", "g1", "g3"]);
      const byExt = await store.groups.list(undefined, { offset: 0, limit: 10 }, { by: "externalId", descending: true });
      expect(byExt.rows.map((g) => g.id)).toEqual(["g3", "g1", "g4", "g2"]);
    });
  });

  describe("non-ASCII text", () => {
    // SQLite's own lower() folds ASCII only: the store folds with JavaScript's rules on both databases.
    test("title eq compares non-ASCII letters without case", async () => {
      expect(await users('title eq "ärger"')).toEqual(["u10"]);
    });

    // sw/ew count the value in characters, as SQL's substr/left/right do (an emoji is 2 UTF-16 units, 1 character).
    test("title sw with a character outside the BMP", async () => {
      expect(await users('title sw "🚀"')).toEqual(["u11"]);
    });
    test("title ew with a character outside the BMP", async () => {
      expect(await users('title ew "🚀"')).toEqual(["u11"]);
    });

    test("co with a character outside the BMP", async () => {
      expect(await users('title co "🚀 L"')).toEqual(["u11"]);
    });
  });

  describe("groups", () => {
    test.each([
      ['displayName eq "ENGINEERING"', ["g1"]],
      ['displayName ne "engineering"', ["g2", "g3", "g4"]],
      ['displayName sw "eng"', ["g1", "g2"]],
      ['displayName gt "EMPTY"', ["g1", "g2", "g3"]],
      ['displayName lt "eng_ops"', ["g4"]],
      ['externalId eq "G-ENG"', ["g1"]],
      ['externalId eq "g-eng"', ["g3"]],
      ["externalId pr", ["g1", "g3"]],
      ['externalId ne "G-ENG"', ["g2", "g3", "g4"]],
      ['not (externalId eq "G-ENG")', ["g2", "g3", "g4"]],
      ['members[value eq "u04"]', ["g1", "g2"]],
      ['members.value eq "u02"', ["g1", "g3"]],
      ['members eq "u05"', ["g3"]],
      ["members pr", ["g1", "g2", "g3"]],
      ["not (members pr)", ["g4"]],
      ['members[value ne "u04"]', ["g1", "g3"]],
      ['not (members[value eq "u04"])', ["g3", "g4"]],
      ['id eq "g1" and members[value eq "u02"]', ["g1"]],
      ['id eq "g2" and members[value eq "u02"]', []],
      ['meta.version eq "W/\\"2\\""', ["g3"]],
      ['meta.resourceType eq "Group"', ["g1", "g2", "g3", "g4"]],
    ])("%s", async (filter, expected) => {
      expect(await groups(filter)).toEqual(expected);
    });

    test("meta.lastModified ge a +02:00 instant: the group changed last", async () => {
      const g3 = (await store.groups.getById("g3"))!;
      expect(await groups(`meta.lastModified ge "${inOffset(g3.lastModified, 2)}"`)).toEqual(["g3"]);
      expect(await groups(`meta.created ge "${inOffset(g3.created, 2)}"`)).toEqual(["g3", "g4"]);
    });

    test("the simple anyOf form and a hand-built where tree", async () => {
      expect(await groups({ anyOf: [[{ attr: "displayName", value: "engineering" }, { attr: "member", value: "u01" }], [{ attr: "externalId", value: "g-eng" }]] })).toEqual(["g1", "g3"]);
      expect(await groups({ where: { anyMember: { and: [{ field: { kind: "memberValue" }, op: "sw", value: "u0" }, { not: { field: { kind: "memberValue" }, op: "eq", value: "u02" } }] } } })).toEqual(["g1", "g2", "g3"]);
    });
  });
});
