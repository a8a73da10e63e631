// Translates the neutral GroupQuery (OR of AND-groups) into a kysely WHERE expression.
// Every value is a bound parameter; only column names are fixed in code.
import { Expression, ExpressionBuilder, SqlBool, sql } from "kysely";
import type { Codec, Database, Dialect } from "./db";
import type { GroupCondition, GroupFilterNode, GroupQuery } from "./types";
import { logic, numeric, type Raw, SqlDialect, text } from "./user-query";

type GroupsEb = ExpressionBuilder<Database, "scim_groups">;

/** "all": no WHERE needed; "none": nothing can match; otherwise a filter to apply. */
export type GroupFilter = "all" | "none" | ((eb: GroupsEb) => Expression<SqlBool>);

export function groupFilter(query: GroupQuery | undefined, codec?: Codec, dialect: Dialect = "sqlite"): GroupFilter {
  if (query === undefined) return "all";
  if ("where" in query) {
    const d = new SqlDialect(dialect, codec!);
    return () => sql<SqlBool>`${groupRaw(query.where, d)}`;
  }
  // An empty OR is false; an empty AND-group is true, so one such group makes the whole OR true.
  if (query.anyOf.length === 0) return "none";
  if (query.anyOf.some((group) => group.length === 0)) return "all";
  return (eb) => eb.or(query.anyOf.map((group) => eb.and(group.map((c) => condition(eb, c)))));
}

function condition(eb: GroupsEb, c: GroupCondition): Expression<SqlBool> {
  switch (c.attr) {
    case "id":
      return eb("scim_groups.id", "=", c.value);
    case "displayName":
      return eb("scim_groups.display_name_lower", "=", c.value.toLowerCase());
    case "externalId":
      return eb("scim_groups.external_id", "=", c.value);
    case "member":
      // One primary-key probe per candidate group: (group_id, user_id).
      return eb.exists(
        eb
          .selectFrom("scim_group_members")
          .select(sql<number>`1`.as("one"))
          .whereRef("scim_group_members.group_id", "=", "scim_groups.id")
          .where("scim_group_members.user_id", "=", c.value),
      );
    default: {
      const unknown: never = c;
      throw new Error(`unsupported group condition: ${JSON.stringify(unknown)}`);
    }
  }
}

/** Like the users' tree (user-query.ts): NULL-safe leaves, so `not` inverts exactly. */
function groupRaw(node: GroupFilterNode, d: SqlDialect): Raw {
  return logic(node, d, (n) => groupTerm(n, d));
}

function groupTerm(node: GroupFilterNode, d: SqlDialect): Raw {
  if ("and" in node || "or" in node || "not" in node) return groupRaw(node, d);
  if ("anyMember" in node) {
    return sql`exists (select 1 from scim_group_members m where m.group_id = scim_groups.id and ${groupRaw(node.anyMember, d)})`;
  }
  const { field, op, value } = node;
  switch (field.kind) {
    case "id":
      return text(sql`scim_groups.id`, op, value, d, true);
    case "displayName":
      return text(sql`scim_groups.display_name_lower`, op, value, d, false, true);
    case "externalId":
      return text(sql`scim_groups.external_id`, op, value, d, true);
    case "created":
      return text(sql`scim_groups.created`, op, value, d, true);
    case "lastModified":
      return text(sql`scim_groups.last_modified`, op, value, d, true);
    case "version":
      return numeric(sql`scim_groups.version`, op, value, d);
    case "memberValue":
      return text(sql`m.user_id`, op, value, d, true);
  }
}
