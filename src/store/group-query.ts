// Translates the neutral GroupQuery (OR of AND-groups) into a kysely WHERE expression.
// Every value is a bound parameter; only column names are fixed in code.
import { Expression, ExpressionBuilder, SqlBool, sql } from "kysely";
import type { Database } from "./db";
import type { GroupCondition, GroupQuery } from "./types";

type GroupsEb = ExpressionBuilder<Database, "scim_groups">;

/** "all": no WHERE needed; "none": nothing can match; otherwise a filter to apply. */
export type GroupFilter = "all" | "none" | ((eb: GroupsEb) => Expression<SqlBool>);

export function groupFilter(query: GroupQuery | undefined): GroupFilter {
  if (query === undefined) return "all";
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
