// UserService without HTTP: create, replace, deactivate, reactivate and delete a user, against an in-memory SQLite
// store and the DigiCert simulator; each test looks at the stored row, the outbox and the calls DigiCert received.
import { ConflictError, NotFoundError } from "../../../src/provisioning/errors";
import { startServices, userDraft, type Services } from "../../support/services";

const STANDARD_USER = 5; // the simulator's CertCentral "Standard User", the default role
const writes = (s: Services) => s.sim.calls.filter((c) => c.platform === "certcentral" && c.method !== "GET").map((c) => `${c.method} ${c.path}`);

describe("UserService on CertCentral", () => {
  let s: Services;
  beforeEach(async () => {
    s = await startServices({ platform: "certcentral" });
  });
  afterEach(async () => s.close());

  test("create: stored, one DigiCert user with the profile and the default role, linked and synced", async () => {
    const row = await s.users.create(userDraft("ada@example.com"));
    expect(row).toMatchObject({ userName: "ada@example.com", active: true, syncState: "synced", adopted: false, digicertEnabled: true });
    expect(row.digicertId).toMatch(/^\d+$/);
    expect(writes(s)).toEqual(["POST /user"]);
    expect(s.sim.getUser("certcentral", row.digicertId!)).toMatchObject({ username: "ada@example.com", first_name: "Ada", last_name: "Lovelace", email: "ada@example.com" });
    expect(s.sim.ccTruth(row.digicertId!)!.role_ids).toEqual([STANDARD_USER]);
    expect(await s.store.users.getById(row.id)).toMatchObject({ digicertId: row.digicertId, digicertRoleIds: [String(STANDARD_USER)] });
    const jobs = await s.store.outbox.list({ userId: row.id, limit: 10 });
    expect(jobs.map((j) => [j.kind, j.status])).toEqual([["create", "done"]]);
  });

  test("create with a userName taken in another case: ConflictError naming the holder; nothing stored or sent", async () => {
    const first = await s.users.create(userDraft("Grace@Example.com"));
    s.sim.clearCalls();
    const err = await s.users.create(userDraft("grace@example.COM")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toContain(first.id);
    expect(await s.store.users.count()).toBe(1);
    expect(s.sim.calls).toEqual([]);
  });

  test("create of a user DigiCert already has (made by hand): adopted, not created twice", async () => {
    const existing = s.sim.seedUser("certcentral", { username: "linus@example.com", first_name: "Linus", last_name: "T", email: "linus@example.com" });
    s.sim.clearCalls();
    const row = await s.users.create(userDraft("linus@example.com"));
    expect(row).toMatchObject({ adopted: true, syncState: "synced", digicertId: String(existing.id) });
    expect(writes(s)).not.toContain("POST /user");
    expect(s.sim.listUsers("certcentral").filter((u) => u.username === "linus@example.com")).toHaveLength(1);
  });

  test("create DigiCert refuses: the error reaches the caller and nothing is left in the store", async () => {
    s.sim.failNext({ platform: "certcentral", method: "POST", path: /^\/user$/, status: 400, body: { errors: [{ code: "invalid_param|email", message: "Invalid email." }] } });
    await expect(s.users.create(userDraft("refused@example.com"))).rejects.toThrow();
    expect(await s.store.users.getByUserName("refused@example.com")).toBeNull();
    expect(s.sim.listUsers("certcentral").some((u) => u.username === "refused@example.com")).toBe(false);
  });

  test("replace: a profile change is one DigiCert update; a change DigiCert holds nothing of makes no call", async () => {
    const row = await s.users.create(userDraft("alan@example.com"));
    s.sim.clearCalls();
    const renamed = await s.users.replace(row.id, userDraft("alan@example.com", { name: { givenName: "Alan", familyName: "Turing" } }), row.version);
    expect(renamed).toMatchObject({ version: row.version + 1, syncState: "synced", digicertId: row.digicertId });
    expect(writes(s)).toEqual([`PUT /user/${row.digicertId}`]);
    expect(s.sim.getUser("certcentral", row.digicertId!)).toMatchObject({ first_name: "Alan", last_name: "Turing" });

    s.sim.clearCalls();
    const jobsBefore = (await s.store.outbox.list({ userId: row.id, limit: 10 })).length;
    const nick = await s.users.replace(row.id, userDraft("alan@example.com", { name: { givenName: "Alan", familyName: "Turing" }, nickName: "Prof" }), renamed.version);
    expect(nick.version).toBe(renamed.version + 1);
    expect(nick.resource.nickName).toBe("Prof");
    expect(s.sim.calls).toEqual([]);
    expect(await s.store.outbox.list({ userId: row.id, limit: 10 })).toHaveLength(jobsBefore);
  });

  test("replace based on an old version: ConflictError, the newer state stays", async () => {
    const row = await s.users.create(userDraft("old@example.com"));
    await s.users.replace(row.id, userDraft("old@example.com", { title: "first" }), row.version);
    await expect(s.users.replace(row.id, userDraft("old@example.com", { title: "second" }), row.version)).rejects.toBeInstanceOf(ConflictError);
    expect((await s.store.users.getById(row.id))!.resource.title).toBe("first");
  });

  test("deactivate (active false) removes the DigiCert user (CERTCENTRAL_DEACTIVATE=delete); reactivate creates a new one", async () => {
    const row = await s.users.create(userDraft("dee@example.com"));
    s.sim.clearCalls();
    const off = await s.users.replace(row.id, userDraft("dee@example.com", { active: false }), row.version);
    expect(off).toMatchObject({ active: false, syncState: "synced" });
    expect(writes(s)).toEqual([`DELETE /user/${row.digicertId}`]);
    expect(s.sim.getUser("certcentral", row.digicertId!)).toBeUndefined();
    // Still readable in SCIM, as Okta expects of a deactivated user.
    expect(await s.users.get(row.id)).toMatchObject({ active: false });

    s.sim.clearCalls();
    const on = await s.users.replace(row.id, userDraft("dee@example.com", { active: true }), off.version);
    expect(on).toMatchObject({ active: true, syncState: "synced" });
    expect(on.digicertId).not.toBe(row.digicertId);
    expect(writes(s)).toEqual(["POST /user"]);
    expect(s.sim.listUsers("certcentral").filter((u) => u.username === "dee@example.com")).toHaveLength(1);
  });

  test("delete: the row goes, DigiCert deletes its user; a second delete is NotFound", async () => {
    const row = await s.users.create(userDraft("gone@example.com"));
    s.sim.clearCalls();
    await s.users.delete(row.id);
    expect(await s.store.users.getById(row.id)).toBeNull();
    expect(writes(s)).toEqual([`DELETE /user/${row.digicertId}`]);
    expect(s.sim.getUser("certcentral", row.digicertId!)).toBeUndefined();
    await expect(s.users.delete(row.id)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe("UserService on DigiCert ONE with ONE_DEACTIVATE=disable", () => {
  let s: Services;
  beforeEach(async () => {
    s = await startServices({ platform: "one", env: { ONE_DEACTIVATE: "disable" } });
  });
  afterEach(async () => s.close());

  test("deactivate disables the ONE user (kept, not deleted); reactivate enables the same user", async () => {
    const row = await s.users.create(userDraft("ona@example.com"));
    expect(row).toMatchObject({ syncState: "synced", digicertEnabled: true });
    // A new ONE user waits for its first sign-in.
    expect(s.sim.oneTruth(row.digicertId!)!.status).toBe("PENDING");
    const off = await s.users.replace(row.id, userDraft("ona@example.com", { active: false }), row.version);
    expect(off).toMatchObject({ active: false, digicertEnabled: false, digicertId: row.digicertId });
    expect(s.sim.oneTruth(row.digicertId!)!.status).toBe("DISABLED");
    const on = await s.users.replace(row.id, userDraft("ona@example.com", { active: true }), off.version);
    expect(on).toMatchObject({ active: true, digicertEnabled: true, digicertId: row.digicertId });
    expect(s.sim.oneTruth(row.digicertId!)!.status).toBe("ACTIVE");
    expect(s.sim.listUsers("one").filter((u) => u.user_name === "ona@example.com")).toHaveLength(1);
  });
});
