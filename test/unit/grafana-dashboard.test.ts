import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Registry } from "prom-client";
import { createMetrics } from "../../src/http/metrics";

// deploy/grafana/digicert-scim-bridge.json: valid JSON, importable with a Prometheus data source chosen at import
// (${DS_PROMETHEUS}), and every query asks for metrics the bridge really exports.

const FILE = join(__dirname, "..", "..", "deploy", "grafana", "digicert-scim-bridge.json");
const dashboard = JSON.parse(readFileSync(FILE, "utf8"));

/** Every series name the bridge's registry exposes (histograms as _bucket, _sum and _count). */
function exportedNames(): Set<string> {
  // The reconciliation gauges are on the registry too.
  const registry: Registry = createMetrics().registry;
  const names = new Set<string>();
  for (const m of registry.getMetricsAsArray()) {
    const { name, type } = m as unknown as { name: string; type: string };
    if (type === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) names.add(name + suffix);
    else if (type === "summary") for (const suffix of ["", "_sum", "_count"]) names.add(name + suffix);
    else names.add(name);
  }
  return names;
}

const KEYWORDS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "inf", "nan"]);

/** The metric names a PromQL expression selects: identifiers that are not functions, keywords or labels. */
function metricsIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // strings
    .replace(/\{[^}]*\}/g, "") // label matchers
    .replace(/\[[^\]]*\]/g, "") // range selectors
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ""); // label lists
  const out: string[] = [];
  for (const m of bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const after = bare.slice(m.index! + m[0].length).trimStart();
    if (after.startsWith("(")) continue; // a function
    if (KEYWORDS.has(m[0].toLowerCase())) continue;
    out.push(m[0]);
  }
  return out;
}

interface Panel {
  type: string;
  title: string;
  id: number;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; datasource?: { uid: string } }[];
  panels?: Panel[];
}

const panels: Panel[] = (dashboard.panels as Panel[]).flatMap((p) => [p, ...(p.panels ?? [])]);
const queryPanels = panels.filter((p) => p.type !== "row");
const exprs = queryPanels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

describe("Grafana dashboard (deploy/grafana)", () => {
  it("takes its Prometheus data source as the DS_PROMETHEUS input, on every panel and query", () => {
    expect(dashboard.__inputs).toEqual([expect.objectContaining({ name: "DS_PROMETHEUS", type: "datasource", pluginId: "prometheus" })]);
    for (const p of queryPanels) {
      expect(p.datasource).toEqual({ type: "prometheus", uid: "${DS_PROMETHEUS}" });
      for (const t of p.targets ?? []) expect(t.datasource?.uid).toBe("${DS_PROMETHEUS}");
    }
    for (const v of dashboard.templating.list) expect(v.datasource.uid).toBe("${DS_PROMETHEUS}");
  });

  it("has a title, a stable uid and unique panel ids", () => {
    expect(dashboard.title).toBe("DigiCert SCIM Bridge");
    expect(dashboard.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("the metric-name reader sees through functions, labels and ranges", () => {
    expect(metricsIn('histogram_quantile(0.95, sum by (le, method) (rate(a_bucket{job=~"$job", x="y(z)"}[$__rate_interval])))')).toEqual(["a_bucket"]);
    expect(metricsIn('sum(b{mode="fallback"}) or vector(0)')).toEqual(["b"]);
    expect(metricsIn("max by (instance, mode) (c) == 1")).toEqual(["c"]);
  });

  it("every query (and template variable) reads metrics the bridge exports", () => {
    const exported = exportedNames();
    const queries = [...exprs, ...dashboard.templating.list.map((v: any) => ({ panel: `$${v.name}`, expr: v.definition.replace(/^label_values\((.*),\s*\w+\)$/, "$1") }))];
    expect(queries.length).toBeGreaterThan(20);
    const unknown: string[] = [];
    for (const { panel, expr } of queries) {
      const names = metricsIn(expr);
      if (names.length === 0) unknown.push(`${panel}: no metric in ${expr}`);
      for (const n of names) if (!exported.has(n)) unknown.push(`${panel}: ${n}`);
    }
    expect(unknown).toEqual([]);
  });

  it("covers what operators watch: SCIM, DigiCert, rate limiter, outbox, users, adoptions, 429s", () => {
    const used = new Set(exprs.flatMap(({ expr }) => metricsIn(expr)));
    for (const name of [
      "scim_requests_total",
      "scim_request_duration_seconds_bucket",
      "digicert_requests_total",
      "digicert_request_duration_seconds_bucket",
      "digicert_ratelimit_wait_seconds_bucket",
      "digicert_ratelimit_queue_depth",
      "outbox_jobs",
      "outbox_oldest_job_age_seconds",
      "outbox_jobs_total",
      "scim_users_sync",
      "digicert_adoptions_total",
      "scim_backpressure_rejections_total",
    ]) {
      expect(used).toContain(name);
    }
  });
});
