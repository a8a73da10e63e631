import { SCIMMY } from "scimmy-routers";
import type { GroupPatchPlan } from "../provisioning/group-service";
import { PATCH_OP_URN } from "./patch-normaliser";

// Reads a Group PatchOp into a plan of membership deltas and renames, without loading the group. Covers Okta's
// forms (add members, remove members[value eq "…"], replace members, replace {id, displayName}) and Entra's
// (capitalised ops, Add/Remove with a `value` array). Anything else is refused naming the operation.

type Json = Record<string, unknown>;

const MEMBER_FILTER = /^members\s*\[\s*value\s+eq\s+"((?:[^"\\]|\\.)*)"\s*\]$/i;

function bad(scimType: string, detail: string): Error {
  return new SCIMMY.Types.Error(400, scimType, detail);
}

function memberIds(value: unknown, where: string): string[] {
  const list = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  return list.map((m, i) => {
    const v = m && typeof m === "object" ? (m as Json).value : m;
    if (typeof v !== "string" || !v) throw bad("invalidValue", `${where}: member ${i + 1} has no string 'value'`);
    return v;
  });
}

function stringOrNull(value: unknown, attr: string, where: string): string | null {
  if (value === null) return null;
  if (typeof value !== "string") throw bad("invalidValue", `${where}: '${attr}' must be a string`);
  return value;
}

export function planGroupPatch(body: unknown): GroupPatchPlan {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw bad("invalidSyntax", "PatchOp body must be an object");
  const msg = body as Json;
  const schemas = msg.schemas;
  if (schemas !== undefined && !(Array.isArray(schemas) && schemas.length === 1 && schemas[0] === PATCH_OP_URN)) {
    throw bad("invalidSyntax", `PatchOp messages must have schemas ["${PATCH_OP_URN}"]`);
  }
  if (!Array.isArray(msg.Operations)) throw bad("invalidSyntax", "PatchOp messages need an 'Operations' array");

  const plan: GroupPatchPlan = { add: new Set(), remove: new Set(), replaceWith: null };
  const add = (ids: string[]) => ids.forEach((id) => (plan.remove.delete(id), plan.add.add(id)));
  const remove = (ids: string[]) => ids.forEach((id) => (plan.add.delete(id), plan.remove.add(id)));
  const replace = (ids: string[]) => {
    plan.replaceWith = new Set(ids);
    plan.add.clear();
    plan.remove.clear();
  };

  msg.Operations.forEach((raw, i) => {
    const where = `operation ${i + 1}`;
    if (!raw || typeof raw !== "object") throw bad("invalidSyntax", `${where} is not an object`);
    const op = String((raw as Json).op ?? "").toLowerCase();
    const path = (raw as Json).path;
    const value = (raw as Json).value;
    if (!["add", "remove", "replace"].includes(op)) throw bad("invalidSyntax", `${where}: unsupported op '${String((raw as Json).op)}'`);
    if (path !== undefined && typeof path !== "string") throw bad("invalidPath", `${where}: path must be a string`);
    const p = (path ?? "").trim();
    const filtered = MEMBER_FILTER.exec(p);

    if (filtered) {
      if (op !== "remove") throw bad("invalidPath", `${where}: '${op}' with path '${p}' is not supported`);
      return remove([filtered[1].replace(/\\(.)/g, "$1")]);
    }
    switch (p.toLowerCase()) {
      case "members":
        if (op === "add") return add(memberIds(value, where));
        if (op === "replace") return replace(memberIds(value, where));
        // Entra removes named members with a value array; without a value, remove means "all members".
        return value === undefined || value === null ? replace([]) : remove(memberIds(value, where));
      case "displayname":
        if (op === "remove") throw bad("mutability", `${where}: displayName is required and cannot be removed`);
        if (typeof value !== "string" || !value.trim()) throw bad("invalidValue", `${where}: displayName must be a non-empty string`);
        plan.displayName = value;
        return;
      case "externalid":
        plan.externalId = op === "remove" ? null : stringOrNull(value, "externalId", where);
        return;
      case "":
        break;
      default:
        throw bad("invalidPath", `${where}: path '${p}' is not supported on Groups (members, displayName, externalId)`);
    }
    // No path: the value is an object of attributes (Okta's rename carries the group's own id too).
    if (op === "remove") throw bad("noTarget", `${where}: remove needs a path`);
    if (!value || typeof value !== "object" || Array.isArray(value)) throw bad("invalidValue", `${where}: value must be an object`);
    for (const [key, v] of Object.entries(value as Json)) {
      switch (key.toLowerCase()) {
        case "id":
        case "schemas":
        case "meta":
          break;
        case "displayname":
          if (typeof v !== "string" || !v.trim()) throw bad("invalidValue", `${where}: displayName must be a non-empty string`);
          plan.displayName = v;
          break;
        case "externalid":
          plan.externalId = stringOrNull(v, "externalId", where);
          break;
        case "members":
          if (op === "add") add(memberIds(v, where));
          else replace(memberIds(v, where));
          break;
        default:
          throw bad("invalidPath", `${where}: attribute '${key}' is not supported on Groups`);
      }
    }
  });
  return plan;
}
