import request from "supertest";
import { oktaUser, startHarness, TOKEN, type Harness } from "../../support/harness";

// A body nested thousands of levels deep (arrays or objects) is refused as a SCIM 400, never a 500, and the
// refusal still reaches the audit trail, cut at a depth; secret-named keys are masked however deep they sit.

const ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error";

/** JSON text of a value nested `depth` levels (JSON.stringify itself cannot write 10,000 levels). */
const nestedArraysText = (depth: number) => `${"[".repeat(depth)}"bottom"${"]".repeat(depth)}`;
const nestedObjectsText = (depth: number) => `${'{"nested":'.repeat(depth)}{"value":"bottom"}${"}".repeat(depth)}`;

function nestedObjects(depth: number, leaf: Record<string, unknown> = { value: "bottom" }): unknown {
  let v: unknown = leaf;
  for (let i = 0; i < depth; i++) v = { nested: v };
  return v;
}

describe("deeply nested SCIM input", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ platform: "certcentral" });
  });
  afterAll(async () => h.close());

  async function refusalOf(userName: string) {
    // The refusal is recorded once the answer has gone: give it a moment.
    for (let i = 0; i < 50; i++) {
      const rows = (await h.bridge.store.audit.recent(50)).filter((e) => e.userName === userName && e.outcome === "refused");
      if (rows.length) return rows[0];
      await new Promise((r) => setTimeout(r, 20));
    }
    return undefined;
  }

  test.each([
    ["arrays", () => nestedArraysText(10_000)],
    ["objects", () => nestedObjectsText(10_000)],
  ])("10,000 levels of %s: 400, the refusal audited (cut), no 500", async (_kind, make) => {
    const body = oktaUser();
    const text = `${JSON.stringify(body).slice(0, -1)},"title":${make()}}`;
    const res = await request(h.app)
      .post("/scim/v2/Users")
      .set("Authorization", `Bearer ${TOKEN}`)
      .set("Content-Type", "application/scim+json")
      .send(text);
    expect(res.status).toBe(400);
    expect(res.body.schemas).toEqual([ERROR_URN]);
    const row = await refusalOf(body.userName as string);
    expect(row).toBeDefined();
    const title = row!.changes.find((c) => c.path === "title");
    expect(title).toBeDefined();
    expect(JSON.stringify(title!.after)).toMatch(/nested too deeply|characters, not kept/);
    expect(h.sim.calls).toHaveLength(0);
  });

  test("a secret-named key 50 levels deep is masked in the audit row", async () => {
    const secret = "deep-Secret-value-4242";
    const body = oktaUser(undefined, { title: nestedObjects(50, { apiKey: secret, password: secret, note: "kept" }) });
    const res = await h.post("/scim/v2/Users", body);
    expect(res.status).toBe(400);
    const row = await refusalOf(body.userName as string);
    expect(row).toBeDefined();
    const text = JSON.stringify(row);
    expect(text).not.toContain(secret);
    expect(text).toContain('{"apiKey":"[REDACTED]","password":"[REDACTED]","note":"kept"}');
  });
});
