// Maps driver-specific unique violations on the userName index to StoreConflictError, for both dialects.
import { StoreConflictError } from "./types";

/** Name of the unique constraint on scim_users.user_name_lower (see migrations/0001-initial.ts). */
export const USER_NAME_UNIQUE = "scim_users_user_name_lower_key";

export function isUserNameViolation(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const e = error as { code?: unknown; constraint?: unknown; message?: unknown };
  const message = typeof e.message === "string" ? e.message : "";
  // better-sqlite3: "UNIQUE constraint failed: scim_users.user_name_lower"
  if (e.code === "SQLITE_CONSTRAINT_UNIQUE") return message.includes("user_name_lower");
  // pg: SQLSTATE 23505 unique_violation, with the constraint name.
  if (e.code === "23505") return e.constraint === USER_NAME_UNIQUE || message.includes(USER_NAME_UNIQUE);
  return false;
}

/** Rethrows `error`, as StoreConflictError when it is a userName clash. */
export function rethrowMapped(error: unknown): never {
  if (isUserNameViolation(error)) throw new StoreConflictError("userName");
  throw error;
}
