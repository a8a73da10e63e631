// DRY_RUN=true: the IdP is served normally (stored changes, sync states, SCIM answers), DigiCert receives reads
// only, and every write the bridge would have made is in the audit trail (dryRun) and in `digicert-scim plan`.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeMapping } from "../../support/mapping";
import { API_KEY, DC_EXT, ONE_ACCOUNT_ID, oktaUser, PATCH_OP, startHarness, TOKEN, type Harness } from "../../support/harness";
import { planCommand } from "../../../src/cli/plan";
import { auditCommand } from "../../../src/cli/audit";
import type { Platform } from "../../../src/digicert/types";

const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ROLES = {
  certcentral: { admin: "Administrator", adminId: "1", defaultId: "5" },
  one: { admin: "Account Admin", adminId: "AM_ACCOUNT_ADMIN", defaultId: "AM_DEFAULT_USER" },
} as const;

describe.each<[Platform]>([["certcentral"], ["one"]])("Dry run on %s", (platform) => {
  const r = ROLES[platform];
  const dbFile = join(mkdtempSync(join(tmpdir(), "dry-run-")), "bridge.db");
  const cliEnv = {
    SCIM_BEARER_TOKENS: TOKEN,
    DIGICERT_API_KEY: API_KEY,
    DIGICERT_PLATFORM: platform,
    DIGICERT_ONE_ACCOUNT_ID: ONE_ACCOUNT_ID,
    DATABASE_URL: `sqlite:${dbFile}`,
  };
  let h: Harness;
  let seededId: string;
  const users: Record<string, any> = {};
  let group: any;

  beforeAll(async () => {
    h = await startHarness({
      platform,
      databaseUrl: `sqlite:${dbFile}`,
      env: { DRY_RUN: "true", ROLE_MAPPING_FILE: writeMapping(`rules:\n  - group: "DigiCert Admins"\n    roles: ["${r.admin}"]\n`) },
    });
    // A DigiCert user made by hand before SSO: a real bridge would adopt it.
    const seeded =
      platform === "certcentral"
        ? h.sim.seedUser(platform, { username: "hand.made@example.com", first_name: "Hand", last_name: "Made", email: "hand.made@example.com", access_roles: [{ id: 5 }] })
        : h.sim.seedUser(platform, { user_name: "hand.made@example.com", first_name: "Hand", last_name: "Made", email: "hand.made@example.com", roles: [r.defaultId] });
    seededId = String(seeded.id);
  });
  afterAll(async () => h.close());

  async function run(cmd: (out: { write(s: string): unknown }, err: { write(s: string): unknown }) => Promise<number>) {
    let out = "";
    let err = "";
    const code = await cmd({ write: (s: string) => (out += s) }, { write: (s: string) => (err += s) });
    expect(out + err).not.toContain(API_KEY);
    expect(out + err).not.toContain(TOKEN);
    return { code, out, err };
  }

  test("creates, PATCHes, deactivations, deletes and group changes: normal SCIM answers, zero DigiCert writes", async () => {
    const before = h.sim.listUsers(platform).map((u: any) => JSON.stringify(u));
    h.sim.clearCalls();

    for (const name of ["alice", "carol"]) {
      const res = await h.post("/scim/v2/Users", oktaUser(`${name}.${platform}@example.com`));
      expect(res.status).toBe(201);
      expect(res.body[DC_EXT]).toMatchObject({ syncState: "synced", adopted: false });
      expect(res.body[DC_EXT].digicertUserId).toMatch(/^dry-run-[0-9a-f-]{36}$/);
      users[name] = res.body;
    }
    // The hand-made user is adopted, as it would be for real.
    const adopted = await h.post("/scim/v2/Users", oktaUser("hand.made@example.com", { name: { givenName: "Hand", familyName: "Made" } }));
    expect(adopted.status).toBe(201);
    expect(adopted.body[DC_EXT]).toMatchObject({ syncState: "synced", adopted: true, digicertUserId: seededId });
    users.hand = adopted.body;

    const renamed = await h.patch(`/scim/v2/Users/${users.alice.id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "name.givenName", value: "Alicia" }] });
    expect(renamed.status).toBe(200);
    expect(renamed.body.name.givenName).toBe("Alicia");
    expect(renamed.body[DC_EXT].syncState).toBe("synced");

    const off = await h.patch(`/scim/v2/Users/${users.carol.id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", value: { active: false } }] });
    expect(off.status).toBe(200);
    expect(off.body.active).toBe(false);
    const on = await h.patch(`/scim/v2/Users/${users.carol.id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", value: { active: true } }] });
    expect(on.status).toBe(200);
    expect(on.body[DC_EXT].syncState).toBe("synced");

    const g = await h.post("/scim/v2/Groups", { schemas: [GROUP], displayName: "DigiCert Admins", members: [{ value: users.alice.id }] });
    expect(g.status).toBe(201);
    group = g.body;
    const aliceRead = await h.get(`/scim/v2/Users/${users.alice.id}`);
    expect(aliceRead.body.roles).toEqual([{ value: r.adminId, display: r.admin }]);
    const moved = await h.patch(`/scim/v2/Groups/${group.id}`, {
      schemas: [PATCH_OP],
      Operations: [
        { op: "add", path: "members", value: [{ value: users.hand.id }] },
        { op: "remove", path: `members[value eq "${users.alice.id}"]` },
      ],
    });
    expect(moved.status).toBe(204);
    expect((await h.del(`/scim/v2/Users/${users.carol.id}`)).status).toBe(204);
    expect((await h.get(`/scim/v2/Users/${users.carol.id}`)).status).toBe(404);
    expect((await h.del(`/scim/v2/Groups/${group.id}`)).status).toBe(204);
    await h.drain();

    // DigiCert saw reads only, and holds exactly what it held before.
    expect(h.sim.calls.filter((c) => c.method !== "GET").map((c) => `${c.method} ${c.path}`)).toEqual([]);
    expect(h.sim.calls.length).toBeGreaterThan(0);
    expect(h.sim.listUsers(platform).map((u: any) => JSON.stringify(u))).toEqual(before);
    for (const u of [users.alice, users.hand]) {
      const read = await h.get(`/scim/v2/Users/${u.id}`);
      expect(read.body[DC_EXT].syncState).toBe("synced");
    }
    expect((await h.bridge.store.outbox.stats()).failed).toBe(0);

    // Every would-be call is in the audit trail, marked dry-run.
    const calls = (await h.bridge.store.audit.query({ kind: ["digicert"] })).filter((e) => e.dryRun);
    expect(calls.length).toBeGreaterThan(5);
    expect((await h.bridge.store.audit.query({ kind: ["digicert"], dryRun: false })).length).toBe(0);
    const ops = (userId: string) => calls.filter((e) => e.resourceId === userId).map((e) => `${e.digicert!.operation}:${e.outcome}`);
    expect(ops(users.alice.id)).toEqual(["createUser:ok", "updateUser:ok", "setRoles:ok", "setRoles:ok"]);
    // Adopted (a refused create, then its profile), then the group's role, then back when the group goes.
    expect(ops(users.hand.id)).toEqual(["createUser:error", "updateUser:ok", "setRoles:ok", "setRoles:ok"]);
    // Both platforms delete on deactivation by default (CERTCENTRAL_DEACTIVATE, ONE_DEACTIVATE) and re-create.
    expect(ops(users.carol.id)).toEqual(["createUser:ok", "deleteUser:ok", "createUser:ok", "deleteUser:ok"]);
    const aliceAdmin = calls.find((e) => e.resourceId === users.alice.id && e.digicert!.operation === "setRoles")!;
    expect(aliceAdmin.changes).toEqual([{ path: "roles", after: [{ id: r.adminId, name: r.admin }] }]);
    expect(calls.find((e) => e.resourceId === users.hand.id && e.digicert!.operation === "updateUser")!.digicert!.digicertId).toBe(seededId);

    // Said at start and on /readyz.
    expect(h.logs()).toContain("DRY_RUN is on");
    const ready = await h.get("/readyz");
    expect(ready.status).toBe(200);
    expect(ready.body.components.dryrun).toMatchObject({ status: "degraded", detail: expect.stringMatching(/nothing is written to DigiCert/) });
  });

  test("digicert-scim plan shows the would-be calls grouped by user; audit shows them in the user's history", async () => {
    const text = await run((out, err) => planCommand({}, cliEnv, out, err));
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^Dry run: what the bridge would have asked DigiCert to do \(nothing was sent\):/);
    const section = (userName: string) => {
      const start = text.out.indexOf(`\n${userName} — SCIM id`);
      expect(start).toBeGreaterThanOrEqual(0);
      const end = text.out.indexOf("\n\n", start + 1);
      return text.out.slice(start, end < 0 ? undefined : end);
    };
    const alice = section(users.alice.userName);
    expect(alice).toMatch(new RegExp(`create DigiCert user ${users.alice.userName.replace(/\./g, "\\.")} \\(Ada Lovelace, `));
    expect(alice).toContain(`set the roles of DigiCert user ${users.alice[DC_EXT].digicertUserId} to ${r.admin} (${r.adminId})`);
    expect(alice).toMatch(/update DigiCert user dry-run-\S+ to \S+ \(Alicia Lovelace/);
    const hand = section("hand.made@example.com");
    expect(hand).toContain("would be refused (DigiCert already has this username: the bridge adopts that user instead)");
    expect(hand).toContain(`update DigiCert user ${seededId}`);
    expect(hand).toContain(`set the roles of DigiCert user ${seededId} to ${r.admin} (${r.adminId})`);
    const carol = section(users.carol.userName);
    expect(carol).toContain("delete DigiCert user dry-run-");
    expect(text.out).toMatch(/\n3 users, \d+ DigiCert calls: createUser \d+/);

    const json = await run((out, err) => planCommand({ json: true }, cliEnv, out, err));
    expect(json.code).toBe(0);
    const plan = JSON.parse(json.out);
    expect(plan.dryRunConfigured).toBe(false); // the CLI's own environment; the entries say what the bridge did
    expect(plan.users.map((u: any) => u.userName).sort()).toEqual([users.alice.userName, users.carol.userName, "hand.made@example.com"].sort());
    // alice, hand.made (refused: adopted), carol, and carol again (deactivating deleted her, on both platforms).
    expect(plan.totals.createUser).toBe(4);
    expect(plan.users.find((u: any) => u.userId === users.alice.id).calls[0]).toMatchObject({ operation: "createUser", outcome: "ok", digicertId: users.alice[DC_EXT].digicertUserId });

    const one = await run((out, err) => planCommand({ user: users.alice.userName.toUpperCase() }, cliEnv, out, err));
    expect(one.code).toBe(0);
    expect(one.out).toContain(users.alice.userName);
    expect(one.out).not.toContain("hand.made@example.com");
    expect(one.out).toMatch(/\n1 user, 4 DigiCert calls: createUser 1, updateUser 1, setRoles 2/);

    const none = await run((out, err) => planCommand({ since: "2099-01-01" }, cliEnv, out, err));
    expect(none.code).toBe(0);
    expect(none.out).toMatch(/^No dry-run DigiCert calls recorded since 2099-01-01T00:00:00.000Z\./);

    // The user's own history shows the same calls, marked dry-run, under the SCIM changes that caused them.
    const hist = await run((out, err) => auditCommand({ user: users.alice.userName }, cliEnv, out, err));
    expect(hist.code).toBe(0);
    expect(hist.out).toMatch(/user\.create\s+token-1 \(other\)\s+ok/);
    expect(hist.out).toMatch(/digicert\.createUser \[dry-run\]\s+outbox\s+ok/);
    expect(hist.out).toMatch(/group\.member\.add\s+token-1 \(other\)\s+ok/);
    expect(hist.out).toContain("[dry-run]: DigiCert calls a DRY_RUN bridge did not send.");
  });
});
