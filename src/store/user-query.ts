// Translates the neutral UserQuery (OR of AND-groups) into a kysely WHERE expression.
// Every value is a bound parameter; only column names are fixed in code.
import { Expression, ExpressionBuilder, SqlBool, sql } from "kysely";
import type { Codec, Database, Dialect } from "./db";
import { userNameKey } from "../user-name";
import type { UserCondition, UserFilterField, UserFilterNode, UserQuery, UserSort } from "./types";

type UsersEb = ExpressionBuilder<Database, "scim_users">;

/** "all": no WHERE needed; "none": nothing can match; otherwise a filter to apply. */
export type UserFilter = "all" | "none" | ((eb: UsersEb) => Expression<SqlBool>);

export function userFilter(query: UserQuery | undefined, codec: Codec, dialect: Dialect = "sqlite"): UserFilter {
  if (query === undefined) return "all";
  if ("where" in query) {
    const d = new SqlDialect(dialect, codec);
    return () => sql<SqlBool>`${raw(query.where, d, null)}`;
  }
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
      return eb("scim_users.user_name_lower", "=", userNameKey(c.value));
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

// --- The whole filter grammar (UserQuery.where) ------------------------------------------------------------------
//
// Every leaf is a boolean that is never NULL (a missing attribute is false, not unknown), so `not` inverts exactly:
// `not (title eq "x")` matches users without a title too. Values are bound parameters; JSON paths are parameters
// too, only the SQL shape is fixed here. Indexed columns (user_name_lower, external_id, id, last_modified, created,
// emails' value_lower) are compared directly so their indexes serve `eq`, `sw` and ranges; attributes only the
// stored resource holds are read with json_extract / #>>, which costs a scan of the users (bounded by the store's
// size, never by DigiCert).

type Value = string | number | boolean | null | undefined;
export type Raw = ReturnType<typeof sql>;

export class SqlDialect {
  constructor(
    readonly name: Dialect,
    readonly codec: Codec,
  ) {}

  /** SQLite's LIKE folds ASCII case and has no portable escape here, so text tests are spelled out. */
  contains(col: Raw, v: string): Raw {
    return this.name === "postgres" ? sql`strpos(${col}, ${v}) > 0` : sql`instr(${col}, ${v}) > 0`;
  }
  /**
   * Lower-cased as JavaScript lower-cases the filter value. SQLite's own lower() folds only A-Z ("Ärger" would miss
   * "ärger"), so the SQLite connection has scim_lower (src/store/index.ts) for it.
   */
  lower(col: Raw): Raw {
    return this.name === "postgres" ? sql`lower(${col})` : sql`scim_lower(${col})`;
  }
  // Lengths in characters (code points), as SQL's substr/left/right count them, not JS's UTF-16 units.
  startsWith(col: Raw, v: string): Raw {
    const n = [...v].length;
    return this.name === "postgres" ? sql`left(${col}, ${n}) = ${v}` : sql`substr(${col}, 1, ${n}) = ${v}`;
  }
  endsWith(col: Raw, v: string): Raw {
    if (v === "") return sql`${col} is not null`;
    const n = [...v].length;
    return this.name === "postgres" ? sql`right(${col}, ${n}) = ${v}` : sql`substr(${col}, ${-n}) = ${v}`;
  }
  /** The text at `path` in a JSON document expression (null when absent or not a scalar). */
  jsonText(doc: Raw, path: string[]): Raw {
    if (this.name === "postgres") return sql`(${doc} #>> ${sql.val(path)}::text[])`;
    return sql`json_extract(${doc}, ${sqlitePath(path)})`;
  }
  /** A JSON boolean at `path` compared with `v`. */
  jsonBool(doc: Raw, path: string[], v: boolean): Raw {
    if (this.name === "postgres") return sql`coalesce((${doc} #> ${sql.val(path)}::text[]) = ${v ? sql`'true'::jsonb` : sql`'false'::jsonb`}, false)`;
    return sql`coalesce(json_type(${doc}, ${sqlitePath(path)}) = ${v ? "true" : "false"}, 0)`;
  }
  /** The elements of the array at `attr` of the stored resource, as rows `j(value)`. */
  elements(attr: string): Raw {
    if (this.name === "postgres") {
      return sql`jsonb_array_elements(case when jsonb_typeof(scim_users.resource -> ${attr}) = 'array' then scim_users.resource -> ${attr} else '[]'::jsonb end) as j(value)`;
    }
    return sql`json_each(scim_users.resource, ${sqlitePath([attr])}) as j`;
  }
  truth(b: boolean): Raw {
    return b ? sql`1 = 1` : sql`1 = 0`;
  }
}

function sqlitePath(path: string[]): string {
  return `$${path.map((p) => `."${p.replace(/"/g, '""')}"`).join("")}`;
}

/** and/or/not of a filter tree (users' or groups'); every other node is `term`'s. */
export function logic<N extends object>(node: N, d: SqlDialect, term: (n: N) => Raw): Raw {
  const walk = (n: N): Raw => {
    if ("and" in n) return (n.and as N[]).length ? sql`(${sql.join((n.and as N[]).map(walk), sql` and `)})` : d.truth(true);
    if ("or" in n) return (n.or as N[]).length ? sql`(${sql.join((n.or as N[]).map(walk), sql` or `)})` : d.truth(false);
    if ("not" in n) return sql`(not ${walk(n.not as N)})`;
    return term(n);
  };
  return walk(node);
}

/** `item`: inside anyElement/anyEmail, the SQL of the element (jsonItem) or null (email columns use e.*). */
function raw(node: UserFilterNode, d: SqlDialect, item: Raw | null): Raw {
  return logic(node, d, (n) => term(n, d, item));
}

function term(node: UserFilterNode, d: SqlDialect, item: Raw | null): Raw {
  if ("and" in node || "or" in node || "not" in node) return raw(node, d, item);
  if ("anyEmail" in node) {
    // An uncorrelated IN, not EXISTS: SQLite then seeks the email index once instead of probing it per user (a scan).
    return sql`scim_users.id in (select e.user_id from scim_user_emails e where ${raw(node.anyEmail, d, item)})`;
  }
  if ("anyElement" in node) {
    return sql`exists (select 1 from ${d.elements(node.anyElement.attr)} where ${raw(node.anyElement.where, d, sql`j.value`)})`;
  }
  return leaf(node.field, node.op, node.value, d, item);
}

/** The scim_users column of a field stored as one (userName as its key, src/user-name.ts). */
const USER_COLUMNS = {
  id: sql`scim_users.id`,
  userName: sql`scim_users.user_name_lower`,
  externalId: sql`scim_users.external_id`,
  created: sql`scim_users.created`,
  lastModified: sql`scim_users.last_modified`,
  version: sql`scim_users.version`,
  active: sql`scim_users.active`,
} as const;

function leaf(field: UserFilterField, op: string, value: Value, d: SqlDialect, item: Raw | null): Raw {
  switch (field.kind) {
    case "id":
    case "externalId":
    case "created":
    case "lastModified":
      return text(USER_COLUMNS[field.kind], op, value, d, true);
    case "userName":
      return text(USER_COLUMNS.userName, op, value, d, false, true, userNameKey);
    case "version":
      return numeric(USER_COLUMNS.version, op, value, d);
    case "active":
      return bool(USER_COLUMNS.active, op, value, d, (v) => sql`scim_users.active = ${d.codec.bool(v) as number | boolean}`);
    case "email": {
      if (field.column === "primary") return bool(sql`e.is_primary`, op, value, d, (v) => sql`e.is_primary = ${d.codec.bool(v) as number | boolean}`);
      return text(field.column === "value" ? sql`e.value_lower` : sql`e.type_lower`, op, value, d, false, true);
    }
    case "json":
    case "jsonItem": {
      const doc = field.kind === "json" ? sql`scim_users.resource` : item!;
      const path = field.kind === "json" ? field.path : field.sub ? [field.sub] : null;
      if (field.type === "boolean") {
        if (!path) return bool(doc, op, value, d, (v) => (d.name === "postgres" ? sql`${doc} = ${v ? sql`'true'::jsonb` : sql`'false'::jsonb`}` : sql`${doc} = ${v ? 1 : 0}`));
        return bool(d.jsonText(doc, path), op, value, d, (v) => d.jsonBool(doc, path, v));
      }
      // A JSON array element that is itself a scalar (rare) is compared as text.
      const col = path ? d.jsonText(doc, path) : d.name === "postgres" ? sql`(${doc} #>> '{}')` : sql`${doc}`;
      if (field.type === "number") return numeric(d.name === "postgres" ? sql`(${col})::numeric` : col, op, value, d);
      return text(col, op, value, d, field.caseExact || field.type === "dateTime");
    }
  }
}

/**
 * `lowered`: the column already holds lower-cased text (user_name_lower, value_lower): fold the value only, with
 * `fold` (userNameKey for user_name_lower, which holds the userName's key).
 */
export function text(col: Raw, op: string, value: Value, d: SqlDialect, caseExact: boolean, lowered = false, fold = (v: string) => v.toLowerCase()): Raw {
  if (op === "pr") return sql`(${col} is not null and ${col} <> '')`;
  if (value === null) return op === "eq" ? sql`(${col} is null)` : op === "ne" ? sql`(${col} is not null)` : d.truth(false);
  const v = String(value);
  const c = caseExact || lowered ? col : d.lower(col);
  const w = caseExact ? v : fold(v);
  const present = (test: Raw) => sql`(${col} is not null and ${test})`;
  switch (op) {
    case "eq":
      return present(sql`${c} = ${w}`);
    case "ne":
      return sql`(${col} is null or ${c} <> ${w})`;
    case "co":
      return present(d.contains(c, w));
    case "sw":
      return present(d.startsWith(c, w));
    case "ew":
      return present(d.endsWith(c, w));
    case "gt":
      return present(sql`${c} > ${w}`);
    case "ge":
      return present(sql`${c} >= ${w}`);
    case "lt":
      return present(sql`${c} < ${w}`);
    case "le":
      return present(sql`${c} <= ${w}`);
  }
  throw new Error(`unsupported operator ${op}`);
}

export function numeric(col: Raw, op: string, value: Value, d: SqlDialect): Raw {
  if (op === "pr") return sql`(${col} is not null)`;
  if (typeof value !== "number") return d.truth(false);
  const sym = { eq: "=", ne: "<>", gt: ">", ge: ">=", lt: "<", le: "<=" }[op as "eq"];
  if (!sym) return d.truth(false);
  const test = sql`${col} ${sql.raw(sym)} ${value}`;
  return op === "ne" ? sql`(${col} is null or ${test})` : sql`(${col} is not null and ${test})`;
}

function bool(col: Raw, op: string, value: Value, d: SqlDialect, is: (v: boolean) => Raw): Raw {
  if (op === "pr") return sql`(${col} is not null)`;
  if (typeof value !== "boolean") return d.truth(false);
  if (op === "eq") return sql`coalesce(${is(value)}, false)`;
  return sql`(not coalesce(${is(value)}, false))`;
}

/** ORDER BY terms for a sort: missing values last in both directions, then the key, then id for stable pages. */
export function userOrder(sort: UserSort, codec: Codec, dialect: Dialect): Raw[] {
  const d = new SqlDialect(dialect, codec);
  const f = sort.field;
  let key: Raw;
  switch (f.kind) {
    case "id":
    case "userName":
    case "externalId":
    case "created":
    case "lastModified":
    case "version":
    case "active":
      key = USER_COLUMNS[f.kind];
      break;
    case "json": {
      const text = d.jsonText(sql`scim_users.resource`, f.path);
      key = f.type === "number" && dialect === "postgres" ? sql`(${text})::numeric` : f.caseExact || f.type !== "string" ? text : sql`lower(${text})`;
      break;
    }
    default:
      throw new Error(`cannot sort by ${f.kind}`);
  }
  const dir = sort.descending ? sql`desc` : sql`asc`;
  return [sql`(case when ${key} is null then 1 else 0 end) asc`, sql`${key} ${dir}`, sql`scim_users.id ${dir}`];
}
