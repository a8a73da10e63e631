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
  sub: Map<string, AttrInfo>;
}

/** Attribute names per schema, keyed lower-case, from SCIMMY's own definitions (so they never drift). */
function indexAttributes(attributes: { name: string; type: string; subAttributes?: unknown[] }[]): Map<string, AttrInfo> {
  const out = new Map<string, AttrInfo>();
  for (const a of attributes) {
    const subs = (a.subAttributes ?? []) as { name: string; type: string; subAttributes?: unknown[] }[];
    out.set(a.name.toLowerCase(), { name: a.name, type: a.type, sub: indexAttributes(subs) });
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

function bad(scimType: string, detail: string): Error {
  return new SCIMMY.Types.Error(400, scimType, detail);
}

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

/** Entra sends the enterprise `manager` as a bare id; SCIM wants `{value: id}`. */
function wrapManager(value: unknown): unknown {
  return typeof value === "string" ? { value } : value;
}

/** Canonical spelling of a path's attribute names: SCIMMY matches PATCH paths case-sensitively (RFC says not). */
export function canonicalPath(path: string): string {
  let schemaKey = CORE;
  let rest = path.trim();
  const lower = rest.toLowerCase();
  const urn = EXTENSION_URNS.find((u) => lower.startsWith(u.toLowerCase() + ":"));
  let prefix = "";
  if (urn) {
    schemaKey = urn.toLowerCase();
    prefix = urn + ":";
    rest = rest.slice(urn.length + 1);
  } else if (lower.startsWith(CORE + ":")) {
    prefix = "urn:ietf:params:scim:schemas:core:2.0:User:";
    rest = rest.slice(CORE.length + 1);
  }
  const attrs = schemas().get(schemaKey);
  const m = /^([A-Za-z$][\w$-]*)(\[(.*)\])?(?:\.([A-Za-z$][\w$-]*))?$/s.exec(rest);
  if (!attrs || !m) return path;
  const attr = attrs.get(m[1].toLowerCase());
  if (!attr) return path;
  const subName = (n: string) => attr.sub.get(n.toLowerCase())?.name ?? n;
  const filter = m[3] === undefined ? "" : `[${m[3].replace(/([A-Za-z$][\w$-]*)(\s+)(eq|ne|co|sw|ew|gt|ge|lt|le|pr)\b/gi, (_all, n, sp, op) => `${subName(n)}${sp}${op.toLowerCase()}`)}]`;
  return `${prefix}${attr.name}${filter}${m[4] ? `.${subName(m[4])}` : ""}`;
}

function attributeOf(path: string): AttrInfo | undefined {
  const urn = EXTENSION_URNS.find((u) => path.startsWith(u + ":"));
  const rest = urn ? path.slice(urn.length + 1) : path;
  const name = /^([A-Za-z$][\w$-]*)/.exec(rest)?.[1];
  return name ? schemas().get((urn ?? CORE).toLowerCase())?.get(name.toLowerCase()) : undefined;
}

/** Top-level keys of a no-path value in schema case ("Active" → "active", "name.GivenName" → "name.givenName"). */
function canonicalKeys(value: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) out[k.includes("[") ? k : canonicalPath(k)] = v;
  return out;
}

const TYPED_ENTRY = /^(emails|phoneNumbers|addresses)\[type eq "((?:[^"\\]|\\.)*)"\](?:\.([A-Za-z]+))?$/;

/**
 * Entra targets `emails[type eq "work"].value` (and phone numbers, addresses) even when the user has no entry of
 * that type; SCIMMY then fails with noTarget. When no such entry exists, the operation becomes an add of a new
 * entry; when one exists it is left alone, so SCIMMY updates it in place and keeps its other sub-attributes.
 */
function createMissingTypedEntry(op: Json, current: Json | undefined): Json {
  if (op.op !== "add" && op.op !== "replace") return op;
  const m = TYPED_ENTRY.exec(String(op.path ?? ""));
  if (!m) return op;
  const [, attr, type, sub] = m;
  const entries = Array.isArray(current?.[attr]) ? (current![attr] as Json[]) : [];
  if (entries.some((e) => String(e?.type ?? "").toLowerCase() === type.toLowerCase())) return op;
  const entry: Json = sub ? { type, [sub]: op.value } : { type, ...((op.value ?? {}) as Json) };
  // Later operations of the same message see the entry this one creates.
  if (current) current[attr] = [...entries, entry];
  return { op: "add", path: attr, value: [entry] };
}

function normaliseOperation(raw: unknown, index: number, current: Json | undefined): Json {
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
    op.path = canonicalPath(op.path);
    const attr = attributeOf(op.path as string);
    if (attr?.type === "boolean") op.value = toBoolean(op.value);
    else op.value = coerceBooleans(op.value);
    if (/(^|:)manager$/.test(op.path as string)) op.value = wrapManager(op.value);
    return createMissingTypedEntry(op, current);
  }
  delete op.path;
  if (name === "remove") throw bad("noTarget", `${where}: remove needs a path`);
  if (!op.value || typeof op.value !== "object" || Array.isArray(op.value)) {
    throw bad("invalidValue", `${where}: an operation without path needs an object value`);
  }
  op.value = normaliseUserBody(canonicalKeys(op.value as Json));
  return op;
}

/**
 * A User PATCH in RFC form. `current` is the stored user, used to tell whether a typed entry exists. Returns
 * null when the message has no operations at all (the MS validator sends that; the answer is "no change").
 */
export function normaliseUserPatch(body: unknown, current?: Json): Json | null {
  const msg = patchEnvelope(body);
  const ops = msg.Operations as unknown[];
  if (!ops.length) return null;
  const view = current ? { ...current } : undefined;
  return { ...msg, Operations: ops.map((op, i) => normaliseOperation(op, i, view)) };
}

/** Checks the PatchOp envelope; adds the `schemas` Entra leaves out. */
export function patchEnvelope(body: unknown): Json {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw bad("invalidSyntax", "PatchOp body must be an object");
  const msg = { ...(body as Json) };
  if (msg.schemas === undefined) msg.schemas = [PATCH_OP_URN];
  if (!Array.isArray(msg.Operations)) throw bad("invalidSyntax", "PatchOp messages need an 'Operations' array");
  return msg;
}

/** POST/PUT bodies and no-path PATCH values: string booleans and a bare `manager` id. */
export function normaliseUserBody(body: unknown): unknown {
  if (!body || typeof body !== "object" || Array.isArray(body)) return body;
  const out = coerceBooleans(body) as Json;
  for (const [k, v] of Object.entries(out)) {
    if (k.toLowerCase() === ENTERPRISE_USER_SCHEMA.toLowerCase() && v && typeof v === "object") {
      const ext = { ...(v as Json) };
      for (const key of Object.keys(ext)) if (key.toLowerCase() === "manager") ext[key] = wrapManager(ext[key]);
      out[k] = ext;
    } else if (k.toLowerCase() === `${ENTERPRISE_USER_SCHEMA}:manager`.toLowerCase()) {
      out[k] = wrapManager(v);
    }
  }
  return out;
}
