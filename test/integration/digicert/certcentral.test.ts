import { startSimulator, Simulator } from "../../../src/simulator";
import type { DigiCertUserInput } from "../../../src/digicert";
import { clientFor, expectDigiCertError, flush } from "./support";

const jill: DigiCertUserInput = {
  username: "jill.valentine",
  firstName: "Jill",
  lastName: "Valentine",
  email: "jill@example.com",
  jobTitle: "Officer",
  phone: "555-0100",
};

describe("CertCentral client against the simulator", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ certcentral: { containerId: 7 } });
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.reset());

  function make(extra = {}) {
    return clientFor(sim, "certcentral", { certcentralContainerId: "7", ...extra });
  }

  test("createUser posts the documented body with the devkey header", async () => {
    const { client } = make();
    const { id } = await client.createUser(jill, ["5"]);
    expect(id).toMatch(/^\d+$/);
    const [call] = sim.callsTo("certcentral", "POST", "/user");
    expect(call.body).toEqual({
      username: "jill.valentine",
      first_name: "Jill",
      last_name: "Valentine",
      email: "jill@example.com",
      job_title: "Officer",
      telephone: "555-0100",
      container: { id: 7 },
      access_roles: [{ id: 5 }],
    });
    expect(call.headers["x-dc-devkey"]).toBe("[present]");
    expect(call.headers["content-type"]).toMatch(/application\/json/);
    expect(call.apiKeyValid).toBe(true);
    expect(sim.getUser("certcentral", id)).toMatchObject({ username: "jill.valentine", status: "pending" });
    await client.close();
  });

  test("createUser omits empty job title / telephone and the container when none is configured", async () => {
    const { client } = make({ certcentralContainerId: undefined });
    await client.createUser({ ...jill, jobTitle: "", phone: null }, ["2", "5"]);
    const [call] = sim.callsTo("certcentral", "POST", "/user");
    expect(call.body).not.toHaveProperty("job_title");
    expect(call.body).not.toHaveProperty("telephone");
    expect(call.body).not.toHaveProperty("container");
    expect(call.body.access_roles).toEqual([{ id: 2 }, { id: 5 }]);
    await client.close();
  });

  test("getUser maps the wire user; unknown id is null", async () => {
    const { client } = make();
    const { id } = await client.createUser(jill, ["5"]);
    const u = await client.getUser(id);
    expect(u).toEqual({
      id,
      username: "jill.valentine",
      firstName: "Jill",
      lastName: "Valentine",
      email: "jill@example.com",
      jobTitle: "Officer",
      phone: "555-0100",
      status: "pending",
      roleIds: ["5"],
      inScope: true,
    });
    expect(sim.callsTo("certcentral", "GET", `/user/${id}`)).toHaveLength(1);
    expect(await client.getUser("999999")).toBeNull();
    expect(await client.getUser("not-a-number")).toBeNull();
    await client.close();
  });

  test("findUserByUsername uses filters[search] and compares case-insensitively, ignoring other fields' matches", async () => {
    const { client } = make();
    // Another user whose email equals the searched username: the exact search returns it, the client must not.
    sim.seedUser("certcentral", { username: "someone", email: "Jill.Valentine@x.io", containerId: 7 });
    sim.seedUser("certcentral", { username: "JILL.VALENTINE@x.io", containerId: 7 });
    const seeded = sim.seedUser("certcentral", { username: "Jill.Valentine", containerId: 7 });
    const found = await client.findUserByUsername("jill.valentine");
    expect(found?.id).toBe(String(seeded.id));
    const [call] = sim.callsTo("certcentral", "GET", "/user");
    expect(call.query["filters[search]"]).toBe("jill.valentine");
    expect(await client.findUserByUsername("nobody")).toBeNull();
    await client.close();
  });

  test("findUserByUsername pages through results", async () => {
    const { client } = make();
    // 150 users share a last name equal to the searched username, so the match sits on the second page.
    for (let i = 0; i < 150; i++) sim.seedUser("certcentral", { username: `u${i}`, last_name: "needle" });
    const target = sim.seedUser("certcentral", { username: "needle" });
    const found = await client.findUserByUsername("NEEDLE");
    expect(found?.id).toBe(String(target.id));
    const calls = sim.callsTo("certcentral", "GET", "/user");
    expect(calls.map((c) => c.query.offset)).toEqual(["0", "100"]);
    await client.close();
  });

  test("adoption: a user in another container is found but out of scope; missing container is in scope", async () => {
    const { client } = make();
    const other = sim.seedUser("certcentral", { username: "elsewhere", containerId: 99 });
    const u = await client.findUserByUsername("elsewhere");
    expect(u).toMatchObject({ id: String(other.id), inScope: false });
    const mine = sim.seedUser("certcentral", { username: "mine", containerId: 7 });
    expect((await client.getUser(String(mine.id)))?.inScope).toBe(true);
    await client.close();
  });

  test("updateUser always re-sends job_title and telephone, so the erase quirk never bites", async () => {
    const { client } = make();
    const { id } = await client.createUser(jill, ["5"]);
    await client.updateUser(id, { ...jill, firstName: "Jillian" });
    const [put] = sim.callsTo("certcentral", "PUT", `/user/${id}`);
    expect(put.body).toEqual({
      username: "jill.valentine",
      first_name: "Jillian",
      last_name: "Valentine",
      email: "jill@example.com",
      job_title: "Officer",
      telephone: "555-0100",
    });
    expect(sim.getUser("certcentral", id)).toMatchObject({ first_name: "Jillian", job_title: "Officer", telephone: "555-0100" });
    // Absent values clear the fields on purpose.
    await client.updateUser(id, { ...jill, jobTitle: null, phone: undefined });
    const second = sim.callsTo("certcentral", "PUT", `/user/${id}`)[1];
    expect(second.body).toMatchObject({ job_title: "", telephone: "" });
    expect(await client.getUser(id)).toMatchObject({ jobTitle: null, phone: null });
    await client.close();
  });

  test("the simulator really erases job_title/telephone that a PUT leaves out", async () => {
    const seeded = sim.seedUser("certcentral", { username: "q", job_title: "T", telephone: "1" });
    const res = await fetch(`${sim.certcentralBaseUrl}/user/${seeded.id}`, {
      method: "PUT",
      headers: { "X-DC-DEVKEY": sim.apiKey, "Content-Type": "application/json" },
      body: JSON.stringify({ email: "q@example.com" }),
    });
    expect(res.status).toBe(204);
    expect(sim.getUser("certcentral", seeded.id)).toMatchObject({ job_title: "", telephone: "" });
  });

  test("setRoles puts access_roles to /user/{id}/role", async () => {
    const { client } = make();
    const { id } = await client.createUser(jill, ["5"]);
    await client.setRoles(id, ["1", "4"]);
    const [call] = sim.callsTo("certcentral", "PUT", `/user/${id}/role`);
    expect(call.body).toEqual({ access_roles: [{ id: 1 }, { id: 4 }] });
    expect((await client.getUser(id))?.roleIds).toEqual(["1", "4"]);
    await client.close();
  });

  test("disable/enable are unsupported and never reach DigiCert", async () => {
    const { client } = make();
    const { id } = await client.createUser(jill, ["5"]);
    sim.clearCalls();
    await expectDigiCertError(client.disableUser(id), "unsupported");
    await expectDigiCertError(client.enableUser(id), "unsupported");
    expect(sim.calls).toHaveLength(0);
    await client.close();
  });

  test("deleteUser deletes; deleting an unknown user succeeds", async () => {
    const { client } = make();
    const { id } = await client.createUser(jill, ["5"]);
    await client.deleteUser(id);
    expect(sim.getUser("certcentral", id)).toBeUndefined();
    await client.deleteUser(id);
    expect(sim.callsTo("certcentral", "DELETE", `/user/${id}`)).toHaveLength(2);
    await client.close();
  });

  test("listRoles uses the configured container", async () => {
    const { client } = make();
    const roles = await client.listRoles();
    expect(roles).toEqual([
      { id: "1", name: "Administrator" },
      { id: "2", name: "Limited User" },
      { id: "3", name: "Finance Manager" },
      { id: "4", name: "Manager" },
      { id: "5", name: "Standard User" },
    ]);
    expect(sim.callsTo("certcentral").map((c) => `${c.method} ${c.path}`)).toEqual(["GET /container/7/role"]);
    await client.close();
  });

  test("listRoles without a configured container reads root_container_id once", async () => {
    const { client } = make({ certcentralContainerId: undefined });
    await client.listRoles();
    await client.listRoles();
    expect(sim.callsTo("certcentral").map((c) => `${c.method} ${c.path}`)).toEqual([
      "GET /account",
      "GET /container/7/role",
      "GET /container/7/role",
    ]);
    await client.close();
  });

  test("ping calls /user/me; one log line per call without the key", async () => {
    const { client, lines } = make();
    await client.ping();
    await flush();
    expect(sim.callsTo("certcentral", "GET", "/user/me")).toHaveLength(1);
    const calls = lines.filter((l) => l.message === "digicert call");
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ platform: "certcentral", method: "GET", path: "/user/me", status: 200 });
    expect(typeof calls[0].ms).toBe("number");
    expect(JSON.stringify(lines)).not.toContain(sim.apiKey);
    await client.close();
  });

  test("the key's own user appears in lists and cannot be deleted (forbidden)", async () => {
    const { client } = make();
    const me = await client.findUserByUsername("sim.admin");
    expect(me).not.toBeNull();
    const e = await expectDigiCertError(client.deleteUser(me!.id), "forbidden");
    expect(e.status).toBe(403);
    await client.close();
  });

  describe("error mapping", () => {
    test("bad key → auth, message names the refusal, never the key", async () => {
      const { client, lines } = clientFor(sim, "certcentral", { apiKey: "wrong-key-123456" });
      const e = await expectDigiCertError(client.ping(), "auth");
      expect(e.status).toBe(403);
      expect(e.message).toMatch(/refused the API key/);
      expect(e.message).not.toContain("wrong-key-123456");
      await flush();
      expect(JSON.stringify(lines)).not.toContain("wrong-key-123456");
      expect(sim.calls[0].apiKeyValid).toBe(false);
      expect(JSON.stringify(sim.calls)).not.toContain("wrong-key-123456");
      await client.close();
    });

    test("duplicate username (case-insensitive) → duplicate, known from the availability check before any POST", async () => {
      const { client } = make();
      await client.createUser(jill, ["5"]);
      sim.clearCalls();
      await expectDigiCertError(client.createUser({ ...jill, username: "JILL.valentine" }, ["5"]), "duplicate");
      expect(sim.callsTo("certcentral").map((c) => `${c.method} ${c.path}`)).toEqual(["GET /user/availability/JILL.valentine"]);
      await client.close();
    });

    test("without the availability route, the 409 of the POST → duplicate", async () => {
      const bare = await startSimulator({ certcentral: { containerId: 7, availability: "missing" } });
      try {
        const { client } = clientFor(bare, "certcentral", { certcentralContainerId: "7" });
        await client.createUser(jill, ["5"]);
        const e = await expectDigiCertError(client.createUser({ ...jill, username: "JILL.valentine" }, ["5"]), "duplicate");
        expect(e.status).toBe(409);
        expect(e.code).toBe("duplicate_username");
        await client.close();
      } finally {
        await bare.close();
      }
    });

    test("400 that says the username is taken → duplicate", async () => {
      const { client } = make();
      sim.failNext({
        platform: "certcentral",
        method: "POST",
        status: 400,
        body: { errors: [{ code: "invalid_param|username", message: "Username already exists." }] },
      });
      await expectDigiCertError(client.createUser(jill, ["5"]), "duplicate");
      await client.close();
    });

    test("validation errors carry all DigiCert messages", async () => {
      const { client } = make();
      const e = await expectDigiCertError(
        client.createUser({ ...jill, username: "bad name!", firstName: "x".repeat(129) }, ["5"]),
        "validation",
      );
      expect(e.status).toBe(400);
      expect(e.message).toContain("username contains invalid characters");
      expect(e.message).toContain("first_name may not be longer than 128");
      await client.close();
    });

    test("unknown role id → validation (invalid_access_role)", async () => {
      const { client } = make();
      const e = await expectDigiCertError(client.createUser(jill, ["42"]), "validation");
      expect(e.code).toBe("invalid_access_role");
      expect(sim.listUsers("certcentral")).toHaveLength(1);
      await client.close();
    });

    test("non-integer role id is refused before any call", async () => {
      const { client } = make();
      await expectDigiCertError(client.createUser(jill, ["admin"]), "validation");
      expect(sim.calls).toHaveLength(0);
      await client.close();
    });

    test("404 on update → not_found; other 403 → forbidden", async () => {
      const { client } = make();
      await expectDigiCertError(client.updateUser("424242", jill), "not_found");
      sim.failNext({
        platform: "certcentral",
        status: 403,
        body: { errors: [{ code: "access_denied|missing_permission", message: "Missing permission." }] },
      });
      const e = await expectDigiCertError(client.listRoles(), "forbidden");
      expect(e.message).toContain("Missing permission.");
      await client.close();
    });

    test("429 (no Retry-After) → the ≥5 s backoff does not fit a short budget: rate_limited at once, saying how long", async () => {
      const { client } = make({ retryBudgetMs: 1000 });
      sim.failNext({ platform: "certcentral", status: 429 });
      const e = await expectDigiCertError(client.ping(), "rate_limited");
      expect(e.retryAfterSeconds).toBeGreaterThanOrEqual(5);
      expect(e.retryAfterSeconds).toBeLessThanOrEqual(6);
      expect(e.code).toBe("request_limit_exceeded");
      expect(sim.callsTo("certcentral", "GET", "/user/me")).toHaveLength(1);
      await client.close();
    });

    test("simulated rate limit answers 429 request_limit_exceeded with no Retry-After", async () => {
      const limited = await startSimulator({ rateLimit: [{ count: 2, windowMs: 60_000 }] });
      try {
        const res: number[] = [];
        let retryAfter: string | null = "unset";
        for (let i = 0; i < 3; i++) {
          const r = await fetch(`${limited.certcentralBaseUrl}/user/me`, { headers: { "X-DC-DEVKEY": limited.apiKey } });
          res.push(r.status);
          if (r.status === 429) {
            retryAfter = r.headers.get("retry-after");
            expect(await r.json()).toEqual({
              errors: [{ code: "request_limit_exceeded", message: "Service unavailable, please limit request volume" }],
            });
          }
        }
        expect(res).toEqual([200, 200, 429]);
        expect(retryAfter).toBeNull();
      } finally {
        await limited.close();
      }
    });

    test("malformed JSON and oversized bodies are refused like DigiCert does", async () => {
      const bad = await fetch(`${sim.certcentralBaseUrl}/user`, {
        method: "POST",
        headers: { "X-DC-DEVKEY": sim.apiKey, "Content-Type": "application/json" },
        body: "{nope",
      });
      expect(bad.status).toBe(400);
      expect((await bad.json()).errors[0].code).toBe("bad_request_format");
      const big = await fetch(`${sim.certcentralBaseUrl}/user`, {
        method: "POST",
        headers: { "X-DC-DEVKEY": sim.apiKey, "Content-Type": "application/json" },
        body: JSON.stringify({ username: "x".repeat(1_100_000) }),
      });
      expect(big.status).toBe(413);
    });

    test("no deactivate route: unknown routes answer 404 not_found|route", async () => {
      const r = await fetch(`${sim.certcentralBaseUrl}/user/100/deactivate`, {
        method: "PUT",
        headers: { "X-DC-DEVKEY": sim.apiKey },
      });
      expect(r.status).toBe(404);
      expect((await r.json()).errors[0].code).toBe("not_found|route");
    });

    test("availability endpoint", async () => {
      const r = await fetch(`${sim.certcentralBaseUrl}/user/availability/SIM.ADMIN`, { headers: { "X-DC-DEVKEY": sim.apiKey } });
      expect(await r.json()).toEqual({ available: false });
    });
  });
});
