// A parsed SCIM filter (filter-parser.ts) on Users → the store's neutral filter tree. Attribute names are matched
// without case against the User schema and its extensions (SCIMMY's definitions), values are checked against the
// attribute's type, and case-exactness comes from the schema, so the store only sees fields it knows.
import { SCIMMY } from "scimmy-routers";
import type { UserFilterField, UserFilterNode, UserSort } from "../provisioning/queries";
import { parseAttrPath, parseFilter, type AttrPath, type FilterAst } from "./filter-parser";
import { asScimError, comparison, FilterRefused, mapLogic, resourceTypeTest, testOf, type Test, type ValueType } from "./filter-terms";

const CORE = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

interface SchemaAttribute {
  name: string;
  type: string;
  config: { multiValued?: boolean; caseExact?: boolean };
  subAttributes?: SchemaAttribute[];
}

function attributesOf(schema: { definition: { attributes: SchemaAttribute[] } }): SchemaAttribute[] {
  return schema.definition.attributes;
}

const find = (list: SchemaAttribute[] | undefined, name: string) => list?.find((a) => a.name.toLowerCase() === name.toLowerCase());

function valueType(a: SchemaAttribute): Exclude<ValueType, "version"> | null {
  switch (a.type) {
    case "string":
    case "reference":
    case "binary":
      return "string";
    case "boolean":
      return "boolean";
    case "decimal":
    case "integer":
      return "number";
    case "dateTime":
      return "dateTime";
    default:
      return null;
  }
}

/** The store field (and how to wrap it) for a path outside a value path. */
function resolveTop(path: AttrPath, test: Test): UserFilterNode {
  const shown = `${path.urn ? `${path.urn}:` : ""}${path.attr}${path.sub ? `.${path.sub}` : ""}`;
  const urn = path.urn?.toLowerCase();
  if (urn && urn !== CORE.toLowerCase() && urn !== ENTERPRISE.toLowerCase()) {
    throw new FilterRefused(`'${path.urn}' is not a schema whose attributes can be filtered (User and the enterprise extension can)`);
  }
  if (urn === ENTERPRISE.toLowerCase()) {
    const a = find(attributesOf(SCIMMY.Schemas.EnterpriseUser), path.attr);
    if (!a || ["schemas", "id", "externalId", "meta"].includes(a.name)) throw new FilterRefused(`'${shown}' is not an attribute of the enterprise extension`);
    return singular([ENTERPRISE], a, path.sub, test, shown);
  }
  const a = find(attributesOf(SCIMMY.Schemas.User), path.attr);
  if (!a) throw new FilterRefused(`'${shown}' is not a User attribute`);
  switch (a.name) {
    case "id":
    case "userName":
    case "externalId":
    case "active":
      if (path.sub) throw new FilterRefused(`'${shown}': ${a.name} has no sub-attributes`);
      return comparison<UserFilterField>({ kind: a.name }, a.name === "active" ? "boolean" : "string", test, shown);
    case "meta":
      return meta(path.sub, test, shown);
    case "emails":
      return { anyEmail: emailTest(path.sub ?? "value", test, shown) };
    case "groups":
      throw new FilterRefused(`'${shown}': filter memberships on Groups instead (GET /Groups?filter=members[value eq "…"])`);
    case "password":
    case "schemas":
      throw new FilterRefused(`'${shown}' cannot be filtered`);
  }
  if (a.config.multiValued) return { anyElement: { attr: a.name, where: elementTest(a, path.sub ?? "value", test, shown) } };
  return singular([], a, path.sub, test, shown);
}

/** A singular attribute of the stored resource (under `prefix`, an extension's URN key), or one of its sub-attributes. */
function singular(prefix: string[], a: SchemaAttribute, sub: string | undefined, test: Test, shown: string): UserFilterNode {
  let target = a;
  const path = [...prefix, a.name];
  if (a.type === "complex") {
    // A complex attribute without a sub-attribute means its `value` (RFC 7644 §3.10), or, for pr, the whole object.
    const s = find(a.subAttributes, sub ?? "value");
    if (!s) {
      if (!sub && test.op === "pr") return { field: { kind: "json", path, type: "string", caseExact: true }, op: "pr" };
      throw new FilterRefused(`'${shown}' needs a sub-attribute of ${a.name} (${(a.subAttributes ?? []).map((x) => x.name).join(", ")})`);
    }
    target = s;
    path.push(s.name);
  } else if (sub) {
    throw new FilterRefused(`'${shown}': ${a.name} has no sub-attributes`);
  }
  const type = valueType(target);
  if (!type) throw new FilterRefused(`'${shown}' cannot be compared`);
  return comparison<UserFilterField>({ kind: "json", path, type, caseExact: !!target.config.caseExact }, type, test, shown);
}

function meta(sub: string | undefined, test: Test, shown: string): UserFilterNode {
  switch (sub?.toLowerCase()) {
    case "created":
      return comparison<UserFilterField>({ kind: "created" }, "dateTime", test, shown);
    case "lastmodified":
      return comparison<UserFilterField>({ kind: "lastModified" }, "dateTime", test, shown);
    case "version":
      return comparison<UserFilterField>({ kind: "version" }, "version", test, shown);
    case "resourcetype":
      return resourceTypeTest(test, "User", shown);
    default:
      throw new FilterRefused(`'${shown}' is not filterable (meta.created, meta.lastModified, meta.version and meta.resourceType are)`);
  }
}

const EMAIL_COLUMNS: Record<string, "value" | "type" | "primary"> = { value: "value", type: "type", primary: "primary" };

/** A test on one stored email (email columns), or, for other sub-attributes, on the resource's emails elements. */
function emailTest(sub: string, test: Test, shown: string): UserFilterNode {
  const emails = find(attributesOf(SCIMMY.Schemas.User), "emails")!;
  const s = find(emails.subAttributes, sub);
  if (!s) throw new FilterRefused(`'${shown}': emails has no sub-attribute '${sub}'`);
  const column = EMAIL_COLUMNS[s.name];
  if (!column) throw new FilterRefused(`'${shown}': emails can be filtered by value, type and primary`);
  return comparison<UserFilterField>({ kind: "email", column }, column === "primary" ? "boolean" : "string", test, shown);
}

function elementTest(a: SchemaAttribute, sub: string, test: Test, shown: string): UserFilterNode {
  const s = find(a.subAttributes, sub);
  if (!s) throw new FilterRefused(`'${shown}': ${a.name} has no sub-attribute '${sub}'`);
  const type = valueType(s);
  if (!type) throw new FilterRefused(`'${shown}' cannot be compared`);
  return comparison<UserFilterField>({ kind: "jsonItem", sub: s.name, type, caseExact: !!s.config.caseExact }, type, test, shown);
}

/** Inside `attr[…]`: sub-attribute paths only, tested against one element. */
function inner(ast: FilterAst, leafOf: (sub: string, test: Test, shown: string) => UserFilterNode, owner: string): UserFilterNode {
  return mapLogic<UserFilterNode>(ast, (t) => {
    if (t.kind === "valuePath") throw new FilterRefused(`value filters do not nest (inside ${owner}[…])`);
    if (t.path.urn || t.path.sub) throw new FilterRefused(`inside ${owner}[…] name a sub-attribute of ${owner} alone (e.g. type, value)`);
    return leafOf(t.path.attr, testOf(t), `${owner}.${t.path.attr}`);
  });
}

function valuePath(ast: Extract<FilterAst, { kind: "valuePath" }>): UserFilterNode {
  const { path } = ast;
  const shown = `${path.urn ? `${path.urn}:` : ""}${path.attr}`;
  if (path.sub) throw new FilterRefused(`'${shown}.${path.sub}[…]': a value filter follows the multi-valued attribute itself`);
  if (path.urn && path.urn.toLowerCase() !== CORE.toLowerCase()) throw new FilterRefused(`'${shown}[…]': only User's multi-valued attributes take value filters`);
  const a = find(attributesOf(SCIMMY.Schemas.User), path.attr);
  if (!a || !a.config.multiValued || a.type !== "complex") throw new FilterRefused(`'${shown}[…]': a value filter needs a multi-valued User attribute (emails, phoneNumbers, …)`);
  if (a.name === "groups") throw new FilterRefused(`'groups[…]': filter memberships on Groups instead (GET /Groups?filter=members[value eq "…"])`);
  const then = ast.then;
  if (a.name === "emails") {
    const where = inner(ast.filter, emailTest, "emails");
    const also = then ? emailTest(then.sub, then.test, `emails[…].${then.sub}`) : null;
    return { anyEmail: also ? { and: [where, also] } : where };
  }
  const leafOf = (sub: string, test: Test, s: string) => elementTest(a, sub, test, s);
  const where = inner(ast.filter, leafOf, a.name);
  const also = then ? elementTest(a, then.sub, then.test, `${a.name}[…].${then.sub}`) : null;
  return { anyElement: { attr: a.name, where: also ? { and: [where, also] } : where } };
}

function translate(ast: FilterAst): UserFilterNode {
  return mapLogic<UserFilterNode>(ast, (t) => (t.kind === "valuePath" ? valuePath(t) : resolveTop(t.path, testOf(t))));
}

/**
 * The store filter for a SCIM User filter expression. Throws a SCIM 400 invalidFilter naming what is wrong
 * (syntax, an unknown attribute, an operator the attribute's type does not take).
 */
export function userFilterFromExpression(expression: string): UserFilterNode {
  return asScimError("invalidFilter", "Invalid filter", () => translate(parseFilter(expression)));
}

/**
 * The store order for a list's `sortBy`/`sortOrder` (RFC 7644 §3.4.2.3): any singular User or enterprise attribute,
 * ascending unless `descending`; users without the attribute come last. undefined without sortBy (creation order).
 * Throws a SCIM 400 invalidValue for a multi-valued, unknown or unsortable attribute or a bad sortOrder.
 */
export function userSortFromConstraints(constraints: { sortBy?: unknown; sortOrder?: unknown } | undefined): UserSort | undefined {
  const { sortBy, sortOrder } = constraints ?? {};
  if (sortOrder !== undefined && sortOrder !== "ascending" && sortOrder !== "descending") {
    throw new SCIMMY.Types.Error(400, "invalidValue", `sortOrder must be ascending or descending, not '${String(sortOrder)}'`);
  }
  if (sortBy === undefined || sortBy === "") return undefined;
  return asScimError("invalidValue", "Invalid sortBy", () => {
    const node = resolveTop(parseAttrPath(String(sortBy)), { op: "pr" });
    if (!("field" in node) || node.field.kind === "email" || node.field.kind === "jsonItem") {
      throw new FilterRefused(`'${String(sortBy)}' is multi-valued or not a stored value: sortBy takes a singular attribute`);
    }
    return { field: node.field, descending: sortOrder === "descending" };
  });
}
