// The status page as one server-rendered HTML document: no script, no external asset, one inline style sheet
// allowed by its hash in the Content-Security-Policy, a meta refresh every 30 s. Every value is escaped by the
// `html` template tag; only markup built by that tag is inserted unescaped.
import { createHash } from "node:crypto";
import type { Component } from "../health";
import {
  isSectionError,
  type AdminStatus,
  type FailedJobView,
  type OutboxView,
  type RoleMappingView,
  type SectionError,
} from "./status";

export const REFRESH_SECONDS = 30;

const CSS = `
:root{color-scheme:light dark;--fg:#1d2330;--muted:#5b6475;--bg:#f6f7f9;--card:#fff;--line:#dde1e8;--ok:#17803d;--warn:#a25a00;--bad:#c0262d}
@media (prefers-color-scheme:dark){:root{--fg:#e6e9ef;--muted:#9aa3b2;--bg:#14171c;--card:#1d2128;--line:#333a45;--ok:#4cc47a;--warn:#f0a645;--bad:#ff6b6b}}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{padding:16px 24px;border-bottom:1px solid var(--line);background:var(--card)}
h1{font-size:20px;margin:0}
h2{font-size:16px;margin:0 0 10px}
header p,.muted{color:var(--muted);margin:4px 0 0}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(360px,1fr));gap:16px;padding:16px 24px}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 16px;min-width:0}
section.wide{grid-column:1/-1}
.numbers{display:flex;flex-wrap:wrap;gap:8px 24px;margin:0}
.numbers div{min-width:90px}
.numbers dt{color:var(--muted);font-size:12px}
.numbers dd{margin:0;font-size:22px;font-variant-numeric:tabular-nums}
table{border-collapse:collapse;width:100%;margin-top:8px}
th,td{text-align:left;padding:4px 8px 4px 0;border-bottom:1px solid var(--line);vertical-align:top;overflow-wrap:break-word}
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
    html`Health <span class="badge ${cls}" data-metric="health.status">${s.status}</span>`,
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

function outboxSection(s: AdminStatus["outbox"]): Html {
  if (isSectionError(s)) return card("outbox", "Outbox", sectionError(s), true);
  const o: OutboxView = s;
  const age =
    o.oldestUnfinishedAgeSeconds === null
      ? html`<div><dt>oldest unfinished</dt><dd data-metric="outbox.oldestUnfinishedAgeSeconds" data-value="">none</dd></div>`
      : html`<div><dt>oldest unfinished</dt><dd data-metric="outbox.oldestUnfinishedAgeSeconds" data-value="${o.oldestUnfinishedAgeSeconds}" title="${o.oldestUnfinished}">${duration(o.oldestUnfinishedAgeSeconds)}</dd></div>`;
  const drain = o.drainPerSecond === undefined ? "" : html`<div><dt>drain rate</dt><dd>${o.drainPerSecond}/s</dd></div>`;
  const failed = o.failedJobs.length
    ? html`<p class="muted">Latest failed jobs (retry with <code>digicert-scim outbox retry --all</code> once the cause is fixed)</p>
<table><thead><tr><th>job</th><th>user</th><th>kind</th><th>tries</th><th>failed at</th><th>error</th></tr></thead><tbody>${o.failedJobs.map(failedJobRow)}</tbody></table>`
    : html`<p class="muted">No failed jobs.</p>`;
  return card(
    "outbox",
    "Outbox toward DigiCert",
    html`<dl class="numbers">${[number("outbox.pending", o.pending, "pending"), number("outbox.running", o.running, "running"), number("outbox.failed", o.failed, "failed"), age, drain]}</dl>${failed}`,
    true,
  );
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
    html`<table><thead><tr><th>when</th><th>who</th><th>what</th><th>target</th><th>outcome</th><th>detail</th></tr></thead><tbody>${s.events.map(
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

function reconcileSection(s: AdminStatus["reconcile"]): Html {
  const title = "Last reconcile report";
  if (isSectionError(s)) return card("reconcile", title, sectionError(s), true);
  if (!s.available) return card("reconcile", title, html`<p class="muted">Not available yet: this bridge does not reconcile with DigiCert.</p>`, true);
  if (!s.report) return card("reconcile", title, html`<p class="muted">No reconciliation has run yet.</p>`, true);
  return card("reconcile", title, reportBody(s.report as Record<string, unknown>), true);
}

/** The whole page for one status snapshot. */
export function renderStatusPage(status: AdminStatus): string {
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
<header><h1>DigiCert SCIM Bridge · status</h1><p class="version">Version ${status.version.version} · commit ${status.version.commit.slice(0, 12)} · Node.js ${status.version.node}</p><p>As of <time datetime="${status.generatedAt}">${when(status.generatedAt)}</time> · refreshes every ${REFRESH_SECONDS} s · <a href="/admin/api/status">JSON</a></p></header>
<main>
${healthSection(status.health)}
${usersSection(status.users)}
${groupsSection(status.groups)}
${roleMappingSection(status.roleMapping)}
${outboxSection(status.outbox)}
${auditSection(status.audit)}
${reconcileSection(status.reconcile)}
</main>
</body>
</html>
`;
  return page.text;
}
