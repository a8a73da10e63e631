// results.json (everything, machine-readable) and RESULTS.md (the table people read).
import type { BenchmarkResult, Figure, Target } from "./context";
import { fmt } from "./context";

export interface Machine {
  date: string;
  mode: "full" | "quick";
  cpu: string;
  cores: number;
  memoryGb: number;
  os: string;
  node: string;
  postgres: string;
  redis: string;
  commit: string;
}

export interface RunReport {
  machine: Machine;
  seconds: number;
  benchmarks: BenchmarkResult[];
}

export function meets(value: number, t: Target): boolean {
  switch (t.op) {
    case ">=":
      return value >= t.value;
    case "<":
      return value < t.value;
    case "<=":
      return value <= t.value;
    case "==":
      return value === t.value;
  }
}

export function judge(f: Figure): Figure {
  if (!f.target) return f;
  const on = f.targetOn === "ratio" ? f.ratio : f.value;
  return { ...f, met: on !== undefined && Number.isFinite(on) && meets(on, f.target) };
}

function targetText(f: Figure): string {
  if (!f.target) return "";
  const op = f.target.op === ">=" ? "≥" : f.target.op === "<=" ? "≤" : f.target.op === "==" ? "=" : "<";
  const unit = f.targetOn === "ratio" ? "" : ` ${f.unit}`;
  return `${f.targetOn === "ratio" ? "ratio " : ""}${op} ${fmt(f.target.value)}${unit}`.trim();
}

const ratioText = (r: number | undefined) => (r === undefined ? "" : r >= 10 ? fmt(r) : r.toFixed(2));
const metText = (f: Figure) => (f.met === undefined ? "" : f.met ? "yes" : "**no**");
const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function renderMarkdown(r: RunReport): string {
  const m = r.machine;
  const out: string[] = [];
  out.push(
    "# Benchmark results",
    "",
    `Written by \`npm run bench${m.mode === "quick" ? " -- --quick" : ""}\` (benchmarks/run.ts); see README.md, section "Benchmarks", for how to read it.`,
    "Absolute numbers belong to this machine; ratios to a baseline measured in the same run are what carries over.",
    "",
    "| | |",
    "|---|---|",
    `| date | ${m.date} |`,
    `| mode | ${m.mode} run, ${Math.round(r.seconds)} s in all |`,
    `| machine | ${cell(m.cpu)}, ${m.cores} cores, ${m.memoryGb} GB RAM |`,
    `| system | ${cell(m.os)}, Node ${m.node} |`,
    `| services | PostgreSQL ${cell(m.postgres)}, Redis ${cell(m.redis)} (both on 127.0.0.1) |`,
    `| commit | ${m.commit} |`,
    "",
    "## Summary: each figure against its target",
    "",
    "| benchmark | figure | value | baseline | ratio | target | met |",
    "|---|---|---|---|---|---|---|",
  );
  for (const b of r.benchmarks) {
    if (b.error) out.push(`| ${cell(b.title)} | **did not finish** | | | | | **no** |`);
    for (const f of b.figures.filter((x) => x.target)) {
      out.push(
        `| ${cell(b.title)} | ${cell(f.label)} | ${fmt(f.value)} ${f.unit} | ${f.baseline !== undefined ? `${fmt(f.baseline)} ${f.unit}` : ""} | ${ratioText(f.ratio)} | ${targetText(f)} | ${metText(f)} |`,
      );
    }
  }
  for (const b of r.benchmarks) {
    out.push("", `## ${b.title}`, "", `${Math.round(b.seconds)} s.`, "");
    if (b.error) out.push(`**Did not finish:** ${cell(b.error.split("\n")[0])}`, "");
    for (const s of b.setup) out.push(`- ${s}`);
    if (b.figures.length) {
      out.push("", "| figure | value | baseline | ratio | target | met | details |", "|---|---|---|---|---|---|---|");
      for (const f of b.figures) {
        out.push(
          `| ${cell(f.label)} | ${fmt(f.value)} ${f.unit} | ${f.baseline !== undefined ? `${fmt(f.baseline)} ${f.unit}` : ""} | ${ratioText(f.ratio)} | ${targetText(f)} | ${metText(f)} | ${cell(f.note ?? "")} |`,
        );
      }
    }
    if (b.notes.length) {
      out.push("");
      for (const n of b.notes) out.push(`- ${n.split("\n").join("\n  ")}`);
    }
    for (const p of b.profiles ?? []) {
      out.push("", `<details><summary>CPU profile: ${p.label}</summary>`, "", "```", p.summary, "```", "", "</details>");
    }
  }
  out.push("");
  return out.join("\n");
}
