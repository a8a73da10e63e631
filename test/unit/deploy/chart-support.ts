// Reading a Helm chart's Go templates without helm: the actions, the .Values paths they read, a YAML skeleton, and
// what the README documents. Only as much of the template language as deploy/helm needs.
import { join } from "node:path";

export const ROOT = join(__dirname, "..", "..", "..");

export interface Action {
  /** The action without its delimiters, trim markers and surrounding space. */
  body: string;
  /** 1-based line of the opening {{. */
  line: number;
}

const ACTION = /\{\{([\s\S]*?)\}\}/g;

/** Every action of a template, comments left out. */
export function templateActions(src: string): Action[] {
  const out: Action[] = [];
  for (const m of src.matchAll(ACTION)) {
    const body = m[1]
      .replace(/^-\s/, "")
      .replace(/\s-$/, "")
      .trim();
    if (body.startsWith("/*")) continue;
    out.push({ body, line: src.slice(0, m.index).split("\n").length });
  }
  return out;
}

export interface ValuesPath {
  /** Keys from the top of values.yaml; "*" stands for every key of a map a `range` walks. */
  path: string[];
  line: number;
}

const FIELDS = /((?:\.[A-Za-z_]\w*)+)/.source;

/**
 * The .Values paths a template reads: `.Values.a.b` and `$.Values.a.b`, and through variables bound to a part of
 * .Values (`$pg := .Values.postgresql` then `$pg.auth.username`; `range $k, $v := .Values.m` then `$v.x`, read as
 * `m.*.x`). Variables are per file; `.` inside with/range is not followed.
 */
export function valuesPaths(src: string): ValuesPath[] {
  const aliases = new Map<string, string[]>();
  const out: ValuesPath[] = [];
  const split = (fields: string) => fields.split(".").filter(Boolean);
  /** `.Values.a.b`, `$.Values.a.b` or `$alias.a.b` as a path, or undefined. */
  const resolve = (expr: string): string[] | undefined => {
    const direct = new RegExp(`^\\$?\\.Values(${FIELDS})?$`).exec(expr);
    if (direct) return split(direct[1] ?? "");
    const viaAlias = new RegExp(`^\\$(\\w+)(${FIELDS})?$`).exec(expr);
    if (viaAlias && aliases.has(viaAlias[1])) return [...aliases.get(viaAlias[1])!, ...split(viaAlias[2] ?? "")];
    return undefined;
  };
  for (const { body, line } of templateActions(src)) {
    const assign = /^\$(\w+)\s*:?=\s*(\S+)$/.exec(body);
    const rangeAssign = /^range\s+\$\w+\s*,\s*\$(\w+)\s*:=\s*(\S+)$/.exec(body);
    for (const m of body.matchAll(new RegExp(`(?<![\\w$])\\$?\\.Values${FIELDS}`, "g"))) out.push({ path: split(m[1]), line });
    for (const m of body.matchAll(new RegExp(`\\$(\\w+)${FIELDS}`, "g"))) {
      if (aliases.has(m[1])) out.push({ path: [...aliases.get(m[1])!, ...split(m[2])], line });
    }
    if (assign) {
      const target = resolve(assign[2]);
      if (target) aliases.set(assign[1], target);
      else aliases.delete(assign[1]);
    }
    if (rangeAssign) {
      const target = resolve(rangeAssign[2]);
      if (target) aliases.set(rangeAssign[1], [...target, "*"]);
      else aliases.delete(rangeAssign[1]);
    }
  }
  return out;
}

/** Whether `path` exists in `values` ("*": in every entry of that map). */
export function pathExists(values: unknown, path: string[]): boolean {
  if (!path.length) return true;
  if (values === null || typeof values !== "object") return false;
  const [key, ...rest] = path;
  const node = values as Record<string, unknown>;
  if (key === "*") return Object.values(node).every((child) => pathExists(child, rest));
  return key in node && pathExists(node[key], rest);
}

/**
 * The template with its actions taken out: lines holding only actions are dropped, other actions become `TPL`. Both
 * branches of an if/else stay, so parse it with duplicate keys allowed. It checks the literal YAML around the
 * actions: indentation, lists, maps.
 */
export function skeleton(src: string): string {
  return src
    .replace(/\{\{-?\s*\/\*[\s\S]*?\*\/\s*-?\}\}/g, "")
    .split("\n")
    .filter((line) => line.replace(ACTION, "").trim() !== "" || line.trim() === "")
    .map((line) => line.replace(ACTION, "TPL"))
    .join("\n");
}

/** The variables of README.md's configuration table. */
export function readmeVariables(readme: string): Set<string> {
  return new Set([...readme.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]));
}

/** The alert expressions README.md recommends: "Worth alerting on: `…`, …" (Metrics) and "Alert on `…`" (Reconciliation). */
export function readmeAlerts(readme: string): string[] {
  const worth = readme.indexOf("Worth alerting on:");
  if (worth < 0) return [];
  const paragraph = readme.slice(worth, readme.indexOf("\n\n", worth));
  const exprs = [...paragraph.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
  for (const m of readme.matchAll(/Alert on `([^`]+)`/g)) exprs.push(m[1]);
  return exprs;
}
