// A parsed SCIM filter (filter-parser.ts) on Groups → the store's group filter tree: displayName (without case),
// externalId and id (exact), meta dates and version, and members by user id (members[value eq "…"],
// members.value, members eq), with every operator, grouping and not.
import type { GroupFilterField, GroupFilterNode } from "../provisioning/queries";
import { parseFilter, type AttrPath, type FilterAst } from "./filter-parser";
import { asScimError, comparison, FilterRefused, mapLogic, resourceTypeTest, testOf, type Test } from "./filter-terms";

const CORE = "urn:ietf:params:scim:schemas:core:2.0:group";

function shownOf(p: AttrPath): string {
  return `${p.urn ? `${p.urn}:` : ""}${p.attr}${p.sub ? `.${p.sub}` : ""}`;
}

function memberTest(sub: string, test: Test, shown: string): GroupFilterNode {
  if (sub.toLowerCase() !== "value") throw new FilterRefused(`'${shown}': members are filtered by value (the member's id)`);
  return comparison<GroupFilterField>({ kind: "memberValue" }, "string", test, shown);
}

function leaf(path: AttrPath, test: Test): GroupFilterNode {
  const shown = shownOf(path);
  if (path.urn && path.urn.toLowerCase() !== CORE) throw new FilterRefused(`'${path.urn}' is not the Group schema`);
  const attr = path.attr.toLowerCase();
  if (attr === "members") return { anyMember: memberTest(path.sub ?? "value", test, shown) };
  if (attr === "meta") {
    switch (path.sub?.toLowerCase()) {
      case "created":
        return comparison<GroupFilterField>({ kind: "created" }, "dateTime", test, shown);
      case "lastmodified":
        return comparison<GroupFilterField>({ kind: "lastModified" }, "dateTime", test, shown);
      case "version":
        return comparison<GroupFilterField>({ kind: "version" }, "version", test, shown);
      case "resourcetype":
        return resourceTypeTest(test, "Group", shown);
      default:
        throw new FilterRefused(`'${shown}' is not filterable (meta.created, meta.lastModified, meta.version and meta.resourceType are)`);
    }
  }
  if (path.sub) throw new FilterRefused(`'${shown}': ${path.attr} has no sub-attributes`);
  const kind = attr === "displayname" ? "displayName" : attr === "externalid" ? "externalId" : attr === "id" ? "id" : null;
  if (!kind) throw new FilterRefused(`'${shown}' is not a Group attribute that can be filtered (displayName, externalId, id, members, meta.*)`);
  return comparison<GroupFilterField>({ kind }, "string", test, shown);
}

function inMembers(ast: FilterAst): GroupFilterNode {
  return mapLogic<GroupFilterNode>(ast, (t) => {
    if (t.kind === "valuePath") throw new FilterRefused("value filters do not nest (inside members[…])");
    if (t.path.urn || t.path.sub) throw new FilterRefused("inside members[…] name a sub-attribute of members alone (value)");
    return memberTest(t.path.attr, testOf(t), `members.${t.path.attr}`);
  });
}

function translate(ast: FilterAst): GroupFilterNode {
  return mapLogic<GroupFilterNode>(ast, (t) => {
    if (t.kind !== "valuePath") return leaf(t.path, testOf(t));
    if (t.path.attr.toLowerCase() !== "members" || t.path.sub) throw new FilterRefused(`'${shownOf(t.path)}[…]': Groups take a value filter on members only`);
    const where = inMembers(t.filter);
    const also = t.then ? memberTest(t.then.sub, t.then.test, `members[…].${t.then.sub}`) : null;
    return { anyMember: also ? { and: [where, also] } : where };
  });
}

/** The store filter for a SCIM Group filter expression; a SCIM 400 invalidFilter naming what is wrong otherwise. */
export function groupFilterFromExpression(expression: string): GroupFilterNode {
  return asScimError("invalidFilter", "Invalid filter", () => translate(parseFilter(expression)));
}
