// What User and Group filters share once parsed (filter-parser.ts): the and/or/not walk, the check of a compared
// value against its attribute's type (dates normalised to the stored ISO form, versions from weak ETags), and the
// one way a refusal reaches the IdP, a SCIM 400 invalidFilter.
import { SCIMMY } from "scimmy-routers";
import type { FilterOp } from "../provisioning/queries";
import { FilterSyntaxError, type CompareOp, type FilterAst, type FilterValue } from "./filter-parser";

/** A filter the grammar allows but the attribute does not (unknown, wrong type, wrong operator). */
export class FilterRefused extends Error {}

export type Test = { op: CompareOp | "pr"; value?: FilterValue };
export type ValueType = "string" | "boolean" | "number" | "dateTime" | "version";
export type Logic<N> = { and: N[] } | { or: N[] } | { not: N };
type Term = Exclude<FilterAst, { kind: "and" | "or" | "not" }>;

/** and/or/not kept as written; every other node goes through `term`. */
export function mapLogic<N>(ast: FilterAst, term: (t: Term) => N | Logic<N>): N | Logic<N> {
  switch (ast.kind) {
    case "and":
      return { and: [mapLogic(ast.left, term), mapLogic(ast.right, term)] as N[] };
    case "or":
      return { or: [mapLogic(ast.left, term), mapLogic(ast.right, term)] as N[] };
    case "not":
      return { not: mapLogic(ast.expr, term) as N };
    default:
      return term(ast);
  }
}

/** The test of a present/compare node. */
export function testOf(t: Extract<FilterAst, { kind: "present" | "compare" }>): Test {
  return t.kind === "present" ? { op: "pr" } : { op: t.op, value: t.value };
}

/** A comparison on `field`, its value checked against `type` and normalised. */
export function comparison<F>(field: F, type: ValueType, test: Test, shown: string): { field: F; op: FilterOp; value?: string | number | boolean | null } {
  const { op, value } = test;
  if (op === "pr") return { field, op };
  if (value === null) {
    if (op !== "eq" && op !== "ne") throw new FilterRefused(`'${shown} ${op} null': only eq and ne compare with null`);
    return { field, op, value: null };
  }
  if (type === "boolean") {
    if (typeof value !== "boolean") throw new FilterRefused(`'${shown}' is a boolean: compare it with true or false`);
    if (op !== "eq" && op !== "ne") throw new FilterRefused(`'${shown}' is a boolean: only eq, ne and pr apply`);
    return { field, op, value };
  }
  if (type === "number") {
    if (typeof value !== "number") throw new FilterRefused(`'${shown}' is a number: compare it with a bare number`);
    if (op === "co" || op === "sw" || op === "ew") throw new FilterRefused(`'${shown}' is a number: ${op} does not apply`);
    return { field, op, value };
  }
  if (typeof value !== "string") throw new FilterRefused(`'${shown}' is a ${type === "dateTime" ? "date-time" : "string"}: compare it with a quoted value`);
  if (type === "version") {
    // Versions are weak ETags W/"n" over the stored counter.
    const m = /^(?:W\/)?"?(\d+)"?$/.exec(value);
    if (!m || (op !== "eq" && op !== "ne")) throw new FilterRefused(`'${shown}' is compared with eq or ne and a version such as W/"3"`);
    return { field, op, value: Number(m[1]) };
  }
  if (type === "dateTime") {
    if (op === "co" || op === "sw" || op === "ew") throw new FilterRefused(`'${shown}' is a date-time: use eq, ne, gt, ge, lt or le`);
    const t = Date.parse(value);
    if (!Number.isFinite(t) || !/^\d{4}-\d{2}-\d{2}/.test(value)) throw new FilterRefused(`'${value}' is not an ISO 8601 date-time (e.g. 2021-09-23T19:35:41Z)`);
    return instantComparison(field, op, t, value);
  }
  return { field, op, value };
}

/**
 * A date-time compared with stored stamps, which hold milliseconds. A value finer than that (Microsoft's validator
 * sends seven fractional digits) lies strictly between two stamps: lt/le become le and gt/ge become gt on the
 * millisecond it falls in, and eq/ne compare with the full value, which no stamp equals.
 */
function instantComparison<F>(field: F, op: FilterOp, ms: number, written: string): { field: F; op: FilterOp; value: string } {
  const iso = new Date(ms).toISOString();
  const beyond = /T\d{2}:\d{2}:\d{2}\.\d{3}(\d+)/.exec(written)?.[1] ?? "";
  if (!/[1-9]/.test(beyond)) return { field, op, value: iso };
  if (op === "lt" || op === "le") return { field, op: "le", value: iso };
  if (op === "gt" || op === "ge") return { field, op: "gt", value: iso };
  return { field, op, value: iso.replace(/Z$/, `${beyond}Z`) };
}

/** `meta.resourceType` of a list of one resource type: always true or always false. */
export function resourceTypeTest(test: Test, resourceType: string, shown: string): { and: [] } | { or: [] } {
  if (test.op === "pr") return { and: [] };
  if (typeof test.value !== "string" || (test.op !== "eq" && test.op !== "ne")) throw new FilterRefused(`'${shown}' is compared with eq or ne`);
  return (test.value.toLowerCase() === resourceType.toLowerCase()) === (test.op === "eq") ? { and: [] } : { or: [] };
}

/** Runs a translation; a syntax error or a refusal becomes the SCIM 400 `scimType` names. */
export function asScimError<T>(scimType: "invalidFilter" | "invalidValue", prefix: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof FilterSyntaxError || err instanceof FilterRefused) throw new SCIMMY.Types.Error(400, scimType, `${prefix}: ${err.message}`);
    throw err;
  }
}
