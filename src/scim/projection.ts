// `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9), applied by us to what a request answers.
// SCIMMY's projection fails on sub-attributes (`name.familyName`, `emails.value`), value paths with a sub-attribute
// and fully qualified names (a TypeError leaking as the 400's detail), so it never sees these parameters: the
// resource is rendered whole and cut here, with value paths (`emails[type eq "work"].value`), sub-attributes,
// extension URNs and attribute names without case.
import type { NextFunction, Request, Response } from "express";
import { requestContext } from "../http/request-context";
import { sendScimError } from "./errors";
import type { ScimResources } from "./resource-types";
import { onAnswer } from "./response-steps";
import { FilterSyntaxError, parseAttrPath, parseFilter, type FilterAst, type FilterValue } from "./filter-parser";

const CORE_URNS = ["urn:ietf:params:scim:schemas:core:2.0:user", "urn:ietf:params:scim:schemas:core:2.0:group"];
/** Always in an answer, whatever is asked (RFC 7643 §3.1: `id` is returned always; `schemas` says what it is). */
const ALWAYS = new Set(["id", "schemas"]);
/** A bound on the work one request can ask for. */
const MAX_PATHS = 100;

export class ProjectionError extends Error {}

interface ProjectionPath {
  /** A schema URN as written (an extension, or a core URN meaning the resource itself), or a whole extension. */
  urn?: string;
  attr: string;
  sub?: string;
  filter?: FilterAst;
}

export interface Projection {
  mode: "include" | "exclude";
  paths: ProjectionPath[];
}

/** Splits a comma-separated list, keeping commas inside brackets and quoted strings. */
function splitList(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === "\\") i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === "[") depth++;
    else if (c === "]") depth--;
    else if (c === "," && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out.map((s) => s.trim()).filter(Boolean);
}

function parsePath(raw: string): ProjectionPath {
  const open = raw.indexOf("[");
  if (open < 0) {
    // A whole extension (`urn:…:enterprise:2.0:User`) reads like `urn:…:2.0` + `User`: told apart when applied.
    return { ...parseAttrPath(raw) };
  }
  const close = raw.lastIndexOf("]");
  if (close < open) throw new ProjectionError(`'${raw}' has an unclosed '['`);
  const head = parseAttrPath(raw.slice(0, open));
  if (head.sub) throw new ProjectionError(`'${raw}': a value filter follows the attribute, not a sub-attribute`);
  const tail = raw.slice(close + 1);
  if (tail && !/^\.[A-Za-z][\w$-]*$/.test(tail)) throw new ProjectionError(`'${raw}' has something unexpected after ']'`);
  return { ...head, filter: parseFilter(raw.slice(open + 1, close)), ...(tail ? { sub: tail.slice(1) } : {}) };
}

/**
 * The projection a request asks for, from its query (`attributes=a,b`) or a SearchRequest body (arrays); null when
 * none. Both given: `attributes` wins (RFC 7644 §3.4.2.5 lets a client send one of them).
 */
export function projectionOf(attributes: unknown, excluded: unknown): Projection | null {
  const list = (v: unknown): string[] | null => {
    if (v === undefined || v === null) return null;
    const items = (Array.isArray(v) ? v : [v]).flatMap((x) => (typeof x === "string" ? splitList(x) : []));
    if (Array.isArray(v) ? v.some((x) => typeof x !== "string") : typeof v !== "string") {
      throw new ProjectionError("attributes and excludedAttributes are lists of attribute names");
    }
    return items.length ? items : null;
  };
  const included = list(attributes);
  const mode = included ? "include" : "exclude";
  const names = included ?? list(excluded);
  if (!names) return null;
  if (names.length > MAX_PATHS) throw new ProjectionError(`at most ${MAX_PATHS} attribute names are accepted`);
  try {
    return { mode, paths: names.map(parsePath) };
  } catch (err) {
    if (err instanceof FilterSyntaxError || err instanceof ProjectionError) throw new ProjectionError(`${mode === "include" ? "attributes" : "excludedAttributes"}: ${err.message}`);
    throw err;
  }
}

/** Whether the answer needs `attr` at all (so a read can skip loading a group's members or a user's groups). */
export function projectionWants(p: Projection | null | undefined, attr: string): boolean {
  if (!p) return true;
  const lower = attr.toLowerCase();
  const names = p.paths.filter((x) => x.attr.toLowerCase() === lower && (!x.urn || isCore(x.urn)));
  if (p.mode === "include") return names.length > 0;
  return !names.some((x) => !x.sub && !x.filter);
}

const isCore = (urn: string) => CORE_URNS.includes(urn.toLowerCase());

type Json = Record<string, unknown>;

function keyOf(obj: Json, name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.keys(obj).find((k) => k.toLowerCase() === lower);
}

/** Where a path points in a resource: the object holding the attribute, and the attribute's key there. */
function locate(resource: Json, path: ProjectionPath): { holder: Json; key: string } | undefined {
  if (path.urn) {
    // The whole extension: `urn:…:User` was read as urn `urn:…:2.0` + attr `User`.
    const whole = keyOf(resource, `${path.urn}:${path.attr}`);
    if (whole && !path.sub && !path.filter && whole.toLowerCase().startsWith("urn:")) return { holder: resource, key: whole };
    if (!isCore(path.urn)) {
      const ext = keyOf(resource, path.urn);
      const holder = ext ? resource[ext] : undefined;
      if (!holder || typeof holder !== "object" || Array.isArray(holder)) return undefined;
      const key = keyOf(holder as Json, path.attr);
      return key ? { holder: holder as Json, key } : undefined;
    }
  }
  const key = keyOf(resource, path.attr);
  return key ? { holder: resource, key } : undefined;
}

/** Applies the projection to one rendered resource (a plain JSON object); the input is not changed. */
export function project(resource: Json, p: Projection): Json {
  return p.mode === "include" ? include(resource, p.paths) : exclude(resource, p.paths);
}

type Selection = { whole: true } | { whole: false; subs: Set<string>; elements: Map<number, "all" | Set<string>> };

function include(resource: Json, paths: ProjectionPath[]): Json {
  // What is asked of each attribute, merged across paths (name.givenName + name.familyName → name with both).
  const picks = new Map<Json, Map<string, Selection>>();
  const selectionFor = (holder: Json, key: string): Map<string, Selection> => {
    let m = picks.get(holder);
    if (!m) picks.set(holder, (m = new Map()));
    if (!m.has(key)) m.set(key, { whole: false, subs: new Set(), elements: new Map() });
    return m;
  };
  for (const path of paths) {
    const at = locate(resource, path);
    if (!at) continue;
    const m = selectionFor(at.holder, at.key);
    const sel = m.get(at.key)!;
    if (sel.whole) continue;
    const value = at.holder[at.key];
    if (!path.sub && !path.filter) {
      m.set(at.key, { whole: true });
      continue;
    }
    if (Array.isArray(value)) {
      value.forEach((el, i) => {
        if (path.filter && !matches(el, path.filter)) return;
        if (!path.sub) return void sel.elements.set(i, "all");
        const subKey = el && typeof el === "object" ? keyOf(el as Json, path.sub) : undefined;
        if (!subKey) return;
        const current = sel.elements.get(i);
        if (current === "all") return;
        sel.elements.set(i, new Set([...(current ?? []), subKey]));
      });
    } else if (value && typeof value === "object" && path.sub && !path.filter) {
      const subKey = keyOf(value as Json, path.sub);
      if (subKey) sel.subs.add(subKey);
    }
  }
  const build = (holder: Json): Json => {
    const out: Json = {};
    for (const [key, sel] of picks.get(holder) ?? []) {
      const value = holder[key];
      if (sel.whole) out[key] = value;
      else if (Array.isArray(value) && sel.elements.size) {
        out[key] = [...sel.elements.entries()].sort(([a], [b]) => a - b).map(([i, pick]) => (pick === "all" ? value[i] : pickKeys(value[i] as Json, pick)));
      } else if (value && typeof value === "object" && !Array.isArray(value)) {
        const nested = picks.has(value as Json) ? build(value as Json) : {};
        const subs = pickKeys(value as Json, sel.subs);
        const merged = { ...subs, ...nested };
        if (Object.keys(merged).length) out[key] = merged;
      }
    }
    return out;
  };
  // Attributes of an extension are picked inside its object: make sure the extension itself is listed.
  for (const holder of picks.keys()) {
    if (holder === resource) continue;
    const extKey = Object.keys(resource).find((k) => resource[k] === holder);
    if (extKey) selectionFor(resource, extKey);
  }
  const out: Json = {};
  for (const k of Object.keys(resource)) if (ALWAYS.has(k)) out[k] = resource[k];
  return { ...out, ...build(resource) };
}

function pickKeys(obj: Json, keys: Set<string>): Json {
  return Object.fromEntries(Object.entries(obj).filter(([k]) => keys.has(k)));
}

function exclude(resource: Json, paths: ProjectionPath[]): Json {
  const out = JSON.parse(JSON.stringify(resource)) as Json;
  for (const path of paths) {
    const at = locate(out, path);
    if (!at || (at.holder === out && ALWAYS.has(at.key))) continue;
    const value = at.holder[at.key];
    if (!path.sub && !path.filter) {
      delete at.holder[at.key];
    } else if (Array.isArray(value)) {
      const kept = path.sub
        ? value.map((el) => {
            if (path.filter && !matches(el, path.filter)) return el;
            const subKey = el && typeof el === "object" ? keyOf(el as Json, path.sub!) : undefined;
            if (!subKey) return el;
            const { [subKey]: _dropped, ...rest } = el as Json;
            return rest;
          })
        : value.filter((el) => !matches(el, path.filter!));
      if (kept.length) at.holder[at.key] = kept;
      else delete at.holder[at.key];
    } else if (value && typeof value === "object" && path.sub && !path.filter) {
      const subKey = keyOf(value as Json, path.sub);
      if (subKey) delete (value as Json)[subKey];
    }
  }
  return out;
}

// ---- The value filter inside brackets, on one element of a multi-valued attribute --------------------------------

function matches(element: unknown, f: FilterAst): boolean {
  if (!element || typeof element !== "object") return false;
  const el = element as Json;
  switch (f.kind) {
    case "and":
      return matches(el, f.left) && matches(el, f.right);
    case "or":
      return matches(el, f.left) || matches(el, f.right);
    case "not":
      return !matches(el, f.expr);
    case "present": {
      const v = valueOf(el, f.path.attr);
      return v !== undefined && v !== null && v !== "" && !(Array.isArray(v) && !v.length);
    }
    case "compare":
      return compare(valueOf(el, f.path.attr), f.op, f.value);
    default:
      return false;
  }
}

function valueOf(el: Json, name: string): unknown {
  const key = keyOf(el, name);
  return key ? el[key] : undefined;
}

function compare(actual: unknown, op: string, expected: FilterValue): boolean {
  if (op === "ne") return !compare(actual, "eq", expected);
  if (actual === undefined || actual === null) return false;
  if (typeof expected === "boolean" || typeof actual === "boolean") return op === "eq" && actual === expected;
  if (typeof expected === "number" && typeof actual === "number") {
    return { eq: actual === expected, gt: actual > expected, ge: actual >= expected, lt: actual < expected, le: actual <= expected }[op as "eq"] ?? false;
  }
  if (expected === null) return false;
  // Sub-attributes of multi-valued attributes (value, type, display) compare without case (caseExact false).
  const a = String(actual).toLowerCase();
  const e = String(expected).toLowerCase();
  switch (op) {
    case "eq":
      return a === e;
    case "co":
      return a.includes(e);
    case "sw":
      return a.startsWith(e);
    case "ew":
      return a.endsWith(e);
    case "gt":
      return a > e;
    case "ge":
      return a >= e;
    case "lt":
      return a < e;
    case "le":
      return a <= e;
    default:
      return false;
  }
}

// ---- The request step ------------------------------------------------------------------------------------------


function projectBody(body: unknown, p: Projection): unknown {
  if (!body || typeof body !== "object" || Array.isArray(body)) return body;
  const b = body as Json;
  if (Array.isArray(b.Resources)) return { ...b, Resources: b.Resources.map((r) => (r && typeof r === "object" ? project(r as Json, p) : r)) };
  if (typeof b.id === "string" && Array.isArray(b.schemas)) return project(b, p);
  return body;
}

/**
 * Takes `attributes`/`excludedAttributes` off the request (query, or a SearchRequest body) before SCIMMY sees them,
 * keeps the parsed projection in the request context, and cuts the answer's resources to it.
 */
export function projectionStep(resources: ScimResources) {
  // A resource, a list of them, or a .search (at the root or on a resource type).
  const projected = new RegExp(`^/(?:(?:${resources.segments})(?:/[^/]+)?|(?:(?:${resources.segments})/)?\\.search)/?$`);
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!projected.test(req.path)) return next();
    const search = req.method === "POST" && req.path.endsWith(".search");
    const source = (search ? req.body : req.query) as Record<string, unknown> | undefined;
    if (!source || typeof source !== "object") return next();
    let p: Projection | null;
    try {
      p = projectionOf(source.attributes, source.excludedAttributes);
    } catch (err) {
      if (!(err instanceof ProjectionError)) throw err;
      sendScimError(res, { status: 400, scimType: "invalidValue", detail: err.message });
      return;
    }
    delete source.attributes;
    delete source.excludedAttributes;
    if (!p) return next();
    requestContext(res).projection = p;
    onAnswer(res, (answer) => {
      const { status, body } = answer;
      if (status >= 300 || body === undefined) return;
      if (typeof body === "string") {
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch {
          return;
        }
        answer.body = JSON.stringify(projectBody(parsed, p!));
        return;
      }
      // SCIMMY's resources are class instances with getters: cut their plain JSON.
      answer.body = projectBody(JSON.parse(JSON.stringify(body)), p!);
    });
    next();
  };
}
