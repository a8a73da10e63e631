// Maps driver-specific unique violations on the userName and displayName indexes to StoreConflictError, for both
// dialects.
import { StoreConflictError } from "./types";

/** Name of the unique constraint on scim_users.user_name_lower (see migrations/0001-initial.ts). */
export const USER_NAME_UNIQUE = "scim_users_user_name_lower_key";
/** Name of the unique constraint on scim_groups.display_name_lower (see migrations/0002-groups.ts). */
export const GROUP_DISPLAY_NAME_UNIQUE = "scim_groups_display_name_lower_key";

/** Which attribute a unique violation is about, when it is one the store maps; otherwise null. */
export function conflictAttribute(error: unknown): StoreConflictError["attribute"] | null {
  if (typeof error !== "object" || error === null) return null;
  const e = error as { code?: unknown; constraint?: unknown; message?: unknown };
  const message = typeof e.message === "string" ? e.message : "";
  // better-sqlite3: "UNIQUE constraint failed: scim_users.user_name_lower" / "…: scim_groups.display_name_lower"
  if (e.code === "SQLITE_CONSTRAINT_UNIQUE") {
    if (message.includes("scim_users.user_name_lower")) return "userName";
    if (message.includes("scim_groups.display_name_lower")) return "displayName";
    return null;
  }
  // pg: SQLSTATE 23505 unique_violation, with the constraint name.
  if (e.code === "23505") {
    const constraint = typeof e.constraint === "string" ? e.constraint : "";
    if (constraint === USER_NAME_UNIQUE || message.includes(USER_NAME_UNIQUE)) return "userName";
    if (constraint === GROUP_DISPLAY_NAME_UNIQUE || message.includes(GROUP_DISPLAY_NAME_UNIQUE)) return "displayName";
  }
  return null;
}

/** Rethrows `error`, as StoreConflictError when it is a userName or displayName clash. */
export function rethrowMapped(error: unknown): never {
  const attribute = conflictAttribute(error);
  if (attribute !== null) throw new StoreConflictError(attribute);
  throw error;
}
