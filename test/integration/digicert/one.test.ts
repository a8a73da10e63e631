import { startSimulator, Simulator, ONE_DEFAULT_ACCOUNT } from "../../../src/simulator";
import type { DigiCertUserInput } from "../../../src/digicert";
import { clientFor, expectDigiCertError } from "./support";

const ada: DigiCertUserInput = {
  username: "ada.lovelace",
  firstName: "Ada",
  lastName: "Lovelace",
  email: "ada@example.com",
  jobTitle: "Analyst",
  phone: "+44 20 0000",
};

describe.each(["array", "envelope"] as const)("ONE client against the simulator (%s lists)", (listShape) => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ one: { listShape } });
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.reset());

  const make = (extra = {}) => clientFor(sim, "one", { oneAccountId: ONE_DEFAULT_ACCOUNT, ...extra });

  test("createUser posts a standard user into the configured account", async () => {
    const { client } = make();
    const { id } = await client.createUser(ada, ["AM_DEFAULT_USER"]);
    const [call] = sim.callsTo("one", "POST", "/user");
    expect(call.body).toEqual({
      user_name: "ada.lovelace",
      first_name: "Ada",
      last_name: "Lovelace",
      email: "ada@example.com",
      phone_number: "+44 20 0000",
      user_type: "standard",
      accounts: [ONE_DEFAULT_ACCOUNT],
      roles: ["AM_DEFAULT_USER"],
    });
    expect(call.headers["x-api-key"]).toBe("[present]");
    expect(sim.getUser("one", id)).toMatchObject({ user_type: "standard", status: "PENDING" });
    await client.close();
  });

  test("createUser without a configured account uses the key's first account; no phone when empty", async () => {
    const { client } = make({ oneAccountId: undefined });
    await client.createUser({ ...ada, phone: "" }, ["AM_READ_ONLY"]);
    const post = sim.callsTo("one", "POST", "/user")[0];
    expect(post.body.accounts).toEqual([ONE_DEFAULT_ACCOUNT]);
    expect(post.body).not.toHaveProperty("phone_number");
    expect(sim.callsTo("one", "GET", "/account")).toHaveLength(1);
    await client.close();
  });

  test("the simulator makes a service user when user_type is forgotten", async () => {
    const r = await fetch(`${sim.oneBaseUrl}/user`, {
      method: "POST",
      headers: { "x-api-key": sim.apiKey, "Content-Type": "application/json" },
      body: JSON.stringify({ user_name: "x", first_name: "X", last_name: "Y", email: "x@example.com", roles: ["AM_READ_ONLY"], accounts: [ONE_DEFAULT_ACCOUNT] }),
    });
    expect(r.status).toBe(201);
    const { id } = await r.json();
    expect(sim.getUser("one", id).user_type).toBe("service");
  });

  test("getUser maps status to lower case; unknown id is null", async () => {
    const { client } = make();
    const { id } = await client.createUser(ada, ["AM_DEFAULT_USER"]);
    expect(await client.getUser(id)).toEqual({
      id,
      username: "ada.lovelace",
      firstName: "Ada",
      lastName: "Lovelace",
      email: "ada@example.com",
      jobTitle: null,
      phone: "+44 20 0000",
      status: "pending",
      roleIds: ["AM_DEFAULT_USER"],
      inScope: true,
    });
    expect(await client.getUser("00000000-0000-4000-8000-00000000dead")).toBeNull();
    await client.close();
  });

  test("findUserByUsername: exact case-insensitive, ignores deleted users, scope from accounts", async () => {
    const { client } = make();
    const gone = sim.seedUser("one", { user_name: "Grace", status: "DELETED" });
    expect(await client.findUserByUsername("grace")).toBeNull();
    const other = sim.seedUser("one", { user_name: "GRACE", accounts: ["11111111-2222-4333-8444-555555555555"] });
    const found = await client.findUserByUsername("grace");
    expect(found).toMatchObject({ id: other.id, inScope: false });
    expect(found?.id).not.toBe(gone.id);
    const calls = sim.callsTo("one", "GET", "/user");
    expect(calls[0].query.user_name).toBe("grace");
    const both = sim.seedUser("one", {
      user_name: "hopper",
      accounts: ["11111111-2222-4333-8444-555555555555", ONE_DEFAULT_ACCOUNT],
    });
    expect(await client.findUserByUsername("Hopper")).toMatchObject({ id: both.id, inScope: true });
    await client.close();
  });

  test("findUserByUsername filters out deleted users even when the server returns them", async () => {
    const { client } = make();
    const deleted = sim.seedUser("one", { user_name: "zed", status: "DELETED" });
    sim.failNext({
      platform: "one",
      method: "GET",
      path: /^\/user$/,
      status: 200,
      body: listShape === "array" ? [deleted] : { items: [deleted], total: 1, offset: 0, limit: 100 },
    });
    expect(await client.findUserByUsername("zed")).toBeNull();
    await client.close();
  });

  test("updateUser reads the user and writes the whole object back in one PUT; an absent phone is omitted", async () => {
    const { client } = make();
    const { id } = await client.createUser(ada, ["AM_DEFAULT_USER"]);
    sim.clearCalls();
    await client.updateUser(id, { ...ada, lastName: "King", phone: null });
    expect(sim.calls.map((c) => `${c.method} ${c.path}`)).toEqual([`GET /user/${id}`, `PUT /user/${id}`]);
    expect(sim.callsTo("one", "PUT")[0].body).toEqual({
      user_name: "ada.lovelace",
      first_name: "Ada",
      last_name: "King",
      email: "ada@example.com",
      accounts: [ONE_DEFAULT_ACCOUNT],
      roles: ["AM_DEFAULT_USER"],
    });
    expect(await client.getUser(id)).toMatchObject({ lastName: "King", roleIds: ["AM_DEFAULT_USER"] });
    await client.close();
  });

  test("updateUser with roles: profile and roles in the same PUT", async () => {
    const { client } = make();
    const { id } = await client.createUser(ada, ["AM_DEFAULT_USER"]);
    sim.clearCalls();
    await client.updateUser(id, { ...ada, firstName: "Augusta" }, { grant: ["AM_READ_ONLY"], managed: ["AM_DEFAULT_USER", "AM_READ_ONLY"] });
    const puts = sim.callsTo("one", "PUT");
    expect(puts).toHaveLength(1);
    expect(puts[0].body).toMatchObject({ first_name: "Augusta", roles: ["AM_READ_ONLY"] });
    expect(await client.getUser(id)).toMatchObject({ firstName: "Augusta", roleIds: ["AM_READ_ONLY"] });
    await client.close();
  });

  test("setRoles changes only managed roles: another manager's role is kept", async () => {
    const { client } = make();
    const { id } = await client.createUser(ada, ["AM_DEFAULT_USER"]);
    const row = sim.getUser("one", id);
    sim.seedUser("one", { ...row, id, roles: ["AM_DEFAULT_USER", "AM_READ_ONLY"] });
    await client.setRoles(id, ["AM_USER_MANAGER"], { managed: ["AM_DEFAULT_USER", "AM_USER_MANAGER"] });
    expect(sim.callsTo("one", "PUT", `/user/${id}`)[0].body.roles).toEqual(["AM_READ_ONLY", "AM_USER_MANAGER"]);
    expect((await client.getUser(id))?.roleIds).toEqual(["AM_READ_ONLY", "AM_USER_MANAGER"]);
    // Without a managed list the grant replaces the user's roles.
    await client.setRoles(id, ["AM_DEFAULT_USER"]);
    expect((await client.getUser(id))?.roleIds).toEqual(["AM_DEFAULT_USER"]);
    await client.close();
  });

  test("ONE_DEACTIVATE=delete (default): disable and enable are unsupported without any call", async () => {
    const { client } = make();
    const { id } = await client.createUser(ada, ["AM_DEFAULT_USER"]);
    sim.clearCalls();
    await expectDigiCertError(client.disableUser(id), "unsupported");
    await expectDigiCertError(client.enableUser(id), "unsupported");
    expect(sim.calls).toHaveLength(0);
    expect(client.deactivation?.()).toEqual({ configured: "delete", effective: "delete" });
    await client.close();
  });

  test("ONE_DEACTIVATE=disable: disable / enable use PUT verb routes", async () => {
    const { client } = make({ oneDeactivation: "disable" });
    const { id } = await client.createUser(ada, ["AM_DEFAULT_USER"]);
    await client.disableUser(id);
    expect((await client.getUser(id))?.status).toBe("disabled");
    await client.enableUser(id);
    expect((await client.getUser(id))?.status).toBe("active");
    expect(sim.callsTo("one", undefined, /\/(disable|enable)$/).map((c) => `${c.method} ${c.path}`)).toEqual([
      `PUT /user/${id}/disable`,
      `PUT /user/${id}/enable`,
    ]);
    expect(client.deactivation?.()).toEqual({ configured: "disable", effective: "disable" });
    await client.close();
  });

  test("ONE_DEACTIVATE=disable: disabling a user DigiCert no longer has is not_found, and says nothing of the route", async () => {
    const { client } = make({ oneDeactivation: "disable" });
    await expectDigiCertError(client.disableUser("00000000-0000-4000-8000-00000000dead"), "not_found");
    expect(client.deactivation?.()).toMatchObject({ effective: "disable" });
    await client.close();
  });

  test("listRoles lists every manager's roles by default, with their application", async () => {
    const { client } = make();
    const roles = await client.listRoles();
    expect(roles.map((r) => r.id)).toEqual(["AM_ACCOUNT_MANAGER", "AM_USER_MANAGER", "AM_ACCOUNT_ADMIN", "AM_DEFAULT_USER", "AM_READ_ONLY"]);
    expect(roles[0]).toEqual({ id: "AM_ACCOUNT_MANAGER", name: "Account Manager", application: "account_manager" });
    expect(sim.callsTo("one", "GET", "/role")[0].query).toEqual({});
    await client.close();
  });

  test("deleteUser: 204 then GET 404; deleting again succeeds", async () => {
    const { client } = make();
    const { id } = await client.createUser(ada, ["AM_DEFAULT_USER"]);
    await client.deleteUser(id);
    expect(sim.getUser("one", id).status).toBe("DELETED");
    expect(await client.getUser(id)).toBeNull();
    await client.deleteUser(id);
    expect(sim.callsTo("one", "DELETE")).toHaveLength(2);
    // The user name is free again.
    await client.createUser(ada, ["AM_DEFAULT_USER"]);
    await client.close();
  });

  test("ping calls /user/me", async () => {
    const { client } = make();
    await client.ping();
    expect(sim.callsTo("one", "GET", "/user/me")).toHaveLength(1);
    await client.close();
  });

  describe("error mapping", () => {
    test("401 → auth without the key", async () => {
      const { client } = clientFor(sim, "one", { apiKey: "bad-one-key-999" });
      const e = await expectDigiCertError(client.ping(), "auth");
      expect(e.status).toBe(401);
      expect(e.message).not.toContain("bad-one-key-999");
      await client.close();
    });

    test("409 duplicate_error → duplicate (case-insensitive)", async () => {
      const { client } = make();
      await client.createUser(ada, ["AM_DEFAULT_USER"]);
      const e = await expectDigiCertError(client.createUser({ ...ada, username: "ADA.LOVELACE" }, ["AM_DEFAULT_USER"]), "duplicate");
      expect(e.code).toBe("duplicate_error");
      await client.close();
    });

    test("duplicate_error code with a 400 → duplicate; {error:{}} shape parsed", async () => {
      const { client } = make();
      sim.failNext({ platform: "one", method: "POST", status: 400, body: { error: { code: "duplicate_error", message: "Taken." } } });
      const e = await expectDigiCertError(client.createUser(ada, ["AM_DEFAULT_USER"]), "duplicate");
      expect(e.message).toContain("Taken.");
      await client.close();
    });

    test("unknown role → validation invalid_request; messages joined", async () => {
      const { client } = make();
      const e = await expectDigiCertError(client.createUser(ada, ["AM_NOPE"]), "validation");
      expect(e.code).toBe("invalid_request");
      expect(e.message).toContain("Unknown role id AM_NOPE");
      await client.close();
    });

    test("too-long and invalid fields are reported together", async () => {
      const { client } = make();
      const e = await expectDigiCertError(client.createUser({ ...ada, firstName: "f".repeat(256), email: "nope" }, ["AM_READ_ONLY"]), "validation");
      expect(e.message).toContain("first_name must be at most 255");
      expect(e.message).toContain("email is not valid");
      await client.close();
    });

    test("403 → forbidden, 404 on update → not_found", async () => {
      const { client } = make();
      await expectDigiCertError(client.updateUser("00000000-0000-4000-8000-00000000dead", ada), "not_found");
      sim.failNext({ platform: "one", status: 403, body: { error: { code: "access_denied", message: "No." } } });
      await expectDigiCertError(client.listRoles(), "forbidden");
      await client.close();
    });

    test("429 → rate_limited with Retry-After seconds and HTTP-date (beyond the retry budget: not waited for)", async () => {
      const { client } = make({ retryBudgetMs: 1000 });
      sim.failNext({ platform: "one", status: 429, headers: { "Retry-After": "7" } });
      expect((await expectDigiCertError(client.ping(), "rate_limited")).retryAfterSeconds).toBe(7);
      const at = new Date(Date.now() + 30_000).toUTCString();
      sim.failNext({ platform: "one", status: 429, headers: { "Retry-After": at } });
      const e = await expectDigiCertError(client.ping(), "rate_limited");
      expect(e.retryAfterSeconds).toBeGreaterThanOrEqual(28);
      expect(e.retryAfterSeconds).toBeLessThanOrEqual(31);
      await client.close();
    });

    test("simulated rate limit answers 429 with Retry-After", async () => {
      const limited = await startSimulator({ rateLimit: [{ count: 1, windowMs: 10_000 }] });
      try {
        const { client } = clientFor(limited, "one");
        await client.ping();
        const e = await expectDigiCertError(client.ping(), "rate_limited");
        expect(e.retryAfterSeconds).toBeGreaterThanOrEqual(9);
        await client.close();
      } finally {
        await limited.close();
      }
    });

    test("503 with Retry-After on a write → unavailable, not retried", async () => {
      const { client } = make();
      sim.failNext({ platform: "one", method: "POST", status: 503, headers: { "Retry-After": "120" } });
      const e = await expectDigiCertError(client.createUser(ada, ["AM_DEFAULT_USER"]), "unavailable");
      expect(e.retryAfterSeconds).toBe(120);
      expect(sim.callsTo("one", "POST")).toHaveLength(1);
      expect(sim.listUsers("one")).toHaveLength(1);
      await client.close();
    });
  });
});

describe.each(["missing", 400, 403, 405, 501] as const)("ONE_DEACTIVATE=disable when the disable route answers %s", (disableRoute) => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ one: { disableRoute } });
  });
  afterAll(() => sim.close());

  test("one probe: unsupported at once, remembered for the process, logged once", async () => {
    const { client, lines } = clientFor(sim, "one", { oneAccountId: ONE_DEFAULT_ACCOUNT, oneDeactivation: "disable" });
    const { id } = await client.createUser(ada, ["AM_DEFAULT_USER"]);
    const other = await client.createUser({ ...ada, username: "grace.hopper" }, ["AM_DEFAULT_USER"]);
    sim.clearCalls();
    const e = await expectDigiCertError(client.disableUser(id), "unsupported");
    expect(e.message).toMatch(/disable/);
    const probe = disableRoute === "missing" ? [`PUT /user/${id}/disable`, `GET /user/${id}`] : [`PUT /user/${id}/disable`];
    expect(sim.calls.map((c) => `${c.method} ${c.path}`)).toEqual(probe);
    sim.clearCalls();
    await expectDigiCertError(client.disableUser(other.id), "unsupported");
    await expectDigiCertError(client.enableUser(id), "unsupported");
    expect(sim.calls).toHaveLength(0);
    expect(client.deactivation?.()).toMatchObject({ configured: "disable", effective: "delete" });
    expect(lines.filter((l) => l.level === "warn" && /falls back to delete/.test(l.message))).toHaveLength(1);
    expect(sim.getUser("one", id).status).toBe("PENDING");
    await client.close();
  });
});

describe("ONE paging without a total", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ one: { pageCap: 100 } });
  });
  afterAll(() => sim.close());

  test("a page capped below the limit does not end the list: paging goes on to an empty page", async () => {
    for (let i = 0; i < 230; i++) sim.seedUser("one", { user_name: `paged-${i}` });
    const { client } = clientFor(sim, "one", { oneAccountId: ONE_DEFAULT_ACCOUNT });
    const seen: string[] = [];
    for await (const page of client.listUsers({ pageSize: 500 })) seen.push(...page.users.map((u) => u.username));
    expect(new Set(seen).size).toBe(231);
    expect(sim.callsTo("one", "GET", "/user").map((c) => c.query.offset)).toEqual(["0", "100", "200", "231"]);
    await client.close();
  });
});
