import * as cc from "../../../src/digicert/certcentral/mapping";
import * as one from "../../../src/digicert/one/mapping";
import type { DigiCertUserInput } from "../../../src/digicert";

const base: DigiCertUserInput = { username: "jo.doe+x@corp", firstName: "Jo", lastName: "Doe", email: "jo@corp.example" };

describe("CertCentral validate", () => {
  test("accepts the documented charset", () => {
    expect(cc.validate({ ...base, username: "aZ09@-_+." })).toEqual([]);
  });
  test.each(["jo doe", "jo/doe", "jö", "a%b", "a,b"])("refuses username %p by charset", (username) => {
    const p = cc.validate({ ...base, username });
    expect(p).toEqual([{ field: "username", message: expect.stringContaining("a-z A-Z 0-9 @ - _ + .") }]);
  });
  test("length limits name the neutral field and the limit", () => {
    const p = cc.validate({
      ...base,
      username: "u".repeat(256),
      firstName: "f".repeat(129),
      lastName: "l".repeat(129),
      email: `${"e".repeat(250)}@x.com`,
      jobTitle: "j".repeat(65),
      phone: "1".repeat(65),
    });
    expect(p.map((x) => x.field)).toEqual(["username", "firstName", "lastName", "email", "jobTitle", "phone"]);
    expect(p[0].message).toContain("255");
    expect(p[1].message).toContain("128");
    expect(p[4].message).toContain("64");
  });
  test("limits are inclusive", () => {
    expect(cc.validate({ ...base, username: "u".repeat(255), firstName: "f".repeat(128), jobTitle: "j".repeat(64), phone: "1".repeat(64) })).toEqual([]);
  });
  test("required fields and email shape", () => {
    const p = cc.validate({ username: "", firstName: " ", lastName: "", email: "not-an-email" });
    expect(p).toEqual([
      { field: "username", message: "username is required" },
      { field: "firstName", message: "firstName is required" },
      { field: "lastName", message: "lastName is required" },
      { field: "email", message: "email must be a valid email address" },
    ]);
  });
});

describe("ONE validate", () => {
  test("has no charset rule but a 255 limit on every field", () => {
    expect(one.validate({ ...base, username: "Jo Doe / ö" })).toEqual([]);
    const p = one.validate({ ...base, username: "u".repeat(256), phone: "1".repeat(256) });
    expect(p.map((x) => x.field)).toEqual(["username", "phone"]);
    expect(p[0].message).toContain("255");
  });
  test("required and email", () => {
    expect(one.validate({ username: "x", firstName: "", lastName: "y", email: "a@b" }).map((p) => p.field)).toEqual([
      "firstName",
      "email",
    ]);
  });
});

describe("CertCentral wire mapping", () => {
  test("create body: optional fields only when non-empty, ints for roles and container", () => {
    expect(cc.toCreateBody({ ...base, jobTitle: "", phone: null }, [5], 9)).toEqual({
      username: base.username,
      first_name: "Jo",
      last_name: "Doe",
      email: base.email,
      container: { id: 9 },
      access_roles: [{ id: 5 }],
    });
  });
  test("update body always carries job_title and telephone", () => {
    expect(cc.toUpdateBody(base)).toEqual({
      username: base.username,
      first_name: "Jo",
      last_name: "Doe",
      email: base.email,
      job_title: "",
      telephone: "",
    });
  });
  test("fromWire normalises ids, status, empties and scope", () => {
    const wire = {
      id: 125039,
      username: "john",
      first_name: "John",
      last_name: "Smith",
      email: "j@x.com",
      job_title: "",
      telephone: "555",
      status: "Active",
      container: { id: 5 },
      access_roles: [{ id: 1, name: "Administrator" }],
    };
    expect(cc.fromWire(wire, "5")).toEqual({
      id: "125039",
      username: "john",
      firstName: "John",
      lastName: "Smith",
      email: "j@x.com",
      jobTitle: null,
      phone: "555",
      status: "active",
      roleIds: ["1"],
      inScope: true,
    });
    expect(cc.fromWire(wire, "6").inScope).toBe(false);
    expect(cc.fromWire({ ...wire, container: undefined }, "6").inScope).toBe(true);
    expect(cc.fromWire(wire).inScope).toBe(true);
    expect(cc.fromWire({ ...wire, status: "weird" }).status).toBe("unknown");
    expect(() => cc.fromWire({})).toThrow();
  });
  test("toIntId", () => {
    expect(cc.toIntId("12")).toBe(12);
    expect(cc.toIntId("1e3")).toBeUndefined();
    expect(cc.toIntId("../x")).toBeUndefined();
  });
});

describe("ONE wire mapping", () => {
  test("create body always says standard and carries the account", () => {
    expect(one.toCreateBody({ ...base, phone: "1" }, ["R"], "acc")).toEqual({
      user_name: base.username,
      first_name: "Jo",
      last_name: "Doe",
      email: base.email,
      phone_number: "1",
      user_type: "standard",
      accounts: ["acc"],
      roles: ["R"],
    });
    expect(one.toCreateBody(base, [], "acc")).not.toHaveProperty("phone_number");
  });
  test("PUT body: the whole object read back, phone omitted rather than empty, roles only when known", () => {
    const raw = { id: "u1", user_name: "old", first_name: "O", last_name: "L", email: "o@x.com", phone_number: "5", accounts: [{ id: "A" }], roles: [{ id: "R1" }] };
    expect(one.toPutBody(raw, base, ["R1", "R2"])).toEqual({
      user_name: base.username,
      first_name: "Jo",
      last_name: "Doe",
      email: base.email,
      accounts: ["A"],
      roles: ["R1", "R2"],
    });
    expect(one.toPutBody(raw, null, null)).toEqual({ user_name: "old", first_name: "O", last_name: "L", email: "o@x.com", phone_number: "5", accounts: ["A"] });
    expect(one.toPutBody(raw, { ...base, phone: "7" }, null).phone_number).toBe("7");
  });
  test("roles: from roles, from applications[].roles, unknown from permissions alone", () => {
    expect(one.roleIdsOf({ roles: [{ id: "R1" }, "R2"] })).toEqual(["R1", "R2"]);
    expect(one.roleIdsOf({ roles: [] })).toEqual([]);
    expect(one.roleIdsOf({ applications: [{ id: "am", roles: [{ id: "R1" }] }, { id: "tlm", roles: ["T1"] }] })).toEqual(["R1", "T1"]);
    expect(one.roleIdsOf({ applications: [{ id: "am", name: "Account Manager", permissions: ["VIEW_USERS"] }] })).toBeNull();
    expect(one.roleIdsOf({})).toBeNull();
    expect(one.fromWire({ id: "u", applications: [{ id: "am", permissions: ["X"] }] }).roleIds).toBeNull();
  });
  test("fromWire: upper-case status, scope by accounts or primary", () => {
    const wire = { id: "u1", user_name: "a", status: "DISABLED", accounts: [{ id: "A" }], primary_account_id: "A", roles: [{ id: "R1" }] };
    expect(one.fromWire(wire, "A")).toMatchObject({ id: "u1", status: "disabled", roleIds: ["R1"], inScope: true, jobTitle: null });
    expect(one.fromWire(wire, "B").inScope).toBe(false);
    expect(one.fromWire({ ...wire, accounts: [{ id: "X" }, { id: "B" }] }, "B").inScope).toBe(true);
    expect(one.fromWire({ ...wire, accounts: undefined, primary_account_id: "B" }, "B").inScope).toBe(true);
    expect(one.fromWire({ id: "u2", status: "PENDING" }, "B")).toMatchObject({ status: "pending", inScope: true });
  });
  test("listItems accepts array and envelope", () => {
    expect(one.listItems([1]).items).toEqual([1]);
    expect(one.listItems({ items: [1, 2], total: 5 })).toEqual({ items: [1, 2], total: 5 });
    expect(() => one.listItems({ users: [] })).toThrow();
  });
});
