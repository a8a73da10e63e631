import { createHash } from "node:crypto";
import { collectStatus, type AdminStatus, type StatusSource } from "../../../src/http/admin/status";
import { duration, escapeHtml, renderStatusPage, STYLE_HASH } from "../../../src/http/admin/page";
import type { ReadinessReport } from "../../../src/http/health";
import { silentLogger } from "../../../src/log/logger";
import type { CompiledRoleMapping } from "../../../src/provisioning/role-policy";
import type { OutboxJob } from "../../../src/provisioning/records";

// The status page's data gathering and HTML, without HTTP: every value escaped, optional sections, section errors.

const NOW = Date.parse("2026-01-02T03:04:05.000Z");
const EVIL = `<script>alert("x")</script>&'`;

const noMapping: CompiledRoleMapping = {
  forbidden: [],
  source: "(no role mapping file)",
  default: [{ id: "5", name: "Standard User" }],
  unmapped: "default",
  rules: [],
  multipleRoles: false,
};

function failedJob(over: Partial<OutboxJob> = {}): OutboxJob {
  return {
    id: 7,
    userId: "u-1",
    kind: "create",
    payload: { userName: "ada@example.com" },
    status: "failed",
    attempts: 2,
    runAfter: "2026-01-02T03:00:00.000Z",
    leaseOwner: null,
    leaseUntil: null,
    error: { cause: { source: "digicert", kind: "unavailable" }, message: "DigiCert answered 502" },
    created: "2026-01-02T03:00:00.000Z",
    updated: "2026-01-02T03:01:00.000Z",
    finished: "2026-01-02T03:01:00.000Z",
    ...over,
  };
}

function source(over: Partial<StatusSource> = {}): StatusSource {
  return {
    users: { countByState: async () => ({ total: 4, active: 3, inactive: 1, sync: { synced: 3, pending: 0, failed: 1 } }) },
    groups: { count: async () => 2 },
    outbox: {
      stats: async () => ({ pending: 1, running: 0, failed: 1, oldestUnfinished: "2026-01-02T03:02:05.000Z", drainPerSecond: 4.567 }),
      list: async (f) => (f.status?.includes("failed") ? [failedJob()] : []),
    },
    access: { managed: false, current: async () => noMapping },
    ...over,
  };
}

const health = async (): Promise<ReadinessReport> => ({
  status: "ready",
  components: { store: { status: "ok" }, outbox: { status: "degraded", detail: "1 failed job" } },
});

const PKG_VERSION = (require("../../../package.json") as { version: string }).version;
const collect = (s: StatusSource, h = health) => collectStatus(s, h, silentLogger(), () => NOW);

describe("status page data", () => {
  test("every section from its source; optional sources absent are 'not available'", async () => {
    const status = await collect(source());
    expect(status).toEqual({
      generatedAt: "2026-01-02T03:04:05.000Z",
      version: { version: PKG_VERSION, commit: expect.stringMatching(/^([0-9a-f]{7,64}|unknown)$/), node: process.versions.node },
      overall: { status: "degraded", reasons: ["outbox: 1 failed job"] },
      health: await health(),
      users: { total: 4, active: 3, inactive: 1, sync: { synced: 3, pending: 0, failed: 1 } },
      groups: { total: 2 },
      outbox: {
        pending: 1,
        running: 0,
        failed: 1,
        oldestUnfinished: "2026-01-02T03:02:05.000Z",
        oldestUnfinishedAgeSeconds: 120,
        failedJobs: [
          {
            id: 7,
            userId: "u-1",
            userName: "ada@example.com",
            kind: "create",
            attempts: 2,
            error: { kind: "digicert:unavailable", message: "DigiCert answered 502" },
            failedAt: "2026-01-02T03:01:00.000Z",
          },
        ],
        pendingJobs: [],
      },
      roleMapping: {
        managed: false,
        source: "(no role mapping file)",
        default: ["Standard User"],
        unmapped: "default",
        rules: [],
        summary: "No mapping file: new users get Standard User; the bridge does not change roles afterwards.",
      },
      audit: { available: false },
      reconcile: { available: false },
      digicert: { available: false },
    });
  });

  test("failed jobs (at most 10) and pending or running ones (at most 20) are asked for; nothing else", async () => {
    const list = jest.fn(async () => []);
    const s = source();
    await collect({ ...s, outbox: { ...s.outbox, list } });
    expect(list.mock.calls).toEqual([[{ status: ["failed"], limit: 10 }], [{ status: ["pending", "running"], limit: 20 }]]);
  });

  test("the drain rate is measured (jobs finished over 5 minutes), never the worker's budget figure", async () => {
    const doneSince = jest.fn(async () => 150);
    const s = source();
    const status = await collect({ ...s, outbox: { ...s.outbox, doneSince } });
    expect(doneSince).toHaveBeenCalledWith("2026-01-02T02:59:05.000Z");
    expect(status.outbox).toMatchObject({ drain: { measuredPerSecond: 0.5, jobsDone: 150, windowSeconds: 300 } });
    expect(status.outbox).not.toHaveProperty("drainPerSecond");
    const page = renderStatusPage(status);
    expect(page).toContain("drained (measured, last 5 min)");
    expect(page).toMatch(/data-metric="outbox.drain.measuredPerSecond"[^>]*>0.5</);
    expect(page).not.toContain("4.567");
  });

  test("the headline: degraded when a component is, failed when one failed, ok only when all are", async () => {
    const circuit = async (): Promise<ReadinessReport> => ({
      status: "ready",
      components: { store: { status: "ok" }, digicert: { status: "degraded", detail: "DigiCert circuit open after repeated failures" } },
    });
    const degraded = await collect(source(), circuit);
    expect(degraded.overall.status).toBe("degraded");
    expect(degraded.overall.reasons).toEqual(["digicert: DigiCert circuit open after repeated failures", "outbox: 1 failed job"]);
    const page = renderStatusPage(degraded);
    expect(page).toMatch(/<span class="badge degraded" data-metric="overall.status" data-state="degraded">degraded<\/span>/);
    expect(page).toContain("<li>digicert: DigiCert circuit open after repeated failures</li>");

    const down = await collect(source(), async () => ({ status: "not ready", components: { store: { status: "failed", error: "the store does not answer" } } }));
    expect(down.overall).toEqual({ status: "failed", reasons: ["store: the store does not answer", "outbox: 1 failed job"] });
    const s = source();
    const fine = await collect(
      { ...s, outbox: { ...s.outbox, stats: async () => ({ pending: 0, running: 0, failed: 0, oldestUnfinished: null }), list: async () => [] } },
      async () => ({ status: "ready", components: { store: { status: "ok" } } }),
    );
    expect(fine.overall).toEqual({ status: "ok", reasons: [] });
    expect(renderStatusPage(fine)).toContain('data-state="ok">all good</span>');
  });

  test("a section that cannot be read shows its error; the others still show", async () => {
    const status = await collect(
      source({
        users: { countByState: async () => Promise.reject(new Error("SQLITE_BUSY: database is locked")) },
        access: { managed: true, current: async () => Promise.reject(new Error("DigiCert is unreachable")) },
        audit: { recent: async () => Promise.reject(new Error("no such table: audit")) },
      }),
      async () => Promise.reject(new Error("probe broke")),
    );
    expect(status.users).toEqual({ error: "SQLITE_BUSY: database is locked" });
    expect(status.roleMapping).toEqual({ error: "DigiCert is unreachable" });
    expect(status.audit).toEqual({ error: "no such table: audit" });
    expect(status.health).toEqual({ error: "probe broke" });
    expect(status.groups).toEqual({ total: 2 });
    const page = renderStatusPage(status);
    expect(page).toContain("Could not be read: SQLITE_BUSY: database is locked");
    expect(page).toContain("Could not be read: DigiCert is unreachable");
  });

  test("a mapping file: rules with their roles, the default and the unmapped policy", async () => {
    const mapping: CompiledRoleMapping = {
      forbidden: [],
      source: "/etc/bridge/roles.yaml",
      default: [{ id: "AM_DEFAULT_USER", name: "Default User" }],
      unmapped: "deactivate",
      multipleRoles: true,
      rules: [
        {
          spec: { index: 1, line: 3, match: { kind: "displayName", value: "DigiCert Admins" }, roles: ["Account Admin"], describe: "rule 1" },
          roles: [{ id: "AM_ACCOUNT_ADMIN", name: "Account Admin" }],
        },
        {
          spec: { index: 2, line: 5, match: { kind: "pattern", source: "^pki-.*$", regex: /^pki-.*$/ }, roles: ["a", "b"], describe: "rule 2" },
          roles: [
            { id: "AM_USER_MANAGER", name: "User Manager" },
            { id: "AM_DEFAULT_USER", name: "Default User" },
          ],
        },
      ],
    };
    const status = await collect(source({ access: { managed: true, current: async () => mapping } }));
    expect(status.roleMapping).toEqual({
      managed: true,
      source: "/etc/bridge/roles.yaml",
      default: ["Default User"],
      unmapped: "deactivate",
      rules: [
        { rule: 1, line: 3, match: 'group "DigiCert Admins"', roles: ["Account Admin"] },
        { rule: 2, line: 5, match: "group name matching /^pki-.*$/", roles: ["User Manager", "Default User"] },
      ],
      summary:
        "2 rules from /etc/bridge/roles.yaml; users in no mapped group get no DigiCert access. A user gets the roles of every matching rule.",
    });
    const page = renderStatusPage(status);
    expect(page).toContain("<td>group &quot;DigiCert Admins&quot;</td><td>Account Admin</td>");
    expect(page).toContain("User Manager, Default User");
  });
});

describe("status page HTML", () => {
  let status: AdminStatus;
  beforeAll(async () => {
    status = await collect(source());
  });

  test("a complete document: no script, one inline style allowed by its hash, a 30 s meta refresh", () => {
    const page = renderStatusPage(status);
    expect(page.startsWith("<!doctype html>")).toBe(true);
    expect(page).not.toMatch(/<script|javascript:|\son[a-z]+=/i);
    expect(page).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(page).toContain('<meta http-equiv="refresh" content="30">');
    const styles = [...page.matchAll(/<style>([\s\S]*?)<\/style>/g)];
    expect(styles).toHaveLength(1);
    expect(STYLE_HASH).toBe(`'sha256-${createHash("sha256").update(styles[0][1], "utf8").digest("base64")}'`);
    expect(page).not.toMatch(/style="/);
  });

  test("the header names the version, the commit (12 characters) and Node.js", () => {
    const page = renderStatusPage({ ...status, version: { version: "9.8.7", commit: "0123456789abcdef0123456789abcdef01234567", node: "24.1.0" } });
    const header = /<header>([\s\S]*?)<\/header>/.exec(page)?.[1] ?? "";
    expect(header).toContain("Version 9.8.7 · commit 0123456789ab · Node.js 24.1.0");
    expect(header).not.toContain("0123456789abc");
  });

  test("numbers carry data-metric with their JSON path", () => {
    const page = renderStatusPage(status);
    const metrics = Object.fromEntries([...page.matchAll(/data-metric="([^"]+)"[^>]*>([^<]*)</g)].map((m) => [m[1], m[2]]));
    expect(metrics).toMatchObject({
      "users.total": "4",
      "users.active": "3",
      "users.inactive": "1",
      "users.sync.synced": "3",
      "users.sync.pending": "0",
      "users.sync.failed": "1",
      "groups.total": "2",
      "outbox.pending": "1",
      "outbox.running": "0",
      "outbox.failed": "1",
      "outbox.oldestUnfinishedAgeSeconds": "2 min 0 s",
      "health.status": "ready",
    });
    expect(page).toContain('data-component="outbox"');
    expect(page).toContain("1 failed job");
    expect(page).toContain("DigiCert answered 502");
    expect(page).toContain("Not available yet: this bridge keeps no audit trail.");
    expect(page).toContain("Not available yet: this bridge does not reconcile with DigiCert.");
  });

  test("every value from the bridge is escaped", async () => {
    const evil = await collect(
      source({
        outbox: {
          stats: async () => ({ pending: 0, running: 0, failed: 1, oldestUnfinished: null }),
          list: async () => [failedJob({ payload: { userName: EVIL }, userId: EVIL, error: { cause: { source: "invalid", field: EVIL }, message: EVIL } })],
        },
        audit: { recent: async () => [{ at: "2026-01-02T03:00:00.000Z", actor: EVIL, action: "user.create", userName: EVIL, outcome: "ok", detail: EVIL }] },
        reconcile: { latest: async () => ({ platform: EVIL, counts: { [EVIL]: 1 }, entries: [{ kind: EVIL, detail: EVIL }] }) },
      }),
      async () => ({ status: "ready" as const, components: { [EVIL]: { status: "degraded" as const, detail: EVIL } } }),
    );
    const page = renderStatusPage(evil);
    expect(page).not.toContain("<script>");
    expect(page).not.toContain(`"x")`);
    expect(page).toContain(escapeHtml(EVIL));
    expect(escapeHtml(EVIL)).toBe("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;");
  });

  test("audit events (AuditEntry shape) and a reconcile report (ReconcileReport shape) when their sources exist", async () => {
    const withBoth = await collect(
      source({
        audit: {
          recent: async () => [
            {
              id: 2,
              at: "2026-01-02T03:03:00.123Z",
              kind: "scim",
              action: "user.patch",
              actor: "okta",
              idp: "okta",
              requestId: "r-1",
              resourceType: "User",
              resourceId: "u-1",
              userName: "ada@example.com",
              changes: [{ path: "active", before: true, after: false }],
              outcome: "refused",
              status: 400,
              detail: "Email domain is not allowed.",
              jobId: null,
              dryRun: false,
              digicert: null,
            },
          ],
        },
        reconcile: {
          latest: async () => ({
            id: 3,
            trigger: "schedule",
            fix: false,
            platform: "certcentral",
            startedAt: "2026-01-02T02:00:00.000Z",
            finishedAt: "2026-01-02T02:00:04.000Z",
            counts: { missing: 1, profile_changed: 0 },
            stats: { digicertUsers: 12, checked: 11 },
            entries: [{ kind: "missing", userId: "u-9", userName: "gone@example.com", digicertId: "42", detail: "deleted in DigiCert", action: "reported" }],
          }),
        },
      }),
    );
    expect(withBoth.audit).toMatchObject({ available: true, events: [expect.objectContaining({ action: "user.patch" })] });
    expect(withBoth.reconcile).toMatchObject({ available: true, report: expect.objectContaining({ id: 3 }) });
    const page = renderStatusPage(withBoth);
    expect(page).toContain(
      "<tr data-audit><td>2026-01-02 03:03:00 UTC</td><td>okta</td><td>user.patch</td><td>ada@example.com</td><td>refused</td><td>Email domain is not allowed.</td></tr>",
    );
    // The report as a drift table, not its JSON.
    expect(page).toContain('<span data-metric="reconcile.finishedAt">2026-01-02 02:00:04 UTC</span> (RECONCILE_INTERVAL, report only) on certcentral: 11 stored users compared with 12 DigiCert users');
    expect(page).toContain('<div><dt>deleted in DigiCert</dt><dd data-metric="reconcile.counts.missing">1</dd></div>');
    expect(page).not.toContain("reconcile.counts.profile_changed");
    expect(page).toContain('<tr data-drift="missing"><td>deleted in DigiCert</td><td><a href="/admin?user=u-9">gone@example.com</a></td><td> <code>42</code></td><td>deleted in DigiCert</td><td>reported only</td></tr>');
    expect(page).not.toContain("entries (1)");

    const none = renderStatusPage(await collect(source({ audit: { recent: async () => [] }, reconcile: { latest: async () => null } })));
    expect(none).toContain("No events yet.");
    expect(none).toContain("No reconciliation has run yet.");
  });

  test("durations read like people write them", () => {
    expect([duration(0), duration(59), duration(61), duration(3 * 3600 + 120), duration(2 * 86400 + 3600)]).toEqual([
      "0 s",
      "59 s",
      "1 min 1 s",
      "3 h 2 min",
      "2 d 1 h",
    ]);
  });
});
