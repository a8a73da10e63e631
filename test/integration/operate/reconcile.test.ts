// Reconciliation end to end: drift injected directly into the simulator (as an admin would, by hand, through
// DigiCert's API), found by the provisioning function and by `digicert-scim reconcile`, repaired by --fix through
// the outbox, with unmanaged DigiCert users left untouched and DigiCert's user list read page by page.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import request from "supertest";
import { reconcileCommand } from "../../../src/cli/reconcile";
import type { Platform } from "../../../src/digicert/types";
import type { DriftEntry, DriftKind, ReconcileReport } from "../../../src/provisioning/reconcile";
import { ReconcileSchedule } from "../../../src/provisioning/reconcile-schedule";
import { silentLogger } from "../../../src/log/logger";
import { dropSchema, PG_URL, storeVariants, uniqueSchema } from "../../support/databases";
import {
  API_KEY,
  CC_CONTAINER_ID,
  DC_EXT,
  ONE_ACCOUNT_ID,
  oktaUser,
  PATCH_OP,
  startHarness,
  TOKEN,
  type Harness,
} from "../../support/harness";
import { writeMapping } from "../../support/mapping";

jest.setTimeout(60_000);

const ROLES = {
  certcentral: { default: "5", admin: "1", defaultName: "Standard User", adminName: "Administrator" },
  one: { default: "AM_DEFAULT_USER", admin: "AM_ACCOUNT_ADMIN", defaultName: "Default User", adminName: "Account Admin" },
} as const;

const deactivate = { schemas: [PATCH_OP], Operations: [{ op: "replace", value: { active: false } }] };

function mappingFor(platform: Platform): string {
  const r = ROLES[platform];
  return writeMapping(`default: ["${r.defaultName}"]
rules:
  - group: "DigiCert Admins"
    roles: ["${r.adminName}"]
`);
}

class Buffer {
  text = "";
  write(s: string) {
    this.text += s;
    return true;
  }
}

/** What the CLI needs to reach the harness's DigiCert and database. */
function cliEnv(h: Harness, platform: Platform, databaseUrl: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    SCIM_BEARER_TOKENS: TOKEN,
    DIGICERT_PLATFORM: platform,
    ...(platform === "one" ? { ONE_DEACTIVATE: "disable" } : {}),
    DIGICERT_API_KEY: API_KEY,
    DIGICERT_BASE_URL: platform === "one" ? h.sim.oneBaseUrl : h.sim.certcentralBaseUrl,
    DIGICERT_CERTCENTRAL_CONTAINER_ID: String(CC_CONTAINER_ID),
    DIGICERT_ONE_ACCOUNT_ID: ONE_ACCOUNT_ID,
    DIGICERT_RATE_LIMIT: "1000/1s",
    DATABASE_URL: databaseUrl,
    ...extra,
  };
}

/** A change made by hand in DigiCert, through its API (not through the bridge). */
async function byHand(h: Harness, platform: Platform, method: string, path: string, body?: unknown): Promise<void> {
  const base = platform === "one" ? h.sim.oneBaseUrl : h.sim.certcentralBaseUrl;
  const res = await fetch(base + path, {
    method,
    headers: { [platform === "one" ? "x-api-key" : "X-DC-DEVKEY"]: API_KEY, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(res.status).toBeLessThan(300);
}

const kindsOf = (r: ReconcileReport, userId: string) => r.entries.filter((e) => e.userId === userId).map((e) => e.kind);
const entry = (r: ReconcileReport, kind: DriftKind, userId: string | null): DriftEntry | undefined =>
  r.entries.find((e) => e.kind === kind && e.userId === userId);

async function metric(h: Harness, name: string): Promise<Record<string, number>> {
  const res = await request(h.app).get("/metrics");
  expect(res.status).toBe(200);
  const out: Record<string, number> = {};
  for (const l of res.text.split("\n")) {
    const m = new RegExp(`^${name}(\\{[^}]*\\})?\\s+(\\S+)$`).exec(l);
    if (m) out[m[1] ?? ""] = Number(m[2]);
  }
  return out;
}

describe.each(storeVariants("reconcile"))("reconcile: %s", (_label, platform, db) => {
  const r = ROLES[platform];
  let h: Harness;
  let databaseUrl: string;
  let pgSchema: string;
  let mappingFile: string;
  const dcRoles = (dcId: string) => {
    const u = h.sim.getUser(platform, dcId);
    return (platform === "certcentral" ? u.access_roles : u.roles).map((x: any) => String(x.id)).sort();
  };
  const dcIdOf = async (scimId: string) => (await h.bridge.store.users.getById(scimId))!.digicertId!;

  beforeEach(async () => {
    mappingFile = mappingFor(platform);
    // ONE disables rather than deletes here, so that the drift of a user enabled or disabled by hand can be made.
    const env: Record<string, string> = { ROLE_MAPPING_FILE: mappingFile, ...(platform === "one" ? { ONE_DEACTIVATE: "disable" } : {}) };
    if (db === "postgres") {
      pgSchema = uniqueSchema(`reconcile_${platform}`);
      // The CLI reaches the same schema through the connection's startup options.
      databaseUrl = `${PG_URL}${PG_URL!.includes("?") ? "&" : "?"}options=${encodeURIComponent(`-c search_path=${pgSchema}`)}`;
      h = await startHarness({ platform, env, databaseUrl: PG_URL, pgSchema });
    } else {
      databaseUrl = `sqlite:${join(mkdtempSync(join(tmpdir(), "reconcile-")), "scim.db")}`;
      h = await startHarness({ platform, env, databaseUrl });
    }
  });
  afterEach(async () => {
    await h.close();
    if (db === "postgres") await dropSchema(pgSchema);
  });

  async function create(extra: Record<string, unknown> = {}): Promise<any> {
    const res = await h.post("/scim/v2/Users", oktaUser(undefined, extra));
    expect(res.status).toBe(201);
    return res.body;
  }

  test("finds each kind of drift made by hand, and --fix restores what the IdP declared", async () => {
    // --- The IdP's state, provisioned by the bridge.
    const gone = await create();
    const roles = await create();
    const renamed = await create();
    const steady = await create();
    const disabled = platform === "one" ? await create() : null;
    const inactive = platform === "one" ? await create() : null;
    if (inactive) expect((await h.patch(`/scim/v2/Users/${inactive.id}`, deactivate)).status).toBe(200);
    // Created inactive: no DigiCert user. Then the store says active without the outbox having run.
    const notProvisioned = await create({ active: false });
    await h.drain();
    expect((await h.bridge.store.users.getById(notProvisioned.id))!.digicertId).toBeNull();
    await h.bridge.store.users.update(notProvisioned.id, { active: true });
    await h.bridge.store.users.setLink(notProvisioned.id, { digicertId: null, adopted: false, digicertEnabled: true, digicertRoleIds: null });
    // The store marks a user pending only through the outbox; a user updated behind its back stays as it was.
    expect((await h.bridge.store.users.getById(notProvisioned.id))!.syncState).not.toBe("pending");

    // --- Drift made by hand in DigiCert.
    const goneDc = String(gone[DC_EXT].digicertUserId);
    await byHand(h, platform, "DELETE", `/user/${goneDc}`);
    const rolesDc = String(roles[DC_EXT].digicertUserId);
    if (platform === "certcentral") await byHand(h, platform, "PUT", `/user/${rolesDc}/role`, { access_roles: [{ id: 1 }] });
    else await byHand(h, platform, "PUT", `/user/${rolesDc}`, { roles: [r.admin] });
    const renamedDc = String(renamed[DC_EXT].digicertUserId);
    if (platform === "certcentral") {
      await byHand(h, platform, "PUT", `/user/${renamedDc}`, {
        username: renamed.userName,
        first_name: "Changed",
        last_name: "Lovelace",
        email: "changed@example.com",
      });
    } else {
      await byHand(h, platform, "PUT", `/user/${renamedDc}`, { first_name: "Changed", email: "changed@example.com" });
    }
    if (disabled) await byHand(h, platform, "PUT", `/user/${disabled[DC_EXT].digicertUserId}/disable`);
    if (inactive) await byHand(h, platform, "PUT", `/user/${inactive[DC_EXT].digicertUserId}/enable`);
    const handMade =
      platform === "certcentral"
        ? h.sim.seedUser(platform, { username: "hand.made", email: "hand.made@example.com", access_roles: [{ id: 1 }] })
        : h.sim.seedUser(platform, { user_name: "hand.made", email: "hand.made@example.com", roles: [r.admin] });
    // Outside the managed container/account: neither compared nor reported.
    if (platform === "certcentral") h.sim.seedUser(platform, { username: "other.division", containerId: CC_CONTAINER_ID + 1 });
    else h.sim.seedUser(platform, { user_name: "other.account", accounts: ["99999999-9999-4999-8999-999999999999"] });
    const adminId = platform === "certcentral" ? "100" : "00000000-0000-4000-8000-000000000001";

    // --- The provisioning function, report only, DigiCert's list read 2 users at a time.
    h.sim.clearCalls();
    const progress: any[] = [];
    const report = await h.bridge.reconcile({ pageSize: 2, progressEvery: 2, onProgress: (p) => void progress.push(p) });
    const expectedCounts: Record<DriftKind, number> = {
      missing: 1,
      deactivated_by_hand: platform === "one" ? 1 : 0,
      reactivated_by_hand: platform === "one" ? 1 : 0,
      roles_changed: 1,
      profile_changed: 1,
      not_provisioned: 1,
      // The hand-made user and the API key's own user.
      unmanaged: 2,
    };
    expect(report.counts).toEqual(expectedCounts);
    expect(report).toMatchObject({ trigger: "cli", fix: false, platform, id: expect.any(Number) });
    expect(kindsOf(report, steady.id)).toEqual([]);
    expect(entry(report, "missing", gone.id)).toMatchObject({ digicertId: goneDc, action: "reported" });
    expect(entry(report, "roles_changed", roles.id)).toMatchObject({ expected: [r.default], actual: [r.admin] });
    expect(entry(report, "profile_changed", renamed.id)!.fields).toEqual([
      { field: "firstName", expected: "Ada", actual: "Changed" },
      { field: "email", expected: renamed.userName, actual: "changed@example.com" },
    ]);
    expect(entry(report, "not_provisioned", notProvisioned.id)).toMatchObject({ digicertId: null });
    if (disabled) expect(entry(report, "deactivated_by_hand", disabled.id)).toMatchObject({ expected: "active", actual: "disabled" });
    if (inactive) expect(entry(report, "reactivated_by_hand", inactive.id)).toMatchObject({ expected: "disabled", actual: "active" });
    expect(report.entries.filter((e) => e.kind === "unmanaged").map((e) => e.digicertId).sort()).toEqual([String(handMade.id), adminId].sort());
    expect(report.stats).toMatchObject({
      outOfScope: platform === "one" ? 1 : 0,
      storeUsers: platform === "one" ? 7 : 5,
      checked: platform === "one" ? 7 : 5,
      skipped: 0,
      driftedUsers: platform === "one" ? 6 : 4,
      queued: 0,
    });
    // Paged: limit 2, consecutive offsets; CertCentral within the container. Report only: no DigiCert write.
    const lists = h.sim.callsTo(platform, "GET", "/user");
    expect(lists.length).toBe(report.stats.listCalls);
    const listed = report.stats.digicertUsers + report.stats.outOfScope;
    expect(listed).toBe(platform === "one" ? 8 : 5);
    // CertCentral stops at page.total; ONE's bare arrays end at the first short (here empty) page.
    expect(lists.length).toBe(platform === "one" ? Math.floor(listed / 2) + 1 : Math.ceil(listed / 2));
    lists.forEach((c, i) => {
      expect(c.query).toMatchObject({ offset: String(i * 2), limit: "2" });
      if (platform === "certcentral") expect(c.query.container_id).toBe(String(CC_CONTAINER_ID));
    });
    expect(h.sim.calls.filter((c) => c.method !== "GET")).toEqual([]);
    expect(progress.filter((p) => p.phase === "digicert").length).toBe(lists.length);
    expect(progress.filter((p) => p.phase === "store").map((p) => p.done)).toEqual(platform === "one" ? [2, 4, 6, 7] : [2, 4, 5]);
    // Stored for the status page, exposed as gauges.
    const latest = await h.bridge.store.reconcile.latest();
    expect(latest).toMatchObject({ id: report.id, counts: expectedCounts, stats: report.stats });
    expect(latest!.entries).toEqual(report.entries);
    const gauge = await metric(h, "reconcile_drift_users");
    expect(gauge[`{tenant="default",target="${platform}",kind="missing"}`]).toBe(1);
    expect(gauge[`{tenant="default",target="${platform}",kind="unmanaged"}`]).toBe(2);
    expect(gauge[`{tenant="default",target="${platform}",kind="roles_changed"}`]).toBe(1);
    const last = await metric(h, "reconcile_last_run_timestamp_seconds");
    expect(last[`{tenant="default",target="${platform}"}`]).toBeCloseTo(Date.parse(report.finishedAt) / 1000, 2);

    // --- The CLI, report only, as JSON: same findings, exit 3, progress on stderr.
    const out = new Buffer();
    const err = new Buffer();
    h.sim.clearCalls();
    const code = await reconcileCommand({ json: true }, cliEnv(h, platform, databaseUrl, { ROLE_MAPPING_FILE: mappingFile }), out, err);
    expect(err.text).toMatch(/DigiCert users listed/);
    expect(err.text).toMatch(/stored users compared/);
    expect(code).toBe(3);
    const cliReport = JSON.parse(out.text) as ReconcileReport;
    expect(cliReport.counts).toEqual(expectedCounts);
    expect(cliReport.entries.map((e) => [e.kind, e.userId, e.digicertId])).toEqual(report.entries.map((e) => [e.kind, e.userId, e.digicertId]));
    // ONE's bare arrays carry no total: a short page may be ONE's own cap, so only an empty page ends the list.
    expect(h.sim.callsTo(platform, "GET", "/user").map((c) => c.query)).toEqual(
      platform === "certcentral"
        ? [{ offset: "0", limit: "500", container_id: String(CC_CONTAINER_ID) }]
        : [{ offset: "0", limit: "500" }, { offset: "8", limit: "500" }],
    );
    expect(h.sim.calls.filter((c) => c.method !== "GET")).toEqual([]);

    // --- The CLI with --fix (table): one job per drifted user; the bridge's worker carries them out.
    const fixOut = new Buffer();
    h.sim.clearCalls();
    const fixCode = await reconcileCommand({ fix: true }, cliEnv(h, platform, databaseUrl, { ROLE_MAPPING_FILE: mappingFile }), fixOut, new Buffer());
    expect(fixCode).toBe(3);
    expect(fixOut.text).toMatch(/^KIND\s+SCIM USER\s+DIGICERT ID\s+ACTION\s+DETAIL$/m);
    expect(fixOut.text).toMatch(new RegExp(`^missing\\s+${gone.userName.replace(/\./g, "\\.")}\\s+${goneDc}\\s+queued \\(job \\d+\\)`, "m"));
    expect(fixOut.text).toMatch(/^unmanaged\s+hand\.made\s+\S+\s+reported\s/m);
    expect(fixOut.text).toContain(`Fix: ${platform === "one" ? 6 : 4} outbox jobs queued`);
    const fixed = (await h.bridge.store.reconcile.latest())!;
    expect(fixed.fix).toBe(true);
    expect(fixed.stats.queued).toBe(platform === "one" ? 6 : 4);
    expect(fixed.entries.filter((e) => e.kind !== "unmanaged").every((e) => e.action === "queued" && e.jobId! > 0)).toBe(true);
    await h.drain();

    // --- DigiCert is back to the IdP's state.
    const goneNow = await h.bridge.store.users.getById(gone.id);
    expect(goneNow!.digicertId).not.toBeNull();
    expect(goneNow!.digicertId).not.toBe(goneDc);
    expect(h.sim.getUser(platform, goneNow!.digicertId!)).toMatchObject(platform === "certcentral" ? { username: gone.userName } : { user_name: gone.userName });
    expect(dcRoles(goneNow!.digicertId!)).toEqual([r.default]);
    expect(dcRoles(rolesDc)).toEqual([r.default]);
    expect(h.sim.getUser(platform, renamedDc)).toMatchObject({ first_name: "Ada", last_name: "Lovelace", email: renamed.userName });
    const np = await h.bridge.store.users.getById(notProvisioned.id);
    expect(np!.digicertId).not.toBeNull();
    expect(np!.syncState).toBe("synced");
    expect(dcRoles(np!.digicertId!)).toEqual([r.default]);
    if (disabled) expect(h.sim.getUser(platform, String(disabled[DC_EXT].digicertUserId)).status).toBe("ACTIVE");
    if (inactive) expect(h.sim.getUser(platform, String(inactive[DC_EXT].digicertUserId)).status).toBe("DISABLED");
    // Unmanaged users untouched: not one call about them, and the same as before.
    const untouched = [String(handMade.id), adminId];
    expect(h.sim.calls.filter((c) => untouched.some((id) => c.path === `/user/${id}` || c.path.startsWith(`/user/${id}/`)))).toEqual([]);
    expect(h.sim.getUser(platform, handMade.id)).toEqual(handMade);
    // Nothing but the unmanaged users is left: exit 0.
    const again = await h.bridge.reconcile();
    expect(again.counts).toEqual({ ...Object.fromEntries(Object.keys(expectedCounts).map((k) => [k, 0])), unmanaged: 2 });
    const clean = new Buffer();
    expect(await reconcileCommand({}, cliEnv(h, platform, databaseUrl, { ROLE_MAPPING_FILE: mappingFile }), clean, new Buffer())).toBe(0);
    expect(clean.text).toMatch(/^unmanaged\s+hand\.made/m);
    expect(clean.text).not.toContain("--fix");
  });

  test("--fix leaves a user that changed while reconcile ran (its own job converges it)", async () => {
    const u = await create();
    const dcId = await dcIdOf(u.id);
    await byHand(h, platform, "DELETE", `/user/${dcId}`);
    const report = await h.bridge.reconcile({
      fix: true,
      progressEvery: 1,
      onProgress: async (p) => {
        // After the comparison, before the fix: the IdP changes the user.
        if (p.phase === "store") await h.bridge.store.users.update(u.id, { externalId: "changed-meanwhile" });
      },
    });
    expect(entry(report, "missing", u.id)).toMatchObject({ action: "skipped" });
    expect(report.stats).toMatchObject({ queued: 0, fixSkipped: 1 });
    expect((await h.bridge.store.users.getById(u.id))!.digicertId).toBe(dcId);
  });

  test("a user whose job is pending is skipped, not reported", async () => {
    const u = await create();
    const dcId = await dcIdOf(u.id);
    await byHand(h, platform, "DELETE", `/user/${dcId}`);
    // A job queued (not yet run): the comparison would be against a link the job is about to change.
    await h.bridge.outbox.stop(1000);
    await h.bridge.store.outbox.enqueue([{ userId: u.id, kind: "update", payload: { userName: u.userName, profileChanged: true } }]);
    const report = await h.bridge.reconcile({ fix: true });
    expect(report.counts.missing).toBe(0);
    expect(report.stats.skipped).toBe(1);
    h.bridge.outbox.start();
    await h.drain();
    // The job found the user gone and re-created it (the outbox's own repair); the next run has nothing to say.
    const after = await h.bridge.reconcile();
    expect(kindsOf(after, u.id)).toEqual([]);
  });
});

describe("reconcile on CertCentral with CERTCENTRAL_DEACTIVATE=demote", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ platform: "certcentral", env: { CERTCENTRAL_DEACTIVATE: "demote:Limited User" } });
  });
  afterAll(() => h.close());

  test("a demoted user given a role back by hand is reactivated_by_hand; the fix demotes it again", async () => {
    const u = (await h.post("/scim/v2/Users", oktaUser())).body;
    expect((await h.patch(`/scim/v2/Users/${u.id}`, deactivate)).status).toBe(200);
    const dcId = String(u[DC_EXT].digicertUserId);
    await byHand(h, "certcentral", "PUT", `/user/${dcId}/role`, { access_roles: [{ id: 1 }] });
    const report = await h.bridge.reconcile({ fix: true });
    expect(entry(report, "reactivated_by_hand", u.id)).toMatchObject({ expected: ["2"], actual: ["1"], action: "queued" });
    // Without a mapping file the bridge does not manage roles of active users: no roles_changed for anyone.
    expect(report.counts.roles_changed).toBe(0);
    await h.drain();
    expect(h.sim.getUser("certcentral", dcId).access_roles.map((x: any) => x.id)).toEqual([2]);
    const driftLines = h.logs().split("\n").filter((l) => l.includes('"message":"reconcile: drift"'));
    expect(driftLines).toHaveLength(1);
    expect(JSON.parse(driftLines[0])).toMatchObject({ level: "warn", kind: "reactivated_by_hand", userId: u.id, action: "queued" });
  });
});

describe("scheduled reconciliation (RECONCILE_INTERVAL)", () => {
  test("the server runs it by itself, report only: drift is logged, stored and exposed, nothing is changed", async () => {
    const h = await startHarness({ platform: "one", env: { RECONCILE_INTERVAL: "1h" } });
    try {
      expect(h.bridge.reconcileSchedule).not.toBeNull();
      const u = (await h.post("/scim/v2/Users", oktaUser())).body;
      await byHand(h, "one", "PUT", `/user/${u[DC_EXT].digicertUserId}/disable`);
      h.sim.clearCalls();
      // The first look comes 1-2 s after start.
      const deadline = Date.now() + 10_000;
      let latest = await h.bridge.store.reconcile.latestSummary();
      while (!latest && Date.now() < deadline) {
        await new Promise((res) => setTimeout(res, 100));
        latest = await h.bridge.store.reconcile.latestSummary();
      }
      expect(latest).toMatchObject({ trigger: "schedule", fix: false });
      expect(latest!.counts.deactivated_by_hand).toBe(1);
      expect(h.logs()).toMatch(/"message":"reconcile finished".*"trigger":"schedule"/);
      expect((await metric(h, "reconcile_drift_users"))[`{tenant="default",target="${h.platform}",kind="deactivated_by_hand"}`]).toBe(1);
      expect(h.sim.calls.filter((c) => c.method !== "GET")).toEqual([]);
      expect(await h.bridge.store.outbox.stats()).toMatchObject({ pending: 0, running: 0 });
      // Due again only after the interval: another look now does nothing.
      expect(await h.bridge.reconcileSchedule!.tick()).toBe(false);
    } finally {
      await h.close();
    }
  });
});

describe.each(storeVariants("reconcile schedule lease").filter(([, p]) => p === "certcentral"))(
  "one replica at a time: %s",
  (_label, platform, db) => {
    test("two replicas on one store: one runs, the other does not; after the interval the next one does", async () => {
      const pgSchema = uniqueSchema("reconcile_lease");
      const databaseUrl = db === "postgres" ? PG_URL! : `sqlite:${join(mkdtempSync(join(tmpdir(), "reconcile-lease-")), "scim.db")}`;
      const a = await startHarness({ platform, databaseUrl, ...(db === "postgres" ? { pgSchema } : {}) });
      const b = await startHarness({ platform, databaseUrl, sim: a.sim, ...(db === "postgres" ? { pgSchema } : {}) });
      try {
        const runs: string[] = [];
        const schedule = (name: string, h: Harness, intervalMs: number) =>
          new ReconcileSchedule({
            repo: h.bridge.store.reconcile,
            intervalMs,
            logger: silentLogger(),
            run: async (signal) => {
              runs.push(name);
              // Long enough for the other replica to try while this one holds the lease.
              await new Promise((res) => setTimeout(res, 200));
              return h.bridge.reconcile({ trigger: "schedule", signal });
            },
          });
        const sa = schedule("a", a, 60_000);
        const sb = schedule("b", b, 60_000);
        const results = await Promise.all([sa.tick(), sb.tick()]);
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(runs).toHaveLength(1);
        // Lease released, but the last run is too recent for either.
        expect(await sa.tick()).toBe(false);
        expect(await sb.tick()).toBe(false);
        // With a short interval the run is due again, and exactly one replica takes it.
        const [qa, qb] = [schedule("a", a, 1), schedule("b", b, 1)];
        await new Promise((res) => setTimeout(res, 5));
        const again = await Promise.all([qa.tick(), qb.tick()]);
        expect(again.filter(Boolean)).toHaveLength(1);
        expect(runs).toHaveLength(2);
        const stored = await a.bridge.store.reconcile.list(10);
        expect(stored.map((s) => s.trigger)).toEqual(["schedule", "schedule"]);
        // A holder that died: its lease runs out, then another replica may run.
        expect(await a.bridge.store.reconcile.tryLease("dead", "ghost", 50, 0)).toBe(true);
        expect(await b.bridge.store.reconcile.tryLease("dead", "b", 50, 0)).toBe(false);
        await new Promise((res) => setTimeout(res, 80));
        expect(await b.bridge.store.reconcile.tryLease("dead", "b", 50, 0)).toBe(true);
      } finally {
        await b.close();
        await a.close();
        if (db === "postgres") await dropSchema(pgSchema);
      }
    });
  },
);
