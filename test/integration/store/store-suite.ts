// The behaviour every Store must have, run against each dialect by the *.test.ts files beside this one.
import { randomUUID } from "node:crypto";
import {
  NewUserRow,
  Store,
  StoreConflictError,
  StoreVersionConflictError,
  UserCondition,
  UserQuery,
} from "../../../src/store";

export function newUser(overrides: Partial<NewUserRow> = {}): NewUserRow {
  const userName = overrides.userName ?? `user-${randomUUID()}@example.com`;
  return {
    id: randomUUID(),
    userName,
    externalId: null,
    active: true,
    resource: { userName },
    emails: [],
    digicertId: null,
    adopted: false,
    ...overrides,
  };
}

const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

export function describeStoreSuite(label: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${label}`, () => {
    let store: Store;

    beforeAll(async () => {
      store = await open();
    });

    afterAll(async () => {
      await store?.close();
    });

    beforeEach(async () => {
      // Each test starts from an empty table, through the public API only.
      const { rows } = await store.users.list(undefined, { offset: 0, limit: 10_000 });
      for (const r of rows) await store.users.delete(r.id);
    });

    const all = () => store.users.list(undefined, { offset: 0, limit: 1000 });
    const ids = async (query: UserQuery | undefined) =>
      (await store.users.list(query, { offset: 0, limit: 1000 })).rows.map((r) => r.id).sort();
    const one = (...conds: UserCondition[]): UserQuery => ({ anyOf: [conds] });

    it("pings", async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it("inserts and reads back by id and by userName in any case", async () => {
      const input = newUser({ userName: "Alice.Smith@Example.com", externalId: "ext-1", digicertId: "dc-9" });
      const inserted = await store.users.insert(input);
      expect(inserted).toMatchObject({ ...input, version: 1 });
      expect(inserted.created).toMatch(ISO_MS);
      expect(inserted.lastModified).toBe(inserted.created);

      expect(await store.users.getById(input.id)).toEqual(inserted);
      expect(await store.users.getByUserName("alice.smith@example.com")).toEqual(inserted);
      expect(await store.users.getByUserName("ALICE.SMITH@EXAMPLE.COM")).toEqual(inserted);
      expect(await store.users.getById(randomUUID())).toBeNull();
      expect(await store.users.getByUserName("nobody")).toBeNull();
      expect(await store.users.count()).toBe(1);
    });

    it("rejects a duplicate userName in any case on insert, without a partial write", async () => {
      await store.users.insert(newUser({ userName: "bob" }));
      const dup = newUser({ userName: "BoB", emails: [{ value: "dup@example.com" }] });
      const err = await store.users.insert(dup).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreConflictError);
      expect((err as StoreConflictError).attribute).toBe("userName");
      expect(await store.users.getById(dup.id)).toBeNull();
      expect(await ids(one({ attr: "email", value: "dup@example.com" }))).toEqual([]);
      expect(await store.users.count()).toBe(1);
    });

    it("rejects renaming onto a taken userName in any case, and allows changing one's own case", async () => {
      await store.users.insert(newUser({ userName: "carol" }));
      const dave = await store.users.insert(newUser({ userName: "dave" }));
      await expect(store.users.update(dave.id, { userName: "CAROL" })).rejects.toBeInstanceOf(StoreConflictError);
      const unchanged = await store.users.getById(dave.id);
      expect(unchanged).toMatchObject({ userName: "dave", version: 1 });

      const renamed = await store.users.update(dave.id, { userName: "Dave" });
      expect(renamed).toMatchObject({ userName: "Dave", version: 2 });
      expect(await store.users.getByUserName("DAVE")).toMatchObject({ id: dave.id });
    });

    describe("filters", () => {
      let a: string, b: string, c: string, d: string;

      beforeEach(async () => {
        a = (await store.users.insert(newUser({
          userName: "Anna", externalId: "EXT-A", active: true,
          emails: [{ value: "Anna@Work.example", type: "Work", primary: true }, { value: "anna@home.example", type: "home" }],
        }))).id;
        b = (await store.users.insert(newUser({
          userName: "bert", externalId: "ext-a", active: false,
          emails: [{ value: "bert@work.example", type: "work" }, { value: "shared@example.com" }],
        }))).id;
        c = (await store.users.insert(newUser({
          userName: "Cleo", externalId: null, active: true,
          emails: [{ value: "SHARED@example.com", type: "other" }],
        }))).id;
        d = (await store.users.insert(newUser({ userName: "dora", active: false }))).id;
      });

      it("id is exact", async () => {
        expect(await ids(one({ attr: "id", value: b }))).toEqual([b]);
        expect(await ids(one({ attr: "id", value: b.toUpperCase() }))).toEqual(b === b.toUpperCase() ? [b] : []);
      });

      it("userName is case-insensitive", async () => {
        expect(await ids(one({ attr: "userName", value: "ANNA" }))).toEqual([a]);
        expect(await ids(one({ attr: "userName", value: "cleo" }))).toEqual([c]);
        expect(await ids(one({ attr: "userName", value: "ann" }))).toEqual([]);
      });

      it("externalId is case-exact", async () => {
        expect(await ids(one({ attr: "externalId", value: "EXT-A" }))).toEqual([a]);
        expect(await ids(one({ attr: "externalId", value: "ext-a" }))).toEqual([b]);
        expect(await ids(one({ attr: "externalId", value: "Ext-A" }))).toEqual([]);
      });

      it("active matches booleans", async () => {
        expect(await ids(one({ attr: "active", value: true }))).toEqual([a, c].sort());
        expect(await ids(one({ attr: "active", value: false }))).toEqual([b, d].sort());
      });

      it("email value is case-insensitive, with an optional case-insensitive type", async () => {
        expect(await ids(one({ attr: "email", value: "anna@work.EXAMPLE" }))).toEqual([a]);
        expect(await ids(one({ attr: "email", value: "shared@EXAMPLE.com" }))).toEqual([b, c].sort());
        expect(await ids(one({ attr: "email", value: "shared@example.com", type: "OTHER" }))).toEqual([c]);
        expect(await ids(one({ attr: "email", value: "anna@work.example", type: "WORK" }))).toEqual([a]);
        expect(await ids(one({ attr: "email", value: "anna@work.example", type: "home" }))).toEqual([]);
        expect(await ids(one({ attr: "email", value: "nobody@example.com" }))).toEqual([]);
      });

      it("combines AND within a group and OR across groups", async () => {
        expect(await ids(one({ attr: "active", value: true }, { attr: "email", value: "shared@example.com" }))).toEqual([c]);
        expect(
          await ids({ anyOf: [[{ attr: "userName", value: "anna" }], [{ attr: "userName", value: "DORA" }]] }),
        ).toEqual([a, d].sort());
        expect(
          await ids({
            anyOf: [
              [{ attr: "active", value: false }, { attr: "externalId", value: "ext-a" }],
              [{ attr: "active", value: true }, { attr: "email", value: "anna@home.example", type: "home" }],
            ],
          }),
        ).toEqual([a, b].sort());
        // The same user matched by two groups is counted once.
        const r = await store.users.list(
          { anyOf: [[{ attr: "userName", value: "anna" }], [{ attr: "externalId", value: "EXT-A" }]] },
          { offset: 0, limit: 10 },
        );
        expect(r.total).toBe(1);
        expect(r.rows.map((x) => x.id)).toEqual([a]);
      });

      it("empty OR matches nothing, an empty AND-group and no query match everything", async () => {
        expect(await store.users.list({ anyOf: [] }, { offset: 0, limit: 10 })).toEqual({ total: 0, rows: [] });
        expect(await ids({ anyOf: [[]] })).toEqual([a, b, c, d].sort());
        expect(await ids(undefined)).toEqual([a, b, c, d].sort());
      });

      it("treats values as data, never as SQL", async () => {
        expect(await ids(one({ attr: "userName", value: "x' OR '1'='1" }))).toEqual([]);
        expect(await ids(one({ attr: "externalId", value: "%" }))).toEqual([]);
        expect(await ids(one({ attr: "email", value: "%@%" }))).toEqual([]);
      });
    });

    it("pages in created-then-id order with true totals", async () => {
      const inserted = [];
      for (let i = 0; i < 5; i++) inserted.push(await store.users.insert(newUser({ userName: `p${i}`, active: i % 2 === 0 })));
      const order = [...inserted].sort((x, y) => (x.created === y.created ? (x.id < y.id ? -1 : 1) : x.created < y.created ? -1 : 1));
      expect(order.map((r) => r.id)).toEqual(inserted.map((r) => r.id)); // created strictly increases

      const p1 = await store.users.list(undefined, { offset: 0, limit: 2 });
      const p2 = await store.users.list(undefined, { offset: 2, limit: 2 });
      const p3 = await store.users.list(undefined, { offset: 4, limit: 2 });
      expect([p1.total, p2.total, p3.total]).toEqual([5, 5, 5]);
      expect([...p1.rows, ...p2.rows, ...p3.rows].map((r) => r.id)).toEqual(order.map((r) => r.id));
      expect(p3.rows).toHaveLength(1);

      expect(await store.users.list(undefined, { offset: 0, limit: 0 })).toEqual({ total: 5, rows: [] });
      expect(await store.users.list(undefined, { offset: 10, limit: 5 })).toEqual({ total: 5, rows: [] });

      const active = await store.users.list(one({ attr: "active", value: true }), { offset: 1, limit: 1 });
      expect(active.total).toBe(3);
      expect(active.rows.map((r) => r.userName)).toEqual(["p2"]);
      expect(await store.users.list(one({ attr: "active", value: false }), { offset: 0, limit: 0 })).toEqual({ total: 2, rows: [] });
    });

    it("orders rows created in the same instant by id", async () => {
      // Bulk inserts racing each other still come back in a total, stable order.
      await Promise.all(Array.from({ length: 8 }, (_, i) => store.users.insert(newUser({ userName: `r${i}` }))));
      const { rows } = await all();
      const expected = [...rows].sort((x, y) => (x.created === y.created ? (x.id < y.id ? -1 : 1) : x.created < y.created ? -1 : 1));
      expect(rows.map((r) => r.id)).toEqual(expected.map((r) => r.id));
    });

    it("updates partially, bumping version and lastModified", async () => {
      const u = await store.users.insert(newUser({ userName: "eve", externalId: "e1", digicertId: null }));
      const v2 = await store.users.update(u.id, { digicertId: "dc-1", adopted: true });
      expect(v2).toMatchObject({ userName: "eve", externalId: "e1", digicertId: "dc-1", adopted: true, version: 2, created: u.created });
      expect(v2!.lastModified > u.lastModified).toBe(true);
      expect(v2!.lastModified).toMatch(ISO_MS);

      const v3 = await store.users.update(u.id, {});
      expect(v3!.version).toBe(3);
      expect(v3!.lastModified > v2!.lastModified).toBe(true);

      const v4 = await store.users.update(u.id, { externalId: null, digicertId: null, active: false });
      expect(v4).toMatchObject({ externalId: null, digicertId: null, active: false, adopted: true, version: 4 });
      expect(await store.users.getById(u.id)).toEqual(v4);
    });

    it("keeps lastModified strictly increasing across rapid updates", async () => {
      const u = await store.users.insert(newUser());
      let prev = u.lastModified;
      for (let i = 0; i < 20; i++) {
        const next = await store.users.update(u.id, { active: i % 2 === 0 });
        expect(next!.lastModified > prev).toBe(true);
        prev = next!.lastModified;
      }
    });

    it("compare-and-sets with expectedVersion", async () => {
      const u = await store.users.insert(newUser({ userName: "frank" }));
      const v2 = await store.users.update(u.id, { externalId: "x" }, 1);
      expect(v2!.version).toBe(2);

      const err = await store.users.update(u.id, { externalId: "stale" }, 1).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreVersionConflictError);
      expect(await store.users.getById(u.id)).toEqual(v2);

      // Two writers read version 2; exactly one wins.
      const results = await Promise.allSettled([
        store.users.update(u.id, { externalId: "w1" }, 2),
        store.users.update(u.id, { externalId: "w2" }, 2),
      ]);
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
      expect(rejected).toHaveLength(1);
      expect(rejected[0]!.reason).toBeInstanceOf(StoreVersionConflictError);
      expect((await store.users.getById(u.id))!.version).toBe(3);
    });

    it("applies concurrent unconditional updates without losing any", async () => {
      const u = await store.users.insert(newUser());
      await Promise.all(Array.from({ length: 6 }, (_, i) => store.users.update(u.id, { externalId: `c${i}` })));
      expect((await store.users.getById(u.id))!.version).toBe(7);
    });

    it("returns null when updating a missing id", async () => {
      expect(await store.users.update(randomUUID(), { active: false })).toBeNull();
      expect(await store.users.update(randomUUID(), { active: false }, 1)).toBeNull();
    });

    it("deletes a user and its emails", async () => {
      const u = await store.users.insert(newUser({ emails: [{ value: "gone@example.com" }] }));
      const keep = await store.users.insert(newUser());
      expect(await store.users.delete(u.id)).toBe(true);
      expect(await store.users.delete(u.id)).toBe(false);
      expect(await store.users.getById(u.id)).toBeNull();
      expect(await ids(one({ attr: "email", value: "gone@example.com" }))).toEqual([]);
      expect(await store.users.count()).toBe(1);
      expect(await ids(undefined)).toEqual([keep.id]);
      // The userName is free again.
      await expect(store.users.insert(newUser({ userName: u.userName.toUpperCase() }))).resolves.toBeTruthy();
    });

    it("round-trips JSON resources and booleans exactly, including unicode", async () => {
      const resource = {
        schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
        userName: "zoë",
        name: { givenName: "Zoë", familyName: "Ødegård-Łukasiewicz", formatted: "Zoë 🚀 山田" },
        displayName: "Ζωή \"quoted\" \\ back\nslash",
        active: false,
        nested: { deep: { list: [1, 2.5, -3, 0, null, true, false, "", { x: [] }], empty: {} } },
        big: 9007199254740991,
        tiny: 1e-7,
        "key with spaces and ünïcödé": "✓",
      };
      const u = await store.users.insert(newUser({ userName: "zoë", resource, active: false, adopted: true }));
      const back = (await store.users.getById(u.id))!;
      expect(back.resource).toEqual(resource);
      expect(back.active).toBe(false);
      expect(back.adopted).toBe(true);
      expect(typeof back.active).toBe("boolean");
      expect(await store.users.getByUserName("ZOË")).toMatchObject({ id: u.id });

      const flipped = await store.users.update(u.id, { active: true, adopted: false, resource: { ...resource, userName: "ZOË" } });
      expect(flipped).toMatchObject({ active: true, adopted: false });
      expect((await store.users.getById(u.id))!.resource).toEqual({ ...resource, userName: "ZOË" });
    });

    it("stores emails in order with a normalised shape, and replaces them only when given", async () => {
      const u = await store.users.insert(
        newUser({ emails: [{ value: "First@Example.com", type: "Work", primary: true }, { value: "second@example.com" }] }),
      );
      expect(u.emails).toEqual([
        { value: "First@Example.com", type: "Work", primary: true },
        { value: "second@example.com", type: null, primary: false },
      ]);

      const same = await store.users.update(u.id, { active: false });
      expect(same!.emails).toEqual(u.emails);

      const replaced = await store.users.update(u.id, { emails: [{ value: "third@example.com", type: "home", primary: true }] });
      expect(replaced!.emails).toEqual([{ value: "third@example.com", type: "home", primary: true }]);
      expect(await ids(one({ attr: "email", value: "first@example.com" }))).toEqual([]);
      expect(await ids(one({ attr: "email", value: "THIRD@example.com", type: "Home" }))).toEqual([u.id]);

      const cleared = await store.users.update(u.id, { emails: [] });
      expect(cleared!.emails).toEqual([]);
      expect(await ids(one({ attr: "email", value: "third@example.com" }))).toEqual([]);
    });
  });
}
