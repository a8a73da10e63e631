// Rewrites the IdP PATCH dialects SCIMMY rejects into RFC 7644 form before SCIMMY sees them
// (notes/scimmy.md §3). Only rewrites that keep the meaning exactly belong here.

export const PATCH_OP_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

const BOOLEAN_ATTRIBUTES = new Set(["active", "primary"]);

function toBoolean(v: unknown): unknown {
  if (typeof v !== "string") return v;
  if (/^true$/i.test(v)) return true;
  if (/^false$/i.test(v)) return false;
  return v;
}

/** Entra sends "True"/"False" for booleans, at the top level and inside multi-valued entries. */
function coerceBooleans(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => coerceBooleans(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = BOOLEAN_ATTRIBUTES.has(k.toLowerCase()) ? toBoolean(v) : coerceBooleans(v, depth + 1);
  }
  return out;
}

function lastPathSegment(path: string): string {
  return (path.split(/[.:]/).pop() ?? "").replace(/\[.*$/, "").toLowerCase();
}

export function normalisePatchBody(body: unknown): unknown {
  if (!body || typeof body !== "object" || Array.isArray(body)) return body;
  const msg = { ...(body as Record<string, unknown>) };
  if (msg.schemas === undefined) msg.schemas = [PATCH_OP_URN];
  if (Array.isArray(msg.Operations)) {
    msg.Operations = msg.Operations.map((op) => {
      if (!op || typeof op !== "object") return op;
      const o = { ...(op as Record<string, unknown>) };
      if (typeof o.path === "string" && BOOLEAN_ATTRIBUTES.has(lastPathSegment(o.path))) o.value = toBoolean(o.value);
      else o.value = coerceBooleans(o.value);
      return o;
    });
  }
  return msg;
}
