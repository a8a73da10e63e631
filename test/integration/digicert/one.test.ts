import { startSimulator, Simulator, ONE_DEFAULT_ACCOUNT } from "../../support/simulator";
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

  test("updateUser sends the full profile; absent phone clears it", async () => {
    const { client } = make();
    const { id } = await client.createUser(ada, ["AM_DEFAULT_USER"]);
    await client.updateUser(id, { ...ada, lastName: "King", phone: null });
    const [put] = sim.callsTo("one", "PUT", `/user/${id}`);
    expect(put.body).toEqual({
      user_name: "ada.lovelace",
      first_name: "Ada",
      last_name: "King",
      email: "ada@example.com",
      phone_number: "",
    });
    expect(await client.getUser(id)).toMatchObject({ lastName: "King", phone: null, roleIds: ["AM_DEFAULT_USER"] });
    await client.close();
  });

  test("setRoles puts roles on the user", async () => {
    const { client } = make();
    const { id } = await client.createUser(ada, ["AM_DEFAULT_USER"]);
    await client.setRoles(id, ["AM_USER_MANAGER", "AM_READ_ONLY"]);
    expect(sim.callsTo("one", "PUT", `/user/${id}`)[0].body).toEqual({ roles: ["AM_USER_MANAGER", "AM_READ_ONLY"] });
    expect((await client.getUser(id))?.roleIds).toEqual(["AM_USER_MANAGER", "AM_READ_ONLY"]);
    await client.close();
  });

  test("disable / enable use PUT verb routes", async () => {
    const { client } = make();
    const { id } = await client.createUser(ada, ["AM_DEFAULT_USER"]);
    await client.disableUser(id);
    expect((await client.getUser(id))?.status).toBe("disabled");
    await client.enableUser(id);
    expect((await client.getUser(id))?.status).toBe("active");
    expect(sim.callsTo("one", undefined, /\/(disable|enable)$/).map((c) => `${c.method} ${c.path}`)).toEqual([
      `PUT /user/${id}/disable`,
      `PUT /user/${id}/enable`,
    ]);
    await client.close();
  });

  test("disable of an unknown user is not_found, not unsupported", async () => {
    const { client } = make();
    await expectDigiCertError(client.disableUser("00000000-0000-4000-8000-00000000dead"), "not_found");
    expect(sim.callsTo("one", "POST")).toHaveLength(0);
    await client.close();
  });

  test("405 on PUT disable → POST once", async () => {
    const { client } = make();
    const { id } = await client.createUser(ada, ["AM_DEFAULT_USER"]);
    sim.failNext({ platform: "one", method: "PUT", path: /\/disable$/, status: 405, body: { error: { code: "method_not_allowed", message: "no" } } });
    sim.failNext({ platform: "one", method: "POST", path: /\/disable$/, status: 200, body: {} });
    await client.disableUser(id);
    expect(sim.callsTo("one", undefined, /\/disable$/).map((c) => c.method)).toEqual(["PUT", "POST"]);
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

  test("listRoles filters by application_code", async () => {
    const { client } = make();
    const roles = await client.listRoles();
    expect(roles.map((r) => r.id)).toEqual(["AM_ACCOUNT_MANAGER", "AM_USER_MANAGER", "AM_ACCOUNT_ADMIN", "AM_DEFAULT_USER", "AM_READ_ONLY"]);
    expect(roles[0]).toEqual({ id: "AM_ACCOUNT_MANAGER", name: "Account Manager" });
    expect(sim.callsTo("one", "GET", "/role")[0].query).toEqual({ application_code: "account_manager" });
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

describe("ONE disable fallback when the server has no disable route", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ one: { disableSupported: false } });
  });
  afterAll(() => sim.close());

  test("PUT 404 while the user exists → POST once → unsupported", async () => {
    const { client } = clientFor(sim, "one", { oneAccountId: ONE_DEFAULT_ACCOUNT });
    const { id } = await client.createUser(ada, ["AM_DEFAULT_USER"]);
    sim.clearCalls();
    const e = await expectDigiCertError(client.disableUser(id), "unsupported");
    expect(e.message).toMatch(/disable/);
    expect(sim.calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      `PUT /user/${id}/disable`,
      `GET /user/${id}`,
      `POST /user/${id}/disable`,
      `GET /user/${id}`,
    ]);
    await expectDigiCertError(client.enableUser(id), "unsupported");
    expect(sim.getUser("one", id).status).toBe("PENDING");
    await client.close();
  });
});
