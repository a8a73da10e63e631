// The group → DigiCert role mapping file: reading and checking it. Nothing here talks to DigiCert; turning role
// names into ids happens in src/provisioning/role-policy.ts once the platform's role list is known.
//
// Admins edit this file by hand and only find out it is wrong when provisioning misbehaves, so every problem
// names the file, the line and the field, and all problems are reported at once rather than one per attempt.
import { readFileSync } from "node:fs";
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
import { YamlProblems } from "./yaml-problems";
import { capabilitiesOf, platformNames } from "../digicert/registry";
import type { PlatformName } from "../digicert/types";

export type RuleMatch =
  | { kind: "displayName"; value: string }
  | { kind: "externalId"; value: string }
  | { kind: "pattern"; source: string; regex: RegExp };

export interface RoleRuleSpec {
  /** 1-based position in the file's rule list. */
  index: number;
  line: number;
  match: RuleMatch;
  /** Role names or ids for the platform being parsed for; [] when the rule only lists the other platform. */
  roles: string[];
  /**
   * CertCentral divisions (container names or ids) the group's members are restricted to (container_id_assignments);
   * absent or [] when the rule names none, and always [] for DigiCert ONE, which has no divisions.
   */
  divisions?: string[];
  /** e.g. 'rule 2 (group "DigiCert Admins", line 7)', for messages. */
  describe: string;
}

export interface RoleMappingSpec {
  source: string;
  /** null = not given for this platform: DIGICERT_DEFAULT_ROLE applies. */
  default: string[] | null;
  unmapped: "default" | "deactivate";
  rules: RoleRuleSpec[];
  /** Roles the bridge must never grant (by a rule, the default, or a role the IdP assigns directly). */
  forbid: string[];
}

export class RoleMappingError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid role mapping:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "RoleMappingError";
  }
}

const TOP_KEYS = ["default", "unmapped", "rules", "forbid"] as const;
const RULE_KEYS = ["group", "externalId", "pattern", "roles", "divisions"] as const;
const MATCH_KEYS = ["group", "externalId", "pattern"] as const;
// A per-platform list is keyed by the registry's platform names (src/digicert/registry.ts), read when parsing.
const rolesShape = () => `must be a non-empty list of role names or ids, or an object with ${platformNames().join(" and/or ")} lists`;

/** Collects problems with their position so the caller gets every one of them in one go. */
class Checker extends YamlProblems {
  /** Set when an unknown key looked like a match key, so "needs one of group…" would only repeat it. */
  misspeltMatchKey = false;
  constructor(doc: Document, lines: LineCounter, source: string) {
    super(source, lines);
    this.doc = doc;
  }
}

type Entry = { key: string; keyLine: number; value: Node | null };

/** The entries of a YAML mapping, with unknown keys reported (typos like `grup` must not pass silently). */
function entries(c: Checker, map: Node, field: string, known: readonly string[]): Map<string, Entry> {
  const out = new Map<string, Entry>();
  if (!isMap(map)) return out;
  for (const pair of map.items) {
    const keyNode = pair.key as Node | null;
    const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
    const keyLine = c.line(keyNode, c.line(map));
    const path = field ? `${field}.${key}` : key;
    if (!known.includes(key)) {
      const hint = closest(key, known);
      if (hint && (MATCH_KEYS as readonly string[]).includes(hint)) c.misspeltMatchKey = true;
      c.problem(keyLine, path, `unknown key${hint ? ` (did you mean ${hint}?)` : ""}; expected ${known.join(", ")}`);
      continue;
    }
    out.set(key, { key, keyLine, value: c.deref(pair.value) });
  }
  return out;
}

/** The known name `word` is probably a typo of (edit distance at most 2), for "did you mean" hints. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: { c: string; d: number } | undefined;
  for (const cand of candidates) {
    const d = editDistance(w, cand.toLowerCase());
    if (d <= 2 && (!best || d < best.d)) best = { c: cand, d };
  }
  return best?.c;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/**
 * A scalar as the admin typed it. Plain numbers keep their source text so `externalId: 00123` or a role id
 * `007` is not silently turned into 123 / 7 by YAML's number parsing.
 */
function scalarText(node: Node | null): string | undefined {
  if (!isScalar(node)) return undefined;
  if (typeof node.value === "string") return node.value;
  if (typeof node.value === "number" && Number.isFinite(node.value)) {
    return typeof node.source === "string" && node.source.trim() ? node.source.trim() : String(node.value);
  }
  return undefined;
}

function shown(node: Node | null): string {
  if (node === null || (isScalar(node) && node.value === null)) return "nothing";
  if (isScalar(node)) return JSON.stringify(node.value);
  if (isSeq(node)) return node.items.length ? "a list" : "an empty list";
  if (isMap(node)) return node.items.length ? "an object" : "an empty object";
  return "something else";
}

/** One list of role names/ids; undefined when it is not valid (problems already reported). */
function roleList(c: Checker, node: Node | null, line: number, field: string): string[] | undefined {
  if (!isSeq(node) || node.items.length === 0) {
    // An empty default reads like "no access", which is what `unmapped: deactivate` says explicitly.
    const hint = field.startsWith("default") ? "; to give users in no mapped group no access, use unmapped: deactivate" : "";
    c.problem(line, field, `must be a non-empty list of role names or ids (got ${shown(node)})${hint}`);
    return undefined;
  }
  const out: string[] = [];
  let ok = true;
  node.items.forEach((raw, i) => {
    const item = c.deref(raw);
    const itemField = `${field}[${i}]`;
    const itemLine = c.line(item, line);
    if (isScalar(item) && typeof item.value === "number") {
      // Role ids are non-negative integers on CertCentral; anything else is a typo, not an id.
      if (!Number.isInteger(item.value) || item.value < 0) {
        c.problem(itemLine, itemField, `must be a role name or a whole-number id (got ${String(item.value)})`);
        ok = false;
        return;
      }
      out.push(scalarText(item)!);
      return;
    }
    const text = scalarText(item);
    if (text === undefined || !text.trim()) {
      c.problem(itemLine, itemField, `must be a role name or id (got ${shown(item)})`);
      ok = false;
      return;
    }
    out.push(text.trim());
  });
  return ok ? out : undefined;
}

/** A non-empty list of names or ids (numbers keep their source text); undefined when invalid (reported). */
function nameList(c: Checker, node: Node | null, line: number, field: string, what: string): string[] | undefined {
  if (!isSeq(node) || node.items.length === 0) {
    c.problem(line, field, `must be a non-empty list of ${what} (got ${shown(node)})`);
    return undefined;
  }
  const out: string[] = [];
  for (const [i, raw] of node.items.entries()) {
    const item = c.deref(raw);
    const text = scalarText(item);
    if (text === undefined || !text.trim()) {
      c.problem(c.line(item, line), `${field}[${i}]`, `must be a name or id (got ${shown(item)})`);
      return undefined;
    }
    out.push(text.trim());
  }
  return out;
}

/**
 * `roles` / `default`: either one list for both platforms or a per-platform object. Returns the list for
 * `platform` ([] when only the other platform is listed), or undefined when invalid.
 */
function platformRoles(c: Checker, e: Entry, field: string, platform: PlatformName): string[] | undefined {
  const node = e.value;
  if (isSeq(node)) return roleList(c, node, c.line(node, e.keyLine), field);
  if (isMap(node)) {
    const keys = platformNames();
    const per = entries(c, node, field, keys);
    if (per.size === 0) {
      // Only unknown keys: those are already reported, and "empty object" would be wrong.
      if (node.items.length === 0) c.problem(e.keyLine, field, `${rolesShape()} (got an empty object)`);
      return undefined;
    }
    let mine: string[] | undefined = [];
    let ok = true;
    for (const p of keys) {
      const pe = per.get(p);
      if (!pe) continue;
      const list = roleList(c, pe.value, pe.keyLine, `${field}.${p}`);
      if (!list) ok = false;
      else if (p === platform) mine = list;
    }
    return ok ? mine : undefined;
  }
  c.problem(e.keyLine, field, `${rolesShape()} (got ${shown(node)})`);
  return undefined;
}

function parseRule(c: Checker, raw: unknown, i: number, platform: PlatformName): RoleRuleSpec | undefined {
  const node = c.deref(raw);
  const field = `rules[${i}]`;
  const line = c.line(node);
  if (!isMap(node)) {
    c.problem(line, field, `must be an object with one of group, externalId or pattern, and roles (got ${shown(node)})`);
    return undefined;
  }
  const before = c.count;
  c.misspeltMatchKey = false;
  const e = entries(c, node, field, RULE_KEYS);
  const given = MATCH_KEYS.filter((k) => e.has(k));
  let match: RuleMatch | undefined;
  if (given.length === 0) {
    if (!c.misspeltMatchKey) c.problem(line, field, "needs one of group, externalId or pattern");
  } else if (given.length > 1) {
    c.problem(e.get(given[1])!.keyLine, field, `has ${given.join(" and ")}; give exactly one of group, externalId or pattern`);
  } else {
    const k = given[0];
    const m = e.get(k)!;
    const text = scalarText(m.value);
    if (text === undefined || !text.trim()) {
      const what = k === "group" ? "a group displayName" : k === "externalId" ? "a group externalId" : "a regular expression";
      c.problem(m.keyLine, `${field}.${k}`, `must be ${what} (got ${shown(m.value)})`);
    } else if (k === "group") {
      // Trimmed like the match target would be if an IdP padded it; inner spacing is kept, it is part of the name.
      match = { kind: "displayName", value: text.trim() };
    } else if (k === "externalId") {
      match = { kind: "externalId", value: text };
    } else {
      try {
        match = { kind: "pattern", source: text, regex: new RegExp(text, "i") };
      } catch (err) {
        // V8 says "Invalid regular expression: /src/i: reason"; the field already shows the source.
        const reason = (err as Error).message.split(": ").pop();
        c.problem(m.keyLine, `${field}.pattern`, `invalid regular expression: ${reason}`);
      }
    }
  }
  const rolesEntry = e.get("roles");
  let roles: string[] | undefined;
  if (!rolesEntry) c.problem(line, `${field}.roles`, "required: the DigiCert roles this group gives");
  else roles = platformRoles(c, rolesEntry, `${field}.roles`, platform);
  let divisions: string[] = [];
  const divisionsEntry = e.get("divisions");
  if (divisionsEntry) {
    const list = nameList(c, divisionsEntry.value, divisionsEntry.keyLine, `${field}.divisions`, "division (container) names or ids");
    // One file may serve several platforms: the list only matters on one whose users can be restricted to divisions.
    if (list && capabilitiesOf(platform).divisions) divisions = list;
  }
  if (!match || !roles || c.count > before) return undefined;
  const what =
    match.kind === "displayName"
      ? `group ${JSON.stringify(match.value)}`
      : match.kind === "externalId"
        ? `externalId ${JSON.stringify(match.value)}`
        : `pattern ${JSON.stringify(match.source)}`;
  return { index: i + 1, line, match, roles, divisions, describe: `rule ${i + 1} (${what}, line ${line})` };
}

/** Parses and checks a mapping for one platform; throws RoleMappingError listing every problem. */
export function parseRoleMapping(text: string, platform: PlatformName, source: string): RoleMappingSpec {
  const lines = new LineCounter();
  const doc = parseDocument(text.replace(/^\uFEFF/, ""), { lineCounter: lines, prettyErrors: false });
  const c = new Checker(doc, lines, source);
  if (doc.errors.length) {
    // The tree after a syntax error is a guess; checking its shape would only add misleading problems.
    for (const err of doc.errors) {
      const pos = lines.linePos(err.pos[0]);
      c.syntax(pos.line, pos.col, err.message.split("\n")[0]);
    }
    throw new RoleMappingError(c.problems);
  }

  const root = c.deref(doc.contents);
  if (!isMap(root)) {
    c.problem(c.line(root), "(top level)", `must be an object with rules (and optionally default, unmapped), got ${root ? shown(root) : "an empty file"}`);
    throw new RoleMappingError(c.problems);
  }
  const top = entries(c, root, "", TOP_KEYS);

  let def: string[] | null = null;
  const d = top.get("default");
  if (d && !(isScalar(d.value) && d.value.value === null)) {
    const list = platformRoles(c, d, "default", platform);
    // A per-platform default that leaves this platform out means "DIGICERT_DEFAULT_ROLE here".
    if (list) def = list.length ? list : null;
  }

  let unmapped: "default" | "deactivate" = "default";
  const u = top.get("unmapped");
  if (u) {
    const v = scalarText(u.value);
    if (v === "default" || v === "deactivate") unmapped = v;
    else c.problem(u.keyLine, "unmapped", `must be default or deactivate (got ${shown(u.value)})`);
  }

  let forbid: string[] = [];
  const f = top.get("forbid");
  if (f && !(isScalar(f.value) && f.value.value === null)) forbid = platformRoles(c, f, "forbid", platform) ?? [];

  const rules: RoleRuleSpec[] = [];
  const r = top.get("rules");
  if (!r) {
    c.problem(c.line(root), "rules", "required: a list of rules (may be empty: everyone then gets the default roles)");
  } else if (isScalar(r.value) && r.value.value === null) {
    c.problem(r.keyLine, "rules", "must be a list of rules; write rules: [] for none");
  } else if (!isSeq(r.value)) {
    c.problem(r.keyLine, "rules", `must be a list of rules (got ${shown(r.value)})`);
  } else {
    r.value.items.forEach((item, i) => {
      const rule = parseRule(c, item, i, platform);
      if (rule) rules.push(rule);
    });
  }

  if (c.count) throw new RoleMappingError(c.problems);
  return { source, default: def, unmapped, rules, forbid };
}

/** Reads and parses a mapping file; a missing or unreadable file is a RoleMappingError naming the path. */
export function loadRoleMappingFile(path: string, platform: PlatformName): RoleMappingSpec {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "file not found"
        : code === "EACCES" || code === "EPERM"
          ? "permission denied"
          : code === "EISDIR"
            ? "is a directory, not a file"
            : (err as Error).message;
    throw new RoleMappingError([`${path}: cannot read the role mapping file: ${why}`]);
  }
  return parseRoleMapping(text, platform, path);
}
