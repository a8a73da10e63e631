import { DigiCertActivity, RECENT_CALLS_KEPT } from "../../../src/http/admin/activity";
import { escapeHtml, renderStatusPage } from "../../../src/http/admin/page";
import { collectStatus, type StatusSource } from "../../../src/http/admin/status";
import { searchUsers, userDetail, type UserLookupSource } from "../../../src/http/admin/users";
import { currentCallCause, withCallCause } from "../../../src/digicert/observer";
import { silentLogger } from "../../../src/log/logger";
import type { OutboxJob, UserRow } from "../../../src/provisioning/records";

// The status page's DigiCert activity (recent calls with their cause, the per-minute series and its SVG chart) and
// its user look-up, without HTTP.

const T0 = Date.parse("2026-01-02T03:04:05.000Z");
const EVIL = `<script>alert("x")</script>&'`;

function call(status: number | "circuit_open" = 200, cause?: Parameters<DigiCertActivity["call"]>[0]["cause"]) {
  return { platform: "certcentral" as const, method: "POST", endpoint: "/user", status, seconds: 0.1234, ...(cause ? { cause } : {}) };
}

describe("DigiCert activity", () => {
  test("the cause set around a job reaches across awaits, and each job keeps its own", async () => {
    const seen: unknown[] = [];
    const job = (id: number) =>
      withCallCause({ origin: "outbox create", jobId: id }, async () => {
        await new Promise((r) => setTimeout(r, 5 * (3 - id)));
        seen.push(currentCallCause()?.jobId);
      });
    await Promise.all([job(1), job(2)]);
    expect(seen.sort()).toEqual([1, 2]);
    expect(currentCallCause()).toBeUndefined();
  });

  test("a ring of the latest calls, newest first, with who caused them", () => {
    let now = T0;
    const a = new DigiCertActivity({ limitPerMinute: 333.3, now: () => now });
    a.call(call(201, { origin: "outbox create", jobId: 7, userId: "u-1", userName: "ada@example.com", requestId: "req-1" }));
    now += 1000;
    a.call(call(503));
    const v = a.view();
    expect(v.limitPerMinute).toBe(333);
    expect(v.recentCalls).toEqual([
      { at: "2026-01-02T03:04:06.000Z", method: "POST", endpoint: "/user", status: 503, ms: 123, cause: null },
      {
        at: "2026-01-02T03:04:05.000Z",
        method: "POST",
        endpoint: "/user",
        status: 201,
        ms: 123,
        cause: { origin: "outbox create", jobId: 7, userId: "u-1", userName: "ada@example.com", requestId: "req-1" },
      },
    ]);
    for (let i = 0; i < RECENT_CALLS_KEPT + 10; i++) a.call(call());
    expect(a.view().recentCalls).toHaveLength(RECENT_CALLS_KEPT);
  });

  test("per minute over the last hour: calls sent (not those the open circuit refused) and the deepest outbox seen", () => {
    let now = T0;
    const a = new DigiCertActivity({ limitPerMinute: 100, now: () => now });
    a.call(call());
    a.call(call());
    a.call(call("circuit_open"));
    a.sampleDepth(4);
    a.sampleDepth(9);
    a.sampleDepth(2);
    now += 2 * 60_000;
    a.call(call());
    const { series } = a.view();
    expect(series).toHaveLength(60);
    expect(series[59]).toEqual({ minute: "2026-01-02T03:06:00.000Z", calls: 1, outboxDepth: null });
    expect(series[57]).toEqual({ minute: "2026-01-02T03:04:00.000Z", calls: 2, outboxDepth: 9 });
    // An hour later the old minutes are gone.
    now += 61 * 60_000;
    expect(a.view().series.every((p) => p.calls === 0 && p.outboxDepth === null)).toBe(true);
  });

  test("the page draws both charts as inline SVG, lists the calls with their cause, and escapes everything", async () => {
    const a = new DigiCertActivity({ limitPerMinute: 333, now: () => T0 });
    a.call(call(201, { origin: "outbox create", jobId: 7, userId: EVIL, userName: EVIL, requestId: EVIL }));
    a.sampleDepth(3);
    const source: StatusSource = {
      users: { countByState: async () => ({ total: 0, active: 0, inactive: 0, sync: { synced: 0, pending: 0, failed: 0 } }) },
      groups: { count: async () => 0 },
      outbox: { stats: async () => ({ pending: 0, running: 0, failed: 0, oldestUnfinished: null }), list: async () => [] },
      access: { managed: false, current: async () => ({ forbidden: [], source: "-", default: [], unmapped: "default", rules: [], multipleRoles: false }) },
      activity: a,
    };
    const status = await collectStatus(source, async () => ({ status: "ready", components: {} }), silentLogger(), () => T0);
    expect(status.digicert).toMatchObject({ available: true, limitPerMinute: 333 });
    const page = renderStatusPage(status);
    expect(page).toMatch(/<svg class="chart" id="chart-calls" viewBox="0 0 600 150" role="img"/);
    expect(page).toMatch(/<svg class="chart" id="chart-depth"/);
    expect(page).toContain('<line class="limit"');
    expect(page).toContain("<title>03:04: 1 calls</title>");
    expect(page).toContain('data-metric="digicert.limitPerMinute">333<');
    expect(page).toMatch(/<tr data-call><td>2026-01-02 03:04:05 UTC<\/td><td>POST <code>\/user<\/code><\/td><td>201<\/td><td>123 ms<\/td><td>outbox create job <code>7<\/code>/);
    expect(page).not.toContain("<script>");
    expect(page).toContain(escapeHtml(EVIL));
    expect(page).not.toMatch(/style="/);
  });
});

function row(over: Partial<UserRow>): UserRow {
  return {
    id: "u-1",
    userName: "ada@example.com",
    externalId: null,
    active: true,
    resource: {},
    emails: [],
    digicertId: "42",
    adopted: false,
    digicertEnabled: true,
    digicertRoleIds: ["5"],
    digicertDivisionIds: null,
    syncState: "failed",
    syncError: null,
    syncedAt: null,
    created: "2026-01-02T03:00:00.000Z",
    lastModified: "2026-01-02T03:00:00.000Z",
    version: 1,
    ...over,
  } as UserRow;
}

describe("user look-up", () => {
  const job: OutboxJob = {
    id: 9,
    userId: "u-1",
    kind: "create",
    payload: { userName: "ada@example.com", requestId: "req-9" },
    status: "failed",
    attempts: 2,
    runAfter: "2026-01-02T03:00:00.000Z",
    leaseOwner: null,
    leaseUntil: null,
    error: { cause: { source: "digicert", kind: "validation" }, message: "Email domain is not allowed." },
    created: "2026-01-02T03:00:00.000Z",
    updated: "2026-01-02T03:01:00.000Z",
    finished: "2026-01-02T03:01:00.000Z",
  };
  const lookup = (over: Partial<UserLookupSource> = {}): UserLookupSource => ({
    users: { list: jest.fn(async () => ({ total: 1, rows: [row({})] })), getById: async (id) => (id === "u-1" ? row({}) : null) },
    outbox: { list: async () => [job] },
    audit: { query: async () => [{ at: "2026-01-02T03:00:00.000Z", action: "user.create" }, { at: "2026-01-02T03:01:00.000Z", action: "digicert.createUser" }] },
    ...over,
  });

  test("searches userName (any part, any case), id and externalId; an empty query asks nothing", async () => {
    const src = lookup();
    expect(await searchUsers(src, "  ada ")).toMatchObject({ query: "ada", total: 1, users: [{ id: "u-1", userName: "ada@example.com", syncState: "failed" }] });
    expect(src.users.list).toHaveBeenCalledWith(
      {
        where: {
          or: [
            { field: { kind: "userName" }, op: "co", value: "ada" },
            { field: { kind: "id" }, op: "eq", value: "ada" },
            { field: { kind: "externalId" }, op: "eq", value: "ada" },
          ],
        },
      },
      { offset: 0, limit: 20 },
      { field: { kind: "userName" }, descending: false },
    );
    expect(await searchUsers(src, "   ")).toEqual({ query: "", total: 0, users: [] });
    expect(src.users.list).toHaveBeenCalledTimes(1);
  });

  test("one user: sync state, the last error (its failed job's when the row has none), jobs, audit newest first", async () => {
    const u = await userDetail(lookup(), "u-1");
    expect(u).toMatchObject({
      userName: "ada@example.com",
      syncState: "failed",
      lastError: "Email domain is not allowed.",
      jobs: [{ id: 9, kind: "create", status: "failed", requestId: "req-9", lastError: "Email domain is not allowed." }],
      audit: [{ action: "digicert.createUser" }, { action: "user.create" }],
    });
    expect(await userDetail(lookup(), "nobody")).toBeNull();
    const page = renderStatusPage(
      await collectStatus(
        {
          users: { countByState: async () => ({ total: 1, active: 1, inactive: 0, sync: { synced: 0, pending: 0, failed: 1 } }) },
          groups: { count: async () => 0 },
          outbox: { stats: async () => ({ pending: 0, running: 0, failed: 1, oldestUnfinished: null }), list: async () => [] },
          access: { managed: false, current: async () => ({ forbidden: [], source: "-", default: [], unmapped: "default", rules: [], multipleRoles: false }) },
        },
        async () => ({ status: "ready", components: {} }),
        silentLogger(),
      ),
      { userId: "u-1", user: u },
    );
    expect(page).toContain('<h3 data-user="u-1">ada@example.com <span class="badge failed">failed</span></h3>');
    expect(page).toContain('<td data-metric="user.lastError" class="error">Email domain is not allowed.</td>');
    expect(page).toContain('<tr data-user-job="9">');
    expect(page).toContain('<form method="get" action="/admin" role="search">');
  });
});
