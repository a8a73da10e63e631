// DigiCertSync, one outbox job at a time (the worker is not started): every job converges DigiCert to the user's
// stored state, so a job run again (a retry after a lost answer, a crash) makes no second user and no extra call.
import { NO_LINK } from "../../../src/provisioning/digicert-sync";
import { AccessRemovalError } from "../../../src/provisioning/errors";
import { verdictOf } from "../../../src/provisioning/job-errors";
import type { OutboxJob } from "../../../src/provisioning/records";
import { writeMapping } from "../../support/mapping";
import { startServices, userDraft, type Services } from "../../support/services";

const ADMINISTRATOR = "1";
const STANDARD_USER = "5";

describe("DigiCertSync on CertCentral", () => {
  let s: Services;
  const writes = () => s.sim.calls.filter((c) => c.method !== "GET").map((c) => `${c.method} ${c.path}`);
  /** The user's newest outbox job. */
  const lastJob = async (userId: string): Promise<OutboxJob> => {
    const jobs = await s.store.outbox.list({ userId, limit: 50 });
    return jobs.reduce((a, b) => (b.id > a.id ? b : a));
  };

  beforeEach(async () => {
    s = await startServices({
      platform: "certcentral",
      startWorker: false,
      // Requests do not wait for their jobs: the test runs each job itself.
      env: { SYNC_WAIT_MS: "0", ROLE_MAPPING_FILE: writeMapping(`default: ["Standard User"]\nrules:\n  - group: "DigiCert Admins"\n    roles: ["Administrator"]\n`) },
    });
  });
  afterEach(async () => s.close());

  test("a create is pending until its job runs; the job links the user", async () => {
    const row = await s.users.create(userDraft("pat@example.com"));
    expect(row).toMatchObject({ syncState: "pending", digicertId: null });
    expect(writes()).toEqual([]);
    await s.sync.run(await lastJob(row.id));
    const linked = (await s.store.users.getById(row.id))!;
    expect(linked.digicertId).toMatch(/^\d+$/);
    expect(linked.digicertRoleIds).toEqual([STANDARD_USER]);
    expect(writes()).toEqual(["POST /user"]);
  });

  test("a create job retried after DigiCert made the user but the link was lost: found again, not created twice", async () => {
    const row = await s.users.create(userDraft("lost@example.com"));
    const job = await lastJob(row.id);
    await s.sync.run(job);
    const made = (await s.store.users.getById(row.id))!.digicertId;
    // As if the process died after DigiCert answered and before the link was saved.
    await s.store.users.setLink(row.id, NO_LINK);
    await s.sync.run({ ...job, attempts: 2 });
    expect((await s.store.users.getById(row.id))!.digicertId).toBe(made);
    expect(s.sim.callsTo("certcentral", "POST", /^\/user$/)).toHaveLength(1);
    expect(s.sim.listUsers("certcentral").filter((u) => u.username === "lost@example.com")).toHaveLength(1);
  });

  test("an unreadable answer to a create that DigiCert carried out: looked up at once and linked, not adopted", async () => {
    const row = await s.users.create(userDraft("garbled@example.com"));
    s.sim.failNext({ method: "POST", path: /^\/user$/, status: 200, rawBody: "<html>OK</html>", afterHandling: true });
    await s.sync.run(await lastJob(row.id));
    const linked = (await s.store.users.getById(row.id))!;
    const same = s.sim.listUsers("certcentral").filter((u) => u.username === "garbled@example.com");
    expect(same).toHaveLength(1);
    expect(linked).toMatchObject({ digicertId: String(same[0].id), adopted: false });
    expect(s.sim.callsTo("certcentral", "POST", /^\/user$/)).toHaveLength(1);
  });

  test("an unreadable answer to a create DigiCert did not carry out, or a failed look-up: retried, never a refusal", async () => {
    const row = await s.users.create(userDraft("unread@example.com"));
    const job = await lastJob(row.id);
    s.sim.failNext({ method: "POST", path: /^\/user$/, status: 201, body: { ok: true } });
    const notThere = await s.sync.run(job).catch((e: unknown) => e);
    expect(notThere).toMatchObject({ kind: "unavailable" });
    expect(verdictOf(notThere)).toMatchObject({ retry: true });
    s.sim.failNext({ method: "POST", path: /^\/user$/, status: 201, rawBody: '{"id": 1', afterHandling: true });
    s.sim.failNext({ method: "GET", path: /^\/user$/, status: 503, times: 10 });
    // Another first try (the first one left nothing behind), whose create lands but whose look-up fails.
    const lookupFailed = await s.sync.run(job).catch((e: unknown) => e);
    expect(lookupFailed).toMatchObject({ kind: "unavailable" });
    expect(verdictOf(lookupFailed)).toMatchObject({ retry: true });
    s.sim.clearFaults();
    // The retry looks first and finds the user the garbled create made: one user, linked.
    await s.sync.run({ ...job, attempts: 2 });
    const same = s.sim.listUsers("certcentral").filter((u) => u.username === "unread@example.com");
    expect(same).toHaveLength(1);
    expect((await s.store.users.getById(row.id))!.digicertId).toBe(String(same[0].id));
  });

  test("an unreadable 2xx to an update is retried, not a refusal: the job converges on its next run", async () => {
    const row = await s.users.create(userDraft("upd-garbled@example.com"));
    await s.sync.run(await lastJob(row.id));
    const job: OutboxJob = { ...(await lastJob(row.id)), kind: "update", payload: { userName: row.userName, profileChanged: true }, attempts: 1 };
    s.sim.failNext({ method: "PUT", status: 200, rawBody: "<html>Saved</html>", afterHandling: true });
    const err = await s.sync.run(job).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: "unexpected", maybeApplied: true });
    expect(verdictOf(err)).toMatchObject({ retry: true, countAttempt: true });
    await expect(s.sync.run({ ...job, attempts: 2 })).resolves.toBeUndefined();
  });

  test("a create job run again once linked: no second user, only the same profile written to the same user", async () => {
    const row = await s.users.create(userDraft("twice@example.com"));
    const job = await lastJob(row.id);
    await s.sync.run(job);
    const digicertId = (await s.store.users.getById(row.id))!.digicertId!;
    const before = s.sim.getUser("certcentral", digicertId);
    s.sim.clearCalls();
    await s.sync.run({ ...job, attempts: 2 });
    await s.sync.run({ ...job, attempts: 3 });
    // A create job carries profileChanged, so a repeat re-sends the profile: idempotent, never a POST.
    expect(new Set(writes())).toEqual(new Set([`PUT /user/${digicertId}`]));
    expect(s.sim.getUser("certcentral", digicertId)).toEqual(before);
    expect(s.sim.listUsers("certcentral").filter((u) => u.username === "twice@example.com")).toHaveLength(1);
  });

  test("an update job that changed nothing DigiCert holds, run twice: no DigiCert write", async () => {
    const row = await s.users.create(userDraft("same@example.com"));
    await s.sync.run(await lastJob(row.id));
    const linked = (await s.store.users.getById(row.id))!;
    // An update job for a user already in step with DigiCert (a retry of one that landed, say).
    const job: OutboxJob = { ...(await lastJob(row.id)), kind: "update", payload: { userName: linked.userName, profileChanged: false }, attempts: 1 };
    s.sim.clearCalls();
    await s.sync.run(job);
    await s.sync.run({ ...job, attempts: 2 });
    expect(writes()).toEqual([]);
  });

  test("a roles job gives the group's role once; repeated, nothing more", async () => {
    const row = await s.users.create(userDraft("role@example.com"));
    await s.sync.run(await lastJob(row.id));
    await s.groups.create({ displayName: "DigiCert Admins", externalId: null, resource: { displayName: "DigiCert Admins" }, memberIds: [row.id] });
    const job = await lastJob(row.id);
    expect(job.kind).toBe("roles");
    const target = await s.sync.targetOf((await s.store.users.getById(row.id))!, false);
    expect(target).toMatchObject({ access: true, roleIds: [ADMINISTRATOR] });
    s.sim.clearCalls();
    await s.sync.run(job);
    const digicertId = (await s.store.users.getById(row.id))!.digicertId!;
    expect(writes()).toEqual([`PUT /user/${digicertId}/role`]);
    expect(s.sim.ccTruth(digicertId)!.role_ids).toEqual([Number(ADMINISTRATOR)]);
    s.sim.clearCalls();
    await s.sync.run({ ...job, attempts: 2 });
    expect(writes()).toEqual([]);
  });

  test("an inactive user's target is no access; its job removes the DigiCert user", async () => {
    const row = await s.users.create(userDraft("off@example.com"));
    await s.sync.run(await lastJob(row.id));
    const linked = (await s.store.users.getById(row.id))!;
    const off = await s.users.replace(row.id, userDraft("off@example.com", { active: false }), linked.version);
    expect((await s.sync.targetOf(off, false)).access).toBe(false);
    s.sim.clearCalls();
    await s.sync.run(await lastJob(row.id));
    expect(writes()).toEqual([`DELETE /user/${linked.digicertId}`]);
    expect((await s.store.users.getById(row.id))!.digicertId).toBeNull();
  });

  test("a job for a user deleted meanwhile does nothing; a delete job without a DigiCert id neither", async () => {
    const row = await s.users.create(userDraft("vanished@example.com"));
    const job = await lastJob(row.id);
    await s.store.users.delete(row.id);
    await s.sync.run(job);
    await s.sync.run({ ...job, kind: "delete", payload: { userName: "vanished@example.com", digicertId: null } });
    expect(writes()).toEqual([]);
  });

  test("a delete DigiCert refuses is an AccessRemovalError (retried until access is gone, never given up)", async () => {
    const row = await s.users.create(userDraft("stay@example.com"));
    await s.sync.run(await lastJob(row.id));
    const digicertId = (await s.store.users.getById(row.id))!.digicertId!;
    await s.users.delete(row.id);
    const job = await lastJob(row.id);
    s.sim.failNext({ platform: "certcentral", method: "DELETE", status: 403, body: { errors: [{ code: "access_denied", message: "no" }] } });
    await expect(s.sync.run(job)).rejects.toBeInstanceOf(AccessRemovalError);
    expect(s.sim.getUser("certcentral", digicertId)).toBeDefined();
    await s.sync.run({ ...job, attempts: 2 });
    expect(s.sim.getUser("certcentral", digicertId)).toBeUndefined();
  });
});
