import { startHarness, oktaUser, DC_EXT, type Harness } from "../../support/harness";
import type { FailSpec } from "../../../src/simulator/types";

// An answer to POST /user the bridge cannot read (an HTML page, JSON cut short, a 2xx without the id) is not a
// refusal: DigiCert may have created the user. The bridge looks the user up and links it, or tries again; it never
// answers 502 and rolls back a user DigiCert may hold, and it never makes a second one.

const HTML_PAGE = "<html><head><title>OK</title></head><body><p>Request processed.</p></body></html>";

const VARIANTS: { name: string; created: boolean; fault: FailSpec }[] = [
  { name: "an HTML page with 200, after creating the user", created: true, fault: { status: 200, rawBody: HTML_PAGE, afterHandling: true } },
  {
    name: "broken JSON with 201, after creating the user",
    created: true,
    fault: { status: 201, rawBody: '{"id": 12', headers: { "Content-Type": "application/json" }, afterHandling: true },
  },
  { name: "201 without an id, after creating the user", created: true, fault: { status: 201, body: { ok: true }, afterHandling: true } },
  { name: "an HTML page with 200 from a proxy, the user not created", created: false, fault: { status: 200, rawBody: HTML_PAGE } },
  {
    name: "a 502 HTML page from a proxy, the user not created",
    created: false,
    fault: { status: 502, rawBody: "<html><body><h1>502 Bad Gateway</h1></body></html>" },
  },
];

describe.each(["certcentral", "one"] as const)("an unreadable answer to a create on %s", (platform) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ platform });
  });
  afterAll(async () => h.close());
  afterEach(() => h.sim.clearFaults());

  const named = (userName: string) =>
    h.sim.listUsers(platform).filter((u: any) => (u.username ?? u.user_name) === userName && (u.status ?? "") !== "DELETED");

  test.each(VARIANTS)("$name: 201, linked to the one DigiCert user", async ({ fault, created }) => {
    const body = oktaUser();
    const userName = body.userName as string;
    h.sim.failNext({ platform, method: "POST", path: /^\/user$/, ...fault });
    const res = await h.post("/scim/v2/Users", body);
    expect(res.status).toBe(201);
    expect(["synced", "pending"]).toContain(res.body[DC_EXT].syncState);
    // The created variants are never sent twice: the look-up finds the user.
    const creates = () => h.sim.callsTo(platform, "POST", "/user").filter((c) => (c.body?.username ?? c.body?.user_name) === userName);
    if (created) expect(creates()).toHaveLength(1);
    await h.drain(20_000);
    if (!created) expect(creates().length).toBeGreaterThanOrEqual(2);
    const row = await h.bridge.store.users.getByUserName(userName);
    expect(row).not.toBeNull();
    expect(row!.syncState).toBe("synced");
    const same = named(userName);
    expect(same).toHaveLength(1);
    expect(row!.digicertId).toBe(String(same[0].id));
    // Linked as the bridge's own create, not adopted as a user made by hand.
    expect(row!.adopted).toBe(false);
  });
});
