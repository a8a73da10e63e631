import { SCIMMY } from "scimmy-routers";

// Rules RFC 7643/7644 set for multi-valued attributes (emails, phoneNumbers, addresses…) that SCIMMY does not
// keep: after a write, the resource is settled here before it becomes a draft.
// - Adding a value that is already there changes nothing (RFC 7644 §3.5.2.1): an entry equal to an earlier one
//   (same value and type; an email's value and every type compared without case; an entry without value, such as an
//   address, by all its sub-attributes) is merged into the earlier one, which keeps its place and spelling.
// - At most one entry is primary (RFC 7643 §2.4): when several are, the one that became primary with this write
//   stays primary (the last such one), the others lose it. With nothing to compare against (POST, PUT), the last.

type Json = Record<string, unknown>;

let names: string[] | null = null;

/** Multi-valued User attributes the IdP writes (groups are the bridge's answer, never input). */
function multiValuedNames(): string[] {
  names ??= (SCIMMY.Schemas.User.definition.attributes as unknown as { name: string; config?: { multiValued?: boolean } }[])
    .filter((a) => a.config?.multiValued === true && a.name !== "groups" && a.name !== "schemas")
    .map((a) => a.name);
  return names;
}

const lower = (v: unknown) => (typeof v === "string" ? v.toLowerCase() : v === undefined || v === null ? "" : String(v));

function keyOf(attr: string, entry: unknown): string {
  if (!entry || typeof entry !== "object") return JSON.stringify(entry);
  const e = entry as Json;
  if (e.value !== undefined) return JSON.stringify([attr === "emails" ? lower(e.value) : e.value, lower(e.type)]);
  const { primary: _p, ...rest } = e;
  return JSON.stringify(Object.keys(rest).sort().map((k) => [k, typeof rest[k] === "string" && k === "type" ? lower(rest[k]) : rest[k]]));
}

function dedupe(attr: string, list: unknown[]): unknown[] {
  const out: unknown[] = [];
  const at = new Map<string, number>();
  for (const entry of list) {
    const key = keyOf(attr, entry);
    const i = at.get(key);
    if (i === undefined) {
      at.set(key, out.length);
      out.push(entry);
    } else if (entry && typeof entry === "object") {
      const first = out[i] as Json;
      out[i] = { ...first, ...(entry as Json), ...(first.value !== undefined ? { value: first.value } : {}), ...(first.type !== undefined ? { type: first.type } : {}) };
    }
  }
  return out;
}

function onePrimary(attr: string, list: unknown[], before: unknown): unknown[] {
  const primaries = list.flatMap((e, i) => (e && typeof e === "object" && (e as Json).primary === true ? [i] : []));
  if (primaries.length < 2) return list;
  const wasPrimary = new Set(
    (Array.isArray(before) ? before : []).filter((e) => e && typeof e === "object" && (e as Json).primary === true).map((e) => keyOf(attr, e)),
  );
  const newly = primaries.filter((i) => !wasPrimary.has(keyOf(attr, list[i])));
  const keep = newly.length ? newly[newly.length - 1] : primaries[primaries.length - 1];
  return list.map((e, i) => {
    if (i === keep || !primaries.includes(i)) return e;
    const { primary: _p, ...rest } = e as Json;
    return rest;
  });
}

/** The resource with duplicates merged and one primary per attribute; `before` is what a PATCH was applied to. */
export function settleMultiValued(resource: Json, before?: Json): Json {
  const out = { ...resource };
  for (const attr of multiValuedNames()) {
    const list = out[attr];
    if (!Array.isArray(list) || list.length < 2) continue;
    out[attr] = onePrimary(attr, dedupe(attr, list), before?.[attr]);
  }
  return out;
}
