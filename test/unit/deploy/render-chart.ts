// Renders deploy/helm/digicert-scim-bridge with test/unit/deploy/gotemplate.ts: values.yaml merged with overrides,
// like `helm template` with --set.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { ChartRenderer } from "./gotemplate";
import { ROOT } from "./chart-support";

export const CHART_DIR = join(ROOT, "deploy", "helm", "digicert-scim-bridge");
const TEMPLATES = join(CHART_DIR, "templates");

type Obj = Record<string, any>;

/** Deep merge as Helm merges --set/-f values over values.yaml: maps merge, anything else replaces. */
function merge(base: unknown, over: unknown): unknown {
  if (base && over && typeof base === "object" && typeof over === "object" && !Array.isArray(base) && !Array.isArray(over)) {
    const out: Obj = { ...(base as Obj) };
    for (const [k, v] of Object.entries(over as Obj)) out[k] = merge(out[k], v);
    return out;
  }
  return over === undefined ? base : over;
}

const files = readdirSync(TEMPLATES).filter((f) => /\.(ya?ml|tpl|txt)$/.test(f));
const renderer = new ChartRenderer(Object.fromEntries(files.map((f) => [f, readFileSync(join(TEMPLATES, f), "utf8")])));
const chart: Obj = parse(readFileSync(join(CHART_DIR, "Chart.yaml"), "utf8"));
const defaults: Obj = parse(readFileSync(join(CHART_DIR, "values.yaml"), "utf8"));

export interface Rendered {
  /** Every manifest, parsed. */
  objects: Obj[];
  /** Raw output per template file. */
  files: Record<string, string>;
  notes: string;
}

export function renderChart(overrides: Obj = {}, release = { Name: "scim", Namespace: "digicert-scim" }): Rendered {
  const ctx = {
    Values: JSON.parse(JSON.stringify(merge(defaults, overrides))),
    Release: { ...release, Service: "Helm" },
    Chart: { Name: chart.name, Version: chart.version, AppVersion: String(chart.appVersion) },
    Template: { BasePath: "digicert-scim-bridge/templates" },
  };
  const out: Record<string, string> = {};
  const objects: Obj[] = [];
  for (const f of files.filter((f) => f.endsWith(".yaml"))) {
    out[f] = renderer.render(f, ctx);
    for (const doc of parseAllDocuments(out[f])) {
      if (doc.errors.length) throw new Error(`${f}: ${doc.errors.map((e) => e.message).join("; ")}\n${out[f]}`);
      const js = doc.toJS();
      if (js !== null && js !== undefined) objects.push({ ...js, __file: f });
    }
  }
  return { objects, files: out, notes: renderer.render("NOTES.txt", ctx) };
}
