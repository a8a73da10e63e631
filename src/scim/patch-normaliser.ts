import { SCIMMY } from "scimmy-routers";
import { DIGICERT_USER_SCHEMA, ENTERPRISE_USER_SCHEMA } from "./schemas";

// Rewrites the IdP dialects SCIMMY rejects into RFC 7644 form before SCIMMY sees them (notes/scimmy.md §3,
// notes/idp.md). Only rewrites that keep the request's meaning belong here; anything we cannot read is refused
// with a 400 that names the operation, before anything changes.

export const PATCH_OP_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

type Json = Record<string, unknown>;

interface AttrInfo {
  name: string;
  type: string;
  multiValued: boolean;
  /** The values SCIMMY accepts (it compares them case-sensitively); empty when any value goes. */
  canonicalValues: string[];
  sub: Map<string, AttrInfo>;
}

interface AttrDefinition {
  name: string;
  type: string;
  config?: { multiValued?: boolean; canonicalValues?: unknown };
  subAttributes?: unknown[];
}

/** Attribute names per schema, keyed lower-case, from SCIMMY's own definitions (so they never drift). */
function indexAttributes(attributes: AttrDefinition[]): Map<string, AttrInfo> {
  const out = new Map<string, AttrInfo>();
  for (const a of attributes) {
    const subs = (a.subAttributes ?? []) as AttrDefinition[];
    const canonical = Array.isArray(a.config?.canonicalValues) ? (a.config!.canonicalValues as unknown[]).map(String) : [];
    out.set(a.name.toLowerCase(), { name: a.name, type: a.type, multiValued: a.config?.multiValued === true, canonicalValues: canonical, sub: indexAttributes(subs) });
  }
  return out;
}

let schemaIndex: Map<string, Map<string, AttrInfo>> | null = null;

function schemas(): Map<string, Map<string, AttrInfo>> {
  if (!schemaIndex) {
    const defs = [SCIMMY.Schemas.User.definition, SCIMMY.Schemas.EnterpriseUser.definition];
    schemaIndex = new Map(defs.map((d) => [d.id.toLowerCase(), indexAttributes(d.attributes as never)]));
  }
  return schemaIndex;
}

const CORE = "urn:ietf:params:scim:schemas:core:2.0:user";
const EXTENSION_URNS = [ENTERPRISE_USER_SCHEMA, DIGICERT_USER_SCHEMA];
const MANAGER_PATH = `${ENTERPRISE_USER_SCHEMA}:manager`;

function bad(scimType: string, detail: string): Error {
  return new SCIMMY.Types.Error(400, scimType, detail);
}

const isObject = (v: unknown): v is Json => !!v && typeof v === "object" && !Array.isArray(v);

function toBoolean(v: unknown): unknown {
  if (typeof v !== "string") return v;
  if (/^true$/i.test(v)) return true;
  if (/^false$/i.test(v)) return false;
  return v;
}

const BOOLEAN_NAMES = new Set(["active", "primary"]);

/** Entra sends "True"/"False" for booleans, at the top level and inside multi-valued entries. */
function coerceBooleans(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => coerceBooleans(v, depth + 1));
  const out: Json = {};
  for (const [k, v] of Object.entries(value as Json)) {
    out[k] = BOOLEAN_NAMES.has(k.toLowerCase()) ? toBoolean(v) : coerceBooleans(v, depth + 1);
  }
  return out;
}

/** RFC 7643 §2.5: null is unassigned. Keys whose value is null, and null entries of arrays, are left out. */
function withoutNulls(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.filter((v) => v !== null).map((v) => withoutNulls(v, depth + 1));
  const out: Json = {};
  for (const [k, v] of Object.entries(value as Json)) if (v !== null) out[k] = withoutNulls(v, depth + 1);
  return out;
}

/**
 * The enterprise `manager` as SCIM wants it, `{value: id}`: Entra sends a bare id, and its older form an array of one
 * `{value}`. Anything else (two managers) is refused naming the accepted form.
 */
function managerValue(value: unknown, where = "manager"): unknown {
  if (typeof value === "string") return { value };
  if (Array.isArray(value)) {
    if (value.length === 0) return null;
    if (value.length === 1) return managerValue(value[0], where);
    throw bad("invalidValue", `${where}: manager is a single value; send {"value": "<manager id>"} or the id as a string`);
  }
  return value;
}

/** Sends a multi-valued attribute's `type` in the case SCIMMY accepts ("Work" → "work"); SCIMMY compares with case. */
function canonicalEntries(attr: AttrInfo | undefined, value: unknown): unknown {
  const canonical = attr?.sub.get("type")?.canonicalValues ?? [];
  if (!attr?.multiValued || !canonical.length) return value;
  const fix = (e: unknown) => {
    if (!isObject(e) || typeof e.type !== "string") return e;
    const type = canonical.find((c) => c.toLowerCase() === (e.type as string).toLowerCase());
    return type ? { ...e, type } : e;
  };
  return Array.isArray(value) ? value.map(fix) : fix(value);
}

interface PathParts {
  /** `urn:…:` of an extension, or "" for the core schema (its URN prefix is dropped: SCIMMY does not resolve it). */
  prefix: string;
  attr?: AttrInfo;
  name: string;
  /** The value filter as written, without brackets. */
  filter?: string;
  sub?: string;
}

const PATH_SHAPE = /^([A-Za-z$][\w$-]*)(\[(.*)\])?(?:\.([A-Za-z$][\w$-]*))?$/s;

/**
 * A path in its parts, names in schema case. Accepted spellings besides RFC 7644's: the core URN prefix
 * (`urn:…:core:2.0:User:name.familyName`), an extension URN followed by a dot instead of a colon (Entra's older
 * `urn:…:enterprise:2.0:User.manager`), and a bare `manager` (the enterprise one; the core schema has none).
 */
function pathParts(path: string): PathParts | null {
  let rest = path.trim();
  let schemaKey = CORE;
  let prefix = "";
  const lower = rest.toLowerCase();
  const urn = EXTENSION_URNS.find((u) => lower.startsWith(u.toLowerCase() + ":") || lower.startsWith(u.toLowerCase() + "."));
  if (urn) {
    schemaKey = urn.toLowerCase();
    prefix = urn + ":";
    rest = rest.slice(urn.length + 1);
  } else if (lower.startsWith(CORE + ":") || lower.startsWith(CORE + ".")) {
    rest = rest.slice(CORE.length + 1);
  }
  const m = PATH_SHAPE.exec(rest);
  if (!m) return null;
  let attrs = schemas().get(schemaKey);
  let attr = attrs?.get(m[1].toLowerCase());
  if (!attr && !urn && m[1].toLowerCase() === "manager") {
    prefix = ENTERPRISE_USER_SCHEMA + ":";
    attrs = schemas().get(ENTERPRISE_USER_SCHEMA.toLowerCase());
    attr = attrs?.get("manager");
  }
  if (!attr) return null;
  const subName = (n: string) => attr!.sub.get(n.toLowerCase())?.name ?? n;
  const filter =
    m[3] === undefined ? undefined : m[3].replace(/([A-Za-z$][\w$-]*)(\s+)(eq|ne|co|sw|ew|gt|ge|lt|le|pr)\b/gi, (_all, n, sp, op) => `${subName(n)}${sp}${op.toLowerCase()}`);
  return { prefix, attr, name: attr.name, filter, sub: m[4] ? subName(m[4]) : undefined };
}

function pathOf(p: PathParts): string {
  return `${p.prefix}${p.name}${p.filter === undefined ? "" : `[${p.filter}]`}${p.sub ? `.${p.sub}` : ""}`;
}

/** Canonical spelling of a path (see pathParts); SCIMMY matches PATCH paths case-sensitively (RFC says not). */
export function canonicalPath(path: string): string {
  const parts = pathParts(path);
  return parts ? pathOf(parts) : path;
}

/**
 * Top-level keys of a no-path value in schema case ("Active" → "active", "name.GivenName" → "name.givenName"); a
 * key that is the core schema's URN itself contributes its attributes.
 */
function canonicalKeys(value: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) {
    if (k.toLowerCase() === CORE && isObject(v)) Object.assign(out, canonicalKeys(v));
    else out[k.includes("[") ? k : canonicalPath(k)] = v;
  }
  return out;
}

const TYPED_ENTRY = /^(emails|phoneNumbers|addresses)\[type eq "((?:[^"\\]|\\.)*)"\](?:\.([A-Za-z]+))?$/;

/**
 * Entra targets `emails[type eq "work"].value` (and phone numbers, addresses) even when the user has no entry of
 * that type; SCIMMY then fails with noTarget. When no such entry exists, the operation becomes an add of a new
 * entry; when one exists the filter is given the stored entry's spelling of the type (SCIMMY compares with case),
 * so SCIMMY updates it in place and keeps its other sub-attributes.
 */
function typedEntry(op: Json, current: Json | undefined): Json {
  // Returns the operation itself, the same with the stored spelling of the type, or the add of a new entry.
  if (op.op !== "add" && op.op !== "replace") return op;
  const m = TYPED_ENTRY.exec(String(op.path ?? ""));
  if (!m) return op;
  const [, attr, type, sub] = m;
  const entries = Array.isArray(current?.[attr]) ? (current![attr] as Json[]) : [];
  const existing = entries.find((e) => String(e?.type ?? "").toLowerCase() === type.toLowerCase());
  if (existing) {
    const stored = String(existing.type);
    return stored === type ? op : { ...op, path: `${attr}[type eq "${stored}"]${sub ? `.${sub}` : ""}` };
  }
  const entry: Json = sub ? { type, [sub]: op.value } : { type, ...((op.value ?? {}) as Json) };
  // Later operations of the same message see the entry this one creates.
  if (current) current[attr] = [...entries, entry];
  return { op: "add", path: attr, value: [entry] };
}

const EMAIL_BY_VALUE = /^emails\[value eq "((?:[^"\\]|\\.)*)"\](.*)$/s;

/**
 * An email's value is not case-exact (RFC 7643 §4.1.2), but SCIMMY's filters compare with case: a filter
 * `emails[value eq "ADA@X.COM"]` is given the stored spelling of the address it names.
 */
function storedEmailSpelling(op: Json, current: Json | undefined): void {
  const m = EMAIL_BY_VALUE.exec(String(op.path ?? ""));
  if (!m || !Array.isArray(current?.emails)) return;
  const found = (current!.emails as Json[]).find((e) => typeof e?.value === "string" && e.value.toLowerCase() === m[1].toLowerCase());
  if (found && found.value !== m[1] && !/["\\]/.test(found.value as string)) op.path = `emails[value eq "${found.value as string}"]${m[2]}`;
}

const REMOVE_ACTIVE = "active cannot be removed (every user is active or not): send replace active false to deactivate";

function normalisePathOperation(op: Json, where: string, current: Json | undefined): Json | null {
  const parts = pathParts(op.path as string);
  if (parts) op.path = pathOf(parts);
  const leaf = parts?.sub ? parts.attr?.sub.get(parts.sub.toLowerCase()) : parts?.attr;
  if (leaf?.type === "boolean") op.value = toBoolean(op.value);
  else op.value = coerceBooleans(op.value);
  if (op.path === MANAGER_PATH) op.value = managerValue(op.value, where);
  if (op.path === `${MANAGER_PATH}.value` && typeof op.value === "string") {
    // `manager.value` has no target while the user has no manager (SCIMMY: noTarget): set the whole manager.
    op.path = MANAGER_PATH;
    op.value = { value: op.value };
  }
  if (Array.isArray(op.value)) op.value = canonicalEntries(parts?.attr, withoutNulls(op.value));
  else if (parts?.attr?.multiValued && !parts.sub && isObject(op.value)) op.value = canonicalEntries(parts.attr, withoutNulls(op.value));
  // RFC 7643 §2.5: null is unassigned. A replace with null removes the attribute; an add of nothing changes nothing.
  if (op.op !== "remove" && op.value === null) {
    if (op.op === "add") return null;
    op.op = "remove";
    delete op.value;
  }
  if (op.op === "remove" && op.path === "active") throw bad("mutability", `${where}: ${REMOVE_ACTIVE}`);
  storedEmailSpelling(op, current);
  const typed = typedEntry(op, current);
  if (typed.path !== op.path && !String(typed.path).includes("[")) return typed;
  op.path = typed.path;
  // SCIMMY 1.3.5 applies a replace as remove-then-add: after the remove, a filter on the sub-attribute being replaced
  // (`emails[value eq "x"].value`) no longer matches and the add fails with noTarget. An add sets a singular
  // sub-attribute of each matched entry just as a replace does, with the filter read before anything changes.
  if (op.op === "replace" && parts?.filter !== undefined && parts.sub) op.op = "add";
  // RFC 7644 §3.5.2.3: a replace of a complex attribute leaves the sub-attributes it does not name unchanged;
  // SCIMMY replaces the whole value, an add merges. Not for a reference (`manager`: value and $ref go together).
  else if (op.op === "replace" && parts?.attr?.type === "complex" && !parts.attr.multiValued && !parts.attr.sub.has("value") && parts.filter === undefined && !parts.sub && isObject(op.value)) {
    op.op = "add";
  }
  return op;
}

function normaliseOperation(raw: unknown, index: number, current: Json | undefined): Json[] {
  const where = `operation ${index + 1}`;
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw bad("invalidSyntax", `${where} is not an object`);
  const op: Json = { ...(raw as Json) };
  const name = typeof op.op === "string" ? op.op.toLowerCase() : "";
  if (!["add", "remove", "replace"].includes(name)) {
    throw bad("invalidSyntax", `${where}: unsupported op '${String(op.op)}' (add, remove or replace)`);
  }
  op.op = name;
  if (op.path !== undefined && typeof op.path !== "string") throw bad("invalidPath", `${where}: path must be a string`);
  if (typeof op.path === "string" && op.path.trim()) {
    const out = normalisePathOperation(op, where, current);
    return out ? [out] : [];
  }
  delete op.path;
  if (name === "remove") throw bad("noTarget", `${where}: remove needs a path`);
  if (!op.value || typeof op.value !== "object" || Array.isArray(op.value)) {
    throw bad("invalidValue", `${where}: an operation without path needs an object value`);
  }
  // A key set to null is unassigned: a replace removes it, an add leaves it as it is.
  const value = canonicalKeys(op.value as Json);
  const removes: Json[] = [];
  for (const [k, v] of Object.entries(value)) {
    if (v !== null) continue;
    delete value[k];
    if (name === "replace") removes.push(...(normaliseOperation({ op: "remove", path: k }, index, current) as Json[]));
  }
  if (!Object.keys(value).length) return removes;
  op.value = normalisePatchValue(value);
  return [...removes, op];
}

/**
 * A User PATCH in RFC form. `current` is the stored user, used to tell whether a typed entry exists. Returns
 * null when the message has no operations at all, or only ones that change nothing (an add of null): the MS
 * validator sends an empty one; the answer is "no change".
 */
export function normaliseUserPatch(body: unknown, current?: Json): Json | null {
  const msg = patchEnvelope(body);
  const ops = msg.Operations as unknown[];
  if (!ops.length) return null;
  const view = current ? { ...current } : undefined;
  const out = ops.flatMap((op, i) => normaliseOperation(op, i, view));
  return out.length ? { ...msg, Operations: out } : null;
}

/** Checks the PatchOp envelope; adds the `schemas` Entra leaves out. */
export function patchEnvelope(body: unknown): Json {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw bad("invalidSyntax", "PatchOp body must be an object");
  const msg = { ...(body as Json) };
  if (msg.schemas === undefined) msg.schemas = [PATCH_OP_URN];
  if (!Array.isArray(msg.Operations)) throw bad("invalidSyntax", "PatchOp messages need an 'Operations' array");
  return msg;
}

/**
 * String booleans, a bare or listed `manager` id, and the case of multi-valued `type`s. Nulls inside a singular
 * complex value are kept: merged into the stored value by SCIMMY, they unassign that sub-attribute.
 */
function normaliseAttributes(body: Json): Json {
  const out = coerceBooleans(body) as Json;
  const core = schemas().get(CORE)!;
  for (const [k, v] of Object.entries(out)) {
    const key = k.toLowerCase();
    if (key === ENTERPRISE_USER_SCHEMA.toLowerCase() && isObject(v)) {
      const ext = { ...v };
      for (const name of Object.keys(ext)) if (name.toLowerCase() === "manager") ext[name] = managerValue(ext[name]);
      out[k] = ext;
    } else if (key === MANAGER_PATH.toLowerCase()) {
      out[k] = managerValue(v);
    } else if (Array.isArray(v) || core.get(key)?.multiValued) {
      out[k] = canonicalEntries(core.get(key), withoutNulls(v));
    }
  }
  return out;
}

/** A no-path PATCH value (its null keys already turned into removes). */
function normalisePatchValue(value: Json): Json {
  return normaliseAttributes(value);
}

/**
 * POST and PUT bodies: as normaliseAttributes, and every null (an attribute, a sub-attribute, an entry) is left out:
 * RFC 7643 §2.5 makes it unassigned, which is what a missing attribute is in a create or a full replace.
 */
export function normaliseUserBody(body: unknown): unknown {
  if (!body || typeof body !== "object" || Array.isArray(body)) return body;
  return normaliseAttributes(withoutNulls(body) as Json);
}
