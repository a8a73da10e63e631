// A parsed SCIM filter (filter-parser.ts) on Groups → the store's group filter tree: displayName (without case),
// externalId and id (exact), meta dates and version, and members by user id (members[value eq "…"],
// members.value, members eq), with every operator, grouping and not.
import { SCIMMY } from "scimmy-routers";
import type { GroupFilterField, GroupFilterNode } from "../store/types";
import { FilterSyntaxError, parseFilter, type AttrPath, type CompareOp, type FilterAst, type FilterValue } from "./filter-parser";

const CORE = "urn:ietf:params:scim:schemas:core:2.0:group";

class FilterRefused extends Error {}

type Test = { op: CompareOp | "pr"; value?: FilterValue };

function shownOf(p: AttrPath): string {
  return `${p.urn ? `${p.urn}:` : ""}${p.attr}${p.sub ? `.${p.sub}` : ""}`;
}

function check(field: GroupFilterField, type: "string" | "dateTime" | "version", test: Test, shown: string): GroupFilterNode {
  if (test.op === "pr") return { field, op: "pr" };
  const { op, value } = test;
  if (value === null) {
    if (op !== "eq" && op !== "ne") throw new FilterRefused(`'${shown} ${op} null': only eq and ne compare with null`);
    return { field, op, value: null };
  }
  if (typeof value !== "string") throw new FilterRefused(`'${shown}' is compared with a quoted value`);
  if (type === "version") {
    const m = /^(?:W\/)?"?(\d+)"?$/.exec(value);
    if (!m || (op !== "eq" && op !== "ne")) throw new FilterRefused(`'${shown}' is compared with eq or ne and a version such as W/"3"`);
    return { field, op, value: Number(m[1]) };
  }
  if (type === "dateTime") {
    if (op === "co" || op === "sw" || op === "ew") throw new FilterRefused(`'${shown}' is a date-time: use eq, ne, gt, ge, lt or le`);
    const t = Date.parse(value);
    if (!Number.isFinite(t) || !/^\d{4}-\d{2}-\d{2}/.test(value)) throw new FilterRefused(`'${value}' is not an ISO 8601 date-time (e.g. 2021-09-23T19:35:41Z)`);
    return { field, op, value: new Date(t).toISOString() };
  }
  return { field, op, value };
}

function memberTest(sub: string, test: Test, shown: string): GroupFilterNode {
  if (sub.toLowerCase() !== "value") throw new FilterRefused(`'${shown}': members are filtered by value (the member's id)`);
  return check({ kind: "memberValue" }, "string", test, shown);
}

function leaf(path: AttrPath, test: Test): GroupFilterNode {
  const shown = shownOf(path);
  if (path.urn && path.urn.toLowerCase() !== CORE) throw new FilterRefused(`'${path.urn}' is not the Group schema`);
  const attr = path.attr.toLowerCase();
  if (attr === "members") return { anyMember: memberTest(path.sub ?? "value", test, shown) };
  if (attr === "meta") {
    switch (path.sub?.toLowerCase()) {
      case "created":
        return check({ kind: "created" }, "dateTime", test, shown);
      case "lastmodified":
        return check({ kind: "lastModified" }, "dateTime", test, shown);
      case "version":
        return check({ kind: "version" }, "version", test, shown);
      case "resourcetype":
        if (test.op === "pr") return { and: [] };
        if (typeof test.value !== "string" || (test.op !== "eq" && test.op !== "ne")) throw new FilterRefused(`'${shown}' is compared with eq or ne`);
        return (test.value.toLowerCase() === "group") === (test.op === "eq") ? { and: [] } : { or: [] };
      default:
        throw new FilterRefused(`'${shown}' is not filterable (meta.created, meta.lastModified, meta.version and meta.resourceType are)`);
    }
  }
  if (path.sub) throw new FilterRefused(`'${shown}': ${path.attr} has no sub-attributes`);
  const kind = attr === "displayname" ? "displayName" : attr === "externalid" ? "externalId" : attr === "id" ? "id" : null;
  if (!kind) throw new FilterRefused(`'${shown}' is not a Group attribute that can be filtered (displayName, externalId, id, members, meta.*)`);
  return check({ kind }, "string", test, shown);
}

function inMembers(ast: FilterAst): GroupFilterNode {
  switch (ast.kind) {
    case "and":
      return { and: [inMembers(ast.left), inMembers(ast.right)] };
    case "or":
      return { or: [inMembers(ast.left), inMembers(ast.right)] };
    case "not":
      return { not: inMembers(ast.expr) };
    case "valuePath":
      throw new FilterRefused("value filters do not nest (inside members[…])");
    default: {
      if (ast.path.urn || ast.path.sub) throw new FilterRefused("inside members[…] name a sub-attribute of members alone (value)");
      return memberTest(ast.path.attr, ast.kind === "present" ? { op: "pr" } : { op: ast.op, value: ast.value }, `members.${ast.path.attr}`);
    }
  }
}

function translate(ast: FilterAst): GroupFilterNode {
  switch (ast.kind) {
    case "and":
      return { and: [translate(ast.left), translate(ast.right)] };
    case "or":
      return { or: [translate(ast.left), translate(ast.right)] };
    case "not":
      return { not: translate(ast.expr) };
    case "present":
      return leaf(ast.path, { op: "pr" });
    case "compare":
      return leaf(ast.path, { op: ast.op, value: ast.value });
    case "valuePath": {
      if (ast.path.attr.toLowerCase() !== "members" || ast.path.sub) throw new FilterRefused(`'${shownOf(ast.path)}[…]': Groups take a value filter on members only`);
      const where = inMembers(ast.filter);
      const also = ast.then ? memberTest(ast.then.sub, ast.then.test, `members[…].${ast.then.sub}`) : null;
      return { anyMember: also ? { and: [where, also] } : where };
    }
  }
}

/** The store filter for a SCIM Group filter expression; a SCIM 400 invalidFilter naming what is wrong otherwise. */
export function groupFilterFromExpression(expression: string): GroupFilterNode {
  try {
    return translate(parseFilter(expression));
  } catch (err) {
    if (err instanceof FilterSyntaxError || err instanceof FilterRefused) {
      throw new SCIMMY.Types.Error(400, "invalidFilter", `Invalid filter: ${err.message}`);
    }
    throw err;
  }
}
