import { startHarness, USER_SCHEMA } from "./support/harness";
test("latency", async () => {
  (globalThis as any).__trace = [];
  const h = await startHarness({ platform: "certcentral", env: { LOG_LEVEL: "debug" } });
  for (let i = 0; i < 5; i++) {
    const t = Date.now();
    const r = await h.post("/scim/v2/Users", { schemas: [USER_SCHEMA], userName: `u${i}@x.com`, name: { givenName: "A", familyName: "B" }, emails: [{ value: `u${i}@x.com` }] });
    console.log(r.status, Date.now() - t, JSON.stringify(r.body["urn:ietf:params:scim:schemas:extension:digicert:2.0:User"]));
  }
  console.log((globalThis as any).__trace.map((t:any)=>JSON.stringify(t)).join("\n"));
  await h.close();
});
