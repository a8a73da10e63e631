import { SCIMMY } from "scimmy-routers";
import type { GroupCondition, GroupQuery, GroupSort, UserCondition, UserQuery } from "../provisioning/queries";
import { groupFilterFromExpression } from "./group-filter";
import { userFilterFromExpression } from "./user-filter";

// SCIMMY parses a filter into OR-branches of AND-objects ({attr: [op, value]}, nested objects for sub-attributes,
// an array of [op, value] pairs when one attribute appears twice) and applies none of it. We translate the forms
// the bridge supports into a store query and refuse the rest with invalidFilter, never silently.

const SUPPORTED_USERS =
  'userName eq, externalId eq, id eq, emails eq, emails.value eq, emails[type eq "…"].value eq, active eq, joined with and/or';
const SUPPORTED_GROUPS = 'displayName eq, externalId eq, id eq, members[value eq "…"], joined with and/or';

class UnsupportedFilter extends Error {}

function invalid(detail: string): Error {
  return new UnsupportedFilter(detail);
}

type Comparison = [string, unknown];

function comparisons(node: unknown, attr: string): Comparison[] {
  if (!Array.isArray(node)) throw invalid(`Unsupported filter on '${attr}'`);
  const list = (Array.isArray(node[0]) ? node : [node]) as unknown[][];
  return list.map((c) => {
    const [op, value, ...rest] = c;
    if (typeof op !== "string" || op.toLowerCase() === "not" || rest.length) {
      throw invalid(`Unsupported expression on '${attr}'`);
    }
    if (op.toLowerCase() !== "eq") throw invalid(`Operator '${op}' is not supported on '${attr}'`);
    if (c.length < 2) throw invalid(`Missing comparison value for '${attr}'`);
    return [op, value];
  });
}

const asString = (attr: string, v: unknown): string => {
  if (typeof v !== "string") throw invalid(`'${attr}' must be compared with a string`);
  return v;
};

function emailConditions(node: unknown): UserCondition[] {
  if (Array.isArray(node)) return comparisons(node, "emails").map(([, v]) => ({ attr: "email", value: asString("emails", v) }));
  if (!node || typeof node !== "object") throw invalid("Unsupported filter on 'emails'");
  let type: string | undefined;
  const values: string[] = [];
  for (const [sub, expr] of Object.entries(node as Record<string, unknown>)) {
    const name = sub.toLowerCase();
    if (name === "type") {
      const [[, v], ...more] = comparisons(expr, "emails.type");
      if (more.length) throw invalid("Only one emails type can be compared");
      type = asString("emails.type", v);
    } else if (name === "value") {
      for (const [, v] of comparisons(expr, "emails.value")) values.push(asString("emails.value", v));
    } else {
      throw invalid(`Filtering on 'emails.${sub}' is not supported`);
    }
  }
  if (!values.length) throw invalid("An emails filter must compare the email value");
  return values.map((value) => ({ attr: "email", value, ...(type !== undefined ? { type } : {}) }));
}

function branchConditions(branch: Record<string, unknown>): UserCondition[] {
  const out: UserCondition[] = [];
  for (const [attr, node] of Object.entries(branch)) {
    switch (attr.toLowerCase()) {
      case "username":
        for (const [, v] of comparisons(node, "userName")) out.push({ attr: "userName", value: asString("userName", v) });
        break;
      case "externalid":
        for (const [, v] of comparisons(node, "externalId")) out.push({ attr: "externalId", value: asString("externalId", v) });
        break;
      case "id":
        for (const [, v] of comparisons(node, "id")) out.push({ attr: "id", value: asString("id", v) });
        break;
      case "emails":
        out.push(...emailConditions(node));
        break;
      case "active":
        for (const [, v] of comparisons(node, "active")) {
          if (typeof v !== "boolean") throw invalid("'active' must be compared with true or false");
          out.push({ attr: "active", value: v });
        }
        break;
      default:
        throw invalid(`Filtering on '${attr}' is not supported`);
    }
  }
  return out;
}

function translate<C>(filter: unknown, forms: string, branch: (b: Record<string, unknown>) => C[]): { anyOf: C[][] } | undefined {
  try {
    if (filter === undefined || filter === null) return undefined;
    if (!Array.isArray(filter)) throw invalid("Unsupported filter");
    if (!filter.length) return undefined;
    return { anyOf: filter.map((b) => branch(b as Record<string, unknown>)) };
  } catch (err) {
    if (err instanceof UnsupportedFilter) throw new SCIMMY.Types.Error(400, "invalidFilter", `${err.message}. Supported: ${forms}`);
    throw err;
  }
}

/**
 * undefined when there is no filter (all users). The filter's own text is parsed (filter-parser.ts: the whole RFC
 * 7644 grammar, `not` and grouping as written); a parsed filter without its text falls back to the simple forms.
 * Throws a SCIM invalidFilter error naming what is wrong.
 */
export function userQueryFromFilter(filter: unknown): UserQuery | undefined {
  const expression = (filter as { expression?: unknown } | null | undefined)?.expression;
  if (typeof expression === "string" && expression.trim() !== "") return { where: userFilterFromExpression(expression) };
  return translate(filter, SUPPORTED_USERS, branchConditions);
}

function memberConditions(node: unknown): GroupCondition[] {
  if (Array.isArray(node)) return comparisons(node, "members").map(([, v]) => ({ attr: "member", value: asString("members", v) }));
  if (!node || typeof node !== "object") throw invalid("Unsupported filter on 'members'");
  const out: GroupCondition[] = [];
  for (const [sub, expr] of Object.entries(node as Record<string, unknown>)) {
    if (sub.toLowerCase() !== "value") throw invalid(`Filtering on 'members.${sub}' is not supported`);
    for (const [, v] of comparisons(expr, "members.value")) out.push({ attr: "member", value: asString("members.value", v) });
  }
  return out;
}

function groupBranchConditions(branch: Record<string, unknown>): GroupCondition[] {
  const out: GroupCondition[] = [];
  for (const [attr, node] of Object.entries(branch)) {
    const name = attr.toLowerCase();
    if (name === "members") {
      out.push(...memberConditions(node));
      continue;
    }
    const kind = name === "displayname" ? "displayName" : name === "externalid" ? "externalId" : name === "id" ? "id" : null;
    if (!kind) throw invalid(`Filtering on '${attr}' is not supported`);
    for (const [, v] of comparisons(node, kind)) out.push({ attr: kind, value: asString(kind, v) });
  }
  return out;
}

/**
 * Group filters, including Entra's membership probe `id eq "g" and members[value eq "u"]`: the filter's text is
 * parsed like a user filter's (group-filter.ts); a parsed filter without its text falls back to the simple forms.
 */
export function groupQueryFromFilter(filter: unknown): GroupQuery | undefined {
  const expression = (filter as { expression?: unknown } | null | undefined)?.expression;
  if (typeof expression === "string" && expression.trim() !== "") return { where: groupFilterFromExpression(expression) };
  return translate(filter, SUPPORTED_GROUPS, groupBranchConditions);
}

const GROUP_SORTS: Record<string, GroupSort["by"]> = {
  displayname: "displayName",
  externalid: "externalId",
  id: "id",
  "meta.created": "created",
  "meta.lastmodified": "lastModified",
};

/** A group list's `sortBy`/`sortOrder`: displayName, externalId, id, meta.created or meta.lastModified. */
export function groupSortFromConstraints(constraints: { sortBy?: unknown; sortOrder?: unknown } | undefined): GroupSort | undefined {
  const { sortBy, sortOrder } = constraints ?? {};
  if (sortOrder !== undefined && sortOrder !== "ascending" && sortOrder !== "descending") {
    throw new SCIMMY.Types.Error(400, "invalidValue", `sortOrder must be ascending or descending, not '${String(sortOrder)}'`);
  }
  if (sortBy === undefined || sortBy === "") return undefined;
  const name = String(sortBy).replace(/^urn:ietf:params:scim:schemas:core:2\.0:Group:/i, "").toLowerCase();
  const by = GROUP_SORTS[name];
  if (!by) throw new SCIMMY.Types.Error(400, "invalidValue", `Invalid sortBy '${String(sortBy)}': Groups sort by displayName, externalId, id, meta.created or meta.lastModified`);
  return { by, descending: sortOrder === "descending" };
}
