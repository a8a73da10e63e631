// The address DigiCert gets: the primary when DigiCert accepts it, else the next valid one (work, other, an
// email-shaped userName) instead of refusing the user; a 400 only when no address is acceptable.
import { oktaUser, PATCH_OP, startHarness, type Harness } from "../../support/harness";

describe.each(["certcentral", "one"] as const)("email choice on %s", (platform) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ platform });
  });
  afterAll(() => h.close());

  const dcEmail = (userName: string) => h.sim.listUsers(platform).find((u: any) => String(u.username ?? u.user_name).toLowerCase() === userName.toLowerCase())?.email;

  test("a primary DigiCert would refuse: provisioned with the other valid address", async () => {
    const userName = `alt-${platform}@example.com`;
    const res = await h.post("/scim/v2/Users", {
      ...oktaUser(userName),
      emails: [
        { value: "ada@localhost", type: "work", primary: true },
        { value: "ada.home@example.org", type: "home" },
      ],
    });
    expect(res.status).toBe(201);
    // The SCIM user keeps what the IdP sent.
    expect(res.body.emails.map((e: any) => e.value)).toEqual(["ada@localhost", "ada.home@example.org"]);
    await h.drain();
    expect(dcEmail(userName)).toBe("ada.home@example.org");
  });

  test("no valid address in emails: the email-shaped userName is used", async () => {
    const userName = `alt2-${platform}@example.com`;
    const res = await h.post("/scim/v2/Users", { ...oktaUser(userName), emails: [{ value: "not an address", primary: true }] });
    expect(res.status).toBe(201);
    await h.drain();
    expect(dcEmail(userName)).toBe(userName);
  });

  test("a PATCH that makes the primary invalid keeps DigiCert on a valid address", async () => {
    const userName = `alt3-${platform}@example.com`;
    const u = (await h.post("/scim/v2/Users", { ...oktaUser(userName), emails: [{ value: userName, type: "work", primary: true }] })).body;
    const patched = await h.patch(`/scim/v2/Users/${u.id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "emails", value: [{ value: "bad@nowhere", primary: true }, { value: `second-${platform}@example.net`, type: "other" }] }] });
    expect(patched.status).toBe(200);
    await h.drain();
    expect(dcEmail(userName)).toBe(`second-${platform}@example.net`);
  });

  test("nothing acceptable at all: 400 naming emails, nothing stored, DigiCert not called", async () => {
    h.sim.clearCalls();
    const res = await h.post("/scim/v2/Users", { ...oktaUser("no-email-user"), emails: [{ value: "x@y", primary: true }] });
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/^emails: /);
    expect(h.sim.calls.filter((c) => c.method === "POST")).toHaveLength(0);
    expect((await h.get(`/scim/v2/Users?filter=${encodeURIComponent('userName eq "no-email-user"')}`)).body.totalResults).toBe(0);
  });
});
