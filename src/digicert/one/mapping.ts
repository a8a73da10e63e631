// DigiCert ONE Account Manager wire shapes (doc §B) <-> the neutral DigiCert types.
import type { DigiCertRole, DigiCertUser, DigiCertUserInput, DigiCertUserStatus, FieldProblem } from "../types";
import { blankToNull, ProblemList } from "../validation";

// §B.1: limits are undocumented; ASSUMPTION ≤255 each.
export const MAX_LENGTH = 255;

export interface OneCreateBody {
  user_name: string;
  first_name: string;
  last_name: string;
  email: string;
  phone_number?: string;
  /** Always sent: ONE defaults a missing user_type to "service" (§B.1). */
  user_type: "standard";
  accounts: string[];
  roles: string[];
}

/**
 * The whole user object sent back by `PUT /user/{id}` (§B.4, §D.5: method and semantics unproven). Read, merged
 * and written whole, so a PUT that replaces the object keeps what the bridge does not manage, and a partial one
 * changes only what differs. Absent fields are omitted, never sent empty.
 */
export interface OnePutBody {
  user_name: string;
  first_name: string;
  last_name: string;
  email: string;
  phone_number?: string;
  accounts?: string[];
  roles?: string[];
}

export function validate(input: DigiCertUserInput): FieldProblem[] {
  const p = new ProblemList();
  if (p.required("username", input.username)) p.maxLength("username", input.username, MAX_LENGTH);
  if (p.required("firstName", input.firstName)) p.maxLength("firstName", input.firstName, MAX_LENGTH);
  if (p.required("lastName", input.lastName)) p.maxLength("lastName", input.lastName, MAX_LENGTH);
  if (p.required("email", input.email)) {
    p.email("email", input.email);
    p.maxLength("email", input.email, MAX_LENGTH);
  }
  p.maxLength("phone", input.phone, MAX_LENGTH);
  // ONE has no job title field; a value is accepted and dropped rather than refused.
  return p.problems;
}

export function toCreateBody(input: DigiCertUserInput, roleIds: string[], accountId: string): OneCreateBody {
  const body: OneCreateBody = {
    user_name: input.username,
    first_name: input.firstName,
    last_name: input.lastName,
    email: input.email,
    user_type: "standard",
    accounts: [accountId],
    roles: [...roleIds],
  };
  if (input.phone) body.phone_number = input.phone;
  return body;
}

/**
 * The PUT body: the profile from `input` (or, without it, as DigiCert has it), the accounts DigiCert shows, and
 * `roles` when known (null = DigiCert does not say and the bridge does not know: omitted rather than emptied).
 * An absent phone is omitted instead of sent as "" (§D.5): a partial PUT then keeps the old number, which is
 * safer than a refused update.
 */
export function toPutBody(raw: unknown, input: DigiCertUserInput | null, roles: string[] | null): OnePutBody {
  const u = (raw ?? {}) as Record<string, unknown>;
  const body: OnePutBody = input
    ? { user_name: input.username, first_name: input.firstName, last_name: input.lastName, email: input.email }
    : { user_name: str(u.user_name), first_name: str(u.first_name), last_name: str(u.last_name), email: str(u.email) };
  const phone = input ? input.phone : blankToNull(u.phone_number);
  if (phone) body.phone_number = phone;
  // Without `accounts` (the documented object has only the primary one), the primary is what a replacing PUT needs.
  const primary = u.primary_account_id === undefined || u.primary_account_id === null ? undefined : String(u.primary_account_id);
  const accounts = accountIdsOf(u) ?? (primary ? [primary] : undefined);
  if (accounts?.length) body.accounts = accounts;
  if (roles) body.roles = [...roles];
  return body;
}

/**
 * A user's role ids as DigiCert shows them: the `roles` list, or the roles listed per application (manager).
 * null when the object carries neither: `applications[].permissions` are permissions, not roles, and deriving
 * roles from them would invent some (a role whose permissions are a subset of another's).
 */
export function roleIdsOf(u: Record<string, unknown>): string[] | null {
  const idOf = (r: unknown) => (r && typeof r === "object" ? (r as { id?: unknown }).id : r);
  const ids = (list: unknown[]) => list.map(idOf).filter((id) => id !== undefined && id !== null && id !== "").map(String);
  if (Array.isArray(u.roles)) return ids(u.roles);
  if (Array.isArray(u.applications)) {
    const perApp = u.applications.filter((a) => a && typeof a === "object" && Array.isArray((a as { roles?: unknown }).roles));
    if (perApp.length) return [...new Set(perApp.flatMap((a) => ids((a as { roles: unknown[] }).roles)))];
  }
  return null;
}

function accountIdsOf(u: Record<string, unknown>): string[] | undefined {
  if (Array.isArray(u.accounts)) {
    return u.accounts.map((a) => (a && typeof a === "object" ? (a as { id?: unknown }).id : a)).filter((x) => x !== undefined && x !== null).map(String);
  }
  return undefined;
}

const STATUSES: DigiCertUserStatus[] = ["active", "pending", "disabled", "locked", "deleted"];

export function normaliseStatus(s: unknown): DigiCertUserStatus {
  const v = typeof s === "string" ? s.toLowerCase() : "";
  return (STATUSES as string[]).includes(v) ? (v as DigiCertUserStatus) : "unknown";
}

/**
 * `accountId` is the configured account; without it every user the key can see is in scope. A user object
 * carrying neither `accounts` nor `primary_account_id` is also treated as in scope: ONE only shows a key the
 * users of its own accounts, so the absence tells us nothing against it.
 */
export function fromWire(raw: unknown, accountId?: string): DigiCertUser {
  const u = (raw ?? {}) as Record<string, unknown>;
  if (u.id === undefined || u.id === null) throw new TypeError("ONE user without id");
  const accountIds = accountIdsOf(u);
  const primary = u.primary_account_id === undefined || u.primary_account_id === null ? undefined : String(u.primary_account_id);
  const inScope =
    accountId === undefined ||
    (accountIds === undefined && primary === undefined) ||
    primary === accountId ||
    (accountIds ?? []).includes(accountId);
  return {
    id: String(u.id),
    username: str(u.user_name),
    firstName: str(u.first_name),
    lastName: str(u.last_name),
    email: str(u.email),
    jobTitle: null,
    phone: blankToNull(u.phone_number),
    status: normaliseStatus(u.status),
    roleIds: roleIdsOf(u),
    inScope,
  };
}

/** ONE list answers are a bare array or `{items,total,offset,limit}` (§B.3, §B.6). */
export function listItems(raw: unknown): { items: unknown[]; total?: number } {
  if (Array.isArray(raw)) return { items: raw };
  const o = raw as { items?: unknown; total?: unknown } | null;
  if (o && typeof o === "object" && Array.isArray(o.items)) {
    return { items: o.items, total: typeof o.total === "number" ? o.total : undefined };
  }
  throw new TypeError("ONE list answer is neither an array nor {items}");
}

export function rolesFromWire(raw: unknown): DigiCertRole[] {
  return listItems(raw)
    .items.filter((r) => r && typeof r === "object" && (r as { id?: unknown }).id !== undefined)
    .map((r) => {
      const o = r as { id: unknown; name?: unknown; application_code?: unknown };
      const app = typeof o.application_code === "string" && o.application_code ? { application: o.application_code } : {};
      return { id: String(o.id), name: str(o.name), ...app };
    });
}

function str(v: unknown): string {
  return typeof v === "string" ? v : v === undefined || v === null ? "" : String(v);
}
