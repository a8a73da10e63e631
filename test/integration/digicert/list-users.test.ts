import { startSimulator, Simulator, ONE_DEFAULT_ACCOUNT } from "../../../src/simulator";
import type { DigiCertClient, DigiCertUserPage } from "../../../src/digicert";
import { clientFor, expectDigiCertError } from "./support";

// DigiCertClient.listUsers: DigiCert's list-users call paged to the end (doc §A.3 CertCentral, §B.3 ONE).

async function pages(client: DigiCertClient, pageSize?: number): Promise<DigiCertUserPage[]> {
  const out: DigiCertUserPage[] = [];
  for await (const p of client.listUsers(pageSize ? { pageSize } : {})) out.push(p);
  return out;
}

describe("CertCentral listUsers", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ certcentral: { containerId: 7 } });
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.reset());

  test("pages GET /user in the configured container with offset/limit until page.total, mapped to DigiCertUser", async () => {
    // The simulator's key owner (id 100) is in container 7 too: 1 + 4 users in the container, 1 elsewhere.
    for (let i = 1; i <= 4; i++) {
      sim.seedUser("certcentral", { username: `u${i}`, first_name: `F${i}`, last_name: "L", email: `u${i}@example.com`, access_roles: [{ id: i }] });
    }
    sim.seedUser("certcentral", { username: "elsewhere", containerId: 8 });
    const { client } = clientFor(sim, "certcentral", { certcentralContainerId: "7" });
    const got = await pages(client, 2);
    const calls = sim.callsTo("certcentral", "GET", "/user");
    expect(calls.map((c) => c.query)).toEqual([
      { offset: "0", limit: "2", container_id: "7" },
      { offset: "2", limit: "2", container_id: "7" },
      { offset: "4", limit: "2", container_id: "7" },
    ]);
    expect(got.map((p) => [p.offset, p.total, p.users.length])).toEqual([
      [0, 5, 2],
      [2, 5, 2],
      [4, 5, 1],
    ]);
    const users = got.flatMap((p) => p.users);
    expect(users.map((u) => u.username)).toEqual(["sim.admin", "u1", "u2", "u3", "u4"]);
    expect(users[1]).toEqual({
      id: expect.stringMatching(/^\d+$/),
      username: "u1",
      firstName: "F1",
      lastName: "L",
      email: "u1@example.com",
      jobTitle: null,
      phone: null,
      status: "active",
      roleIds: ["1"],
      inScope: true,
    });
    await client.close();
  });

  test("the default page is 500 users; without a container every user the key sees is listed, in scope", async () => {
    sim.seedUser("certcentral", { username: "elsewhere", containerId: 8 });
    const { client } = clientFor(sim, "certcentral");
    const got = await pages(client);
    expect(sim.callsTo("certcentral", "GET", "/user").map((c) => c.query)).toEqual([{ offset: "0", limit: "500" }]);
    const users = got.flatMap((p) => p.users);
    expect(users.map((u) => [u.username, u.inScope])).toEqual([
      ["sim.admin", true],
      ["elsewhere", true],
    ]);
    await client.close();
  });

  test("users that shift into the next page are listed once", async () => {
    for (let i = 1; i <= 3; i++) sim.seedUser("certcentral", { username: `u${i}` });
    const { client } = clientFor(sim, "certcentral", { certcentralContainerId: "7" });
    const seen: string[] = [];
    for await (const p of client.listUsers({ pageSize: 2 })) {
      seen.push(...p.users.map((u) => u.username));
      // A user created by hand between two pages, sorting first: everyone shifts by one.
      if (p.offset === 0) sim.seedUser("certcentral", { id: 1, username: "early" });
    }
    expect(seen).toEqual(["sim.admin", "u1", "u2", "u3"]);
    await client.close();
  });

  test("an answer without a users array is an unexpected DigiCertError", async () => {
    const { client } = clientFor(sim, "certcentral", { certcentralContainerId: "7" });
    sim.failNext({ platform: "certcentral", method: "GET", path: /^\/user$/, status: 200, body: { page: { total: 1 } } });
    await expectDigiCertError(pages(client), "unexpected");
    await client.close();
  });
});

describe.each(["array", "envelope"] as const)("ONE listUsers (%s lists)", (listShape) => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ one: { listShape } });
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.reset());

  test("pages GET /user with offset/limit; disabled users included, deleted and service users not; scope by account", async () => {
    sim.seedUser("one", { user_name: "a", roles: ["AM_READ_ONLY"], phone_number: "555" });
    sim.seedUser("one", { user_name: "b", status: "DISABLED" });
    sim.seedUser("one", { user_name: "c", status: "DELETED" });
    sim.seedUser("one", { user_name: "svc", user_type: "service" });
    sim.seedUser("one", { user_name: "other", accounts: ["11111111-2222-4333-8444-555555555555"] });
    const { client } = clientFor(sim, "one", { oneAccountId: ONE_DEFAULT_ACCOUNT });
    const got = await pages(client, 2);
    const queries = sim.callsTo("one", "GET", "/user").map((c) => c.query);
    // 4 listed users (admin, a, b, other): the array shape needs a short (here empty) page to end.
    expect(queries).toEqual(
      listShape === "array"
        ? [
            { offset: "0", limit: "2" },
            { offset: "2", limit: "2" },
            { offset: "4", limit: "2" },
          ]
        : [
            { offset: "0", limit: "2" },
            { offset: "2", limit: "2" },
          ],
    );
    if (listShape === "envelope") expect(got.map((p) => p.total)).toEqual([4, 4]);
    const users = got.flatMap((p) => p.users);
    expect(users.map((u) => [u.username, u.status, u.inScope])).toEqual([
      ["sim-admin", "active", true],
      ["a", "active", true],
      ["b", "disabled", true],
      ["other", "active", false],
    ]);
    expect(users[1]).toMatchObject({ roleIds: ["AM_READ_ONLY"], phone: "555", jobTitle: null });
    await client.close();
  });

  test("a server that ignores offset (repeats the first page) ends the list instead of looping", async () => {
    const a = sim.seedUser("one", { user_name: "a" });
    const { client } = clientFor(sim, "one", { oneAccountId: ONE_DEFAULT_ACCOUNT });
    const admin = sim.getUser("one", "00000000-0000-4000-8000-000000000001");
    const page = listShape === "array" ? [admin, a] : { items: [admin, a], total: 9, offset: 0, limit: 2 };
    sim.failNext({ platform: "one", method: "GET", path: /^\/user$/, status: 200, body: page, times: 5 });
    const users = (await pages(client, 2)).flatMap((p) => p.users);
    expect(users.map((u) => u.username)).toEqual(["sim-admin", "a"]);
    expect(sim.callsTo("one", "GET", "/user")).toHaveLength(2);
    expect((await pages(client, 2)).map((p) => p.users.length)).toEqual([2, 0]);
    await client.close();
  });
});
