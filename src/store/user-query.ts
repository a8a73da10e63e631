// Translates the neutral UserQuery (OR of AND-groups) into a kysely WHERE expression.
// Every value is a bound parameter; only column names are fixed in code.
import { Expression, ExpressionBuilder, SqlBool, sql } from "kysely";
import type { Codec, Database } from "./db";
import type { UserCondition, UserQuery } from "./types";

type UsersEb = ExpressionBuilder<Database, "scim_users">;

/** "all": no WHERE needed; "none": nothing can match; otherwise a filter to apply. */
export type UserFilter = "all" | "none" | ((eb: UsersEb) => Expression<SqlBool>);

export function userFilter(query: UserQuery | undefined, codec: Codec): UserFilter {
  if (query === undefined) return "all";
  // An empty OR is false; an empty AND-group is true, so one such group makes the whole OR true.
  if (query.anyOf.length === 0) return "none";
  if (query.anyOf.some((group) => group.length === 0)) return "all";
  return (eb) => eb.or(query.anyOf.map((group) => eb.and(group.map((c) => condition(eb, c, codec)))));
}

function condition(eb: UsersEb, c: UserCondition, codec: Codec): Expression<SqlBool> {
  switch (c.attr) {
    case "id":
      return eb("scim_users.id", "=", c.value);
    case "userName":
      return eb("scim_users.user_name_lower", "=", c.value.toLowerCase());
    case "externalId":
      return eb("scim_users.external_id", "=", c.value);
    case "active":
      return eb("scim_users.active", "=", codec.bool(c.value));
    case "email": {
      let sub = eb
        .selectFrom("scim_user_emails")
        .select(sql<number>`1`.as("one"))
        .whereRef("scim_user_emails.user_id", "=", "scim_users.id")
        .where("scim_user_emails.value_lower", "=", c.value.toLowerCase());
      if (c.type !== undefined) sub = sub.where("scim_user_emails.type_lower", "=", c.type.toLowerCase());
      return eb.exists(sub);
    }
    default: {
      const unknown: never = c;
      throw new Error(`unsupported user condition: ${JSON.stringify(unknown)}`);
    }
  }
}
