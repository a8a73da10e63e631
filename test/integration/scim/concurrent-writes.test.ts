// What production does to a write: an IdP or HR script that retries before the original answered, and many
// changes of one user at once. A retry carrying the same Idempotency-Key waits for the original and gets its
// answer (never a 409 "already taken"); twenty concurrent PATCHes of one user all apply. Both stores.
import { dropSchema, PG_URL, storeVariants, uniqueSchema } from "../../support/databases";
import { oktaUser, PATCH_OP, startHarness, type Harness } from "../../support/harness";

const variants = storeVariants("concurrent writes").filter(([, platform]) => platform === "certcentral");

describe.each(variants)("concurrent writes: %s", (_label, platform, db) => {
  let h: Harness;
  const pgSchema = uniqueSchema("scim_concurrent");

  beforeAll(async () => {
    h = await startHarness(db === "postgres" ? { platform, databaseUrl: PG_URL, pgSchema } : { platform });
  });
  afterAll(async () => {
    await h.close();
    if (db === "postgres") await dropSchema(pgSchema);
  });

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  test("a retry with the same Idempotency-Key while the original is in flight waits and replays its 201", async () => {
    const body = oktaUser();
    // DigiCert is slow: the original create is still waiting for its job when the retries arrive.
    h.sim.failNext({ platform, method: "POST", path: /^\/user$/, delayMs: 800 });
    h.sim.clearCalls();
    const original = h.post("/scim/v2/Users", body).set("Idempotency-Key", `inflight-${db}`).then((r) => r);
    await sleep(150);
    const retries = await Promise.all([1, 2, 3].map(() => h.post("/scim/v2/Users", body).set("Idempotency-Key", `inflight-${db}`).then((r) => r)));
    const first = await original;
    expect(first.status).toBe(201);
    for (const r of retries) {
      expect({ status: r.status, detail: r.body.detail }).toEqual({ status: 201, detail: undefined });
      expect(r.body.id).toBe(first.body.id);
      expect(r.headers["idempotency-replayed"]).toBe("true");
      expect(r.headers.location).toBe(first.headers.location);
    }
    expect(h.sim.callsTo(platform, "POST", /^\/user$/)).toHaveLength(1);
  });

  test("a retry that waited on an original that failed gets the same answer; a later retry runs again", async () => {
    const body = oktaUser();
    h.sim.failNext({ platform, method: "POST", path: /^\/user$/, delayMs: 600, status: 400, body: { errors: [{ code: "invalid_request", message: "nope" }] } });
    const original = h.post("/scim/v2/Users", body).set("Idempotency-Key", `failed-${db}`).then((r) => r);
    await sleep(150);
    const retry = await h.post("/scim/v2/Users", body).set("Idempotency-Key", `failed-${db}`);
    const first = await original;
    expect(first.status).toBe(400);
    expect(retry.status).toBe(400);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers["idempotency-replayed"]).toBe("true");
    // Once the original has answered, a failure is not kept: the same key works when the cause is fixed.
    const later = await h.post("/scim/v2/Users", body).set("Idempotency-Key", `failed-${db}`);
    expect(later.status).toBe(201);
  });

  test("a retry with the same key but another body is still a 422 while the original is in flight", async () => {
    h.sim.failNext({ platform, method: "POST", path: /^\/user$/, delayMs: 500 });
    const original = h.post("/scim/v2/Users", oktaUser()).set("Idempotency-Key", `other-${db}`).then((r) => r);
    await sleep(100);
    const other = await h.post("/scim/v2/Users", oktaUser()).set("Idempotency-Key", `other-${db}`);
    expect(other.status).toBe(422);
    expect((await original).status).toBe(201);
  });

  test("twenty concurrent PATCHes of one user, each adding an email, all apply", async () => {
    const made = await h.post("/scim/v2/Users", oktaUser());
    expect(made.status).toBe(201);
    await h.drain();
    const id = made.body.id as string;
    const added = Array.from({ length: 20 }, (_, i) => `extra${i}@example.com`);
    const answers = await Promise.all(
      added.map((value) =>
        h.patch(`/scim/v2/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: "add", path: "emails", value: [{ value, type: "other" }] }] }).then((r) => r),
      ),
    );
    expect(answers.map((r) => r.status).filter((s) => s !== 200)).toEqual([]);
    const final = await h.get(`/scim/v2/Users/${id}`);
    const emails = (final.body.emails as { value: string }[]).map((e) => e.value);
    for (const value of added) expect(emails).toContain(value);
    expect(final.body.meta.version).toBe(`W/"${1 + 20 + (Number(/\d+/.exec(made.body.meta.version)![0]) - 1)}"`);
  }, 60_000);
});

// Two bridges on one PostgreSQL schema and one DigiCert, as two replicas: their turns are their own, so PATCHes of
// one user race across them (the re-apply on a fresh read settles it), and an Idempotency-Key claimed on one is
// waited for on the other.
(PG_URL ? describe : describe.skip)("concurrent writes across two replicas on PostgreSQL", () => {
  let a: Harness;
  let b: Harness;
  const pgSchema = uniqueSchema("scim_concurrent_replicas");

  beforeAll(async () => {
    a = await startHarness({ platform: "certcentral", databaseUrl: PG_URL, pgSchema });
    b = await startHarness({ platform: "certcentral", databaseUrl: PG_URL, pgSchema, sim: a.sim });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await dropSchema(pgSchema);
  });

  test("a retry on the other replica waits for the original and replays its 201", async () => {
    const body = oktaUser();
    a.sim.failNext({ platform: "certcentral", method: "POST", path: /^\/user$/, delayMs: 800 });
    a.sim.clearCalls();
    const original = a.post("/scim/v2/Users", body).set("Idempotency-Key", "across").then((r) => r);
    await new Promise((r) => setTimeout(r, 150));
    const retry = await b.post("/scim/v2/Users", body).set("Idempotency-Key", "across");
    const first = await original;
    expect([first.status, retry.status]).toEqual([201, 201]);
    expect(retry.body.id).toBe(first.body.id);
    expect(retry.headers["idempotency-replayed"]).toBe("true");
    expect(a.sim.callsTo("certcentral", "POST", /^\/user$/)).toHaveLength(1);
  });

  test("ten PATCHes on each replica of one user, at once, all apply", async () => {
    const made = await a.post("/scim/v2/Users", oktaUser());
    expect(made.status).toBe(201);
    await a.drain();
    const id = made.body.id as string;
    const added = Array.from({ length: 20 }, (_, i) => `across${i}@example.com`);
    const answers = await Promise.all(
      added.map((value, i) =>
        (i % 2 ? a : b).patch(`/scim/v2/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: "add", path: "emails", value: [{ value, type: "other" }] }] }).then((r) => r),
      ),
    );
    expect(answers.map((r) => r.status).filter((s) => s !== 200)).toEqual([]);
    const emails = ((await a.get(`/scim/v2/Users/${id}`)).body.emails as { value: string }[]).map((e) => e.value);
    for (const value of added) expect(emails).toContain(value);
  }, 60_000);
});
