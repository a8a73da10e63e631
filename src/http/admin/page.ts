// The status page as one server-rendered HTML document: no script, no external asset, one inline style sheet
// allowed by its hash in the Content-Security-Policy, a meta refresh every 30 s. Every value is escaped by the
// `html` template tag; only markup built by that tag is inserted unescaped.
import { createHash } from "node:crypto";
import type { Component } from "../health";
import type { DigiCertActivityView, MinutePoint, RecentCallView } from "./activity";
import {
  isSectionError,
  type AdminStatus,
  type FailedJobView,
  type JobView,
  type OutboxView,
  type RoleMappingView,
  type SectionError,
} from "./status";
import type { UserDetailView, UserSearchView } from "./users";

export const REFRESH_SECONDS = 30;

const CSS = `
:root{color-scheme:light dark;--fg:#1d2330;--muted:#5b6475;--bg:#f6f7f9;--card:#fff;--line:#dde1e8;--ok:#17803d;--warn:#a25a00;--bad:#c0262d}
@media (prefers-color-scheme:dark){:root{--fg:#e6e9ef;--muted:#9aa3b2;--bg:#14171c;--card:#1d2128;--line:#333a45;--ok:#4cc47a;--warn:#f0a645;--bad:#ff6b6b}}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{padding:16px 24px;border-bottom:1px solid var(--line);background:var(--card)}
h1{font-size:20px;margin:0}
h2{font-size:16px;margin:0 0 10px}
h3{font-size:15px;margin:8px 0}
header p,.muted{color:var(--muted);margin:4px 0 0}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(360px,100%),1fr));gap:16px;padding:16px 24px}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 16px;min-width:0;overflow-x:auto}
@media (max-width:600px){header{padding:12px}main{padding:12px;gap:12px}section{padding:10px}table.grid{min-width:560px}}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(320px,100%),1fr));gap:8px 24px}
.headline{margin-top:6px;font-size:14px}
.headline .badge{font-size:14px;padding:2px 10px}
.reasons{margin:6px 0 0;padding-left:18px;color:var(--muted)}
form{display:flex;flex-wrap:wrap;gap:8px;margin:0 0 8px}
input[type=search]{flex:1 1 200px;min-width:0;font:inherit;padding:4px 8px;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg)}
button{font:inherit;padding:4px 12px;border:1px solid var(--line);border-radius:6px;background:var(--card);color:var(--fg)}
.chart{display:block;width:100%;height:auto;margin-top:6px}
.chart text{fill:var(--muted);font-size:11px}
.chart .axis{stroke:var(--line)}
.chart .bar{fill:var(--ok)}
.chart .limit{stroke:var(--bad);stroke-dasharray:6 4;fill:none}
.chart .depth{stroke:var(--warn);stroke-width:2;fill:none}
.chart .dot{fill:var(--warn)}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;margin:4px 0 0;color:var(--muted);font-size:12px}
section.wide{grid-column:1/-1}
.numbers{display:flex;flex-wrap:wrap;gap:8px 24px;margin:0}
.numbers div{min-width:90px}
.numbers dt{color:var(--muted);font-size:12px}
.numbers dd{margin:0;font-size:22px;font-variant-numeric:tabular-nums}
table{border-collapse:collapse;width:100%;margin-top:8px}
th,td{text-align:left;padding:4px 8px 4px 0;border-bottom:1px solid var(--line);vertical-align:top;overflow-wrap:break-word}
td code{overflow-wrap:anywhere}
th{color:var(--muted);font-weight:600;font-size:12px}
.badge{display:inline-block;white-space:nowrap;padding:0 8px;border-radius:10px;font-size:12px;font-weight:600;border:1px solid currentColor}
.ok{color:var(--ok)}.degraded{color:var(--warn)}.failed,.error{color:var(--bad)}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace}
a{color:inherit}
`;

/** The CSP source allowing exactly the inline style sheet above. */
export const STYLE_HASH = `'sha256-${createHash("sha256").update(CSS, "utf8").digest("base64")}'`;

// --- escaping --------------------------------------------------------------------------------------------------

class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

function piece(v: unknown): string {
  if (v instanceof Html) return v.text;
  if (Array.isArray(v)) return v.map(piece).join("");
  if (v === null || v === undefined || v === false) return "";
  return escapeHtml(String(v));
}

/** Markup with every interpolated value escaped (except markup made by this tag). */
function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += piece(values[i]) + strings[i + 1];
  return new Html(out);
}

// --- formatting ------------------------------------------------------------------------------------------------

function when(iso: unknown): string {
  if (iso instanceof Date) iso = iso.toISOString();
  if (typeof iso !== "string") return "";
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?Z$/.exec(iso);
  return m ? `${m[1]} ${m[2]} UTC` : iso;
}

export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
  return `${Math.floor(seconds / 86400)} d ${Math.floor((seconds % 86400) / 3600)} h`;
}

function number(metric: string, value: number, label: string): Html {
  return html`<div><dt>${label}</dt><dd data-metric="${metric}">${value}</dd></div>`;
}

function sectionError(e: SectionError): Html {
  return html`<p class="error">Could not be read: ${e.error}</p>`;
}

function card(id: string, title: unknown, body: Html, wide = false): Html {
  return html`<section id="${id}"${wide ? new Html(' class="wide"') : ""}><h2>${title}</h2>${body}</section>`;
}

// --- sections --------------------------------------------------------------------------------------------------

function healthSection(s: AdminStatus["health"]): Html {
  if (isSectionError(s)) return card("health", "Health", sectionError(s));
  const cls = s.status === "ready" ? "ok" : "failed";
  const row = (name: string, c: Component) =>
    html`<tr data-component="${name}"><td>${name}</td><td><span class="badge ${c.status}" data-state>${c.status}</span></td><td>${
      c.status === "degraded" ? c.detail : c.status === "failed" ? c.error : ""
    }</td></tr>`;
  return card(
    "health",
    html`Health <span class="muted">(/readyz:</span> <span class="badge ${cls}" data-metric="health.status">${s.status}</span><span class="muted">)</span>`,
    html`<table><thead><tr><th>component</th><th>state</th><th>detail</th></tr></thead><tbody>${Object.entries(s.components).map(([n, c]) =>
      row(n, c),
    )}</tbody></table>`,
  );
}

function usersSection(s: AdminStatus["users"]): Html {
  if (isSectionError(s)) return card("users", "Users", sectionError(s));
  return card(
    "users",
    "Users",
    html`<dl class="numbers">${[
      number("users.total", s.total, "total"),
      number("users.active", s.active, "active"),
      number("users.inactive", s.inactive, "inactive"),
    ]}</dl>
<p class="muted">DigiCert sync state</p>
<dl class="numbers">${[
      number("users.sync.synced", s.sync.synced, "synced"),
      number("users.sync.pending", s.sync.pending, "pending"),
      number("users.sync.failed", s.sync.failed, "failed"),
    ]}</dl>`,
  );
}

function groupsSection(s: AdminStatus["groups"]): Html {
  if (isSectionError(s)) return card("groups", "Groups", sectionError(s));
  return card("groups", "Groups", html`<dl class="numbers">${number("groups.total", s.total, "groups")}</dl>`);
}

function failedJobRow(j: FailedJobView): Html {
  return html`<tr data-job="${j.id}"><td>${j.id}</td><td>${j.userName ?? ""}<br><code>${j.userId}</code></td><td>${j.kind}</td><td>${j.attempts}</td><td>${when(j.failedAt)}</td><td>${
    j.error ? html`<code>${j.error.kind}</code> ${j.error.message}` : ""
  }</td></tr>`;
}

function pendingJobRow(j: JobView): Html {
  return html`<tr data-pending-job="${j.id}"><td>${j.id}</td><td>${j.userName ?? ""}<br><code>${j.userId}</code></td><td>${j.kind}</td><td>${j.status}</td><td>${j.attempts}</td><td>${when(j.runAfter)}</td><td>${
    j.lastError ?? ""
  }</td></tr>`;
}

function outboxSection(s: AdminStatus["outbox"]): Html {
  if (isSectionError(s)) return card("outbox", "Outbox", sectionError(s), true);
  const o: OutboxView = s;
  const age =
    o.oldestUnfinishedAgeSeconds === null
      ? html`<div><dt>oldest unfinished</dt><dd data-metric="outbox.oldestUnfinishedAgeSeconds" data-value="">none</dd></div>`
      : html`<div><dt>oldest unfinished</dt><dd data-metric="outbox.oldestUnfinishedAgeSeconds" data-value="${o.oldestUnfinishedAgeSeconds}" title="${o.oldestUnfinished}">${duration(o.oldestUnfinishedAgeSeconds)}</dd></div>`;
  const drain =
    o.drain === undefined
      ? ""
      : html`<div><dt>drained (measured, last ${Math.round(o.drain.windowSeconds / 60)} min)</dt><dd data-metric="outbox.drain.measuredPerSecond" title="${o.drain.jobsDone} jobs finished, all replicas">${o.drain.measuredPerSecond}</dd></div>`;
  const drainNote = o.drain === undefined ? "" : html`<p class="muted">Drain rate: jobs finished per second over the last ${Math.round(o.drain.windowSeconds / 60)} minutes (${o.drain.jobsDone} jobs, all replicas), measured, not the configured budget.</p>`;
  const pending = o.pendingJobs.length
    ? html`<p class="muted">Pending and running jobs (newest first${o.pending + o.running > o.pendingJobs.length ? html`, ${o.pendingJobs.length} of ${o.pending + o.running}` : ""})</p>
<table class="grid"><thead><tr><th>job</th><th>user</th><th>kind</th><th>state</th><th>tries</th><th>runs after</th><th>last error</th></tr></thead><tbody>${o.pendingJobs.map(pendingJobRow)}</tbody></table>`
    : html`<p class="muted">No pending jobs.</p>`;
  const failed = o.failedJobs.length
    ? html`<p class="muted">Latest failed jobs (retry with <code>digicert-scim outbox retry --all</code> once the cause is fixed)</p>
<table class="grid"><thead><tr><th>job</th><th>user</th><th>kind</th><th>tries</th><th>failed at</th><th>error</th></tr></thead><tbody>${o.failedJobs.map(failedJobRow)}</tbody></table>`
    : html`<p class="muted">No failed jobs.</p>`;
  return card(
    "outbox",
    "Outbox toward DigiCert",
    html`<dl class="numbers">${[number("outbox.pending", o.pending, "pending"), number("outbox.running", o.running, "running"), number("outbox.failed", o.failed, "failed"), age, drain]}</dl>${drainNote}${pending}${failed}`,
    true,
  );
}

// --- the DigiCert activity chart (inline SVG: no script, no image request) ----------------------------------------

const CHART_W = 600;
const CHART_H = 150;
const PAD_L = 36;
const PAD_B = 18;
const PAD_T = 8;

function minuteLabel(iso: string): string {
  return iso.slice(11, 16);
}

/** 1500 → 1.5k, 100000 → 100k: axis labels stay inside the chart's margin. */
function compact(n: number): string {
  if (n >= 1_000_000) return `${+(n / 1_000_000).toFixed(1)}M`;
  if (n >= 1000) return `${+(n / 1000).toFixed(1)}k`;
  return String(n);
}

function niceMax(v: number): number {
  if (v <= 5) return 5;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * p).find((c) => c >= v) ?? v;
}

function axes(series: MinutePoint[], max: number): Html {
  const plotH = CHART_H - PAD_B - PAD_T;
  const x0 = PAD_L;
  const first = series[0]?.minute ?? "";
  const last = series[series.length - 1]?.minute ?? "";
  return html`<line class="axis" x1="${x0}" y1="${PAD_T + plotH}" x2="${CHART_W}" y2="${PAD_T + plotH}"/><line class="axis" x1="${x0}" y1="${PAD_T}" x2="${x0}" y2="${PAD_T + plotH}"/>
<text x="${x0 - 4}" y="${PAD_T + 10}" text-anchor="end">${compact(max)}</text><text x="${x0 - 4}" y="${PAD_T + plotH}" text-anchor="end">0</text>
<text x="${x0}" y="${CHART_H - 4}">${minuteLabel(first)}</text><text x="${CHART_W}" y="${CHART_H - 4}" text-anchor="end">${minuteLabel(last)} UTC</text>`;
}

/** DigiCert calls per minute (bars) under the configured limit (dashed line). */
function callsChart(v: DigiCertActivityView): Html {
  const peak = Math.max(0, ...v.series.map((p) => p.calls));
  const max = niceMax(Math.max(peak, v.limitPerMinute) * 1.1);
  const plotW = CHART_W - PAD_L;
  const plotH = CHART_H - PAD_B - PAD_T;
  const step = plotW / Math.max(1, v.series.length);
  const y = (n: number) => PAD_T + plotH - (n / max) * plotH;
  const bars = v.series.map((p, i) =>
    p.calls > 0
      ? html`<rect class="bar" x="${(PAD_L + i * step + 0.5).toFixed(1)}" y="${Math.min(y(p.calls), PAD_T + plotH - 1.5).toFixed(1)}" width="${Math.max(1, step - 1).toFixed(1)}" height="${Math.max(1.5, PAD_T + plotH - y(p.calls)).toFixed(1)}"><title>${minuteLabel(p.minute)}: ${p.calls} calls</title></rect>`
      : "",
  );
  const ly = y(v.limitPerMinute).toFixed(1);
  return html`<svg class="chart" id="chart-calls" viewBox="0 0 ${CHART_W} ${CHART_H}" role="img" aria-label="DigiCert calls per minute over the last hour, against the limit of ${v.limitPerMinute} per minute">${axes(v.series, max)}${bars}<line class="limit" x1="${PAD_L}" y1="${ly}" x2="${CHART_W}" y2="${ly}"/><text x="${CHART_W - 2}" y="${(Number(ly) - 3).toFixed(1)}" text-anchor="end">limit ${v.limitPerMinute}/min</text></svg>
<p class="legend"><span>bars: calls per minute (this replica, peak <span data-metric="digicert.peakPerMinute">${peak}</span>)</span><span>dashed: DIGICERT_RATE_LIMIT, <span data-metric="digicert.limitPerMinute">${v.limitPerMinute}</span>/min for the API key</span></p>`;
}

/** Outbox depth (pending + running, all replicas) per minute. */
function depthChart(series: MinutePoint[]): Html {
  const seen = series.map((p, i) => [i, p.outboxDepth] as const).filter((e): e is readonly [number, number] => e[1] !== null);
  const max = niceMax(Math.max(0, ...seen.map(([, d]) => d)));
  const plotW = CHART_W - PAD_L;
  const plotH = CHART_H - PAD_B - PAD_T;
  const step = plotW / Math.max(1, series.length);
  const pt = (i: number, d: number) => `${(PAD_L + i * step + step / 2).toFixed(1)},${(PAD_T + plotH - (d / max) * plotH).toFixed(1)}`;
  const line = seen.length > 1 ? html`<polyline class="depth" points="${seen.map(([i, d]) => pt(i, d)).join(" ")}"/>` : "";
  const dots = seen.map(([i, d]) => {
    const [cx, cy] = pt(i, d).split(",");
    return html`<circle class="dot" cx="${cx}" cy="${cy}" r="2.5"><title>${minuteLabel(series[i].minute)}: ${d} jobs</title></circle>`;
  });
  return html`<svg class="chart" id="chart-depth" viewBox="0 0 ${CHART_W} ${CHART_H}" role="img" aria-label="Outbox depth per minute over the last hour">${axes(series, max)}${line}${dots}</svg>
<p class="legend"><span>outbox depth (pending + running, all replicas; the deepest seen each minute)</span></p>`;
}

/** Which tenant's page this is; absent for a bridge of one tenant rendered without it. */
export interface PageView {
  tenant: string;
  tenants: string[];
  /** The tenant /admin shows when the request names none: its links need no ?tenant=. */
  defaultTenant: string;
}

/** A link to this tenant's page with `params` (the tenant named unless it is the default one). */
function adminHref(view: PageView | undefined, params: Record<string, string> = {}, path = "/admin"): string {
  const q = new URLSearchParams(params);
  if (view && view.tenant !== view.defaultTenant) q.set("tenant", view.tenant);
  const text = q.toString();
  return text ? `${path}?${text}` : path;
}

function causeText(c: RecentCallView["cause"], view?: PageView): Html | string {
  if (!c) return html`<span class="muted">—</span>`;
  const parts: unknown[] = [c.origin];
  if (c.jobId !== null) parts.push(html` job <code>${c.jobId}</code>`);
  if (c.userName || c.userId) parts.push(html` · <a href="${adminHref(view, { user: c.userId ?? "" })}">${c.userName ?? c.userId}</a>`);
  if (c.requestId) parts.push(html` · request <code>${c.requestId}</code>`);
  return html`${parts}`;
}

function callRow(c: RecentCallView, view?: PageView): Html {
  const bad = typeof c.status !== "number" || c.status >= 400;
  return html`<tr data-call><td>${when(c.at)}</td><td>${c.method} <code>${c.endpoint}</code></td><td${bad ? new Html(' class="error"') : ""}>${c.status}</td><td>${c.ms} ms</td><td>${causeText(c.cause, view)}</td></tr>`;
}

function digicertSection(s: AdminStatus["digicert"], view?: PageView): Html {
  const title = "DigiCert calls";
  if (isSectionError(s)) return card("digicert", title, sectionError(s), true);
  if (!s.available) return card("digicert", title, html`<p class="muted">Not available: this bridge does not record its DigiCert calls.</p>`, true);
  const calls = s.recentCalls.length
    ? html`<p class="muted">Latest calls of this replica, newest first, with who caused them</p>
<table class="grid"><thead><tr><th>when</th><th>call</th><th>status</th><th>time</th><th>caused by</th></tr></thead><tbody>${s.recentCalls.map((c) => callRow(c, view))}</tbody></table>`
    : html`<p class="muted">No DigiCert call since this replica started.</p>`;
  return card("digicert", title, html`<p class="muted">Last hour, per minute</p><div class="charts"><div>${callsChart(s)}</div><div>${depthChart(s.series)}</div></div>${calls}`, true);
}

function roleMappingSection(s: AdminStatus["roleMapping"]): Html {
  if (isSectionError(s)) return card("roles", "Role mapping", sectionError(s));
  const m: RoleMappingView = s;
  const rules = m.rules.length
    ? html`<table><thead><tr><th>#</th><th>matches</th><th>DigiCert roles</th></tr></thead><tbody>${m.rules.map(
        (r) => html`<tr><td title="line ${r.line}">${r.rule}</td><td>${r.match}</td><td>${r.roles.join(", ")}</td></tr>`,
      )}</tbody></table>`
    : "";
  const extra = m.managed
    ? html`<p class="muted">Default: ${m.default.join(", ") || "none"} · unmapped users: ${m.unmapped === "deactivate" ? "no access" : "default roles"}</p>`
    : "";
  return card("roles", "Role mapping in force", html`<p data-metric="roleMapping.summary">${m.summary}</p>${extra}${rules}`);
}

const AUDIT_FIELDS: Record<string, string[]> = {
  when: ["at", "time", "timestamp", "occurredAt", "created", "createdAt"],
  who: ["actor", "credential", "by", "user"],
  what: ["action", "event", "type", "operation", "kind"],
  target: ["target", "userName", "resource", "resourceId", "subject", "userId"],
  outcome: ["outcome", "result", "status"],
  detail: ["detail", "details", "message", "summary"],
};

function scalar(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (v instanceof Date) return v.toISOString();
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** The usual fields of an audit event, whatever the audit trail calls them. */
function auditRow(e: object): Html {
  const rec = e as Record<string, unknown>;
  const pick = (names: string[]) => {
    const key = names.find((k) => rec[k] !== undefined && rec[k] !== null && rec[k] !== "");
    return key === undefined ? "" : scalar(rec[key]);
  };
  const w = pick(AUDIT_FIELDS.when);
  return html`<tr data-audit><td>${when(w) || w}</td><td>${pick(AUDIT_FIELDS.who)}</td><td>${pick(AUDIT_FIELDS.what)}</td><td>${pick(
    AUDIT_FIELDS.target,
  )}</td><td>${pick(AUDIT_FIELDS.outcome)}</td><td>${pick(AUDIT_FIELDS.detail)}</td></tr>`;
}

function auditSection(s: AdminStatus["audit"]): Html {
  if (isSectionError(s)) return card("audit", "Recent audit events", sectionError(s), true);
  if (!s.available) return card("audit", "Recent audit events", html`<p class="muted">Not available yet: this bridge keeps no audit trail.</p>`, true);
  if (!s.events.length) return card("audit", "Recent audit events", html`<p class="muted">No events yet.</p>`, true);
  return card(
    "audit",
    "Recent audit events",
    html`<table class="grid"><thead><tr><th>when</th><th>who</th><th>what</th><th>target</th><th>outcome</th><th>detail</th></tr></thead><tbody>${s.events.map(
      auditRow,
    )}</tbody></table>`,
    true,
  );
}

const MAX_REPORT_ROWS = 20;

/** A report of unknown shape: its scalar fields, its objects of scalars, and its lists as small tables. */
function reportBody(report: Record<string, unknown>): Html {
  const scalars: Html[] = [];
  const blocks: Html[] = [];
  for (const [key, value] of Object.entries(report)) {
    if (Array.isArray(value)) {
      const rows = value.slice(0, MAX_REPORT_ROWS);
      const objects = rows.every((r) => r !== null && typeof r === "object" && !Array.isArray(r));
      const columns = objects ? [...new Set(rows.flatMap((r) => Object.keys(r as object)))].slice(0, 8) : [];
      blocks.push(
        html`<p class="muted">${key} (${value.length})</p>${
          !value.length
            ? ""
            : objects
              ? html`<table><thead><tr>${columns.map((c) => html`<th>${c}</th>`)}</tr></thead><tbody>${rows.map(
                  (r) => html`<tr>${columns.map((c) => html`<td>${scalar((r as Record<string, unknown>)[c])}</td>`)}</tr>`,
                )}</tbody></table>`
              : html`<p>${rows.map(scalar).join(", ")}</p>`
        }${value.length > MAX_REPORT_ROWS ? html`<p class="muted">… and ${value.length - MAX_REPORT_ROWS} more (see /admin/api/status)</p>` : ""}`,
      );
    } else if (value !== null && typeof value === "object" && !(value instanceof Date)) {
      blocks.push(
        html`<p class="muted">${key}</p><dl class="numbers">${Object.entries(value).map(
          ([k, v]) => html`<div><dt>${k}</dt><dd>${scalar(v)}</dd></div>`,
        )}</dl>`,
      );
    } else {
      const text = scalar(value);
      scalars.push(html`<tr><th>${key}</th><td>${/^\d{4}-\d\d-\d\dT/.test(text) ? when(text) : text}</td></tr>`);
    }
  }
  return html`${scalars.length ? html`<table><tbody>${scalars}</tbody></table>` : ""}${blocks}`;
}

const DRIFT_LABELS: Record<string, string> = {
  missing: "deleted in DigiCert",
  deactivated_by_hand: "disabled by hand",
  reactivated_by_hand: "re-enabled by hand",
  roles_changed: "roles changed",
  profile_changed: "profile changed",
  not_provisioned: "not in DigiCert",
  unmanaged: "not managed by the bridge",
};

const ACTION_LABELS: Record<string, string> = {
  queued: "repair queued",
  fixed: "link corrected",
  reported: "reported only",
  skipped: "left (changed meanwhile)",
};

interface DriftRow {
  kind: string;
  userId?: string | null;
  userName?: string | null;
  digicertId?: string | null;
  digicertUsername?: string | null;
  detail?: string;
  expected?: unknown;
  actual?: unknown;
  fields?: { field: string; expected: string | null; actual: string | null }[];
  action?: string;
  jobId?: number;
}

function listText(v: unknown): string {
  return Array.isArray(v) ? v.join(", ") || "none" : v === null || v === undefined ? "" : String(v);
}

function driftDifference(e: DriftRow): Html | string {
  if (e.fields?.length) return html`${e.fields.map((f) => html`<div><code>${f.field}</code>: ${f.expected ?? "—"} → ${f.actual ?? "—"}</div>`)}`;
  const given = (v: unknown) => v !== undefined && v !== null && v !== "";
  if (given(e.expected) && given(e.actual)) return html`bridge: ${listText(e.expected)} → DigiCert: ${listText(e.actual)}`;
  if (given(e.expected)) return html`bridge: ${listText(e.expected)}`;
  if (given(e.actual)) return html`DigiCert: ${listText(e.actual)}`;
  return "";
}

function driftRow(e: DriftRow, view?: PageView): Html {
  const user = e.userId ? html`<a href="${adminHref(view, { user: e.userId })}">${e.userName ?? e.userId}</a>` : html`<span class="muted">—</span>`;
  const dc = e.digicertUsername || e.digicertId ? html`${e.digicertUsername ?? ""}${e.digicertId ? html` <code>${e.digicertId}</code>` : ""}` : "";
  const difference = driftDifference(e);
  return html`<tr data-drift="${e.kind}"><td>${DRIFT_LABELS[e.kind] ?? e.kind}</td><td>${user}</td><td>${dc}</td><td>${e.detail ?? ""}${
    difference ? html`<br><span class="muted">${difference}</span>` : ""
  }</td><td>${ACTION_LABELS[e.action ?? ""] ?? e.action ?? ""}${e.jobId !== undefined ? html` (job <code>${e.jobId}</code>)` : ""}</td></tr>`;
}

/** A ReconcileReport (provisioning/drift.ts) for people: when, what was compared, drift per kind, one row per user. */
function driftReport(r: Record<string, unknown>, view?: PageView): Html {
  const counts = (r.counts ?? {}) as Record<string, number>;
  const stats = (r.stats ?? {}) as Record<string, number>;
  const entries = (r.entries as DriftRow[]) ?? [];
  const drifted = Object.entries(counts).filter(([, n]) => n > 0);
  const head = html`<p>Finished <span data-metric="reconcile.finishedAt">${when(r.finishedAt)}</span> (${r.trigger === "schedule" ? "RECONCILE_INTERVAL" : "digicert-scim reconcile"}${
    r.fix ? ", with --fix" : ", report only"
  }) on ${r.platform}: ${stats.checked ?? "?"} stored users compared with ${stats.digicertUsers ?? "?"} DigiCert users${
    stats.skipped ? html`, ${stats.skipped} skipped (changing)` : ""
  }.</p>`;
  const kinds = drifted.length
    ? html`<dl class="numbers">${drifted.map(([k, n]) => html`<div><dt>${DRIFT_LABELS[k] ?? k}</dt><dd data-metric="reconcile.counts.${k}">${n}</dd></div>`)}</dl>`
    : html`<p class="ok" data-metric="reconcile.drift">No drift: DigiCert matches the bridge.</p>`;
  const rows = entries.slice(0, MAX_REPORT_ROWS * 5);
  const table = rows.length
    ? html`<table class="grid"><thead><tr><th>drift</th><th>user</th><th>in DigiCert</th><th>what differs</th><th>action</th></tr></thead><tbody>${rows.map((e) => driftRow(e, view))}</tbody></table>${
        entries.length > rows.length ? html`<p class="muted">… and ${entries.length - rows.length} more (see /admin/api/status)</p>` : ""
      }`
    : "";
  return html`${head}${kinds}${table}`;
}

function isDriftReport(r: Record<string, unknown>): boolean {
  return Array.isArray(r.entries) && typeof r.counts === "object" && r.counts !== null && typeof r.finishedAt === "string";
}

function reconcileSection(s: AdminStatus["reconcile"], view?: PageView): Html {
  const title = "Last reconcile report";
  if (isSectionError(s)) return card("reconcile", title, sectionError(s), true);
  if (!s.available) return card("reconcile", title, html`<p class="muted">Not available yet: this bridge does not reconcile with DigiCert.</p>`, true);
  if (!s.report) return card("reconcile", title, html`<p class="muted">No reconciliation has run yet.</p>`, true);
  const report = s.report as Record<string, unknown>;
  return card("reconcile", title, isDriftReport(report) ? driftReport(report, view) : reportBody(report), true);
}

// --- user look-up ------------------------------------------------------------------------------------------------

/** What /admin?q=… or /admin?user=… asked, and what was found. */
export interface LookupView {
  query?: string;
  search?: UserSearchView | SectionError;
  userId?: string;
  user?: UserDetailView | null | SectionError;
}

function syncBadge(state: string): Html {
  const cls = state === "synced" ? "ok" : state === "failed" ? "failed" : "degraded";
  return html`<span class="badge ${cls}">${state}</span>`;
}

function userDetailBody(u: UserDetailView): Html {
  const jobs = u.jobs.length
    ? html`<table class="grid"><thead><tr><th>job</th><th>kind</th><th>state</th><th>tries</th><th>queued</th><th>request</th><th>last error</th></tr></thead><tbody>${u.jobs.map(
        (j) => html`<tr data-user-job="${j.id}"><td>${j.id}</td><td>${j.kind}</td><td>${j.status}</td><td>${j.attempts}</td><td>${when(j.created)}</td><td><code>${j.requestId ?? ""}</code></td><td>${j.lastError ?? ""}</td></tr>`,
      )}</tbody></table>`
    : html`<p class="muted">No outbox jobs kept for this user.</p>`;
  const audit =
    u.audit === null
      ? html`<p class="muted">No audit trail on this bridge.</p>`
      : u.audit.length
        ? html`<table class="grid"><thead><tr><th>when</th><th>who</th><th>what</th><th>target</th><th>outcome</th><th>detail</th></tr></thead><tbody>${u.audit.map(auditRow)}</tbody></table>`
        : html`<p class="muted">No audit entries.</p>`;
  return html`<h3 data-user="${u.id}">${u.userName} ${syncBadge(u.syncState)}</h3>
<table><tbody>
<tr><th>id</th><td><code>${u.id}</code></td></tr>
<tr><th>active in the IdP</th><td>${u.active ? "yes" : "no"}</td></tr>
<tr><th>DigiCert sync</th><td data-metric="user.syncState">${u.syncState}</td></tr>
<tr><th>last synced</th><td>${when(u.syncedAt) || "never"}</td></tr>
<tr><th>last error</th><td data-metric="user.lastError"${u.lastError ? new Html(' class="error"') : ""}>${u.lastError ?? "none"}</td></tr>
<tr><th>DigiCert user</th><td>${u.digicertId ? html`<code>${u.digicertId}</code>${u.adopted ? " (adopted)" : ""}` : "none"}</td></tr>
<tr><th>DigiCert roles</th><td>${u.digicertRoleIds?.join(", ") ?? "unknown"}</td></tr>
</tbody></table>
<p class="muted">Outbox jobs, newest first</p>${jobs}
<p class="muted">Audit history, newest first</p>${audit}`;
}

/** The search form and its answer; nothing when the bridge has no look-up. */
function lookupSection(l: LookupView | null, view?: PageView): Html | string {
  if (l === null) return "";
  // The search stays on this tenant's page.
  const tenantField = view && view.tenant !== view.defaultTenant ? html`<input type="hidden" name="tenant" value="${view.tenant}">` : "";
  const form = html`<form method="get" action="/admin" role="search">${tenantField}<input type="search" name="q" value="${l.query ?? ""}" placeholder="userName (any part) or id" aria-label="Find a user"><button type="submit">Find user</button></form>`;
  let body: Html | string = "";
  if (l.userId !== undefined) {
    const u = l.user;
    body = u === undefined || u === null ? html`<p class="muted">No user with id <code>${l.userId}</code>.</p>` : isSectionError(u) ? sectionError(u) : userDetailBody(u);
  } else if (l.search !== undefined) {
    const r = l.search;
    body = isSectionError(r)
      ? sectionError(r)
      : r.users.length
        ? html`<p class="muted" data-metric="search.total">${r.total} found${r.total > r.users.length ? html` (first ${r.users.length} shown)` : ""}</p>
<table><thead><tr><th>userName</th><th>active</th><th>sync</th><th>last error</th></tr></thead><tbody>${r.users.map(
            (u) => html`<tr data-search-user="${u.id}"><td><a href="${adminHref(view, { user: u.id })}">${u.userName}</a></td><td>${u.active ? "yes" : "no"}</td><td>${syncBadge(
              u.syncState,
            )}</td><td>${u.syncError ?? ""}</td></tr>`,
          )}</tbody></table>`
        : html`<p class="muted" data-metric="search.total">0 found for “${r.query}”.</p>`;
  }
  return card("lookup", "Find a user", html`${form}${body}`, true);
}

const OVERALL_TEXT: Record<AdminStatus["overall"]["status"], string> = { ok: "all good", degraded: "degraded", failed: "not ready" };

function headline(o: AdminStatus["overall"]): Html {
  const cls = o.status === "ok" ? "ok" : o.status;
  return html`<p class="headline">Status <span class="badge ${cls}" data-metric="overall.status" data-state="${o.status}">${OVERALL_TEXT[o.status]}</span></p>${
    o.reasons.length ? html`<ul class="reasons">${o.reasons.map((r) => html`<li>${r}</li>`)}</ul>` : ""
  }`;
}

/**
 * Which tenant the page is about, and a choice of the others (a plain GET form: the page has no script). Nothing for a
 * bridge of one tenant: the page is the bridge's.
 */
function tenantChoice(view: PageView | undefined): Html | string {
  if (!view || view.tenants.length < 2) return "";
  const options = view.tenants.map((t) => (t === view.tenant ? html`<option value="${t}" selected>${t}</option>` : html`<option value="${t}">${t}</option>`));
  return html`<form method="get" action="/admin" class="tenant"><label for="tenant">Tenant</label> <select id="tenant" name="tenant" data-metric="tenant">${options}</select><button type="submit">Show</button></form><p class="muted">Users, outbox, DigiCert calls, audit and reconcile reports of tenant <strong data-tenant="${view.tenant}">${view.tenant}</strong>; health is the whole bridge's.</p>`;
}

/** The whole page for one status snapshot, with the user look-up's answer when one was asked for. */
export function renderStatusPage(status: AdminStatus, lookup: LookupView | null = null, view?: PageView): string {
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="${REFRESH_SECONDS}">
<title>DigiCert SCIM Bridge · status</title>
<style>${new Html(CSS)}</style>
</head>
<body>
<header><h1>DigiCert SCIM Bridge · status${view && view.tenants.length > 1 ? ` · ${view.tenant}` : ""}</h1>${tenantChoice(view)}${headline(status.overall)}<p class="version">Version ${status.version.version} · commit ${status.version.commit.slice(0, 12)} · Node.js ${status.version.node}</p><p>As of <time datetime="${status.generatedAt}">${when(status.generatedAt)}</time> · refreshes every ${REFRESH_SECONDS} s · <a href="${adminHref(view, {}, "/admin/api/status")}">JSON</a></p></header>
<main>
${lookupSection(lookup, view)}
${healthSection(status.health)}
${usersSection(status.users)}
${groupsSection(status.groups)}
${roleMappingSection(status.roleMapping)}
${outboxSection(status.outbox)}
${digicertSection(status.digicert, view)}
${auditSection(status.audit)}
${reconcileSection(status.reconcile, view)}
</main>
</body>
</html>
`;
  return page.text;
}
