// Maps driver errors to the store's typed errors: unique violations on the userName and displayName indexes to
// StoreConflictError (both dialects), a lost PostgreSQL connection to StoreUnavailableError.
import { StoreConflictError, StoreUnavailableError } from "./types";

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

/** SQLSTATEs of a session the server ended: admin_shutdown, crash_shutdown, cannot_connect_now. */
const SESSION_ENDED = new Set(["57P01", "57P02", "57P03"]);
/** Node socket errors of a connection that is gone or cannot be made (a restart, a failover, a network cut). */
const SOCKET_LOST = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);
/** pg's own wording for a client whose connection ended (it sets no code). */
const PG_LOST = /Connection terminated|not queryable|timeout exceeded when trying to connect/i;

/**
 * True when `error` says the PostgreSQL connection was lost or could not be made, rather than that a statement was
 * wrong: SQLSTATE class 08 (connection exception), 57P01-57P03, a socket error, or pg's "Connection terminated".
 */
export function isConnectionLost(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  if (error instanceof StoreUnavailableError) return true;
  const e = error as { code?: unknown; message?: unknown };
  const code = typeof e.code === "string" ? e.code : "";
  if (SESSION_ENDED.has(code) || /^08[0-9A-Z]{3}$/.test(code) || SOCKET_LOST.has(code)) return true;
  return typeof e.message === "string" && PG_LOST.test(e.message);
}

/** `error` as a StoreUnavailableError when the connection was lost; otherwise `error` itself. */
export function unavailableOr(error: unknown, maybeApplied: boolean): unknown {
  if (error instanceof StoreUnavailableError || !isConnectionLost(error)) return error;
  const reason = (error as Error).message;
  return new StoreUnavailableError(maybeApplied, `the database is unavailable: ${reason}`, { cause: error });
}
