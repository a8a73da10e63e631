import { DC_EXT, oktaUser, refuseNextCreate, startHarness, type Harness } from "../../support/harness";

// At default wait settings a lone write hears DigiCert's result, and a burst is answered at the store's pace:
// a write whose queue would not drain within SYNC_WAIT_QUEUE_MS (1 s) at the rate budget is answered pending at
// once, and its job still runs exactly once. Rates and latencies are measured by `npm run bench` (writes).

const LIMIT = "5/1s"; // 5 DigiCert calls a second; a CertCentral create costs two (availability, POST)

describe.each(["certcentral", "one"] as const)("adaptive wait for DigiCert (%s)", (platform) => {
  let h: Harness;
  beforeAll(async () => {
    // The bridge paces itself at LIMIT; the simulator does not enforce it (pacing has tests of its own, and a
    // loaded machine can bunch two calls).
    h = await startHarness({ platform, env: { DIGICERT_RATE_LIMIT: LIMIT } });
  });
  afterAll(async () => h?.close());

  test("a lone write on an idle bridge answers with DigiCert's result", async () => {
    const res = await h.post("/scim/v2/Users", oktaUser()).expect(201);
    expect(res.body[DC_EXT]).toMatchObject({ syncState: "synced" });
    expect(res.body[DC_EXT].digicertUserId).toEqual(expect.any(String));
    expect(h.sim.listUsers(platform).map((u: any) => String(u.id))).toContain(res.body[DC_EXT].digicertUserId);
  });

  test("a lone write DigiCert refuses is the SCIM error, rolled back", async () => {
    refuseNextCreate(h.sim, platform);
    const user = oktaUser();
    const res = await h.post("/scim/v2/Users", user).expect(400);
    expect(res.body.schemas).toEqual(["urn:ietf:params:scim:api:messages:2.0:Error"]);
    const list = await h.get(`/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${user.userName}"`)}`).expect(200);
    expect(list.body.totalResults).toBe(0);
  });

  test("a burst: writes queued behind others are answered pending at once, then each user is created once", async () => {
    const before = h.sim.listUsers(platform).length;
    const users = Array.from({ length: 20 }, () => oktaUser());
    const answers = await Promise.all(users.map((u) => h.post("/scim/v2/Users", u)));
    expect(answers.map((a) => a.status)).toEqual(users.map(() => 201));
    const pending = answers.filter((a) => a.body[DC_EXT].syncState === "pending");
    // At 5 calls/s a 1 s allowance covers at most 5 jobs ahead; the rest of 20 could not be waited for.
    expect(pending.length).toBeGreaterThanOrEqual(14);
    await h.drain(60_000);
    expect(h.sim.listUsers(platform)).toHaveLength(before + users.length);
    for (const u of users) {
      const row = await h.bridge.store.users.getByUserName(String(u.userName));
      expect(row).toMatchObject({ syncState: "synced" });
      expect(row!.digicertId).toEqual(expect.any(String));
    }
  }, 90_000);
});
