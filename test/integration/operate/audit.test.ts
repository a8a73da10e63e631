// The audit trail through the real app: every SCIM change (who, which IdP, what changed), every refusal, and every
// DigiCert write its jobs made with the result, on both platforms and both stores. Checks SCIM answers, the stored
// rows, the simulator's calls and the log, and that no secret (a SCIM password, the bearer token, the API key) is
// kept anywhere.
import { writeFileSync } from "node:fs";
import { writeMapping } from "../../support/mapping";
import { dropSchema, PG_URL, storeVariants, uniqueSchema } from "../../support/databases";
import { API_KEY, oktaUser, PATCH_OP, SECOND_TOKEN, startHarness, TOKEN, type Harness } from "../../support/harness";
import type { AuditEntry } from "../../../src/provisioning/records";
import type { Platform } from "../../../src/digicert/types";

const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const OKTA_UA = "Okta SCIM Client 1.0.0";
const PASSWORD = "Tr0ub4dor&3-never-stored";
const ADMIN_ROLE = { certcentral: { id: "1", name: "Administrator" }, one: { id: "AM_ACCOUNT_ADMIN", name: "Account Admin" } } as const;

function mappingFor(platform: Platform): string {
  const admin = ADMIN_ROLE[platform].name;
  return writeMapping(`rules:\n  - group: "DigiCert Admins"\n    roles: ["${admin}"]\n`);
}

describe.each(storeVariants("audit trail"))("Audit trail: %s", (_label, platform, db) => {
  let h: Harness;
  const pgSchema = uniqueSchema(`scim_audit_${platform}`);
  const mappingFile = mappingFor(platform);
  let seq = 0;
  beforeAll(async () => {
    const env = {
      // Named credentials: the trail shows the name, never the token.
      SCIM_BEARER_TOKENS: `okta-prod=${TOKEN},entra-prod=${SECOND_TOKEN}`,
      ROLE_MAPPING_FILE: mappingFile,
    };
    h = await startHarness(db === "postgres" ? { platform, env, databaseUrl: PG_URL, pgSchema } : { platform, env });
  });
  afterAll(async () => {
    await h.close();
    if (db === "postgres") await dropSchema(pgSchema);
  });

  const rid = () => `audit-${platform}-${db}-${++seq}-${Date.now()}`;
  const history = (id: string) => h.bridge.store.audit.query({ resourceId: id });
  const only = (entries: AuditEntry[], action: string) => {
    const found = entries.filter((e) => e.action === action);
    expect(found).toHaveLength(1);
    return found[0]!;
  };
  /** Every stored entry as text: what a secret must never be found in. */
  const wholeTrail = async () => JSON.stringify(await h.bridge.store.audit.recent(100_000));
  /** The refused entry a request leaves, written when its answer has been sent. */
  async function refusedEntry(requestId: string): Promise<AuditEntry> {
    for (let i = 0; i < 50; i++) {
      const e = (await h.bridge.store.audit.recent(200)).find((x) => x.requestId === requestId && x.outcome === "refused");
      if (e) return e;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no refused entry for request ${requestId}`);
  }

  test("create, PATCH and DELETE: the diff, the credential's name, the IdP, and the DigiCert calls with their results", async () => {
    const body = oktaUser(undefined, { password: PASSWORD });
    const createId = rid();
    const created = await h.post("/scim/v2/Users", body).set("User-Agent", OKTA_UA).set("X-Request-Id", createId);
    expect(created.status).toBe(201);
    const id: string = created.body.id;
    const row = (await h.bridge.store.users.getById(id))!;
    expect(row.digicertId).toBeTruthy();

    let trail = await history(id);
    const create = only(trail, "user.create");
    expect(create).toMatchObject({
      kind: "scim",
      outcome: "ok",
      actor: "okta-prod",
      idp: "okta",
      requestId: createId,
      resourceType: "User",
      resourceId: id,
      userName: body.userName,
      dryRun: false,
    });
    expect(create.changes).toEqual(
      expect.arrayContaining([
        { path: "userName", after: body.userName },
        { path: "name.givenName", after: "Ada" },
        { path: "name.familyName", after: "Lovelace" },
        { path: "active", after: true },
      ]),
    );
    expect(create.changes.some((c) => /password/i.test(c.path))).toBe(false);
    const [job] = await h.bridge.store.outbox.list({ userId: id, limit: 10 });
    expect(create.jobId).toBe(job!.id);
    const dcCreate = only(trail, "digicert.createUser");
    expect(dcCreate).toMatchObject({
      kind: "digicert",
      outcome: "ok",
      requestId: createId,
      jobId: create.jobId,
      userName: body.userName,
      dryRun: false,
      digicert: { operation: "createUser", digicertId: String(row.digicertId), errorKind: null },
    });
    expect(dcCreate.changes).toEqual(expect.arrayContaining([{ path: "username", after: body.userName }, { path: "firstName", after: "Ada" }]));
    expect(h.sim.callsTo(platform, "POST", /^\/user$/).filter((c) => c.body && JSON.stringify(c.body).includes(body.userName as string))).toHaveLength(1);

    // Entra's PATCH (from the other credential): a name change and a deactivation.
    const patchId = rid();
    const patched = await h
      .patch(`/scim/v2/Users/${id}`, {
        schemas: [PATCH_OP],
        Operations: [
          { op: "Replace", path: "name.givenName", value: "Augusta" },
          { op: "Replace", path: "active", value: "False" },
        ],
      })
      .set("Authorization", `Bearer ${SECOND_TOKEN}`)
      .set("User-Agent", "Azure Active Directory SCIM Client")
      .set("X-Request-Id", patchId);
    expect(patched.status).toBe(200);
    expect(patched.body.active).toBe(false);
    trail = await history(id);
    const patch = only(trail, "user.patch");
    expect(patch).toMatchObject({ kind: "scim", outcome: "ok", actor: "entra-prod", idp: "entra", requestId: patchId, userName: body.userName });
    expect(patch.changes).toEqual(
      expect.arrayContaining([
        { path: "name.givenName", before: "Ada", after: "Augusta" },
        { path: "active", before: true, after: false },
      ]),
    );
    expect(patch.changes.find((c) => c.path === "userName")).toBeUndefined();
    const patchCalls = trail.filter((e) => e.kind === "digicert" && e.requestId === patchId);
    // Both platforms delete on deactivation by default (CertCentral has no deactivation; ONE_DEACTIVATE=delete).
    expect(patchCalls.map((e) => e.action)).toEqual(["digicert.deleteUser"]);
    for (const e of patchCalls) {
      expect(e).toMatchObject({ outcome: "ok", jobId: patch.jobId, digicert: { digicertId: String(row.digicertId), errorKind: null } });
    }
    if (platform === "one") expect(h.sim.getUser(platform, row.digicertId!).status).toBe("DELETED");
    else expect(h.sim.getUser(platform, row.digicertId!)).toBeUndefined();

    const deleteId = rid();
    expect((await h.del(`/scim/v2/Users/${id}`).set("User-Agent", OKTA_UA).set("X-Request-Id", deleteId)).status).toBe(204);
    await h.drain();
    trail = await history(id);
    const del = only(trail, "user.delete");
    expect(del).toMatchObject({ outcome: "ok", actor: "okta-prod", idp: "okta", requestId: deleteId, userName: body.userName });
    expect(del.changes).toEqual(expect.arrayContaining([{ path: "userName", before: body.userName }, { path: "name.givenName", before: "Augusta" }]));
    const deleteCalls = trail.filter((e) => e.kind === "digicert" && e.requestId === deleteId);
    // The DigiCert user went with the deactivation: nothing is left to delete.
    expect(deleteCalls.map((e) => e.action)).toEqual([]);
    // In the order things happened.
    expect(trail.map((e) => e.action).filter((a) => a.startsWith("user."))).toEqual(["user.create", "user.patch", "user.delete"]);

    // Logged too, one line per entry, without secrets.
    const logs = h.logs();
    const auditLines = logs.split("\n").filter((l) => l.includes('"message":"audit"')).map((l) => JSON.parse(l).audit);
    expect(auditLines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: "user.create", actor: "okta-prod", idp: "okta", requestId: createId, resourceId: id }),
        expect.objectContaining({ action: "digicert.createUser", outcome: "ok", requestId: createId }),
        expect.objectContaining({ action: "user.patch", actor: "entra-prod", requestId: patchId }),
        expect.objectContaining({ action: "user.delete", requestId: deleteId }),
      ]),
    );
    for (const secret of [PASSWORD, TOKEN, SECOND_TOKEN, API_KEY]) {
      expect(logs).not.toContain(secret);
      expect(await wholeTrail()).not.toContain(secret);
    }
  });

  test("refused writes are recorded: 409, 400, 404, and a DigiCert refusal with its rollback; the password is masked", async () => {
    const taken = oktaUser(undefined, { password: PASSWORD });
    expect((await h.post("/scim/v2/Users", taken)).status).toBe(201);

    const dupId = rid();
    const dup = await h.post("/scim/v2/Users", { ...taken, externalId: "other" }).set("User-Agent", OKTA_UA).set("X-Request-Id", dupId);
    expect(dup.status).toBe(409);
    const dupEntry = await refusedEntry(dupId);
    expect(dupEntry).toMatchObject({
      kind: "scim",
      action: "user.create",
      outcome: "refused",
      status: 409,
      actor: "okta-prod",
      idp: "okta",
      userName: taken.userName,
      resourceType: "User",
      resourceId: null,
    });
    expect(dupEntry.detail).toMatch(/already taken/);
    // What the request tried, with the password masked.
    expect(dupEntry.changes).toEqual(expect.arrayContaining([{ path: "userName", after: taken.userName }, { path: "password", after: "[REDACTED]" }]));

    const badId = rid();
    const bad = await h.post("/scim/v2/Users", oktaUser(undefined, { name: undefined, displayName: undefined, password: PASSWORD })).set("X-Request-Id", badId);
    expect(bad.status).toBe(400);
    expect(await refusedEntry(badId)).toMatchObject({ action: "user.create", status: 400, outcome: "refused", actor: "okta-prod", idp: "other" });

    const missingId = rid();
    const missing = await h.patch("/scim/v2/Users/no-such-user", { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "password", value: PASSWORD }] }).set("X-Request-Id", missingId);
    expect(missing.status).toBe(404);
    const missingEntry = await refusedEntry(missingId);
    expect(missingEntry).toMatchObject({ action: "user.patch", status: 404, resourceId: "no-such-user", userName: null });
    expect(missingEntry.changes).toEqual([{ path: "password", op: "replace", after: "[REDACTED]" }]);

    // DigiCert refuses the create: the IdP gets 400, the change is rolled back, and the trail says all of it.
    h.sim.failNext({
      platform,
      method: "POST",
      path: /^\/user$/,
      status: 400,
      body: { errors: [{ code: platform === "certcentral" ? "invalid_param|email" : "invalid_request", message: "Email domain is not allowed." }] },
    });
    const refusedBody = oktaUser(undefined, { password: PASSWORD });
    const dcId = rid();
    const refused = await h.post("/scim/v2/Users", refusedBody).set("X-Request-Id", dcId);
    expect(refused.status).toBe(400);
    expect(refused.body.detail).toMatch(/Email domain is not allowed/);
    expect(await h.bridge.store.users.getByUserName(refusedBody.userName as string)).toBeNull();
    await refusedEntry(dcId);
    const byRequest = (await h.bridge.store.audit.recent(500)).filter((e) => e.requestId === dcId).reverse();
    expect(byRequest.map((e) => `${e.action}:${e.outcome}`)).toEqual([
      "user.create:ok",
      "digicert.createUser:error",
      "user.rollback:ok",
      "user.create:refused",
    ]);
    expect(byRequest[1]).toMatchObject({ digicert: { operation: "createUser", digicertId: null, errorKind: "validation" } });
    expect(byRequest[1]!.detail).toMatch(/Email domain is not allowed/);
    expect(byRequest[2]).toMatchObject({ kind: "bridge", userName: refusedBody.userName });
    expect(byRequest[2]!.detail).toMatch(/DigiCert refused/);
    expect(byRequest[3]).toMatchObject({ status: 400, userName: refusedBody.userName });

    // A read is never recorded, nor a search.
    const before = (await h.bridge.store.audit.recent(100_000)).length;
    expect((await h.get(`/scim/v2/Users?filter=userName eq "${taken.userName}"`)).status).toBe(200);
    expect((await h.post("/scim/v2/Users/.search", { schemas: ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], filter: 'userName eq "nobody"' })).status).toBe(200);
    expect((await h.bridge.store.audit.recent(100_000)).length).toBe(before);

    for (const secret of [PASSWORD, TOKEN, SECOND_TOKEN, API_KEY]) {
      expect(await wholeTrail()).not.toContain(secret);
      expect(h.logs()).not.toContain(secret);
    }
  });

  test("group changes: the group's entry, one entry per member added or removed, and the role calls they caused", async () => {
    const a = (await h.post("/scim/v2/Users", oktaUser())).body;
    const b = (await h.post("/scim/v2/Users", oktaUser())).body;
    const admin = ADMIN_ROLE[platform];

    const createId = rid();
    const g = await h.post("/scim/v2/Groups", { schemas: [GROUP], displayName: "DigiCert Admins", members: [{ value: a.id }] }).set("User-Agent", OKTA_UA).set("X-Request-Id", createId);
    expect(g.status).toBe(201);
    const groupTrail = await history(g.body.id);
    const gc = only(groupTrail, "group.create");
    expect(gc).toMatchObject({ kind: "scim", actor: "okta-prod", idp: "okta", requestId: createId, resourceType: "Group", userName: null });
    expect(gc.changes).toEqual(
      expect.arrayContaining([
        { path: "displayName", after: "DigiCert Admins" },
        { path: "members", op: "add", after: [{ value: a.id, display: a.userName }] },
      ]),
    );
    let aTrail = await history(a.id);
    const added = only(aTrail, "group.member.add");
    expect(added).toMatchObject({ requestId: createId, userName: a.userName, changes: [{ path: "groups", op: "add", after: { value: g.body.id, display: "DigiCert Admins" } }] });
    expect(added.jobId).toEqual(expect.any(Number));
    const roleCall = aTrail.find((e) => e.action === "digicert.setRoles" && e.requestId === createId)!;
    expect(roleCall).toMatchObject({ outcome: "ok", jobId: added.jobId, changes: [{ path: "roles", after: [{ id: admin.id, name: admin.name }] }] });

    // Okta's PATCH: add b, remove a.
    const patchId = rid();
    const p = await h
      .patch(`/scim/v2/Groups/${g.body.id}`, {
        schemas: [PATCH_OP],
        Operations: [
          { op: "add", path: "members", value: [{ value: b.id }] },
          { op: "remove", path: `members[value eq "${a.id}"]` },
        ],
      })
      .set("X-Request-Id", patchId);
    expect(p.status).toBe(204);
    const gp = only(await history(g.body.id), "group.patch");
    expect(gp.changes).toEqual([
      { path: "members", op: "add", after: [{ value: b.id, display: b.userName }] },
      { path: "members", op: "remove", before: [{ value: a.id, display: a.userName }] },
    ]);
    aTrail = await history(a.id);
    expect(only(aTrail, "group.member.remove")).toMatchObject({ requestId: patchId, changes: [{ path: "groups", op: "remove", before: { value: g.body.id, display: "DigiCert Admins" } }] });
    expect(only(await history(b.id), "group.member.add")).toMatchObject({ requestId: patchId });
    expect((await history(b.id)).some((e) => e.action === "digicert.setRoles" && e.requestId === patchId && e.outcome === "ok")).toBe(true);

    // A PATCH that changes nothing is not a change.
    const count = (await history(g.body.id)).length;
    expect((await h.patch(`/scim/v2/Groups/${g.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: "add", path: "members", value: [{ value: b.id }] }] })).status).toBe(204);
    expect((await history(g.body.id)).length).toBe(count);

    const deleteId = rid();
    expect((await h.del(`/scim/v2/Groups/${g.body.id}`).set("X-Request-Id", deleteId)).status).toBe(204);
    const gd = only(await history(g.body.id), "group.delete");
    expect(gd.changes).toEqual(
      expect.arrayContaining([
        { path: "displayName", before: "DigiCert Admins" },
        { path: "members", op: "remove", before: [{ value: b.id, display: b.userName }] },
      ]),
    );
    expect((await history(b.id)).filter((e) => e.action === "group.member.remove" && e.requestId === deleteId)).toHaveLength(1);
  });

  test("a mapping reload that changes a user's roles is recorded as the bridge's own change, with its DigiCert call", async () => {
    const u = (await h.post("/scim/v2/Users", oktaUser())).body;
    const admin = ADMIN_ROLE[platform];
    writeFileSync(mappingFile, `default: ["${admin.name}"]\nrules:\n  - group: "DigiCert Admins"\n    roles: ["${admin.name}"]\n`);
    const report = await h.bridge.reloadRoleMapping();
    expect(report.changes.some((c) => c.userId === u.id)).toBe(true);
    await h.drain();
    const trail = await history(u.id);
    const reload = only(trail, "mapping.reload");
    expect(reload).toMatchObject({ kind: "bridge", actor: null, requestId: null, userName: u.userName, detail: "the role mapping was reloaded" });
    expect(reload.changes).toEqual([{ path: "roles", before: [expect.any(String)], after: [admin.name] }]);
    const call = trail.find((e) => e.action === "digicert.setRoles" && e.jobId === reload.jobId)!;
    expect(call).toMatchObject({ outcome: "ok", requestId: null, changes: [{ path: "roles", after: [{ id: admin.id, name: admin.name }] }] });
  });

  test("a write answered 429 by back-pressure is recorded as refused", async () => {
    const bp = await startHarness({ platform, env: { SYNC_WAIT_MS: "0", OUTBOX_MAX_PENDING: "2", DIGICERT_CIRCUIT_COOLDOWN_MS: "1000" } });
    try {
      bp.sim.failNext({ platform, method: "POST", path: /^\/user$/, status: 503, body: {}, times: 1_000_000 });
      for (let i = 0; i < 2; i++) expect((await bp.post("/scim/v2/Users", oktaUser())).status).toBe(201);
      await new Promise((r) => setTimeout(r, 1100)); // the depth is measured at most once a second
      const res = await bp.post("/scim/v2/Users", oktaUser()).set("X-Request-Id", "bp-refused-1");
      expect(res.status).toBe(429);
      let entry: AuditEntry | undefined;
      for (let i = 0; i < 50 && !entry; i++) {
        entry = (await bp.bridge.store.audit.recent(50)).find((e) => e.requestId === "bp-refused-1");
        if (!entry) await new Promise((r) => setTimeout(r, 20));
      }
      expect(entry).toMatchObject({ action: "user.create", outcome: "refused", status: 429, actor: "token-1" });
      expect(entry!.detail).toMatch(/changes waiting for DigiCert/);
      // The DigiCert calls that failed meanwhile are in the trail too, as errors.
      const failedCalls = (await bp.bridge.store.audit.recent(200)).filter((e) => e.action === "digicert.createUser");
      expect(failedCalls.length).toBeGreaterThan(0);
      expect(failedCalls.every((e) => e.outcome === "error" && e.digicert?.errorKind === "unavailable")).toBe(true);
      bp.sim.clearFaults();
    } finally {
      await bp.close();
    }
  });
});
