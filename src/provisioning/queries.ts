// The neutral queries the domain asks of the store: conditions, filter trees (from SCIM filters), sorting, paging.
// src/store translates them to SQL.

export type UserCondition =
  | { attr: "id"; value: string }
  | { attr: "userName"; value: string } // case-insensitive
  | { attr: "externalId"; value: string } // case-exact
  | { attr: "email"; value: string; type?: string } // value and type case-insensitive
  | { attr: "active"; value: boolean };

/**
 * OR of AND-groups: `anyOf: [[a, b], [c]]` means (a AND b) OR c. Or, for the whole filter grammar, `where`: a
 * tree of comparisons on the store's own fields (translated from SCIM by src/scim/user-filter.ts).
 */
export type UserQuery = { anyOf: UserCondition[][] } | { where: UserFilterNode };

export type FilterOp = "eq" | "ne" | "co" | "sw" | "ew" | "gt" | "ge" | "lt" | "le" | "pr";

/**
 * A field a user filter may compare. Columns are indexed; `json` reads the stored SCIM resource (a singular
 * attribute at `path`), `email` a column of the user's stored emails, `jsonItem` a sub-attribute of one element of
 * a multi-valued attribute of the resource (only inside `anyElement`).
 */
export type UserFilterField =
  | { kind: "id" | "userName" | "externalId" | "active" | "created" | "lastModified" | "version" }
  | { kind: "json"; path: string[]; type: "string" | "boolean" | "number" | "dateTime"; caseExact: boolean }
  | { kind: "email"; column: "value" | "type" | "primary" }
  | { kind: "jsonItem"; sub: string | null; type: "string" | "boolean" | "number" | "dateTime"; caseExact: boolean };

export type UserFilterNode =
  | { and: UserFilterNode[] }
  | { or: UserFilterNode[] }
  | { not: UserFilterNode }
  | { field: UserFilterField; op: FilterOp; value?: string | number | boolean | null }
  /** Some stored email matches `where` (whose fields are `email` ones): one email must satisfy all of it. */
  | { anyEmail: UserFilterNode }
  /** Some element of the multi-valued resource attribute `attr` matches `where` (fields `jsonItem`). */
  | { anyElement: { attr: string; where: UserFilterNode } };

/** A list's order: by a singular field, users without it last, ties broken by id (stable paging). */
export interface UserSort {
  field: UserFilterField;
  descending: boolean;
}

/** A group list's order (ties broken by id); displayName sorts without case. */
export interface GroupSort {
  by: "displayName" | "externalId" | "id" | "created" | "lastModified";
  descending: boolean;
}

export interface Page {
  /** 0-based. */
  offset: number;
  /** 0 is allowed: only the total is wanted. */
  limit: number;
}

export type GroupCondition =
  | { attr: "id"; value: string }
  | { attr: "displayName"; value: string } // case-insensitive
  | { attr: "externalId"; value: string } // case-exact
  | { attr: "member"; value: string }; // the group has this user id as a member

/** OR of AND-groups, or, for the whole filter grammar, `where`: a tree over the group's own fields. */
export type GroupQuery = { anyOf: GroupCondition[][] } | { where: GroupFilterNode };

export type GroupFilterField = { kind: "id" | "displayName" | "externalId" | "created" | "lastModified" | "version" } | { kind: "memberValue" };

export type GroupFilterNode =
  | { and: GroupFilterNode[] }
  | { or: GroupFilterNode[] }
  | { not: GroupFilterNode }
  | { field: GroupFilterField; op: FilterOp; value?: string | number | boolean | null }
  /** Some member of the group matches `where` (fields `memberValue`: the member's user id). */
  | { anyMember: GroupFilterNode };
